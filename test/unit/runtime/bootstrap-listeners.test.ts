import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { readBootstrapTemplate, renderBootstrap } from '../../../control-plane/src/runtime/bootstrap.js';
import { resolveConfig } from '../../../control-plane/src/config/index.js';
import { runCli } from '../../support/edge.js';

interface Listener {
  name: string;
  stat_prefix: string;
  drain_type: string;
  address: { socket_address: { address: string; port_value: number } };
  filter_chains: Array<{ filters: Array<{ typed_config: Hcm }> }>;
}
interface Hcm {
  route_config: { virtual_hosts: Array<{ routes: Array<Record<string, unknown>> }> };
  http_filters: Array<{ name: string; typed_config: Record<string, unknown> }>;
}
interface Doc {
  static_resources: { listeners?: Listener[]; clusters: Array<{ name: string; load_assignment: unknown }> };
}

const render = (health?: string, metrics?: string, adminHost = '0.0.0.0') => {
  const address = (a: string) => ({ host: a.split(':')[0]!, port: Number(a.split(':')[1]) });
  return parse(
    renderBootstrap(readBootstrapTemplate(), {
      nodeId: 'edge-1',
      xds: { kind: 'private-socket', path: '/tmp/x.sock' },
      envoyAdmin: { host: adminHost, port: 9901 },
      health: health ? address(health) : undefined,
      metrics: metrics ? address(metrics) : undefined,
    }),
  ) as Doc;
};

describe("the bootstrap's own listeners", () => {
  it('none unless asked for', () => {
    const doc = render();
    assert.equal(doc.static_resources.listeners, undefined);
    assert.deepEqual(
      doc.static_resources.clusters.map((c) => c.name),
      ['mtls-edge-xds'],
    );
  });

  it('health: only GET /healthz answers, from the health_check filter, never passed on', () => {
    const [health] = render('0.0.0.0:9903').static_resources.listeners!;
    assert.equal(health!.name, 'mtls-edge-health');
    assert.deepEqual(health!.address.socket_address, { address: '0.0.0.0', port_value: 9903 });
    assert.equal(health!.drain_type, 'MODIFY_ONLY', 'probes answered during a drain');
    const hcm = health!.filter_chains[0]!.filters[0]!.typed_config;
    const check = hcm.http_filters[0]!;
    assert.equal(check.name, 'envoy.filters.http.health_check');
    assert.equal(check.typed_config['pass_through_mode'], false);
    assert.match(JSON.stringify(check.typed_config['headers']), /":path","string_match":\{"exact":"\/healthz"\}/);
    assert.deepEqual(hcm.route_config.virtual_hosts[0]!.routes, [
      { match: { prefix: '/' }, direct_response: { status: 404 } },
    ]);
  });

  it("metrics: GET /metrics rewritten to the admin API's /stats/prometheus, on loopback; nothing else", () => {
    const doc = render(undefined, '0.0.0.0:9904');
    const [metrics] = doc.static_resources.listeners!;
    assert.equal(metrics!.name, 'mtls-edge-metrics');
    const routes = metrics!.filter_chains[0]!.filters[0]!.typed_config.route_config.virtual_hosts[0]!.routes;
    assert.deepEqual(routes, [
      {
        match: { path: '/metrics', headers: [{ name: ':method', string_match: { exact: 'GET' } }] },
        route: { cluster: 'mtls-edge-envoy-admin', prefix_rewrite: '/stats/prometheus' },
      },
      { match: { prefix: '/' }, direct_response: { status: 404 } },
    ]);
    const admin = doc.static_resources.clusters.find((c) => c.name === 'mtls-edge-envoy-admin');
    assert.match(JSON.stringify(admin?.load_assignment), /"address":"127.0.0.1","port_value":9901/, 'dials loopback');
  });
});

describe('envoy_health_address and metrics_address', () => {
  const config = (extra: string) =>
    resolveConfig({
      yaml: { text: `${extra}\nroutes: []\ncertificate: x\n`, file: '/c/config.yaml' },
      env: {},
      files: { readFile: () => '', configDir: '/c', cwd: '/c' },
    });

  it('an address that is not HOST:PORT is an error naming the file, key and line', () => {
    const r = config('address: 127.0.0.1:8443\nmetrics_address: 127.0.0.1:9904\nenvoy_health_address: nine');
    assert.equal(r.ok, false);
    const errors = r.ok ? [] : r.errors;
    const e = errors.find((x) => x.key === 'envoy_health_address');
    assert.ok(e, JSON.stringify(errors));
    assert.equal(e.file, '/c/config.yaml');
    assert.equal(e.line, 3);
  });

  it('`mtls-edge drain` refuses seconds that are not a number, naming the flag', async () => {
    const res = await runCli(['drain', '--seconds', 'soon']);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /--seconds: expected seconds from 0 to 3600, got "soon"/);
  });

  it('`mtls-edge drain` with no Envoy there says so and what to check', async () => {
    const res = await runCli(['drain', '--envoy-admin-address', '127.0.0.1:1', '--seconds', '0']);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /Envoy's admin API at http:\/\/127.0.0.1:1: .*is Envoy running with that admin address\?/);
  });
});
