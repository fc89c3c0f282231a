import { TYPE_URL, loadResourceRoot, ResourceCodec } from '../../../control-plane/src/envoy-api/index.js';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { discoverCases, expectedResources, orphanFiles, renderCase } from '../../support/golden-cases.js';

// Golden files live in the source tree (test/golden/<case>/), not in dist/.
const GOLDEN = fileURLToPath(new URL('../../../../test/golden/', import.meta.url));
const UPDATE = process.env['UPDATE_GOLDEN'] === '1';
/** Cases that exist since the golden files began; others may be added, these must always be found. */
const BASELINE_CASES = ['all-routes', 'per-route', 'policies', 'route-options', 'shared-host-cas'];
const SYSTEM_ROOTS = [readFileSync(join(GOLDEN, 'certs', 'upstream-ca.pem'), 'utf8')];
const render = (dir: string) => renderCase(dir, SYSTEM_ROOTS);
const cases = discoverCases(GOLDEN, UPDATE);

describe('translator golden files (UPDATE_GOLDEN=1 rewrites them)', () => {
  const root = loadResourceRoot();
  const codec = new ResourceCodec(root);
  /** The codec writes its own bytes: they must be the ones protobufjs writes for the same object. */
  const protobufjsBytes = (typeUrl: string, resource: object) => {
    const type = root.lookupType(typeUrl.slice(typeUrl.lastIndexOf('/') + 1));
    return Buffer.from(type.encode(type.fromObject(resource)).finish());
  };

  it(`finds the golden cases in ${GOLDEN}, the baseline ones among them`, () => {
    const names = cases.map((c) => c.name);
    for (const name of BASELINE_CASES)
      assert.ok(names.includes(name), `case ${name} not found among ${names.join(', ')}`);
  });

  for (const c of cases) {
    const { name, dir, problem } = c;
    if (problem !== undefined) {
      it(name, () => assert.fail(problem));
      continue;
    }

    it(name, async () => {
      const out = await render(dir);
      // A new case (nothing declared yet) takes what it renders; a declared one never changes kind silently.
      const expects = c.expects ?? out.kind;
      const shown = Object.values(out.files).join('\n').slice(0, 4000);
      assert.equal(
        out.kind,
        expects,
        `${name} declares ${expects} but renders ${out.kind} ` +
          `(delete its ${expects} files if that is intended):\n${shown}`,
      );
      if (UPDATE) {
        for (const [file, text] of Object.entries(out.files)) writeFileSync(join(dir, file), text);
        for (const file of orphanFiles(out)) rmSync(join(dir, file), { force: true });
      }
      for (const [file, text] of Object.entries(out.files)) {
        assert.ok(existsSync(join(dir, file)), `${name}/${file} is missing; run npm run golden:update and review it`);
        assert.equal(
          text,
          readFileSync(join(dir, file), 'utf8'),
          `${name}/${file} differs; run npm run golden:update and review the diff`,
        );
      }
      for (const file of orphanFiles(out))
        assert.ok(
          !existsSync(join(dir, file)),
          `${name}/${file} is not an output of this case any more: npm run golden:update removes it`,
        );
    });

    // Only cases that expect resources have any to encode; one that renders errors instead fails here too.
    if (c.expects === 'resources') {
      const roundTrip =
        `${name}: every resource encodes to protobufjs bytes and decodes unchanged` + ' (no field the proto lacks)';
      it(roundTrip, async () => {
        const resources = expectedResources(c, await render(dir));
        const lists: Array<[string, Array<{ resource: object }>]> = [
          [TYPE_URL.cluster, resources.clusters],
          [TYPE_URL.listener, resources.listeners],
          [TYPE_URL.routeConfiguration, resources.routeConfigurations],
          [TYPE_URL.secret, resources.secrets],
          [TYPE_URL.routeConfiguration, resources.staleRouteConfiguration ? [resources.staleRouteConfiguration()] : []],
        ];
        assert.ok(
          resources.listeners.length > 0 && resources.routeConfigurations.length > 0,
          `${name} renders no listener or route configuration to check`,
        );
        for (const [typeUrl, list] of lists) {
          for (const { resource } of list) {
            const encoded = codec.encode(typeUrl, resource);
            assert.deepStrictEqual(codec.decode(encoded), resource);
            assert.ok(encoded.value.equals(protobufjsBytes(typeUrl, resource)), `${typeUrl}: not protobufjs's bytes`);
          }
        }
      });
    }

    it(`${name}: output is byte-identical across runs`, async () => {
      assert.deepEqual((await render(dir)).files, (await render(dir)).files);
    });
  }
});

describe('golden cases declare what they expect, and a folder that is no case fails', () => {
  const root = mkdtempSync(join(tmpdir(), 'golden-'));
  const folder = (name: string, files: Record<string, string>) => {
    mkdirSync(join(root, name));
    for (const [f, text] of Object.entries(files)) writeFileSync(join(root, name, f), text);
  };
  folder('certs', { 'ca.pem': '' });
  folder('no-config', { 'listeners.yaml': '' });
  folder('both', { 'config.yaml': '', 'routes.yaml': '', 'errors.txt': '' });
  folder('nothing', { 'config.yaml': '', 'envoy.json': '{}' });
  folder('resources', { 'config.yaml': 'routes: 5\n', 'listeners.yaml': '' });
  folder('errors', { 'config.yaml': '', 'errors.txt': '' });

  it('every folder but certs/ is a case; one without config.yaml, with both outputs or with none is a problem', () => {
    const found = Object.fromEntries(discoverCases(root, false).map((c) => [c.name, c.problem ?? c.expects]));
    assert.deepEqual(Object.keys(found), ['both', 'errors', 'no-config', 'nothing', 'resources']);
    assert.match(String(found['no-config']), /has no config\.yaml/);
    assert.match(String(found['both']), /holds both resource files and errors\.txt/);
    assert.match(String(found['nothing']), /declares nothing/, 'a retired envoy.json declares nothing');
    assert.equal(found['resources'], 'resources');
    assert.equal(found['errors'], 'errors');
  });

  it('while bootstrapping (UPDATE_GOLDEN=1), a case that declares nothing yet is allowed', () => {
    const nothing = discoverCases(root, true).find((c) => c.name === 'nothing');
    assert.deepEqual(nothing, { name: 'nothing', dir: join(root, 'nothing') });
  });

  it('a case that expects resources but renders errors fails the round-trip check, with the errors', async () => {
    const out = await render(join(root, 'resources'));
    assert.equal(out.kind, 'errors');
    assert.throws(
      () => expectedResources({ name: 'resources' }, out),
      /resources expects resources but its config renders errors:\n.*routes/s,
    );
  });

  it('rewriting a case removes the files of the other kind and the retired envoy.json', () => {
    assert.deepEqual(orphanFiles({ kind: 'errors', files: { 'errors.txt': '' } }), [
      'clusters.yaml',
      'listeners.yaml',
      'model.yaml',
      'routes.yaml',
      'secrets.yaml',
      'envoy.json',
    ]);
  });
});
