// What Envoy does with one request on a route whose policy it decides itself: the HTTP filters of the chain in
// registry order (translate/http-filters/registry.ts), each reading the route's typed_per_filter_config as the
// translator writes it. The unit-level twin of a real Envoy, for property tests against the ext_authz evaluator.
import type { RouteConfig } from '../../control-plane/src/config/index.js';
import type { CertificateIdentity } from '../../control-plane/src/identity/types.js';
import { routeAuthorization } from '../../control-plane/src/model/authorization.js';
import type { EdgeRoute } from '../../control-plane/src/model/index.js';
import { CLIENT_CERTIFICATE_STATE_HEADER, PEER_HEADERS } from '../../control-plane/src/policy/internal-headers.js';
import type { RequestFacts } from '../../control-plane/src/policy/types.js';
import {
  EXT_AUTHZ_FILTER,
  PEER_IDENTITY_FILTER,
  POLICY_ALLOW_FILTER,
  POLICY_DENY_FILTER,
  typedPerFilterConfig,
} from '../../control-plane/src/translate/http-filters/index.js';
import { edgeConfig } from '../unit/model/config-fixtures.js';
import { rbacAllows, type EnvoyView } from './rbac-interpreter.js';

type Json = Record<string, unknown>;

/**
 * The client certificate of the connection, as the route sees it. `unverified`: presented, but Envoy could not
 * validate it (a route under `enforcement: policy` lets the request through). `other-route`: validated at the
 * handshake, but issued by a CA another route of the host trusts (a host whose routes trust different CAs).
 */
export type PeerCertificate =
  { state: 'none' } | { state: 'valid' | 'unverified' | 'other-route'; identity: CertificateIdentity };

export interface PolicyRequest {
  method: string;
  /** The request target as the client sent it, query string included. */
  path: string;
  peer: PeerCertificate;
}

/** The per-filter configuration Envoy gets for a route with this policy (the model's choice of decider included). */
export function envoyRouteFilters(route: RouteConfig): Json {
  const { authorization } = routeAuthorization(route, edgeConfig([route]));
  if (authorization.kind !== 'envoy') throw new Error(`the policy is not one Envoy decides (${authorization.kind})`);
  const edgeRoute: EdgeRoute = {
    name: 'route-0',
    match: route.match,
    preserveHostHeader: false,
    setRequestHeaders: [],
    removeRequestHeaders: [],
    timeoutMs: route.timeoutMs,
    upstream: 'upstream',
    access: route.access,
    certificateCheck: { kind: 'none' },
    signIn: false,
    authorization,
  };
  // A chain without the HTTP-layer certificate check: only the policy filters configure the route.
  const chain = { checksClientCertificates: false, resumesSessions: false };
  return typedPerFilterConfig({ kind: 'host-route', route: edgeRoute, chain, certificate: 'handshake' }) ?? {};
}

/** The values Envoy's formatters give for a presented certificate (validated or not: they format what was sent). */
function formatted(formatter: string, identity: CertificateIdentity): string {
  switch (formatter) {
    case '%DOWNSTREAM_PEER_FINGERPRINT_256%':
      return identity.fingerprint;
    case '%DOWNSTREAM_PEER_SUBJECT%':
      return identity.subject;
    case '%DOWNSTREAM_PEER_EMAIL_SAN%':
      return identity.sans.email.join(',');
    default:
      throw new Error(`formatter not modelled: ${formatter}`);
  }
}

/** Envoy's view of the request once the peer-identity and client-certificate filters ran. */
export function envoyRequestView(filters: Json, request: PolicyRequest): EnvoyView {
  const headers: Record<string, string> = { ':method': request.method, ':path': request.path };
  const { peer } = request;
  const mutation = filters[PEER_IDENTITY_FILTER] as
    | {
        mutations: {
          request_mutations: Array<{ append: { header: { key: string; value: string }; append_action: string } }>;
        };
      }
    | undefined;
  for (const { append } of mutation?.mutations.request_mutations ?? []) {
    if (append.append_action !== 'OVERWRITE_IF_EXISTS_OR_ADD')
      throw new Error(`append action not modelled: ${append.append_action}`);
    // No certificate: the formatters give nothing, and Envoy adds no header with an empty value.
    const value = peer.state === 'none' ? '' : formatted(append.header.value, peer.identity);
    if (value !== '') headers[append.header.key] = value;
  }
  if (peer.state === 'unverified' || peer.state === 'other-route') {
    // The client-certificate filter (after peer-identity) removes what describes a certificate not valid for
    // the route, and marks it (http-filters/client-certificate-check.ts, markUnverifiedCertificateSource).
    for (const h of Object.values(PEER_HEADERS)) delete headers[h];
    headers[CLIENT_CERTIFICATE_STATE_HEADER] = 'invalid';
  }
  // mtls_authenticated reads the connection: any certificate validated at the handshake, whatever the route.
  const validated = peer.state === 'valid' || peer.state === 'other-route';
  const sans = validated
    ? { DNS: peer.identity.sans.dns, EMAIL: peer.identity.sans.email, URI: peer.identity.sans.uri }
    : { DNS: [], EMAIL: [], URI: [] };
  return { headers, sans };
}

/** Envoy's answer: the deny RBAC filter, then the allow one; a filter without per-route rules lets everything on. */
export function envoyAllows(filters: Json, request: PolicyRequest): boolean {
  if (filters[EXT_AUTHZ_FILTER]) throw new Error('the route asks the ext_authz service');
  const view = envoyRequestView(filters, request);
  for (const name of [POLICY_DENY_FILTER, POLICY_ALLOW_FILTER]) {
    const perRoute = filters[name] as { rbac: { rules: Json } } | undefined;
    if (perRoute && !rbacAllows(perRoute.rbac.rules, view)) return false;
  }
  return true;
}

/** What the ext_authz service's evaluator is given for the same request (authz/service.ts). */
export function serviceFacts(request: PolicyRequest, clientCaRequired: boolean): RequestFacts {
  const identity = request.peer.state === 'valid' ? request.peer.identity : undefined;
  return {
    method: request.method,
    path: request.path.split('?')[0]!,
    ...(identity ? { identity } : {}),
    invalidClientCertificate: clientCaRequired && !identity,
  };
}
