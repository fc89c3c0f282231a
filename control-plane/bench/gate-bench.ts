// `npm run bench` (third part): what the client-certificate gate costs through Envoy. The same upstream
// behind a host with a client CA and a host without, over HTTP/1.1 and HTTP/2, reusing connections and
// with a new TLS handshake per request; under reject_connection (the handshake is the gate) and under
// policy_with_default_deny (the handshake asks, a Lua check answers 495). Requests per second and p99,
// and the ratio with/without, measured in one run (the machine is small and noisy: compare ratios).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect as connectH2, type ClientHttp2Session } from 'node:http2';
import { Agent, request } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRootCa, issueClientCertificate, issueServerCertificate } from '../src/pki/index.js';

const CLI = fileURLToPath(new URL('../src/cli.js', import.meta.url));
const SECONDS = Number(process.env['GATE_BENCH_SECONDS'] ?? 2);
const HOSTS = { gated: 'gated.bench.test', open: 'open.bench.test' };

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

interface Tls {
  ca: string;
  cert?: string;
  key?: string;
}

function average(a: { rps: number; p99: number; errors: number }, b: { rps: number; p99: number; errors: number }) {
  return { rps: (a.rps + b.rps) / 2, p99: (a.p99 + b.p99) / 2, errors: a.errors + b.errors };
}

type Mode = 'h1 keep-alive' | 'h2 keep-alive' | 'h1 new handshake' | 'h2 new handshake';

/** Runs `worker` on `concurrency` loops for SECONDS; returns requests per second and p99 latency (ms). */
async function drive(concurrency: number, worker: () => Promise<void>): Promise<{ rps: number; p99: number; errors: number }> {
  const latencies: number[] = [];
  let errors = 0;
  const end = performance.now() + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const t0 = performance.now();
        try {
          await worker();
          latencies.push(performance.now() - t0);
        } catch {
          errors++;
        }
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  return { rps: latencies.length / SECONDS, p99: latencies[Math.floor(latencies.length * 0.99)] ?? NaN, errors };
}

function h1Get(port: number, host: string, tls: Tls, agent: Agent | false): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, servername: host, headers: { host }, path: '/', ...tls, agent }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(String(res.statusCode)))));
    });
    req.on('error', reject);
    req.end();
  });
}

function h2Get(session: ClientHttp2Session, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = session.request({ ':path': '/', ':authority': host });
    let status = 0;
    s.on('response', (h) => (status = Number(h[':status'])));
    s.resume();
    s.on('end', () => (status === 200 ? resolve() : reject(new Error(String(status)))));
    s.on('error', reject);
    s.end();
  });
}

function h2Session(port: number, host: string, tls: Tls): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const s = connectH2(`https://127.0.0.1:${port}`, { servername: host, ...tls });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

async function measure(mode: Mode, port: number, host: string, tls: Tls) {
  if (mode === 'h1 keep-alive') {
    const agent = new Agent({ keepAlive: true, maxSockets: 8 });
    const r = await drive(8, () => h1Get(port, host, tls, agent));
    agent.destroy();
    return r;
  }
  if (mode === 'h1 new handshake') return drive(4, () => h1Get(port, host, tls, false));
  if (mode === 'h2 keep-alive') {
    const session = await h2Session(port, host, tls);
    const r = await drive(16, () => h2Get(session, host));
    session.close();
    return r;
  }
  return drive(4, async () => {
    const session = await h2Session(port, host, tls);
    try {
      await h2Get(session, host);
    } finally {
      session.close();
    }
  });
}

async function startEdge(dir: string, enforcement: 'reject_connection' | 'policy_with_default_deny', upstreamPort: number): Promise<{ port: number; child: ChildProcess }> {
  const [port, admin, xds, envoyAdmin] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const config = join(dir, `${enforcement}.yaml`);
  writeFileSync(
    config,
    [
      `address: 127.0.0.1:${port}`, `admin_address: 127.0.0.1:${admin}`, `xds_address: 127.0.0.1:${xds}`, `envoy_admin_address: 127.0.0.1:${envoyAdmin}`,
      // One certificate per host, so that HTTP/2 is offered on both.
      'certificates:', '  - cert: gated.pem', '    key: gated-key.pem', '  - cert: open.pem', '    key: open-key.pem',
      'routes:',
      `  - from: https://${HOSTS.gated}`, `    to: http://127.0.0.1:${upstreamPort}`, '    tls_downstream_client_ca_file: ca.pem', '    allow_any_authenticated_user: true',
      `  - from: https://${HOSTS.open}`, `    to: http://127.0.0.1:${upstreamPort}`, '    allow_public_unauthenticated_access: true',
      `downstream_mtls:`, `  enforcement: ${enforcement}`, '  max_verify_depth: 0',
      '',
    ].join('\n'),
  );
  const child = spawn(process.execPath, [CLI, 'run', '--config', config, '--envoy-concurrency', '1'], { stdio: 'ignore', env: { ...process.env, LOG_LEVEL: 'warn' } });
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      if ((await fetch(`http://127.0.0.1:${admin}/readyz`)).status === 200) return { port, child };
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error('edge did not become ready');
    await new Promise((r) => setTimeout(r, 100));
  }
}

const dir = mkdtempSync(join(tmpdir(), 'mtls-edge-gate-bench-'));
const ca = await createRootCa({ commonName: 'gate bench CA' });
const clientCert = await issueClientCertificate(ca, { commonName: 'bench', email: 'bench@example.com' });
writeFileSync(join(dir, 'ca.pem'), ca.certPem);
for (const [name, host] of Object.entries({ gated: HOSTS.gated, open: HOSTS.open })) {
  const c = await issueServerCertificate(ca, { dnsNames: [host] });
  writeFileSync(join(dir, `${name}.pem`), c.chainPem);
  writeFileSync(join(dir, `${name}-key.pem`), c.keyPem);
}
// The upstream in its own process, so that it does not share the load generator's event loop.
const upstreamPort = await freePort();
const upstream = spawn(process.execPath, ['-e', `require('http').createServer((q,s)=>s.end('ok')).listen(${upstreamPort},'127.0.0.1')`], { stdio: 'ignore' });
const client: Tls = { ca: ca.certPem, cert: clientCert.certPem, key: clientCert.keyPem };
const anonymous: Tls = { ca: ca.certPem };

console.log(`\nthe client-certificate gate through Envoy (1 worker): requests/s and p99 (ms), with a CA vs without (mean of two ${SECONDS} s runs each, after a warm-up)`);
console.log('enforcement              | mode             |  with CA rps |  p99 |   no CA rps |  p99 | rps ratio | p99 ratio');
try {
  for (const enforcement of ['reject_connection', 'policy_with_default_deny'] as const) {
    const edge = await startEdge(dir, enforcement, upstreamPort);
    try {
      for (const mode of ['h1 keep-alive', 'h2 keep-alive', 'h1 new handshake', 'h2 new handshake'] as const) {
        // Warm both up, then measure in the order open, gated, gated, open and average, so that neither
        // side profits from going second (JIT, caches) or suffers from a burst of other work on the machine.
        const runGated = () => measure(mode, edge.port, HOSTS.gated, client);
        const runOpen = () => measure(mode, edge.port, HOSTS.open, anonymous);
        await runGated();
        await runOpen();
        const [o1, g1, g2, o2] = [await runOpen(), await runGated(), await runGated(), await runOpen()];
        const gated = average(g1, g2);
        const open = average(o1, o2);
        const errors = gated.errors + open.errors ? `  (errors: ${gated.errors} / ${open.errors})` : '';
        console.log(
          `${enforcement.padEnd(24)} | ${mode.padEnd(16)} | ${gated.rps.toFixed(0).padStart(12)} | ${gated.p99.toFixed(1).padStart(4)} | ${open.rps.toFixed(0).padStart(11)} | ${open.p99.toFixed(1).padStart(4)} | ${(gated.rps / open.rps).toFixed(2).padStart(9)} | ${(gated.p99 / open.p99).toFixed(2).padStart(9)}${errors}`,
        );
      }
    } finally {
      const exited = new Promise((r) => edge.child.once('exit', r));
      edge.child.kill('SIGTERM');
      await exited;
    }
  }
} finally {
  upstream.kill();
}
