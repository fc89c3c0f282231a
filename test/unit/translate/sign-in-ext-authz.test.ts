// With sign-in, the ext_authz filters send the service the session Envoy validated (jwt_authn's metadata), and
// Envoy's identity cache, which knows only the certificate, stays off on the signed-in routes the service decides.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EdgeRoute, SignInModel } from '../../../control-plane/src/model/index.js';
import { SESSION_METADATA_NAMESPACE } from '../../../control-plane/src/policy/index.js';
import {
  httpFilters,
  typedPerFilterConfig,
  type ChainContext,
  type RouteContext,
} from '../../../control-plane/src/translate/http-filters/index.js';

const EXT_AUTHZ = ['mtls-edge.ext-authz', 'mtls-edge.ext-authz-again'];
const IDENTITY_CACHE = 'mtls-edge.identity-cache';

/** Sign-in configured; the provider not read yet is enough here (the oauth2 and jwt_authn filters wait for it). */
const SIGN_IN = {
  config: { groupsClaim: 'groups', cookieName: '_pomerium' },
  origin: 'https://%REQ(:authority)%',
} as unknown as SignInModel;

function chain(signIn?: SignInModel): ChainContext {
  return {
    tlsClass: { requirement: { id: 'none' }, hosts: [], misdirectedHosts: [], alpn: ['http/1.1'] },
    checksClientCertificates: false,
    resumesSessions: true,
    claimHeaders: [],
    forwardClientCert: [],
    logsAuthority: false,
    ...(signIn ? { signIn } : {}),
  };
}

function route(signIn: boolean, kind: 'ext-authz' | 'envoy'): EdgeRoute {
  return {
    name: 'route-0',
    match: { kind: 'prefix', value: '/' },
    preserveHostHeader: false,
    setRequestHeaders: [],
    removeRequestHeaders: [],
    timeoutMs: 30_000,
    upstream: 'upstream',
    access: 'policy',
    certificateCheck: { kind: 'valid' },
    signIn,
    authorization:
      kind === 'ext-authz'
        ? { kind: 'ext-authz', key: 'route-0.key', peerProperties: [] }
        : { kind: 'envoy', policy: { allow: [], deny: [] }, clientCaRequired: true, peerProperties: [] },
    trustCheck: 'route-0.trust',
  };
}

describe('ext_authz and the identity cache with sign-in', () => {
  it('the ext_authz filters ask for the session metadata only on a chain with sign-in', () => {
    const namespaces = (c: ChainContext) =>
      httpFilters(c)
        .filter((f) => EXT_AUTHZ.includes(String(f.name)))
        .map((f) => (f.typed_config as { metadata_context_namespaces?: string[] }).metadata_context_namespaces);
    assert.deepEqual(namespaces(chain(SIGN_IN)), [[SESSION_METADATA_NAMESPACE], [SESSION_METADATA_NAMESPACE]]);
    assert.deepEqual(namespaces(chain()), [undefined, undefined]);
  });

  it('the identity cache is off on every route that needs sign-in, on elsewhere', () => {
    const cacheOn = (r: EdgeRoute, certificate: 'handshake' | 'resumed') => {
      const ctx: RouteContext = { kind: 'host-route', route: r, chain: chain(SIGN_IN), certificate };
      return typedPerFilterConfig(ctx)?.[IDENTITY_CACHE] !== undefined;
    };
    assert.equal(cacheOn(route(true, 'ext-authz'), 'handshake'), false);
    assert.equal(cacheOn(route(true, 'ext-authz'), 'resumed'), false);
    assert.equal(cacheOn(route(false, 'ext-authz'), 'handshake'), true);
    assert.equal(cacheOn(route(false, 'envoy'), 'resumed'), true);
    // Envoy decides this signed-in route; a resumed session's trust check decides its policy with the session, so
    // its allow is the signed-in user's, which a cache by certificate must not keep.
    assert.equal(cacheOn(route(true, 'envoy'), 'resumed'), false);
    // The ext_authz filters stay on for the signed-in route: the service decides it on every request.
    const ctx: RouteContext = {
      kind: 'host-route',
      route: route(true, 'ext-authz'),
      chain: chain(SIGN_IN),
      certificate: 'handshake',
    };
    assert.ok(typedPerFilterConfig(ctx)?.['mtls-edge.ext-authz']);
  });
});
