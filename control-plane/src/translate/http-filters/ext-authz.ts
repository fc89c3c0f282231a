import {
  CHECK_ALLOWED_METADATA_KEY,
  CLIENT_CERTIFICATE_STATE_HEADER,
  EXT_AUTHZ_METADATA_NAMESPACE,
  PEER_HEADERS,
} from '../../policy/internal-headers.js';
import { SESSION_METADATA_NAMESPACE } from '../../policy/session-claims.js';
import { typed, type google_protobuf } from '../../envoy-api/index.js';
import { duration } from '../common.js';
import type { ChainContext, HttpFilter, HttpFilterModule, RouteContext } from './types.js';

export const EXT_AUTHZ_FILTER = 'mtls-edge.ext-authz' as const;
export const EXT_AUTHZ_AGAIN_FILTER = 'mtls-edge.ext-authz-again' as const;
const EXT_AUTHZ_PER_ROUTE = 'envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute';

/** The bootstrap's cluster to the control plane (envoy/bootstrap.yaml): ext_authz shares it with ADS. */
export const CONTROL_PLANE_CLUSTER = 'mtls-edge-xds';

/**
 * Two filters ask the service, the second only when the first did not get an answer. Envoy retries a Check that
 * could not reach a replica, but not one whose answer had started: grpc-js sends a unary answer's trailers a turn
 * after its message, so a replica killed in between leaves the first filter with half an answer (an error). The
 * first filter lets an error through (failure_mode_allow) to the second. Each runs only when the request carries
 * no mark of an allow from the service (CheckResponse.dynamic_metadata, authz/check-wire.ts): the second asks again,
 * failing closed. A deny ends the request at the first filter; an allow is marked, so the second stays off.
 * The first's errors include its timeout: a live but slow service is asked twice then (each with its retries), and a
 * replica too old to mark its allows is asked twice for every uncached allow (a rolling upgrade's while).
 */
function extAuthzFilter(name: string, ask: 'first' | 'again', chain: ChainContext): HttpFilter {
  return {
    name,
    // Enabled only by the routes that name it in typed_per_filter_config.
    disabled: true,
    typed_config: typed('envoy.extensions.filters.http.ext_authz.v3.ExtAuthz', {
      grpc_service: {
        envoy_grpc: { cluster_name: CONTROL_PLANE_CLUSTER },
        timeout: duration(2000),
        // Several control-plane replicas: a Check that could not reach one (it died, or is restarting) goes to
        // another. A Check decides and signs, nothing more, so sending it twice is safe.
        retry_policy: {
          retry_on: 'connect-failure,refused-stream,reset,unavailable',
          num_retries: { value: 2 },
          retry_back_off: { base_interval: duration(25), max_interval: duration(250) },
          retry_host_predicate: [
            {
              name: 'envoy.retry_host_predicates.previous_hosts',
              typed_config: typed('envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate', {}),
            },
          ],
          host_selection_retry_max_attempts: 3,
        },
      },
      transport_api_version: 'V3',
      include_peer_certificate: true,
      // The service reads the certificate, the method and the path; of the headers, only Envoy's own mark
      // and the client's chain (set only on routes that accept intermediates). (Every header more is bytes
      // to encode and decode on each check.)
      allowed_headers: { patterns: [{ exact: CLIENT_CERTIFICATE_STATE_HEADER }, { exact: PEER_HEADERS.chain }] },
      // With sign-in, the session's ID token payload as the session-token filter validated it (jwt_authn's
      // metadata): the service decides the policy's sign-in criteria and signs the assertion from it. Only there:
      // a chain without sign-in has no such metadata, and its filter stays as it was.
      ...(chain.signIn ? { metadata_context_namespaces: [SESSION_METADATA_NAMESPACE] } : {}),
      // Off once the request carries the service's mark of an allow: set by the first filter's answer, or by the
      // identity cache (identity-cache.ts) before either asks.
      filter_enabled_metadata: {
        filter: EXT_AUTHZ_METADATA_NAMESPACE,
        path: [{ key: CHECK_ALLOWED_METADATA_KEY }],
        value: { bool_match: true },
        invert: true,
      },
      // The first lets a Check without an answer through to the second; the second fails closed, and says why:
      // the decision could not be made (not "you may not").
      ...(ask === 'first' ? { failure_mode_allow: true } : { status_on_error: { code: 'ServiceUnavailable' } }),
    }),
  };
}

/**
 * Per-route: the filter on, with the route key the service decides by. On a connection made under an older
 * trust, or a resumed TLS session, every route whose host asks for a certificate is checked again against its
 * current trust; a route the service decides anyway keeps its own key (it digests the trust too).
 */
function extAuthzPerRoute(ctx: RouteContext): google_protobuf.Any | undefined {
  if (ctx.kind !== 'host-route') return undefined;
  const { route } = ctx;
  const a = route.authorization;
  const key = a.kind === 'ext-authz' ? a.key : ctx.certificate !== 'handshake' ? route.trustCheck : undefined;
  if (key === undefined) return undefined;
  return typed(EXT_AUTHZ_PER_ROUTE, { check_settings: { context_extensions: { route: key } } });
}

/** After the policy filters: it decides what Envoy's own policy filters cannot. */
export const extAuthz: HttpFilterModule<typeof EXT_AUTHZ_FILTER> = {
  name: EXT_AUTHZ_FILTER,
  connectionManagerEntry: (chain) => extAuthzFilter(EXT_AUTHZ_FILTER, 'first', chain),
  perRoute: extAuthzPerRoute,
};

/** Right after the first: on the same routes, with the same settings, when the first got no answer. */
export const extAuthzAgain: HttpFilterModule<typeof EXT_AUTHZ_AGAIN_FILTER> = {
  name: EXT_AUTHZ_AGAIN_FILTER,
  connectionManagerEntry: (chain) => extAuthzFilter(EXT_AUTHZ_AGAIN_FILTER, 'again', chain),
  perRoute: extAuthzPerRoute,
};
