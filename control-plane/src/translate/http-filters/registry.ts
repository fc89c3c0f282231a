import type { EdgeModel } from '../../model/index.js';
import type { envoy_config_route_v3, google_protobuf } from '../../envoy-api/index.js';
import { clientCertificateCheck } from './client-certificate-check.js';
import { extAuthz, extAuthzAgain } from './ext-authz.js';
import { identityCache } from './identity-cache.js';
import { peerChain } from './peer-chain.js';
import { peerIdentity } from './peer-identity.js';
import { policyAllow } from './policy-allow.js';
import { policyDeny } from './policy-deny.js';
import { requestAuthority } from './request-authority.js';
import { router } from './router.js';
import { appCookies, sessionCookies } from './session-cookies.js';
import { sessionToken } from './session-token.js';
import { signIn } from './sign-in.js';
import { stripIdentityHeaders } from './strip-identity-headers.js';
import type { ChainContext, FilterResources, HttpFilter, HttpFilterModule, RouteContext } from './types.js';

/**
 * Every HTTP filter, in the order Envoy runs them on each request. Order matters: forged headers go first; the
 * certificate's properties (and the client's chain) are copied before the certificate check, which removes them
 * when the certificate is not valid for the route; then sign-in (a route that needs a certificate refuses
 * one that is missing before any redirect) and the validation of the session's ID token; then deny rules, allow
 * rules, and the ext_authz service for what Envoy cannot decide (its allows cached per worker; asked again when
 * the first answer was cut off); the router last. The policy filters are no-ops unless a route configures them,
 * so every chain carries all of them: adding the first policy to a host then changes only its route
 * configuration, and Envoy drains no connection.
 *
 * A new filter is one module (an `HttpFilterModule` with a literal name) and one line here.
 */
export const HTTP_FILTERS = [
  stripIdentityHeaders,
  requestAuthority,
  peerIdentity,
  peerChain,
  clientCertificateCheck,
  signIn,
  sessionToken,
  sessionCookies,
  appCookies,
  policyDeny,
  policyAllow,
  identityCache,
  extAuthz,
  extAuthzAgain,
  router,
] as const satisfies readonly HttpFilterModule[];

type HttpFilterName = (typeof HTTP_FILTERS)[number]['name'];

/** Per-route configs by filter name: a key is always a registered filter's own name. */
export type TypedPerFilterConfig = Partial<Record<HttpFilterName, google_protobuf.Any>>;

/** The connection manager's `http_filters` for one chain. */
export function httpFilters(chain: ChainContext): HttpFilter[] {
  const entries: HttpFilter[] = [];
  for (const filter of HTTP_FILTERS) {
    const entry = filter.connectionManagerEntry(chain);
    if (entry === undefined) continue;
    // Envoy finds a route's per-filter config by this name: an entry named otherwise would silently ignore it.
    if (entry.name !== filter.name) {
      throw new Error(`translator bug: the HTTP filter ${filter.name} made an entry named ${String(entry.name)}`);
    }
    entries.push(entry);
  }
  return entries;
}

/** The filters that may configure a route: asked for every route, so the others are left out once here. */
const PER_ROUTE_FILTERS = HTTP_FILTERS.flatMap((filter) =>
  filter.perRoute === undefined ? [] : [{ name: filter.name, perRoute: filter.perRoute }],
);

/** One route's `typed_per_filter_config`, in filter order (undefined: no filter configures the route). */
export function typedPerFilterConfig(route: RouteContext): TypedPerFilterConfig | undefined {
  let out: TypedPerFilterConfig | undefined;
  for (const filter of PER_ROUTE_FILTERS) {
    const config = filter.perRoute(route);
    if (config !== undefined) (out ??= {})[filter.name] = config;
  }
  return out;
}

/** Adds its per-filter configs to `route` (a new object, changed in place) as the last field, if any. */
export function withTypedPerFilterConfig(
  route: envoy_config_route_v3.Route,
  context: RouteContext,
): envoy_config_route_v3.Route {
  const perFilter = typedPerFilterConfig(context);
  if (perFilter !== undefined) route.typed_per_filter_config = perFilter;
  return route;
}

/** The clusters and secrets the filters need beside the listener and routes (merged into the snapshot). */
export function httpFilterResources(
  model: EdgeModel,
  filters: readonly HttpFilterModule[] = HTTP_FILTERS,
): Required<FilterResources> {
  const out: Required<FilterResources> = { clusters: [], secrets: [] };
  for (const filter of filters) {
    const resources = filter.resources?.(model);
    out.clusters.push(...(resources?.clusters ?? []));
    out.secrets.push(...(resources?.secrets ?? []));
  }
  return out;
}
