import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CertificateBundle, Config, RouteConfig } from '../../../control-plane/src/config/index.js';
import { buildEdgeModel } from '../../../control-plane/src/model/index.js';
import { edgeConfig, routeConfig } from '../model/config-fixtures.js';
import { isGenerationRouteConfigurationName, translate } from '../../../control-plane/src/translate/index.js';

/** Decoded output, read loosely: only the fields these checks look at. */
type Json = Record<string, unknown>;

const caA: CertificateBundle = { pem: 'A', fingerprints: ['aa'], origin: 'ca-a.pem' };
/** ca-b.pem after a rotation: same file, other content. */
const caB2: CertificateBundle = { pem: 'B2', fingerprints: ['b2'], origin: 'ca-b.pem' };
const caB: CertificateBundle = { pem: 'B', fingerprints: ['bb'], origin: 'ca-b.pem' };

function route(index: number, host: string, extra: Partial<RouteConfig> = {}): RouteConfig {
  return routeConfig(host, index, { access: 'any_authenticated_user', ...extra });
}

/** x and y trust a CA file each, public.example none. */
function config(
  o: { yCa?: CertificateBundle; rules?: Partial<Config['clientCertificateRules']>; xPort?: number } = {},
): Config {
  return edgeConfig(
    [
      route(0, 'x.example', { clientCa: caA, to: [{ scheme: 'http', host: '127.0.0.1', port: o.xPort ?? 8080 }] }),
      route(1, 'y.example', { clientCa: o.yCa ?? caB }),
      route(2, 'public.example', { access: 'public' }),
    ],
    {
      clientCertificateRules: {
        enforcement: 'reject_connection',
        maxVerifyDepth: 0,
        crls: [],
        matchSubjectAltNames: [],
        ...o.rules,
      },
    },
  );
}

/** The route configuration each host's filter chain reads (the chain without a CA: `default`). */
function rdsNames(c: Config): Record<string, string> {
  const m = buildEdgeModel(c);
  if (!m.ok) throw new Error(JSON.stringify(m.errors));
  const resources = translate(m.value);
  type Chain = { filters: Array<{ typed_config: { rds: { route_config_name: string } } }> };
  const listener = resources.listeners[0]!.resource as unknown as {
    filter_chains: Chain[];
    default_filter_chain: Chain;
  };
  const out: Record<string, string> = {};
  for (const fc of [...listener.filter_chains, listener.default_filter_chain]) {
    const name = fc.filters[0]!.typed_config.rds.route_config_name;
    const rc = resources.routeConfigurations.find((r) => r.name === name)!.resource as {
      virtual_hosts: Array<{ name: string }>;
    };
    for (const vh of rc.virtual_hosts) if (!vh.name.startsWith('misdirected')) out[vh.name] = name;
  }
  return out;
}

describe('trust generations in route configuration names', () => {
  const base = rdsNames(config());

  it('a chain with a CA reads routes-<chain>@<generation>, one without a plain name; same config, same names', () => {
    assert.deepEqual(Object.keys(base).sort(), ['public.example', 'x.example', 'y.example']);
    assert.deepEqual(rdsNames(config()), base);
    assert.equal(base['public.example'], 'routes-none');
    for (const host of ['x.example', 'y.example'])
      assert.ok(isGenerationRouteConfigurationName(base[host]!), base[host]);
    assert.notEqual(base['x.example'], base['y.example']);
  });

  it('a route-only edit renames nothing', () => {
    assert.deepEqual(rdsNames(config({ xPort: 9090 })), base);
  });

  it("a change of a CA file's content renames only that chain's route configuration", () => {
    const after = rdsNames(config({ yCa: caB2 }));
    assert.notEqual(after['y.example'], base['y.example']);
    assert.equal(after['y.example']!.split('@')[0], base['y.example']!.split('@')[0], 'same chain, new generation');
    assert.equal(after['x.example'], base['x.example']);
    assert.equal(after['public.example'], base['public.example']);
  });

  // (A CRL needs real certificates to be matched to its CA: test/e2e/trust-on-open-connections.test.ts.)
  const narrowings: Array<[string, Partial<Config['clientCertificateRules']>]> = [
    ['max_verify_depth', { maxVerifyDepth: 1 }],
    ['a SAN matcher', { matchSubjectAltNames: [{ type: 'email', regex: '.*@example\\.com' }] }],
    ['the enforcement', { enforcement: 'policy_with_default_deny' }],
  ];
  for (const [what, rules] of narrowings) {
    it(`${what} renames every chain with a CA, and not the one without`, () => {
      const after = rdsNames(config({ rules }));
      for (const host of Object.keys(base)) assert.equal(after[host] !== base[host], host !== 'public.example', host);
    });
  }
});

describe('the stale template', () => {
  const m = buildEdgeModel(config());
  if (!m.ok) throw new Error('model');
  const stale = translate(m.value).staleRouteConfiguration!().resource as {
    virtual_hosts: Array<{ name: string; domains: string[]; routes: Json[] }>;
  };

  it('holds every host with a CA, and answers 421 for the others and for any other name', () => {
    assert.deepEqual(
      stale.virtual_hosts.map((v) => v.name),
      ['misdirected:public.example', 'x.example', 'y.example', 'misdirected'],
    );
    assert.equal((stale.virtual_hosts[0]!.routes[0]!['direct_response'] as { status: number }).status, 421);
    assert.deepEqual(stale.virtual_hosts.at(-1)!.domains, ['*']);
  });

  it("every route of a host with a CA has ext_authz check the certificate (and chain), not the edge's answers", () => {
    for (const vh of stale.virtual_hosts.filter((v) => !v.name.startsWith('misdirected'))) {
      for (const r of vh.routes) {
        const perFilter = (r['typed_per_filter_config'] ?? {}) as Record<
          string,
          { check_settings?: { context_extensions: { route: string } } }
        >;
        if (r['direct_response']) {
          assert.equal(perFilter['mtls-edge.ext-authz'], undefined, `${vh.name} ${String(r['name'])}`);
          assert.equal(perFilter['mtls-edge.ext-authz-again'], undefined, `${vh.name} ${String(r['name'])}`);
          continue;
        }
        assert.match(
          perFilter['mtls-edge.ext-authz']!.check_settings!.context_extensions.route,
          /^trust\.[0-9a-f]{16}$/,
        );
        assert.deepEqual(perFilter['mtls-edge.ext-authz-again'], perFilter['mtls-edge.ext-authz'], 'asked again alike');
        assert.ok(perFilter['mtls-edge.peer-chain'], `${vh.name}: the chain is forwarded`);
      }
    }
  });

  it('the service knows every trust entry the template names, with the trust to verify against', () => {
    const names = new Set(m.value.authorizationRoutes.filter((a) => a.clientTrust).map((a) => a.name));
    const named = stale.virtual_hosts
      .flatMap((v) => v.routes)
      .flatMap((r) => {
        const ext = (
          r['typed_per_filter_config'] as
            Record<string, { check_settings?: { context_extensions: { route: string } } }> | undefined
        )?.['mtls-edge.ext-authz'];
        return ext ? [ext.check_settings!.context_extensions.route] : [];
      });
    assert.ok(named.length >= 2);
    for (const n of named) assert.ok(names.has(n), n);
  });
});
