// The control plane's /metrics as Prometheus's own linter reads it (promtool check metrics, Debian's prometheus
// package; CI installs it): a count that only grows is a counter named `_total`, nothing else is. Per Envoy: is
// it connected, which version it runs, seconds since its last ACK, how many NACKs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import pino from 'pino';
import { createMetrics } from '../../../control-plane/src/admin/server.js';
import { AdsServer } from '../../../control-plane/src/xds/index.js';

function promtool(exposition: string): { status: number | null; output: string } {
  const run = spawnSync('promtool', ['check', 'metrics'], { input: exposition, encoding: 'utf8' });
  if (run.error) assert.fail(`promtool is required (apt-get install prometheus): ${run.error.message}`);
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

function sample(exposition: string, name: string, labels = ''): number | undefined {
  const line = exposition.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

test('promtool finds nothing to say about the exposition, with Envoys connected, gone and refusing', async () => {
  const ads = new AdsServer(pino({ level: 'silent' }));
  const reload = { reloads: 0, failures: 0, errors: [] };
  let hits = 0;
  const metrics = createMetrics(ads, reload, () => ({ hits, misses: 1, size: 1 }));
  ads.fleet.connected('edge-a');
  ads.fleet.acked('edge-a', 'v1', new Date(Date.now() - 4000));
  ads.fleet.connected('edge-b');
  ads.fleet.nacked('edge-b', { typeUrl: 'type.googleapis.com/x', message: 'no', at: new Date().toISOString() });
  ads.fleet.disconnected('edge-b');
  const first = await metrics.registry.metrics();
  const lint = promtool(first);
  assert.equal(lint.status, 0, lint.output);
  assert.equal(lint.output.trim(), '');
  for (const line of first.split('\n').filter((l) => l.startsWith('# TYPE '))) {
    const [, , name, type] = line.split(' ');
    assert.equal(name?.endsWith('_total'), type === 'counter', line);
  }
  assert.equal(sample(first, 'mtls_edge_envoy_connected', '{node="edge-a"}'), 1);
  assert.equal(sample(first, 'mtls_edge_envoy_connected', '{node="edge-b"}'), 0);
  assert.equal(sample(first, 'mtls_edge_envoy_config_info', '{node="edge-a",version="v1"}'), 1);
  assert.ok((sample(first, 'mtls_edge_envoy_last_ack_age_seconds', '{node="edge-a"}') ?? 0) >= 4);
  assert.equal(sample(first, 'mtls_edge_envoy_nacks_total', '{node="edge-b"}'), 1);

  // Counters follow their sources across scrapes, and never go down.
  reload.reloads = 3;
  hits = 5;
  const second = await metrics.registry.metrics();
  assert.equal(sample(second, 'mtls_edge_config_reloads_total'), 3);
  assert.equal(sample(second, 'mtls_edge_authz_cache_hits_total'), 5);
  assert.equal(sample(second, 'mtls_edge_config_reloads_total'), 3, 'the same on a scrape with no change');
  await ads.close();
});

test("a node forgotten and seen again: its NACKs add up, they do not restart the counter's count", async () => {
  const ads = new AdsServer(pino({ level: 'silent' }));
  const metrics = createMetrics(ads, { reloads: 0, failures: 0, errors: [] });
  const nack = () => ({ typeUrl: 'type.googleapis.com/x', message: 'no', at: new Date().toISOString() });
  ads.fleet.connected('edge-x');
  for (let i = 0; i < 5; i++) ads.fleet.nacked('edge-x', nack());
  ads.fleet.disconnected('edge-x', new Date(1));
  assert.equal(sample(await metrics.registry.metrics(), 'mtls_edge_envoy_nacks_total', '{node="edge-x"}'), 5);
  // A thousand nodes leave after it: the fleet forgets edge-x, which then comes back and is refused 7 times.
  for (let i = 0; i < 1000; i++) {
    ads.fleet.connected(`gone-${i}`);
    ads.fleet.disconnected(`gone-${i}`, new Date(1000 + i));
  }
  assert.ok(!ads.fleet.view().some((e) => e.node === 'edge-x'), 'forgotten');
  await new Promise((r) => setTimeout(r, 2)); // a new first-seen time
  ads.fleet.connected('edge-x');
  for (let i = 0; i < 7; i++) ads.fleet.nacked('edge-x', nack());
  assert.equal(sample(await metrics.registry.metrics(), 'mtls_edge_envoy_nacks_total', '{node="edge-x"}'), 12);
  await ads.close();
});

test('the linter is real: it refuses a gauge named like a counter', () => {
  const bad = '# HELP x_total a count\n# TYPE x_total gauge\nx_total 1\n';
  const lint = promtool(bad);
  assert.notEqual(lint.status, 0);
  assert.match(lint.output, /non-counter metrics should not have "_total" suffix/);
});
