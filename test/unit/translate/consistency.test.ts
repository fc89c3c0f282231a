import type { EnvoyResources, NamedResource } from '../../../control-plane/src/envoy-api/index.js';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { inconsistencies } from '../../../control-plane/src/translate/index.js';
import { expectedResources, renderCase } from '../../support/golden-cases.js';

const GOLDEN = fileURLToPath(new URL('../../../../test/golden/', import.meta.url));
const ROOTS = [readFileSync(join(GOLDEN, 'certs', 'upstream-ca.pem'), 'utf8')];
const resourcesOf = async (name: string): Promise<EnvoyResources> =>
  expectedResources({ name }, await renderCase(join(GOLDEN, name), ROOTS));
const without = (list: NamedResource[], i: number) => list.filter((_, j) => j !== i);

describe('the snapshot consistency check', () => {
  it('passes what the translator makes (per-route CAs, policies, shared hosts, CRLs, upstream mTLS)', async () => {
    for (const name of [
      'all-routes',
      'per-route',
      'policies',
      'route-options',
      'shared-host-cas',
      'shared-host-crls-policy',
      'upstream-mtls',
    ]) {
      assert.deepEqual(inconsistencies(await resourcesOf(name)), [], name);
    }
  });

  it('finds every route configuration, cluster and secret that a resource names but the snapshot lacks', async () => {
    const r = await resourcesOf('policies');
    for (const kind of ['routeConfigurations', 'clusters', 'secrets'] as const) {
      assert.ok(r[kind].length > 0, kind);
      r[kind].forEach((resource, i) => {
        const problems = inconsistencies({ ...r, [kind]: without(r[kind], i) });
        assert.ok(
          problems.some((p) => p.includes(`"${resource.name}", which the snapshot does not hold`)),
          `${kind} ${resource.name}: ${problems.join('; ')}`,
        );
      });
    }
  });

  it('finds what is served but named by nothing', async () => {
    const r = await resourcesOf('per-route');
    const extra = (name: string) => ({ name, resource: { name } });
    assert.deepEqual(
      inconsistencies({
        ...r,
        clusters: [...r.clusters, extra('orphan-cluster')],
        secrets: [...r.secrets, extra('orphan-secret')],
        routeConfigurations: [...r.routeConfigurations, extra('orphan-routes')],
      }),
      [
        'route configuration "orphan-routes" is served but nothing names it',
        'cluster "orphan-cluster" is served but nothing names it',
        'secret "orphan-secret" is served but nothing names it',
      ],
    );
  });
});
