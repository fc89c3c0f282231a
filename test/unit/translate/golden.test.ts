import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { TYPE_URL } from '../../../control-plane/src/translate/index.js';
import { loadResourceRoot, ResourceCodec } from '../../../control-plane/src/xds/index.js';
import { discoverCases, expectedResources, renderCase } from '../../support/golden-cases.js';

// Golden files live in the source tree (test/golden/<case>/), not in dist/.
const GOLDEN = fileURLToPath(new URL('../../../../test/golden/', import.meta.url));
const UPDATE = process.env['UPDATE_GOLDEN'] === '1';
/** Cases that exist since the golden files began; others may be added, these must always be found. */
const BASELINE_CASES = ['all-routes', 'per-route', 'policies', 'route-options', 'shared-host-cas'];
const SYSTEM_ROOTS = [readFileSync(join(GOLDEN, 'certs', 'upstream-ca.pem'), 'utf8')];
const render = (dir: string) => renderCase(dir, SYSTEM_ROOTS);
const cases = discoverCases(GOLDEN, UPDATE);

describe('translator golden files (UPDATE_GOLDEN=1 rewrites them)', () => {
  const codec = new ResourceCodec(loadResourceRoot());

  it(`finds the golden cases in ${GOLDEN}, the baseline ones among them`, () => {
    const names = cases.map((c) => c.name);
    for (const name of BASELINE_CASES) assert.ok(names.includes(name), `case ${name} not found among ${names.join(', ')}`);
  });

  for (const c of cases) {
    const { name, dir, problem } = c;
    if (problem !== undefined) {
      it(name, () => assert.fail(problem));
      continue;
    }

    it(name, () => {
      const out = render(dir);
      // A new case (nothing declared yet) takes what it renders; a declared one never changes kind silently.
      const expects = c.expects ?? out.file;
      assert.equal(out.file, expects, `${name} declares ${expects} but renders ${out.file} (delete ${name}/${expects} if that is intended):\n${out.text}`);
      if (UPDATE) writeFileSync(join(dir, out.file), out.text);
      assert.equal(out.text, readFileSync(join(dir, expects), 'utf8'), `${name}/${expects} differs; run npm run golden:update and review the diff`);
    });

    // Only cases that expect resources have any to encode; one that renders errors instead fails here too.
    if (c.expects === 'envoy.json') {
      it(`${name}: every resource survives protobuf encoding unchanged (no field the proto lacks)`, () => {
        const resources = expectedResources(c, render(dir));
        const lists: Array<[string, Array<{ resource: object }>]> = [
          [TYPE_URL.cluster, resources.clusters],
          [TYPE_URL.listener, resources.listeners],
          [TYPE_URL.routeConfiguration, resources.routeConfigurations],
          [TYPE_URL.secret, resources.secrets],
          [TYPE_URL.routeConfiguration, resources.staleRouteConfiguration ? [resources.staleRouteConfiguration()] : []],
        ];
        assert.ok(resources.listeners.length > 0 && resources.routeConfigurations.length > 0, `${name} renders no listener or route configuration to check`);
        for (const [typeUrl, list] of lists) {
          for (const { resource } of list) {
            assert.deepStrictEqual(codec.decode(codec.encode(typeUrl, resource as Record<string, unknown>)), resource);
          }
        }
      });
    }

    it(`${name}: output is byte-identical across runs`, () => {
      assert.equal(render(dir).text, render(dir).text);
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
  folder('no-config', { 'envoy.json': '{}' });
  folder('both', { 'config.yaml': '', 'envoy.json': '{}', 'errors.txt': '' });
  folder('nothing', { 'config.yaml': '' });
  folder('resources', { 'config.yaml': 'routes: 5\n', 'envoy.json': '{}' });
  folder('errors', { 'config.yaml': '', 'errors.txt': '' });

  it('every folder but certs/ is a case; one without config.yaml, with both outputs or with none is a problem', () => {
    const found = Object.fromEntries(discoverCases(root, false).map((c) => [c.name, c.problem ?? c.expects]));
    assert.deepEqual(Object.keys(found), ['both', 'errors', 'no-config', 'nothing', 'resources']);
    assert.match(String(found['no-config']), /has no config\.yaml/);
    assert.match(String(found['both']), /holds both envoy\.json and errors\.txt/);
    assert.match(String(found['nothing']), /declares nothing/);
    assert.equal(found['resources'], 'envoy.json');
    assert.equal(found['errors'], 'errors.txt');
  });

  it('while bootstrapping (UPDATE_GOLDEN=1), a case that declares nothing yet is allowed', () => {
    const nothing = discoverCases(root, true).find((c) => c.name === 'nothing');
    assert.deepEqual(nothing, { name: 'nothing', dir: join(root, 'nothing') });
  });

  it('a case that expects envoy.json but renders errors fails the round-trip check, with the errors', () => {
    const out = render(join(root, 'resources'));
    assert.equal(out.file, 'errors.txt');
    assert.throws(() => expectedResources({ name: 'resources' }, out), /resources expects envoy\.json but its config renders errors:\n.*routes/s);
  });
});
