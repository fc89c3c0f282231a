// Every copy of a route whose policy Envoy decides (the handshake's, a resumed session's twin, the stale-trust
// template's) is decided by someone: Envoy's RBAC, or the ext_authz service in its place. A copy with neither would
// pass every request to the upstream. Checked over every route of every golden case.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { discoverCases, expectedResources, renderCase } from '../../support/golden-cases.js';

const GOLDEN = fileURLToPath(new URL('../../../../test/golden/', import.meta.url));
const SYSTEM_ROOTS = [readFileSync(join(GOLDEN, 'certs', 'upstream-ca.pem'), 'utf8')];
const RBAC = ['mtls-edge.policy-deny', 'mtls-edge.policy-allow'];
const EXT_AUTHZ = 'mtls-edge.ext-authz';

interface Route {
  name?: string;
  typed_per_filter_config?: Record<string, unknown>;
}

describe('a route Envoy decides', () => {
  it('is decided on every copy of it: by RBAC, or by the service', async () => {
    let decided = 0;
    let copies = 0;
    for (const c of discoverCases(GOLDEN, false).filter((k) => k.expects === 'resources')) {
      const resources = expectedResources(c, await renderCase(c.dir, SYSTEM_ROOTS));
      const byName = new Map<string, Route[]>();
      for (const rc of resources.routeConfigurations) {
        const hosts = (rc.resource['virtual_hosts'] ?? []) as Array<{ routes: Route[] }>;
        for (const route of hosts.flatMap((h) => h.routes)) {
          if (route.name?.startsWith('route-')) byName.set(route.name, [...(byName.get(route.name) ?? []), route]);
        }
      }
      for (const [name, all] of byName) {
        const keys = (r: Route) => Object.keys(r.typed_per_filter_config ?? {});
        if (!all.some((r) => keys(r).some((k) => RBAC.includes(k)))) continue;
        decided++;
        for (const r of all) {
          copies++;
          const k = keys(r);
          assert.ok(
            k.some((x) => RBAC.includes(x)) || k.includes(EXT_AUTHZ),
            `${c.name}: a copy of ${name}: ${k.join(', ')}`,
          );
        }
      }
    }
    assert.ok(decided >= 2 && copies > decided, `only ${decided} routes Envoy decides, ${copies} copies`);
  });
});
