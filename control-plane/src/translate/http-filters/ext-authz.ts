import { CLIENT_CERTIFICATE_STATE_HEADER, PEER_HEADERS } from '../../policy/internal-headers.js';
import { typed, type google_protobuf } from '../../envoy-api/index.js';
import { duration } from '../common.js';
import type { HttpFilter, HttpFilterModule, RouteContext } from './types.js';

export const EXT_AUTHZ_FILTER = 'mtls-edge.ext-authz' as const;
const EXT_AUTHZ_PER_ROUTE = 'envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute';

/** The bootstrap's cluster to the control plane (envoy/bootstrap.yaml): ext_authz shares it with ADS. */
export const CONTROL_PLANE_CLUSTER = 'mtls-edge-xds';

function extAuthzFilter(): HttpFilter {
  return {
    name: EXT_AUTHZ_FILTER,
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
      // Fail closed, and say why: the decision could not be made (not "you may not").
      status_on_error: { code: 'ServiceUnavailable' },
    }),
  };
}

/**
 * Per-route: the filter on, with the route key the service decides by. On a connection made under an older
 * trust, every route whose host asks for a certificate is checked again against its current trust; a route
 * the service decides anyway keeps its own key (it digests the trust too).
 */
function extAuthzPerRoute(ctx: RouteContext): google_protobuf.Any | undefined {
  if (ctx.kind !== 'host-route') return undefined;
  const { route } = ctx;
  const a = route.authorization;
  const key = a.kind === 'ext-authz' ? a.key : ctx.staleTrust ? route.trustCheck : undefined;
  if (key === undefined) return undefined;
  return typed(EXT_AUTHZ_PER_ROUTE, { check_settings: { context_extensions: { route: key } } });
}

/** Last before the router: it decides what Envoy's own policy filters cannot. */
export const extAuthz: HttpFilterModule<typeof EXT_AUTHZ_FILTER> = {
  name: EXT_AUTHZ_FILTER,
  connectionManagerEntry: () => extAuthzFilter(),
  perRoute: extAuthzPerRoute,
};
