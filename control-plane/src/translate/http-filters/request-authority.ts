import { REQUEST_AUTHORITY_STATE } from '../../config/index.js';
import { typed } from '../../envoy-api/index.js';
import type { HttpFilter, HttpFilterModule } from './types.js';

export const REQUEST_AUTHORITY_FILTER = 'mtls-edge.request-authority' as const;

function requestAuthorityFilter(): HttpFilter {
  return {
    name: REQUEST_AUTHORITY_FILTER,
    typed_config: typed('envoy.extensions.filters.http.set_filter_state.v3.Config', {
      on_request_headers: [
        {
          // The access log's `authority` field reads it.
          object_key: REQUEST_AUTHORITY_STATE,
          factory_key: 'envoy.string',
          format_string: { text_format_source: { inline_string: '%REQ(:AUTHORITY)%' } },
        },
      ],
    }),
  };
}

/**
 * The :authority as the client sent it, kept before the router rewrites it to the upstream's own host name
 * (Pomerium's default): by then `%REQ(:AUTHORITY)%` reads the rewritten one, and the access log needs the former.
 */
export const requestAuthority: HttpFilterModule<typeof REQUEST_AUTHORITY_FILTER> = {
  name: REQUEST_AUTHORITY_FILTER,
  // Only where the access log reads it: on every other chain it would be work per request for nothing.
  connectionManagerEntry: (chain) => (chain.logsAuthority ? requestAuthorityFilter() : undefined),
};
