import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadResourceRoot, loadServiceDefinitions } from '../../../control-plane/src/envoy-api/index.js';

function cpuMilliseconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

// Start-up loads the Envoy API once. Parsing the .proto files of @grpc/grpc-js-xds took 450-1,000 ms; the
// descriptor sets take well under half of that. CPU time, not wall time: test machines are shared and busy,
// and the bound is generous, the point being that it is not the old second.
test('loading the Envoy API (resources and services) takes a fraction of a second', () => {
  const started = cpuMilliseconds();
  const root = loadResourceRoot();
  const services = loadServiceDefinitions();
  const elapsed = cpuMilliseconds() - started;
  assert.ok(root.lookupType('envoy.config.listener.v3.Listener'));
  assert.ok(services['envoy.service.discovery.v3.AggregatedDiscoveryService']);
  assert.ok(services['envoy.service.auth.v3.Authorization']);
  assert.ok(elapsed < 350, `loading took ${elapsed.toFixed(0)} ms of CPU time`);
});

test('map fields stay maps (protobufjs fromDescriptor would make them lists of entries)', () => {
  const root = loadResourceRoot();
  const route = root.lookupType('envoy.config.route.v3.VirtualHost');
  assert.equal(route.fields['typed_per_filter_config']?.map, true);
});
