import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  EncodeError,
  ResourceCodec,
  TYPE_URL,
  loadResourceRoot,
  type EnvoyJson,
} from '../../../control-plane/src/envoy-api/index.js';

// protobufjs alone drops whatever a message does not declare; the codec refuses it and says where it was.

const codec = new ResourceCodec(loadResourceRoot());
const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';

function listenerWith(hcm: EnvoyJson): EnvoyJson {
  return {
    name: 'https',
    filter_chains: [{ filters: [{ name: 'hcm', typed_config: { '@type': HCM, stat_prefix: 'edge', ...hcm } }] }],
  };
}

function refusal(typeUrl: string, resource: EnvoyJson): string[] {
  try {
    codec.encode(typeUrl, resource);
  } catch (e) {
    assert.ok(e instanceof EncodeError, String(e));
    assert.equal(e.typeUrl, typeUrl);
    return e.problems;
  }
  assert.fail('encoded without complaint');
}

test('an unknown field inside an Any is refused with its path', () => {
  assert.deepEqual(refusal(TYPE_URL.listener, listenerWith({ bogus: true })), [
    'listener.filter_chains[0].filters[0].typed_config.bogus: not a field of ' +
      'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
  ]);
});

test('an unknown top-level field, and a camelCase spelling, are refused', () => {
  assert.deepEqual(refusal(TYPE_URL.cluster, { name: 'c', connectTimeout: { seconds: 1 } }), [
    'cluster.connectTimeout: not a field of envoy.config.cluster.v3.Cluster',
  ]);
});

test('an unknown @type is refused', () => {
  const listener = {
    name: 'https',
    listener_filters: [{ name: 'x', typed_config: { '@type': 'type.googleapis.com/envoy.Nope' } }],
  };
  assert.deepEqual(refusal(TYPE_URL.listener, listener), [
    "listener.listener_filters[0].typed_config['@type']: type.googleapis.com/envoy.Nope" +
      ' is not a message of the Envoy API this edge loads',
  ]);
});

test('fields inside map values, nested Anys and lists are checked', () => {
  const route = {
    name: 'r',
    virtual_hosts: [
      {
        name: 'vh',
        domains: ['*'],
        typed_per_filter_config: {
          lua: {
            '@type': 'type.googleapis.com/envoy.extensions.filters.http.lua.v3.LuaPerRoute',
            disabled: true,
            nope: 1,
          },
        },
      },
    ],
  };
  assert.deepEqual(refusal(TYPE_URL.routeConfiguration, route), [
    'routeConfiguration.virtual_hosts[0].typed_per_filter_config["lua"].nope:' +
      ' not a field of envoy.extensions.filters.http.lua.v3.LuaPerRoute',
  ]);
});

test('unknown enum names, wrong shapes and two members of a oneof are refused', () => {
  const problems = refusal(TYPE_URL.cluster, {
    name: 'c',
    type: 'NOT_A_DISCOVERY_TYPE',
    load_assignment: { cluster_name: 'c', endpoints: { lb_endpoints: [] } },
    connect_timeout: 5,
  });
  assert.deepEqual(problems, [
    'cluster.type: string "NOT_A_DISCOVERY_TYPE" is not a value of envoy.config.cluster.v3.Cluster.DiscoveryType',
    'cluster.load_assignment.endpoints: expected a list, got an object',
    'cluster.connect_timeout: expected an object (google.protobuf.Duration), got number 5',
  ]);
  const both = refusal(TYPE_URL.cluster, { name: 'c', type: 'STATIC', cluster_type: { name: 'x' } });
  assert.deepEqual(both, ['cluster: type and cluster_type are one choice (oneof cluster_discovery_type): set one']);
  // Named in the oneof's order, whatever the order of the keys.
  const reversed = refusal(TYPE_URL.cluster, { name: 'c', cluster_type: { name: 'x' }, type: 'STATIC' });
  assert.deepEqual(reversed, both);
});

test('every problem is reported, not only the first', () => {
  assert.equal(refusal(TYPE_URL.listener, listenerWith({ a: 1, b: 2 })).length, 2);
});

test('what the API declares encodes and decodes unchanged', () => {
  const listener = listenerWith({
    codec_type: 'AUTO',
    common_http_protocol_options: { idle_timeout: { seconds: 60 } },
  });
  assert.deepEqual(codec.problems(TYPE_URL.listener, listener), []);
  assert.deepEqual(codec.decode(codec.encode(TYPE_URL.listener, listener)), listener);
});
