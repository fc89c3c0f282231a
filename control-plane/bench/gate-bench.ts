// `npm run bench` (third part): what the client-certificate gate costs through Envoy. The same upstream
// behind a host with a client CA (gated) and a host without (open), over HTTP/1.1 and HTTP/2, reusing
// connections (HTTP/1.1: 8 connections, 8 requests in flight; HTTP/2: one connection, 16 streams in flight)
// with a new, full TLS handshake per request (no session resumption; 4 in flight), and with a new connection per
// request that resumes the last one's TLS session (issue 14, point 4: where sessions resume; 4 in flight); under
// reject_connection (the handshake is the gate: no certificate, no connection) and under
// policy_with_default_deny (the handshake asks for a certificate but completes without one; the
// client-certificate Lua filter then answers 495). Before timing anything, per enforcement and protocol: the
// gated host refuses a client without a certificate, and both hosts answer with the upstream's own body.
// Requests per second (over the measured time) and p99, and the ratio with/without, measured in one run (the
// machine is small and noisy: compare ratios). Every timed request must be a 200 from the upstream: one that
// is not makes the run invalid (exit code 1).
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRootCa, issueClientCertificate, issueServerCertificate } from '../src/pki/index.js';
import { probe, runBench, type BenchChecks, type Outcome } from './checks.js';
import { MODES, measure as measureMode, sideBySide } from './connection-modes.js';
import { average, type LoadResult, type Tls } from './load.js';
import { edgePorts, startEdge as runEdge, startUpstream, type RunningEdge } from './processes.js';

const SECONDS = Number(process.env['GATE_BENCH_SECONDS'] ?? 2);
/** GATE_BENCH_MODES="h1 resumed,h2 resumed": only these modes (all by default). */
const ONLY_MODES = process.env['GATE_BENCH_MODES']?.split(',').map((m) => m.trim());
const HOSTS = { gated: 'gated.bench.test', open: 'open.bench.test' };
const ENFORCEMENTS = ['reject_connection', 'policy_with_default_deny'] as const;
type Enforcement = (typeof ENFORCEMENTS)[number];
/** Where TLS sessions resume on the gated host (translate/session-resumption.ts); elsewhere each is a full one. */
const RESUMES: Record<Enforcement, boolean> = { reject_connection: true, policy_with_default_deny: false };

const show = (o: Outcome) =>
  'error' in o ? `error ${o.error}` : `HTTP ${o.status} ${JSON.stringify(o.body.slice(0, 80))}`;

/**
 * The gate does what the table says it costs: it refuses a client without a certificate, and lets one with a
 * certificate through.
 */
async function checkGate(
  checks: BenchChecks,
  enforcement: Enforcement,
  port: number,
  tls: { client: Tls; anonymous: Tls },
  body: string,
): Promise<void> {
  for (const protocol of ['HTTP/1.1', 'HTTP/2'] as const) {
    const refused = await probe(protocol, port, HOSTS.gated, tls.anonymous);
    if (enforcement === 'reject_connection') {
      // The certificate-required alert (TLS 1.3; a handshake failure alert before it): no HTTP answer at all.
      const ok =
        'error' in refused &&
        /^ERR_SSL_(TLSV13_ALERT_CERTIFICATE_REQUIRED|SSLV3_ALERT_HANDSHAKE_FAILURE)$/.test(refused.error);
      checks.expect(
        ok,
        `${enforcement}, ${protocol}: the gated host must refuse the handshake of a client without a ` +
          `certificate, got ${show(refused)}`,
      );
    } else {
      checks.expect(
        'status' in refused && refused.status === 495,
        `${enforcement}, ${protocol}: the gated host must answer 495 to a client without a certificate, ` +
          `got ${show(refused)}`,
      );
    }
    const accepted = await probe(protocol, port, HOSTS.gated, tls.client);
    checks.expect(
      'status' in accepted && accepted.status === 200 && accepted.body === body,
      `${enforcement}, ${protocol}: the gated host must pass a client with a certificate to the ` +
        `upstream, got ${show(accepted)}`,
    );
    const open = await probe(protocol, port, HOSTS.open, tls.anonymous);
    checks.expect(
      'status' in open && open.status === 200 && open.body === body,
      `${enforcement}, ${protocol}: the open host must pass a client without a certificate to the ` +
        `upstream, got ${show(open)}`,
    );
  }
}

async function startEdge(
  dir: string,
  enforcement: Enforcement,
  upstreamPort: number,
): Promise<RunningEdge & { port: number }> {
  const ports = await edgePorts();
  const config = join(dir, `${enforcement}.yaml`);
  writeFileSync(
    config,
    [
      ...ports.yaml,
      // One certificate per host, so that HTTP/2 is offered on both.
      'certificates:',
      '  - cert: gated.pem',
      '    key: gated-key.pem',
      '  - cert: open.pem',
      '    key: open-key.pem',
      'routes:',
      `  - from: https://${HOSTS.gated}`,
      `    to: http://127.0.0.1:${upstreamPort}`,
      '    tls_downstream_client_ca_file: ca.pem',
      '    allow_any_authenticated_user: true',
      `  - from: https://${HOSTS.open}`,
      `    to: http://127.0.0.1:${upstreamPort}`,
      '    allow_public_unauthenticated_access: true',
      // The block is here for the enforcement; depth 0 (no limit) keeps Envoy's validation as it is without the
      // block (whose default depth is 1), so that the two enforcements differ in nothing else.
      `downstream_mtls:`,
      `  enforcement: ${enforcement}`,
      '  max_verify_depth: 0',
      '',
    ].join('\n'),
  );
  return { port: ports.port, ...(await runEdge(config, ports.admin)) };
}

await runBench(async (checks) => {
  const dir = mkdtempSync(join(tmpdir(), 'mtls-edge-gate-bench-'));
  const ca = await createRootCa({ commonName: 'gate bench CA' });
  const clientCert = await issueClientCertificate(ca, { commonName: 'bench', email: 'bench@example.com' });
  writeFileSync(join(dir, 'ca.pem'), ca.certPem);
  for (const [name, host] of Object.entries(HOSTS)) {
    const c = await issueServerCertificate(ca, { dnsNames: [host] });
    writeFileSync(join(dir, `${name}.pem`), c.chainPem);
    writeFileSync(join(dir, `${name}-key.pem`), c.keyPem);
  }
  const upstream = await startUpstream(`gate-bench upstream ${randomUUID()}`);
  // Each side's TLS context made once, as a browser does: a new connection then costs the handshake, not a parse of
  // the client's key (which would weigh on the gated side only).
  const client = { ca: ca.certPem, cert: clientCert.certPem, key: clientCert.keyPem };
  const tls = {
    client: { ...client, secureContext: createSecureContext(client) },
    anonymous: { ca: ca.certPem, secureContext: createSecureContext({ ca: ca.certPem }) },
  };

  console.log(
    `\nthe client-certificate gate through Envoy (1 worker): requests/s and p99 (ms), with a CA vs ` +
      `without (two ${SECONDS} s runs each, after a warm-up)`,
  );
  try {
    // The gate under both enforcements before timing anything; then again on the edge that is timed.
    for (const enforcement of ENFORCEMENTS) {
      const edge = await startEdge(dir, enforcement, upstream.port);
      try {
        await checkGate(checks, enforcement, edge.port, tls, upstream.body);
      } finally {
        await edge.stop();
      }
    }
    checks.stopIfFailed('the gate');
    console.log(
      'checks: under both enforcements the gated host refuses a client without a certificate ' +
        '(reject_connection: in the handshake; policy_with_default_deny: 495) and passes one with a ' +
        'certificate to the upstream; the open host passes a client without one',
    );
    console.log(
      'enforcement              | mode             |  with CA rps |  p99 |   no CA rps |  p99 | rps ratio | p99 ratio',
    );
    for (const enforcement of ENFORCEMENTS) {
      const edge = await startEdge(dir, enforcement, upstream.port);
      try {
        await checkGate(checks, enforcement, edge.port, tls, upstream.body);
        checks.stopIfFailed(enforcement);
        for (const mode of MODES) {
          // Where the gated host makes a full handshake every time, "resumed" would compare a full one with a
          // resumed one: not a cost of the gate.
          if (mode.endsWith('resumed') && !RESUMES[enforcement]) continue;
          if (ONLY_MODES && !ONLY_MODES.includes(mode)) continue;
          const runGated = () => measureMode(mode, edge.port, HOSTS.gated, tls.client, upstream.body, SECONDS);
          const runOpen = () => measureMode(mode, edge.port, HOSTS.open, tls.anonymous, upstream.body, SECONDS);
          const runs = await sideBySide(runGated, runOpen);
          const [g1, g2] = runs.a as [LoadResult, LoadResult];
          const [o1, o2] = runs.b as [LoadResult, LoadResult];
          const labeled = { 'gated warm-up': runs.warmUp[0]!, 'open warm-up': runs.warmUp[1]!, g1, g2, o1, o2 };
          for (const [label, r] of Object.entries(labeled)) checks.noErrors(`${enforcement}, ${mode}, ${label}`, r);
          const gated = average(g1, g2);
          const open = average(o1, o2);
          console.log(
            `${enforcement.padEnd(24)} | ${mode.padEnd(16)} | ${gated.rps.toFixed(0).padStart(12)} | ` +
              `${gated.p99.toFixed(1).padStart(4)} | ${open.rps.toFixed(0).padStart(11)} | ` +
              `${open.p99.toFixed(1).padStart(4)} | ${(gated.rps / open.rps).toFixed(2).padStart(9)} | ` +
              `${(gated.p99 / open.p99).toFixed(2).padStart(9)}`,
          );
        }
      } finally {
        await edge.stop();
      }
    }
  } finally {
    await upstream.stop();
  }
});
