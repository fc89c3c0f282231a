import type { HeaderValuePart } from '../config/index.js';
import type { EdgeHost, EdgeRoute, SignInModel, TlsClass } from '../model/index.js';
import { CLIENT_CERTIFICATE_STATE_HEADER, PEER_HEADERS } from '../policy/internal-headers.js';
import type { envoy_config_route_v3 as route_v3 } from '../envoy-api/index.js';
import { duration } from './common.js';
import { edgeReasonMetadata } from './access-log.js';
import { EDGE_METADATA_NAMESPACE } from '../config/access-log-fields.js';
import { denialWordsMetadata } from './http-filters/local-reply.js';
import { routeRbac } from './http-filters/route-rbac.js';
import { rbacDenialWords } from './rbac.js';
import {
  checksClientCertificates,
  typedPerFilterConfig,
  withTypedPerFilterConfig,
  type CertificateOnConnection,
  type TypedPerFilterConfig,
  type RouteChain,
} from './http-filters/index.js';
import { routeConfigurationName } from './names.js';
import { ID_TOKEN_HEADER } from './http-filters/sign-in.js';
import { SIGN_IN_UNAVAILABLE, signInRoutes } from './sign-in-routes.js';
import { needsResumedSessionTwin, resumedSessionMatch, resumesSessions } from './session-resumption.js';
import type { NamedResource } from '../envoy-api/index.js';

const MISDIRECTED: route_v3.Route = {
  name: 'misdirected',
  match: { prefix: '/' },
  metadata: edgeReasonMetadata('misdirected_request'),
  direct_response: {
    status: 421,
    body: {
      // Also what an address this edge does not serve meets, when its name shares a certificate with one it does.
      inline_string: 'This connection was opened for another site, and cannot serve this address.',
    },
  },
};

/**
 * The routes one filter chain may serve: only hosts whose requirement its handshake met.
 * Any other Host/:authority gets 421, which closes connection coalescing and keep-alive host switching.
 */
export function buildRouteConfiguration(
  tlsClass: TlsClass,
  jwks?: string,
  signIn?: SignInModel,
): NamedResource<'routeConfiguration'> {
  const name = routeConfigurationName(tlsClass.requirement);
  const chain: RouteChain = {
    checksClientCertificates: checksClientCertificates(tlsClass),
    resumesSessions: resumesSessions(tlsClass),
    ...(signIn ? { signIn } : {}),
  };
  const own = edgeRoutes(chain, jwks);
  const twinConfigs = new Map<string, TypedPerFilterConfig | undefined>();
  const hostRoutes = (r: EdgeRoute): route_v3.Route[] =>
    chain.resumesSessions && needsResumedSessionTwin(r)
      ? [buildRoute(r, chain, 'resumed', twinConfigs), buildRoute(r, chain)]
      : [buildRoute(r, chain)];
  const virtualHosts = tlsClass.hosts.map((host) => buildVirtualHost(host, own, hostRoutes));
  const misdirected = misdirectedRoute(chain);
  for (const host of tlsClass.misdirectedHosts) virtualHosts.push(misdirectedVirtualHost(host, misdirected));
  virtualHosts.push({ name: 'misdirected', domains: ['*'], routes: [misdirected] });
  return { name, resource: buildRouteConfigurationResource(name, virtualHosts, signIn !== undefined) };
}

export function buildRouteConfigurationResource(
  name: string,
  virtualHosts: route_v3.VirtualHost[],
  signIn = false,
): route_v3.RouteConfiguration {
  // The certificate's properties and the session's ID token are for this edge's filters only, never for an upstream.
  const internal = [
    CLIENT_CERTIFICATE_STATE_HEADER,
    ...Object.values(PEER_HEADERS),
    ...(signIn ? [ID_TOKEN_HEADER] : []),
  ];
  return { name, virtual_hosts: virtualHosts, request_headers_to_remove: internal };
}

/**
 * The edge's own answers (health, JWKS), the same on every host of a chain: built once per route configuration and
 * shared by its virtual hosts (ten thousand hosts, one object each, not ten thousand copies to build and walk).
 */
export function edgeRoutes(chain: RouteChain, jwks: string | undefined): route_v3.Route[] {
  return [
    edgeHealthRoute(chain),
    ...(jwks !== undefined ? [jwksRoute(jwks, chain)] : []),
    ...(chain.signIn?.provider !== undefined ? signInRoutes(chain) : []),
  ];
}

/** One host: the edge's own answers first, then the host's routes as `buildHostRoutes` makes them, in order. */
export function buildVirtualHost(
  host: EdgeHost,
  own: readonly route_v3.Route[],
  buildHostRoutes: (r: EdgeRoute) => route_v3.Route[],
): route_v3.VirtualHost {
  return { name: host.name, domains: [host.name], routes: [...own, ...host.routes.flatMap(buildHostRoutes)] };
}

/** A 421 needs no certificate: the client should go elsewhere, whatever it holds. */
export function misdirectedRoute(chain: RouteChain): route_v3.Route {
  return withTypedPerFilterConfig({ ...MISDIRECTED }, { kind: 'misdirected', chain });
}

export function misdirectedVirtualHost(host: string, route: route_v3.Route): route_v3.VirtualHost {
  return { name: `misdirected:${host}`, domains: [host], routes: [route] };
}

/** Pomerium's path for the key that verifies X-Pomerium-Jwt-Assertion. */
const JWKS_PATH = '/.well-known/pomerium/jwks.json';

/** The public signing key, on every host, to anyone: an upstream (or its users) must be able to fetch it. */
function jwksRoute(jwks: string, chain: RouteChain): route_v3.Route {
  const route: route_v3.Route = {
    name: 'jwks',
    match: { path: JWKS_PATH },
    direct_response: { status: 200, body: { inline_string: jwks } },
    response_headers_to_add: [
      { header: { key: 'content-type', value: 'application/json' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' },
    ],
  };
  return withTypedPerFilterConfig(route, { kind: 'jwks', chain });
}

/**
 * The edge's own liveness answer, on every host, reachable without a client certificate under the policy
 * enforcements.
 */
const EDGE_HEALTH_PATH = '/.mtls-edge/healthz';

function edgeHealthRoute(chain: RouteChain): route_v3.Route {
  const route: route_v3.Route = {
    name: 'edge-health',
    match: { path: EDGE_HEALTH_PATH },
    direct_response: { status: 200, body: { inline_string: 'ok\n' } },
  };
  return withTypedPerFilterConfig(route, { kind: 'edge-health', chain });
}

/**
 * `certificate`: what Envoy knows of the certificate on the connections this copy of the route serves.
 * `sharedTwinConfigs`: the per-filter configs of resumed-session twins of routes without a policy, by trust check:
 * they depend on nothing else, so ten thousand twins share a few objects (memory) instead of holding a copy each.
 */
export function buildRoute(
  edgeRoute: EdgeRoute,
  chain: RouteChain,
  certificate: CertificateOnConnection = 'handshake',
  sharedTwinConfigs?: Map<string, TypedPerFilterConfig | undefined>,
): route_v3.Route {
  // Sign-in needs the provider's endpoints and keys: until the control plane could read them, the route says so
  // (after the certificate check), and no policy runs, which could only refuse: nobody is signed in.
  const signInUnavailable = edgeRoute.signIn && chain.signIn?.provider === undefined;
  const route: EdgeRoute = signInUnavailable ? { ...edgeRoute, authorization: { kind: 'none' } } : edgeRoute;
  const action: route_v3.RouteAction = { cluster: route.upstream, timeout: duration(route.timeoutMs) };
  if (route.rewrite?.kind === 'prefix') action.prefix_rewrite = route.rewrite.value;
  if (route.rewrite?.kind === 'replace-leading-slash') {
    action.regex_rewrite = { pattern: { regex: '^/' }, substitution: route.rewrite.value };
  }
  // Pomerium sends the upstream's own host name unless preserve_host_header is set.
  if (!route.preserveHostHeader) action.auto_host_rewrite = { value: true };
  const match = buildRouteMatch(route);
  const out: route_v3.Route = {
    name: route.name,
    match: certificate === 'resumed' ? resumedSessionMatch(match) : match,
    ...(signInUnavailable ? { direct_response: SIGN_IN_UNAVAILABLE } : { route: action }),
  };
  if (route.setRequestHeaders.length > 0) {
    out.request_headers_to_add = route.setRequestHeaders.map(([key, parts]) => ({
      header: { key, value: headerFormat(parts) },
      append_action: 'OVERWRITE_IF_EXISTS_OR_ADD',
    }));
  }
  if (route.removeRequestHeaders.length > 0) out.request_headers_to_remove = route.removeRequestHeaders;
  const context = { kind: 'host-route', route, chain, certificate } as const;
  if (sharedTwinConfigs && certificate === 'resumed' && route.authorization.kind === 'none') {
    const key = route.trustCheck ?? '';
    if (!sharedTwinConfigs.has(key)) sharedTwinConfigs.set(key, typedPerFilterConfig(context));
    const shared = sharedTwinConfigs.get(key);
    if (shared !== undefined) out.typed_per_filter_config = shared;
    return out;
  }
  const rbac = route.authorization.kind === 'envoy' ? routeRbac(context) : undefined;
  if (rbac && route.authorization.kind === 'envoy') {
    const words = denialWordsMetadata(rbacDenialWords(route.authorization.policy));
    out.metadata = { filter_metadata: { [EDGE_METADATA_NAMESPACE]: words } };
  }
  return withTypedPerFilterConfig(out, context);
}

const CLIENT_CERT_OPERATOR = {
  fingerprint: '%DOWNSTREAM_PEER_FINGERPRINT_256%',
  san_dns: '%DOWNSTREAM_PEER_DNS_SAN%',
  san_email: '%DOWNSTREAM_PEER_EMAIL_SAN%',
} as const;

/** A header value as an Envoy format string: `%` in text doubled, substitutions as command operators. */
function headerFormat(parts: HeaderValuePart[]): string {
  return parts
    .map((p) =>
      'text' in p
        ? p.text.replace(/%/g, '%%')
        : 'clientCert' in p
          ? CLIENT_CERT_OPERATOR[p.clientCert]
          : `%REQ(${p.requestHeader})%`,
    )
    .join('');
}

function buildRouteMatch(route: EdgeRoute): route_v3.RouteMatch {
  const m = route.match;
  if (m.kind === 'prefix') return { prefix: m.value };
  if (m.kind === 'path') return { path: m.value };
  return { safe_regex: { regex: m.value } };
}
