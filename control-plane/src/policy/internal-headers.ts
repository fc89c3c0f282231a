/**
 * Request headers Envoy sets for the policy filters and the ext_authz service, and removes before the
 * upstream sees the request. A client's own copies are stripped first (they share the `x-mtls-edge-` prefix).
 */
export const INTERNAL_HEADER_PREFIX = 'x-mtls-edge-';

/** Set to `invalid` when the connection has no client certificate valid for the route (policy enforcement modes). */
export const CLIENT_CERTIFICATE_STATE_HEADER = 'x-mtls-edge-client-certificate';

/**
 * The verified certificate's properties, from Envoy's own formatters (%DOWNSTREAM_PEER_*%), comma-joined when several.
 */
export const PEER_HEADERS = {
  fingerprint: 'x-mtls-edge-peer-fingerprint',
  email: 'x-mtls-edge-peer-email',
  subject: 'x-mtls-edge-peer-subject',
  /**
   * The certificates the client sent, leaf first (URL-encoded PEM), from the mtls-edge.peer-chain Lua filter:
   * on ext_authz routes that accept intermediates (when the client sent more than its leaf), and on every
   * route of a stale route configuration (translate/stale-route-configuration.ts).
   */
  chain: 'x-mtls-edge-peer-chain',
} as const;

/**
 * Properties of the client certificate Envoy copies into internal request headers for a route's policy, and
 * the chain the client sent (for the ext_authz service, which Envoy otherwise sends only the leaf).
 */
export type PeerProperty = keyof typeof PEER_HEADERS;

/**
 * The ext_authz service's mark on every Check it allows: a dynamic metadata key in Envoy's ext_authz namespace.
 * A Check cut off by a dying replica after its answer had started cannot be retried by Envoy; the second ext_authz
 * filter runs only when this mark is missing and asks again (translate/http-filters/ext-authz.ts).
 */
export const EXT_AUTHZ_METADATA_NAMESPACE = 'envoy.filters.http.ext_authz';
export const CHECK_ALLOWED_METADATA_KEY = 'mtls_edge_allowed';

/**
 * On an allow that depends only on the route and the certificate: what Envoy's identity cache keeps for that pair
 * (translate/http-filters/identity-cache.ts), as a Struct in the same namespace. `ttl`: for how many seconds the entry
 * may be used; `headers`: the request headers to set.
 */
export const CHECK_CACHE_METADATA_KEY = 'mtls_edge_cache';
