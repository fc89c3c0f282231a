// `npm run bench` (last part): what a request costs on a connection made before a trust change. Such a
// connection reads its chain's old route configuration, whose routes ask the ext_authz service to verify the
// client certificate against the current trust (translate/stale-route-configuration.ts), on every request until
// the connection closes. Envoy drains the old chain with its default, gradual strategy: over --drain-time-s
// (15 s by default) ever more of the old connections are told to close after an answer (HTTP/1.1 Connection:
// close, HTTP/2 GOAWAY), and the rest are closed at its end; not every one after its first answer. The bench
// sets a drain far longer than itself, so the old connections stay open and each request on one is such a
// re-verified request: it opens N connections, changes the trust (a CA added to the file: the client still
// passes), opens N more, then sends one request on each of the N old ones and one on each of the N new ones (8
// in flight), side by side, alternating which goes first, over HTTP/2 and HTTP/1.1: latency (median, p99) and
// Envoy's CPU time per request (from /proc). Checked on every cycle: every request is a 200 from the upstream,
// the ext_authz service answers one check per old connection and none for the new ones, and no new connection
// is told to close. A failed check makes the run invalid (exit code 1).
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { ClientHttp2Session } from 'node:http2';
import { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRootCa, issueClientCertificate, issueServerCertificate } from '../src/pki/index.js';
import { authzChecksAnswered, runBench } from './checks.js';
import { clockTicksPerSecond, cpuMicros, h1Get, h2Get, h2Session, median, percentile, type Tls } from './load.js';
import { edgePorts, startEdge, startUpstream } from './processes.js';

const CONNECTIONS = Number(process.env['TRUST_BENCH_CONNECTIONS'] ?? 200);
const CYCLES = Number(process.env['TRUST_BENCH_CYCLES'] ?? 3);
const HOST = 'trust.bench.test';
/** One open connection: a request on it, whether the edge has told it to close, and closing it. */
interface Connection {
  get(): Promise<void>;
  /**
   * Whether the edge has told the connection to close (HTTP/1.1: its last answer said Connection: close; HTTP/2: a
   * GOAWAY).
   */
  closing(): boolean;
  close(): void;
}

await runBench(async (checks) => {
  const dir = mkdtempSync(join(tmpdir(), 'mtls-edge-trust-bench-'));
  const ca = await createRootCa({ commonName: 'trust bench CA' });
  const otherCa = await createRootCa({ commonName: 'trust bench CA 2' });
  const clientCert = await issueClientCertificate(ca, { commonName: 'bench', email: 'bench@example.com' });
  const server = await issueServerCertificate(ca, { dnsNames: [HOST] });
  writeFileSync(join(dir, 'ca.pem'), ca.certPem);
  writeFileSync(join(dir, 'server.pem'), server.chainPem);
  writeFileSync(join(dir, 'server-key.pem'), server.keyPem);
  const upstream = await startUpstream(`trust-bench upstream ${randomUUID()}`);
  const tls: Tls = { ca: ca.certPem, cert: clientCert.certPem, key: clientCert.keyPem };
  const ports = await edgePorts();
  const config = join(dir, 'config.yaml');
  const route = [
    `  - from: https://${HOST}`,
    `    to: http://127.0.0.1:${upstream.port}`,
    '    tls_downstream_client_ca_file: ca.pem',
    '    allow_any_authenticated_user: true',
  ];
  writeFileSync(
    config,
    [
      ...ports.yaml,
      'certificate_file: server.pem',
      'certificate_key_file: server-key.pem',
      'routes:',
      ...route,
      '',
    ].join('\n'),
  );
  let edge: Awaited<ReturnType<typeof startEdge>> | undefined;

  async function open(protocol: 'HTTP/2' | 'HTTP/1.1'): Promise<Connection> {
    if (protocol === 'HTTP/2') {
      const session: ClientHttp2Session = await h2Session(ports.port, HOST, tls);
      let goaway = false;
      session.on('goaway', () => (goaway = true));
      await h2Get(session, HOST, '/', upstream.body);
      return {
        get: async () => void (await h2Get(session, HOST, '/', upstream.body)),
        closing: () => goaway,
        close: () => session.close(),
      };
    }
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    let closing = false;
    const get = async () => {
      const answer = await h1Get(ports.port, HOST, tls, agent, '/', upstream.body);
      closing = answer.headers['connection'] === 'close';
    };
    await get();
    return { get, closing: () => closing, close: () => agent.destroy() };
  }

  async function openMany(protocol: 'HTTP/2' | 'HTTP/1.1'): Promise<Connection[]> {
    const out: Connection[] = [];
    // A few at a time: the handshakes are the slow part.
    for (let i = 0; i < CONNECTIONS; i += 8)
      out.push(...(await Promise.all(Array.from({ length: Math.min(8, CONNECTIONS - i) }, () => open(protocol)))));
    return out;
  }

  /**
   * One request on each connection, 8 in flight: latencies (ms), requests/s over the measured time, Envoy's CPU time
   * per request (µs), failures.
   */
  async function oneRequestEach(connections: Connection[], envoyPid: number) {
    const latencies: number[] = [];
    const failures: string[] = [];
    const cpu0 = cpuMicros(envoyPid);
    const t = performance.now();
    for (let i = 0; i < connections.length; i += 8) {
      await Promise.all(
        connections.slice(i, i + 8).map(async (c) => {
          const t0 = performance.now();
          try {
            await c.get();
            latencies.push(performance.now() - t0);
          } catch (err) {
            failures.push(err instanceof Error ? err.message : String(err));
          }
        }),
      );
    }
    const rps = latencies.length / ((performance.now() - t) / 1000);
    return {
      latencies: latencies.sort((a, b) => a - b),
      rps,
      cpuPerRequest: (cpuMicros(envoyPid) - cpu0) / latencies.length,
      failures,
    };
  }

  async function status(): Promise<{ configVersion: string; envoyPid: number | null }> {
    return (await (await fetch(`http://127.0.0.1:${ports.admin}/status`)).json()) as {
      configVersion: string;
      envoyPid: number | null;
    };
  }

  const checksAnswered = async () =>
    authzChecksAnswered(await (await fetch(`http://127.0.0.1:${ports.admin}/metrics`)).text());

  /** Adds or removes the second CA: either way a new trust generation that the client still passes. */
  async function changeTrust(withOther: boolean): Promise<void> {
    const before = (await status()).configVersion;
    writeFileSync(join(dir, 'ca.pem'), withOther ? ca.certPem + otherCa.certPem : ca.certPem);
    for (const deadline = Date.now() + 30_000; ;) {
      if (
        (await status()).configVersion !== before &&
        (await fetch(`http://127.0.0.1:${ports.admin}/synced`)).status === 200
      )
        return;
      if (Date.now() > deadline) throw new Error('the trust change did not apply');
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /**
   * The old connections went through ext_authz once each, the new ones not at all; no new connection is told to close.
   */
  function checkCycle(what: string, stale: boolean, connections: Connection[], authzChecks: number): number {
    const expected = stale ? connections.length : 0;
    checks.expect(
      authzChecks === expected,
      `${what}: the ext_authz service answered ${authzChecks} checks for ${connections.length} ` +
        `${stale ? 'old' : 'new'} connections (expected ${expected})`,
    );
    const closing = connections.filter((x) => x.closing()).length;
    if (!stale)
      checks.expect(closing === 0, `${what}: ${closing} of ${connections.length} new connections were told to close`);
    return closing;
  }

  try {
    // A drain far longer than the bench: the old connections are still open (not closed at the drain's end) when asked.
    edge = await startEdge(config, ports.admin, 'ignore', ['--drain-time-s', '3600']);
    const { envoyPid } = await status();
    if (envoyPid === null) throw new Error('the control plane reports no Envoy process');
    console.log(
      `\none request on each of ${CONNECTIONS} connections made before a trust change (re-verified by ` +
        `ext_authz; the drain closes them gradually) vs made after it; ${CYCLES} cycles, alternating order`,
    );
    const tickMicros = 1_000_000 / clockTicksPerSecond();
    console.log(
      `(Envoy's CPU time comes in clock ticks of ${tickMicros} µs: ` +
        `${(tickMicros / CONNECTIONS).toFixed(0)} µs per request at ${CONNECTIONS} connections is its resolution)`,
    );
    console.log(
      'protocol  | stale rps | fresh rps | stale median / p99 ms | fresh median / p99 ms | Envoy CPU ' +
        'µs/request stale | fresh',
    );
    let toggle = false;
    for (const protocol of ['HTTP/2', 'HTTP/1.1'] as const) {
      const stale = { rps: [] as number[], median: [] as number[], p99: [] as number[], cpu: [] as number[] };
      const fresh = { rps: [] as number[], median: [] as number[], p99: [] as number[], cpu: [] as number[] };
      let closingOld = 0;
      for (let i = 0; i < CYCLES; i++) {
        const old = await openMany(protocol);
        toggle = !toggle;
        await changeTrust(toggle);
        const now = await openMany(protocol);
        const order: Array<[Connection[], typeof stale]> =
          i % 2 === 0
            ? [
                [old, stale],
                [now, fresh],
              ]
            : [
                [now, fresh],
                [old, stale],
              ];
        for (const [connections, into] of order) {
          const what = `${protocol}, cycle ${i + 1}, ${into === stale ? 'stale' : 'fresh'}`;
          const checks0 = await checksAnswered();
          const r = await oneRequestEach(connections, envoyPid);
          if (r.failures.length > 0)
            checks.fail(
              `${what}: ${r.failures.length} of ${connections.length} requests failed (first: ${r.failures[0]})`,
            );
          const closing = checkCycle(what, into === stale, connections, (await checksAnswered()) - checks0);
          if (into === stale) closingOld += closing;
          into.rps.push(r.rps);
          into.median.push(percentile(r.latencies, 50));
          into.p99.push(percentile(r.latencies, 99));
          into.cpu.push(r.cpuPerRequest);
        }
        for (const c of [...old, ...now]) c.close();
      }
      const f = (xs: number[]) => median(xs).toFixed(2);
      const latency = (r: typeof stale) => `${f(r.median)} / ${f(r.p99)}`.padStart(21);
      console.log(
        `${protocol.padEnd(9)} | ${median(stale.rps).toFixed(0).padStart(9)} | ` +
          `${median(fresh.rps).toFixed(0).padStart(9)} | ${latency(stale)} | ${latency(fresh)} | ` +
          `${median(stale.cpu).toFixed(0).padStart(26)} | ${median(fresh.cpu).toFixed(0)}`,
      );
      console.log(
        `          (old connections told to close right after their answer: ${closingOld} of ${CYCLES * CONNECTIONS})`,
      );
    }
  } finally {
    await edge?.stop();
    await upstream.stop();
  }
});
