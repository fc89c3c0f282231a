import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadResourceRoot, loadServiceDefinitions } from '../../../control-plane/src/envoy-api/index.js';

function cpuMilliseconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

// Start-up loads the Envoy API once (issue 12: under 100 ms). Parsing the .proto files of @grpc/grpc-js-xds took
// 450-1,000 ms; the JSON form of the generated sets takes 52-64 ms of wall time in a fresh process (median over
// runs of `npm run bench`, whose start-up part measures it), 80-110 ms of CPU over all threads (the collector's
// and compilers' too). CPU time here, not wall time: test machines are shared and busy. Not a benchmark: the
// bound only catches a return to proto parsing, with twice the room a busy CI run needs (151 ms was seen).
const CPU_BOUND_MS = 300;

test(`loading the Envoy API (resources and services) takes under ${CPU_BOUND_MS} ms of CPU`, (t) => {
  const started = cpuMilliseconds();
  const wallStarted = performance.now();
  const root = loadResourceRoot();
  const resources = cpuMilliseconds() - started;
  const services = loadServiceDefinitions();
  const elapsed = cpuMilliseconds() - started;
  const wall = performance.now() - wallStarted;
  const figures = `resources ${resources.toFixed(0)} ms + services ${(elapsed - resources).toFixed(0)} ms`;
  t.diagnostic(`CPU ${elapsed.toFixed(0)} ms (${figures}), wall ${wall.toFixed(0)} ms`);
  assert.ok(root.lookupType('envoy.config.listener.v3.Listener'));
  assert.ok(services['envoy.service.discovery.v3.AggregatedDiscoveryService']);
  assert.ok(services['envoy.service.auth.v3.Authorization']);
  assert.ok(elapsed < CPU_BOUND_MS, `loading took ${elapsed.toFixed(0)} ms of CPU time (${figures})`);
});

test('map fields stay maps (protobufjs fromDescriptor would make them lists of entries)', () => {
  const root = loadResourceRoot();
  const route = root.lookupType('envoy.config.route.v3.VirtualHost');
  assert.equal(route.fields['typed_per_filter_config']?.map, true);
});
