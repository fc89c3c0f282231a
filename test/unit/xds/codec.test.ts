import { TYPE_URL } from '../../../control-plane/src/envoy-api/index.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { codec } from './fixtures.js';

const TLS_INSPECTOR = 'type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector';
const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const ROUTER = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';

// Written in the form decode produces (proto field names, numbers for int64s, no defaults, wrapper
// types such as BoolValue as `{ value }` since protobufjs has no JSON mapping for them), so that
// round-trip equality means no field was dropped on the way in.
const listener = {
  name: 'https',
  address: { socket_address: { address: '0.0.0.0', port_value: 8443 } },
  listener_filters: [
    {
      name: 'envoy.filters.listener.tls_inspector',
      typed_config: { '@type': TLS_INSPECTOR, enable_ja3_fingerprinting: { value: true } },
    },
  ],
  filter_chains: [
    {
      filters: [
        {
          name: 'envoy.filters.network.http_connection_manager',
          typed_config: {
            '@type': HCM,
            stat_prefix: 'edge',
            rds: { route_config_name: 'routes-none', config_source: { ads: {}, resource_api_version: 'V3' } },
            // An Any inside an Any: the router config must survive two levels of expansion.
            http_filters: [
              { name: 'envoy.filters.http.router', typed_config: { '@type': ROUTER, suppress_envoy_headers: true } },
            ],
          },
        },
      ],
    },
  ],
};

test('a listener with nested typed_config round-trips through the codec', () => {
  const any = codec.encode(TYPE_URL.listener, listener);
  assert.equal(any.type_url, TYPE_URL.listener);
  assert.ok(any.value.length > 0);
  assert.deepEqual(codec.decode(any), listener);
});

test('the tls_inspector typed_config is encoded as its own type, not dropped', () => {
  const decoded = codec.decode(
    codec.encode(TYPE_URL.listener, { name: 'https', listener_filters: listener.listener_filters }),
  ) as typeof listener;
  assert.deepEqual(decoded.listener_filters[0]!.typed_config, {
    '@type': TLS_INSPECTOR,
    enable_ja3_fingerprinting: { value: true },
  });
});

test('encoding is deterministic', () => {
  const a = codec.encode(TYPE_URL.listener, listener);
  const b = codec.encode(TYPE_URL.listener, structuredClone(listener));
  assert.ok(a.value.equals(b.value));
});

test('a cluster round-trips with its duration', () => {
  const c = { name: 'c1', connect_timeout: { seconds: 1 } };
  assert.deepEqual(codec.decode(codec.encode(TYPE_URL.cluster, c)), c);
});
