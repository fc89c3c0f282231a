import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { formatError, resolveConfig } from '../../../control-plane/src/config/index.js';
import { buildEdgeModel } from '../../../control-plane/src/model/index.js';
import { signingKeyFromPem } from '../../../control-plane/src/identity/index.js';
import { jwksDocument } from '../../../control-plane/src/runtime/signing-keys.js';
import { translate, TYPE_URL, type EnvoyResources } from '../../../control-plane/src/translate/index.js';
import { loadResourceRoot, ResourceCodec } from '../../../control-plane/src/xds/index.js';

// Golden files live in the source tree (test/golden/<case>/), not in dist/.
const GOLDEN = fileURLToPath(new URL('../../../../test/golden/', import.meta.url));
const UPDATE = process.env['UPDATE_GOLDEN'] === '1';
const cases = readdirSync(GOLDEN, { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(GOLDEN, d.name, 'config.yaml')))
  .map((d) => d.name);

/** config.yaml → envoy.json (what Envoy receives) or errors.txt (what the user reads). */
function render(dir: string): { file: 'envoy.json' | 'errors.txt'; text: string; resources?: EnvoyResources } {
  const loaded = resolveConfig({
    yaml: { text: readFileSync(join(dir, 'config.yaml'), 'utf8'), file: 'config.yaml' },
    env: {},
    files: { configDir: dir, cwd: dir, readFile: (p) => readFileSync(p, 'utf8') },
    // A fixed stand-in for the system roots, so that the golden files do not follow Node's root store.
    systemRoots: [readFileSync(join(GOLDEN, 'certs', 'upstream-ca.pem'), 'utf8')],
  });
  // The runner serves the JWKS of the signing key; a case with a fixed signing_key shows that route too.
  const jwks = loaded.ok && loaded.value.signingKey ? jwksDocument([signingKeyFromPem(loaded.value.signingKey.pem)]) : undefined;
  const model = loaded.ok ? buildEdgeModel(loaded.value, { jwks }) : loaded;
  if (!model.ok) return { file: 'errors.txt', text: model.errors.map(formatError).join('\n') + '\n' };
  const resources = translate(model.value);
  const json = {
    clusters: resources.clusters.map((r) => r.resource),
    listeners: resources.listeners.map((r) => r.resource),
    route_configurations: resources.routeConfigurations.map((r) => r.resource),
    secrets: resources.secrets.map((r) => r.resource),
    // Served only under the name of an older trust generation, when Envoy asks for one.
    stale_route_configuration: resources.staleRouteConfiguration?.().resource,
  };
  return { file: 'envoy.json', text: JSON.stringify(json, null, 2) + '\n', resources };
}

describe('translator golden files (UPDATE_GOLDEN=1 rewrites them)', () => {
  const codec = new ResourceCodec(loadResourceRoot());
  assert.ok(cases.length >= 4, `expected golden cases in ${GOLDEN}`);

  for (const name of cases) {
    const dir = join(GOLDEN, name);
    it(name, () => {
      const out = render(dir);
      const other = out.file === 'envoy.json' ? 'errors.txt' : 'envoy.json';
      if (UPDATE) {
        writeFileSync(join(dir, out.file), out.text);
        rmSync(join(dir, other), { force: true });
      }
      assert.ok(!existsSync(join(dir, other)), `${name}/${other} is stale: the case now produces ${out.file}`);
      assert.equal(out.text, readFileSync(join(dir, out.file), 'utf8'), `${name}/${out.file} differs; run npm run golden:update and review the diff`);
    });

    it(`${name}: every resource survives protobuf encoding unchanged (no field the proto lacks)`, () => {
      const out = render(dir);
      if (!out.resources) return;
      const lists: Array<[string, Array<{ resource: object }>]> = [
        [TYPE_URL.cluster, out.resources.clusters],
        [TYPE_URL.listener, out.resources.listeners],
        [TYPE_URL.routeConfiguration, out.resources.routeConfigurations],
        [TYPE_URL.secret, out.resources.secrets],
        [TYPE_URL.routeConfiguration, out.resources.staleRouteConfiguration ? [out.resources.staleRouteConfiguration()] : []],
      ];
      for (const [typeUrl, list] of lists) {
        for (const { resource } of list) {
          assert.deepStrictEqual(codec.decode(codec.encode(typeUrl, resource as Record<string, unknown>)), resource);
        }
      }
    });

    it(`${name}: output is byte-identical across runs`, () => {
      assert.equal(render(dir).text, render(dir).text);
    });
  }
});
