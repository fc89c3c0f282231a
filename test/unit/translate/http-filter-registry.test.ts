import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import type { EdgeModel, EdgeRoute } from '../../../control-plane/src/model/index.js';
import {
  HTTP_FILTERS,
  httpFilterResources,
  typedPerFilterConfig,
  type EdgeAnswer,
  type HttpFilterModule,
  type RouteContext,
  type TypedPerFilterConfig,
} from '../../../control-plane/src/translate/http-filters/index.js';
import { discoverCases, expectedResources, renderCase } from '../../support/golden-cases.js';

const GOLDEN = fileURLToPath(new URL('../../../../test/golden/', import.meta.url));
const SYSTEM_ROOTS = [readFileSync(join(GOLDEN, 'certs', 'upstream-ca.pem'), 'utf8')];
const CLIENT_CERTIFICATE = 'mtls-edge.client-certificate';
const REGISTERED: ReadonlySet<string> = new Set(HTTP_FILTERS.map((f) => f.name));

// Compile-time: a per-route key is a registered filter's name, nothing else.
// @ts-expect-error an unregistered name is not a key of TypedPerFilterConfig
const unregistered: TypedPerFilterConfig = { 'mtls-edge.not-a-filter': {} };
void unregistered;

/** Decoded output, read loosely: only the fields these checks look at. */
type Json = Record<string, unknown>;
type Chain = {
  name: string;
  filters: Array<{ typed_config: { rds: { route_config_name: string }; http_filters: Json[] } }>;
};
type RouteConfiguration = {
  name: string;
  virtual_hosts: Array<{ routes: Array<{ typed_per_filter_config?: Json }> }>;
};

/** Every chain of a golden case: the HTTP filters it runs, and the per-route keys of the routes it reads. */
async function goldenChains(): Promise<Array<{ where: string; filters: string[]; perRouteKeys: string[] }>> {
  const out: Array<{ where: string; filters: string[]; perRouteKeys: string[] }> = [];
  for (const c of discoverCases(GOLDEN, false).filter((c) => c.expects === 'resources')) {
    const resources = expectedResources(c, await renderCase(c.dir, SYSTEM_ROOTS));
    const listener = resources.listeners[0]!.resource as unknown as {
      filter_chains: Chain[];
      default_filter_chain?: Chain;
    };
    const ofCase = [
      ...listener.filter_chains,
      ...(listener.default_filter_chain ? [listener.default_filter_chain] : []),
    ];
    for (const chain of ofCase) {
      const manager = chain.filters[0]!.typed_config;
      const routes = resources.routeConfigurations.find((r) => r.name === manager.rds.route_config_name)!;
      const perRouteKeys = (routes.resource as unknown as RouteConfiguration).virtual_hosts
        .flatMap((vh) => vh.routes)
        .flatMap((r) => Object.keys(r.typed_per_filter_config ?? {}));
      out.push({
        where: `${c.name}/${chain.name}`,
        filters: manager.http_filters.map((f) => String(f['name'])),
        perRouteKeys,
      });
    }
  }
  return out;
}
const chains = await goldenChains();

function hostRoute(certificateCheck: EdgeRoute['certificateCheck']): EdgeRoute {
  return {
    name: 'route-0',
    match: { kind: 'prefix', value: '/' },
    preserveHostHeader: false,
    setRequestHeaders: [],
    removeRequestHeaders: [],
    timeoutMs: 30_000,
    upstream: 'upstream',
    access: 'public',
    certificateCheck,
    signIn: false,
    authorization: { kind: 'ext-authz', key: 'route-0.key', peerProperties: ['chain', 'email'] },
    trustCheck: 'route-0.trust',
  };
}

describe('the HTTP filter registry', () => {
  it('declares the order Envoy runs the filters in: forged headers out first, the router last', () => {
    assert.deepEqual(
      HTTP_FILTERS.map((f) => f.name),
      [
        'mtls-edge.strip-identity-headers',
        'mtls-edge.request-authority',
        'mtls-edge.peer-identity',
        'mtls-edge.peer-chain',
        CLIENT_CERTIFICATE,
        // Sign-in after the certificate: a route that needs one refuses without it before any redirect.
        'mtls-edge.sign-in',
        'mtls-edge.session-token',
        'mtls-edge.session-cookies',
        // The application's cookies back, without the session's, before anything else reads the request.
        'mtls-edge.app-cookies',
        'mtls-edge.policy-deny',
        'mtls-edge.policy-allow',
        'mtls-edge.identity-cache',
        'mtls-edge.ext-authz',
        'mtls-edge.ext-authz-again',
        'envoy.filters.http.router',
      ],
    );
  });

  it('names each filter once', () => {
    assert.equal(REGISTERED.size, HTTP_FILTERS.length);
  });

  it('gives every chain of every golden case its filters in registry order, each under its own name', () => {
    const order = HTTP_FILTERS.map((f) => f.name as string);
    for (const { where, filters } of chains) {
      const positions = filters.map((name) => order.indexOf(name));
      assert.ok(!positions.includes(-1), `${where}: a filter the registry does not know: ${filters.join(', ')}`);
      assert.deepEqual(
        positions,
        [...positions].sort((a, b) => a - b),
        `${where}: filters out of order`,
      );
      assert.equal(filters.at(-1), 'envoy.filters.http.router', `${where}: the router is not last`);
    }
  });

  it("files every route's per-filter config under the name of a filter on the chain that reads the route", () => {
    for (const { where, filters, perRouteKeys } of chains) {
      for (const key of perRouteKeys)
        assert.ok(filters.includes(key), `${where}: per-route config for ${key}, not on the chain`);
    }
    // Not vacuous: some chain checks certificates at the HTTP layer and some does not, both with configured routes.
    const withCheck = chains.filter((c) => c.filters.includes(CLIENT_CERTIFICATE));
    assert.ok(withCheck.some((c) => c.perRouteKeys.includes(CLIENT_CERTIFICATE)));
    assert.ok(chains.some((c) => !c.filters.includes(CLIENT_CERTIFICATE) && c.perRouteKeys.length > 0));
  });

  it('configures the certificate check of no route on a chain without it, of every route on one with it', () => {
    const answers: EdgeAnswer[] = ['misdirected', 'edge-health', 'jwks'];
    for (const checksClientCertificates of [false, true]) {
      const chain = { checksClientCertificates, resumesSessions: !checksClientCertificates };
      const contexts: RouteContext[] = [
        ...answers.map((kind): RouteContext => ({ kind, chain })),
        ...(['handshake', 'resumed', 'stale-trust'] as const).flatMap((certificate) =>
          [hostRoute({ kind: 'none' }), hostRoute({ kind: 'issued-by', issuers: ['CN=A'] })].map(
            (route): RouteContext => ({ kind: 'host-route', route, chain, certificate }),
          ),
        ),
      ];
      for (const context of contexts) {
        const keys = Object.keys(typedPerFilterConfig(context) ?? {});
        assert.equal(
          keys.includes(CLIENT_CERTIFICATE),
          checksClientCertificates,
          `${context.kind}: ${keys.join(', ')}`,
        );
        for (const key of keys) assert.ok(REGISTERED.has(key), key);
      }
    }
  });

  it('files per-route configs in registry order', () => {
    const route = hostRoute({ kind: 'none' });
    const config = typedPerFilterConfig({
      kind: 'host-route',
      route,
      chain: { checksClientCertificates: true, resumesSessions: false },
      certificate: 'stale-trust',
    });
    // No peer-identity copies: on a stale-trust copy the service decides in Envoy's place, and nothing reads them.
    assert.deepEqual(Object.keys(config ?? {}), [
      'mtls-edge.peer-chain',
      CLIENT_CERTIFICATE,
      'mtls-edge.ext-authz',
      'mtls-edge.ext-authz-again',
    ]);
  });

  // The registered filters need none: ext_authz shares the bootstrap's cluster to the control plane.
  it('collects the resources filters ask for', () => {
    const model = {} as EdgeModel;
    assert.deepEqual(httpFilterResources(model), { clusters: [], secrets: [] });
    const needsCluster: HttpFilterModule<'test.filter'> = {
      name: 'test.filter',
      connectionManagerEntry: () => ({ name: 'test.filter' }),
      resources: () => ({ clusters: [{ name: 'test-cluster', resource: { name: 'test-cluster' } }] }),
    };
    assert.deepEqual(
      httpFilterResources(model, [...HTTP_FILTERS, needsCluster]).clusters.map((c) => c.name),
      ['test-cluster'],
    );
  });
});
