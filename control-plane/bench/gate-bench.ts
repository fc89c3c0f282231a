// `npm run bench` (third part): what the client-certificate gate costs through Envoy. The same upstream
// behind a host with a client CA and a host without, over HTTP/1.1 and HTTP/2, reusing connections and
// with a new TLS handshake per request; under reject_connection (the handshake is the gate) and under
// policy_with_default_deny (the handshake asks, a Lua check answers 495). Requests per second and p99,
// and the ratio with/without, measured in one run (the machine is small and noisy: compare ratios).
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRootCa, issueClientCertificate, issueServerCertificate } from '../src/pki/index.js';
import { average, drive as driveFor, edgePorts, freePort, h1Get, h2Get, h2Session, startEdge as runEdge, type RunningEdge, type Tls } from './load.js';

const SECONDS = Number(process.env['GATE_BENCH_SECONDS'] ?? 2);
const HOSTS = { gated: 'gated.bench.test', open: 'open.bench.test' };

type Mode = 'h1 keep-alive' | 'h2 keep-alive' | 'h1 new handshake' | 'h2 new handshake';

/** Runs `worker` on `concurrency` loops for SECONDS; returns requests per second and p99 latency (ms). */
function drive(concurrency: number, worker: () => Promise<void>) {
  return driveFor(SECONDS, concurrency, worker);
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

async function startEdge(dir: string, enforcement: 'reject_connection' | 'policy_with_default_deny', upstreamPort: number): Promise<RunningEdge & { port: number }> {
  const ports = await edgePorts();
  const config = join(dir, `${enforcement}.yaml`);
  writeFileSync(
    config,
    [
      ...ports.yaml,
      // One certificate per host, so that HTTP/2 is offered on both.
      'certificates:', '  - cert: gated.pem', '    key: gated-key.pem', '  - cert: open.pem', '    key: open-key.pem',
      'routes:',
      `  - from: https://${HOSTS.gated}`, `    to: http://127.0.0.1:${upstreamPort}`, '    tls_downstream_client_ca_file: ca.pem', '    allow_any_authenticated_user: true',
      `  - from: https://${HOSTS.open}`, `    to: http://127.0.0.1:${upstreamPort}`, '    allow_public_unauthenticated_access: true',
      `downstream_mtls:`, `  enforcement: ${enforcement}`, '  max_verify_depth: 0',
      '',
    ].join('\n'),
  );
  return { port: ports.port, ...(await runEdge(config, ports.admin)) };
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
      await edge.stop();
    }
  }
} finally {
  upstream.kill();
}
