import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ResourceCodec,
  TYPE_URL,
  loadResourceRoot,
  typed,
  type envoy_config_listener_v3,
} from '../../../control-plane/src/envoy-api/index.js';

// The generated types are what the codec accepts: a literal that type-checks encodes, and a mistake is a
// compile error (the @ts-expect-error lines fail the build if the types stop catching them).

const codec = new ResourceCodec(loadResourceRoot());

const listener: envoy_config_listener_v3.Listener = {
  name: 'https',
  address: { socket_address: { address: '127.0.0.1', port_value: 8443 } },
  per_connection_buffer_limit_bytes: { value: 32768 },
  listener_filters: [
    {
      name: 'envoy.filters.listener.tls_inspector',
      typed_config: typed('envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector', {}),
    },
  ],
  filter_chains: [
    {
      filters: [
        {
          name: 'envoy.filters.network.http_connection_manager',
          typed_config: typed('envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager', {
            stat_prefix: 'edge',
            codec_type: 'AUTO',
            stream_idle_timeout: { seconds: 300 },
            rds: { route_config_name: 'routes', config_source: { ads: {}, resource_api_version: 'V3' } },
            http_filters: [
              {
                name: 'strip',
                typed_config: typed('envoy.extensions.filters.http.header_mutation.v3.HeaderMutation', {
                  mutations: { request_mutations: [{ remove_on_match: { key_matcher: { prefix: 'x-pomerium-' } } }] },
                }),
              },
              {
                name: 'envoy.filters.http.router',
                typed_config: typed('envoy.extensions.filters.http.router.v3.Router', {}),
              },
            ],
          }),
        },
      ],
    },
  ],
};

test('a Listener literal of the generated type encodes, and decodes to the same object', () => {
  assert.deepEqual(codec.problems(TYPE_URL.listener, listener), []);
  assert.deepEqual(codec.decode(codec.encode(TYPE_URL.listener, listener)), listener);
});

test('the generated types reject what the API does not have', () => {
  // @ts-expect-error a field Listener does not declare
  const unknownField: envoy_config_listener_v3.Listener = { name: 'x', bogus: true };
  // @ts-expect-error an enum name the API does not define
  const unknownEnum: envoy_config_listener_v3.Listener = { name: 'x', traffic_direction: 'SIDEWAYS' };
  // @ts-expect-error a filter config field of another message
  const wrongConfig = typed('envoy.extensions.filters.http.router.v3.Router', { stat_prefix: 'edge' });
  assert.ok(unknownField && unknownEnum && wrongConfig);
});
