// The first ext_authz filter lets a Check that got no answer through (failure_mode_allow) only because the second,
// right after it, asks again and fails closed. Any drift between the two would open a route: checked here over every
// chain and route of every golden case.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { discoverCases, expectedResources, renderCase } from '../../support/golden-cases.js';

const GOLDEN = fileURLToPath(new URL('../../../../test/golden/', import.meta.url));
const SYSTEM_ROOTS = [readFileSync(join(GOLDEN, 'certs', 'upstream-ca.pem'), 'utf8')];
const FIRST = 'mtls-edge.ext-authz';
const AGAIN = 'mtls-edge.ext-authz-again';

type Json = Record<string, unknown>;
interface Filter {
  name: string;
  disabled?: boolean;
  typed_config: Json;
}

async function cases() {
  const found = discoverCases(GOLDEN, false).filter((c) => c.expects === 'resources');
  return Promise.all(
    found.map(async (c) => ({ name: c.name, resources: expectedResources(c, await renderCase(c.dir, SYSTEM_ROOTS)) })),
  );
}
const all = await cases();

describe('the two ext_authz filters', () => {
  it('come as a pair on every chain, the second right after the first, both off unless a route turns them on', () => {
    let pairs = 0;
    for (const c of all) {
      const listener = c.resources.listeners[0]!.resource as unknown as {
        filter_chains: Array<{ filters: Array<{ typed_config: { http_filters: Filter[] } }> }>;
      };
      for (const chain of listener.filter_chains) {
        const filters = chain.filters[0]!.typed_config.http_filters;
        const i = filters.findIndex((f) => f.name === FIRST);
        const j = filters.findIndex((f) => f.name === AGAIN);
        assert.equal(i >= 0, j >= 0, `${c.name}: both or neither`);
        if (i < 0) continue;
        pairs++;
        assert.equal(j, i + 1, `${c.name}: the second right after the first`);
        const [first, again] = [filters[i]!, filters[j]!];
        assert.equal(first.disabled, true);
        assert.equal(again.disabled, true);
        const { failure_mode_allow, ...firstRest } = first.typed_config;
        const { status_on_error, ...againRest } = again.typed_config;
        assert.equal(failure_mode_allow, true, 'the first lets a Check without an answer through to the second');
        assert.equal(again.typed_config['failure_mode_allow'], undefined, 'the second fails closed');
        assert.equal(first.typed_config['status_on_error'], undefined);
        assert.deepEqual(status_on_error, { code: 'ServiceUnavailable' });
        // Each is off only once the service's mark of an allow is on the request.
        for (const filter of [first, again])
          assert.deepEqual(filter.typed_config['filter_enabled_metadata'], {
            filter: 'envoy.filters.http.ext_authz',
            path: [{ key: 'mtls_edge_allowed' }],
            value: { bool_match: true },
            invert: true,
          });
        assert.deepEqual(againRest, firstRest, `${c.name}: the same service, settings and headers`);
      }
    }
    assert.ok(pairs > 10, `pairs checked: ${pairs}`);
  });

  it('are configured alike on every route', () => {
    let routes = 0;
    for (const c of all) {
      for (const rc of c.resources.routeConfigurations) {
        const config = rc.resource as unknown as {
          virtual_hosts: Array<{ routes: Array<{ name?: string; typed_per_filter_config?: Json }> }>;
        };
        for (const route of config.virtual_hosts.flatMap((vh) => vh.routes)) {
          const perFilter = route.typed_per_filter_config ?? {};
          assert.deepEqual(perFilter[AGAIN], perFilter[FIRST], `${c.name} ${rc.name} ${route.name ?? ''}`);
          if (perFilter[FIRST] !== undefined) routes++;
        }
      }
    }
    // The goldens' ext_authz routes (pass_identity_headers); trust-generation.test.ts checks the stale-trust ones.
    assert.ok(routes >= 2, `routes with ext_authz checked: ${routes}`);
  });
});
