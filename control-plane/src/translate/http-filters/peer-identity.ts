import type { PeerProperty } from '../../model/index.js';
import { PEER_HEADERS } from '../../policy/internal-headers.js';
import { typed, type google_protobuf } from '../../envoy-api/index.js';
import { serviceDecidesInstead } from './route-rbac.js';
import type { HttpFilter, HttpFilterModule, RouteContext } from './types.js';

export const PEER_IDENTITY_FILTER = 'mtls-edge.peer-identity' as const;
const HEADER_MUTATION = 'envoy.extensions.filters.http.header_mutation.v3.HeaderMutation';

/** Envoy's own view of the certificate: the formatter that fills each internal header (the chain has none: Lua). */
const PEER_FORMATTER: Record<Exclude<PeerProperty, 'chain'>, string> = {
  fingerprint: '%DOWNSTREAM_PEER_FINGERPRINT_256%',
  email: '%DOWNSTREAM_PEER_EMAIL_SAN%',
  subject: '%DOWNSTREAM_PEER_SUBJECT%',
};

function peerIdentityFilter(): HttpFilter {
  // Off unless a route's policy reads the certificate's properties (issue 14, point 6).
  return { name: PEER_IDENTITY_FILTER, disabled: true, typed_config: typed(HEADER_MUTATION, { mutations: {} }) };
}

/** Per-route: the certificate's properties the route's policy reads, copied into internal request headers. */
function peerIdentityPerRoute(ctx: RouteContext): google_protobuf.Any | undefined {
  // Only the RBAC filters read these headers: none where the service decides instead.
  if (ctx.kind !== 'host-route' || serviceDecidesInstead(ctx)) return undefined;
  const a = ctx.route.authorization;
  if (a.kind === 'none') return undefined;
  const formatted = a.peerProperties.filter((p): p is Exclude<PeerProperty, 'chain'> => p !== 'chain');
  if (formatted.length === 0) return undefined;
  return typed('envoy.extensions.filters.http.header_mutation.v3.HeaderMutationPerRoute', {
    mutations: {
      request_mutations: formatted.map((p) => ({
        append: {
          header: { key: PEER_HEADERS[p], value: PEER_FORMATTER[p] },
          append_action: 'OVERWRITE_IF_EXISTS_OR_ADD',
        },
      })),
    },
  });
}

/** A no-op unless a route configures it (see registry.ts: every chain carries every policy filter). */
export const peerIdentity: HttpFilterModule<typeof PEER_IDENTITY_FILTER> = {
  name: PEER_IDENTITY_FILTER,
  connectionManagerEntry: () => peerIdentityFilter(),
  perRoute: peerIdentityPerRoute,
};
