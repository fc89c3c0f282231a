// Issue 13 (1.5, 3.2): each Envoy's health and metrics listeners, and a stop that loses nothing: the health check
// fails first, then Envoy drains, then it exits.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli, startEdge, type RunningEdge } from '../support/edge.js';
import { createTestPki, HOSTS, type TestPki } from '../support/pki-fixture.js';
import { freePort } from '../support/ports.js';
import { httpsGet } from '../support/https-client.js';
import { steadyLoad, type LoadTarget, type RunningLoad } from '../support/steady-load.js';
import { startTcpBalancer, type TcpBalancer } from '../support/tcp-balancer.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

const yaml = (upstream: TestUpstream, health: number, metrics?: number) => `
envoy_health_address: 127.0.0.1:${health}
${metrics ? `metrics_address: 127.0.0.1:${metrics}` : ''}
signing_key_file: signing-key.pem
certificate_file: server.pem
certificate_key_file: server-key.pem
routes:
  - from: https://${HOSTS.z}
    to: ${upstream.url}
    allow_public_unauthenticated_access: true
  - from: https://${HOSTS.x}
    to: ${upstream.url}
    tls_downstream_client_ca_file: ca-a.pem
    allow_any_authenticated_user: true
    pass_identity_headers: true
`;

// What promtool says of Envoy's own names and its exposition without HELP lines: Envoy's, not ours to change.
const ENVOY_NAMING = new RegExp(
  [
    'no help text',
    'counter metrics should have "_total" suffix',
    'non-counter metrics should not have "_total" suffix',
    'non-histogram and non-summary metrics should not have "_count" suffix',
    'metric names should not contain abbreviated units',
    'use base unit "seconds" instead of "days"',
  ].join('|'),
);

/** The path as written: fetch() would resolve `..` before sending it. */
const rawStatus = (base: string, path: string) =>
  new Promise<number>((resolve, reject) => {
    const url = new URL(base);
    request({ host: url.hostname, port: url.port, path }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    })
      .on('error', reject)
      .end();
  });

const get = async (url: string, init?: RequestInit) => {
  const res = await fetch(url, init);
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() };
};

describe("an Envoy's own listeners: /healthz for balancers, /metrics for Prometheus", () => {
  let pki: TestPki;
  let upstream: TestUpstream;
  let edge: RunningEdge;
  let health: string;
  let metrics: string;

  before(async () => {
    pki = await createTestPki();
    assert.equal((await runCli(['certs', 'signing-key', '--dir', pki.dir])).code, 0);
    upstream = await startUpstream('own');
    const [h, m] = [await freePort(), await freePort()];
    [health, metrics] = [`http://127.0.0.1:${h}`, `http://127.0.0.1:${m}`];
    edge = await startEdge({ dir: pki.dir, yaml: yaml(upstream, h, m) });
  });
  after(async () => {
    await edge?.stop();
    await upstream?.close();
  });

  it('/healthz is 200 while Envoy serves; any other path there is 404', async () => {
    assert.equal((await get(`${health}/healthz`)).status, 200);
    assert.equal((await get(`${health}/`)).status, 404);
    assert.equal((await get(`${health}/healthz/x`)).status, 404);
  });

  it("/metrics is Envoy's Prometheus exposition, and nothing else of the admin API is reachable there", async () => {
    const m = await get(`${metrics}/metrics`);
    assert.equal(m.status, 200);
    assert.match(m.type, /^text\/plain/);
    assert.match(m.body, /^# TYPE envoy_server_live gauge$/m);
    assert.match(m.body, /^envoy_server_live\{\} 1$/m);
    const paths = ['/stats', '/config_dump', '/metrics/../config_dump', '/metrics/%2e%2e/config_dump', '/metricsx'];
    for (const path of [...paths, '/healthcheck/fail']) assert.equal(await rawStatus(metrics, path), 404, path);
    assert.equal((await get(`${metrics}/metrics`, { method: 'POST' })).status, 404, 'POST');
    assert.equal((await get(`${edge.envoyAdminUrl}/ready`)).body.trim(), 'LIVE', 'not failed by the probes above');
  });

  it("Envoy's exposition parses and passes promtool's lint, but for Envoy's own metric names", async () => {
    const file = join(pki.dir, 'envoy-metrics.txt');
    writeFileSync(file, (await get(`${metrics}/metrics`)).body);
    const lint = spawnSync('promtool', ['check', 'metrics'], { input: (await get(`${metrics}/metrics`)).body });
    assert.equal(lint.error, undefined, 'promtool is required (Debian package prometheus)');
    const problems = lint.stderr
      .toString()
      .split('\n')
      .filter((l) => l.trim() !== '')
      // Anything but Envoy's naming (a parse error, a bad label, a duplicate series, a type clash) fails.
      .filter((l) => !ENVOY_NAMING.test(l));
    assert.deepEqual(problems, [], 'promtool check metrics');
  });

  it('`mtls-edge drain` fails /healthz at once, keeps serving while balancers notice, then drains', async () => {
    const admin = new URL(edge.envoyAdminUrl).host;
    const started = Date.now();
    const drain = runCli(['drain', '--envoy-admin-address', admin, '--seconds', '1', '--drain-time-s', '1']);
    let failedAt: number | undefined;
    while (failedAt === undefined && Date.now() - started < 5000) {
      if ((await get(`${health}/healthz`)).status === 503) failedAt = Date.now();
      else await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(failedAt !== undefined, '/healthz turned 503');
    const served = await httpsGet({ port: edge.httpsPort, servername: HOSTS.z, path: '/during', ca: pki.caA });
    assert.equal(served.status, 200, 'still served while the balancers take it out');
    const done = await drain;
    assert.equal(done.code, 0, done.stderr);
    assert.match(done.stderr, /health check failing; waiting 1 s/);
    assert.match(done.stderr, /drained: Envoy can be stopped/);
    assert.ok(Date.now() - started >= 1000, 'waited for the balancers first');
  });
});

describe('two Envoys behind a TCP balancer: one is stopped under load, and no request fails', () => {
  let pki: TestPki;
  let upstream: TestUpstream;
  const edges: RunningEdge[] = [];
  const healthUrls: string[] = [];

  before(async () => {
    pki = await createTestPki();
    assert.equal((await runCli(['certs', 'signing-key', '--dir', pki.dir])).code, 0);
    upstream = await startUpstream('drain');
    for (const name of ['a', 'b']) {
      const port = await freePort();
      healthUrls.push(`http://127.0.0.1:${port}/healthz`);
      const dir = join(pki.dir, name);
      spawnSync('mkdir', ['-p', dir]);
      spawnSync('sh', ['-c', `cp ${pki.dir}/*.pem ${dir}/`]);
      edges.push(await startEdge({ dir, yaml: yaml(upstream, port), drainTimeSeconds: 1 }));
    }
  });
  // The test's load and balancer, stopped here too: a test that timed out never reaches its own cleanup, and a load
  // still running (or a listening balancer) would keep this file's process alive for good.
  let balancer: TcpBalancer | undefined;
  let loads: RunningLoad[] = [];
  after(async () => {
    await Promise.allSettled(loads.map((l) => l.stop()));
    await balancer?.close();
    for (const e of edges) await e.stop();
    await upstream?.close();
  });

  it(
    'SIGTERM to one: its /healthz fails first, the balancer moves new connections, open ones finish',
    { timeout: 60_000 },
    async () => {
      const lb = await startTcpBalancer(
        edges.map((e, i) => ({ port: e.httpsPort, healthUrl: healthUrls[i]! })),
        100,
      );
      balancer = lb;
      const target = (host: string, path: string): LoadTarget => ({
        port: lb.port,
        host,
        path,
        ca: pki.caA,
        ...pki.clientA,
        expect: (status, body) => status === 200 && body.startsWith('upstream drain'),
      });
      loads = (['h1', 'h2'] as const).flatMap((p) => [
        steadyLoad(target(HOSTS.z, `/public-${p}`), p),
        steadyLoad(target(HOSTS.x, `/identity-${p}`), p),
      ]);
      try {
        await new Promise((r) => setTimeout(r, 1000));
        const before = [...lb.connections];
        assert.equal(await edges[0]!.stop('SIGTERM'), 0, 'a clean exit');
        await new Promise((r) => setTimeout(r, 1000));
        assert.ok(lb.connections[1]! > before[1]!, 'new connections went to the other Envoy');
        // 200 while it served, 503 (failing on purpose while Envoy still ran), and only then refused (gone).
        assert.deepEqual(lb.answers[0], [200, 503, 0], 'the balancer saw /healthz fail before Envoy went away');
      } finally {
        await Promise.all(loads.map((l) => l.stop()));
        await lb.close();
      }
      for (const { tally } of loads) {
        assert.deepEqual(tally.failed, []);
        assert.ok(tally.ok > 20, `progress: ${tally.ok}`);
      }
      const log = edges[0]!.output();
      const order = ['envoy health-failed', 'envoy draining', 'envoy drained', 'envoy exited'].map((m) =>
        log.indexOf(m),
      );
      assert.ok(
        order.every((i, k) => i >= 0 && (k === 0 || i > order[k - 1]!)),
        `stop sequence: ${order.join(', ')}`,
      );
    },
  );
});
