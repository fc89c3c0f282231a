// `npm run bench` (last part): the physical limit (issue 14, point 6). The same traffic, alternating, through
// (a) mtls-edge's Envoy and (b) a minimal static Envoy config written by hand: the same listener TLS (server
// certificate, client CA required), one route to the same upstream, the router and nothing else. Same binary, one
// worker each, both running for the whole bench. What (a) does beyond (b) per request is the generated config's
// own cost: requests per second a / b (the load comes from Node on the same 2-core machine, so the Envoys' CPU per
// request, from /proc, is printed too: it is the truer figure). Every timed request must be a 200 from the
// upstream; one that is not makes the run invalid (exit code 1).
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSecureContext } from 'node:tls';
import { createRootCa, issueClientCertificate, issueServerCertificate } from '../src/pki/index.js';
import { findEnvoy } from '../src/runtime/find-envoy.js';
import { runBench, type BenchChecks } from './checks.js';
import { measure, sideBySide, type Mode } from './connection-modes.js';
import { average, cpuMicros, freePort, type LoadResult, type Tls } from './load.js';
import { edgePorts, startEdge, startUpstream } from './processes.js';

const SECONDS = Number(process.env['LIMIT_BENCH_SECONDS'] ?? 2);
/** Another build's bundled CLI (dist/mtls-edge.mjs) for side (a), to compare builds. */
const OTHER_CLI = process.env['LIMIT_BENCH_CLI'] || undefined;
const HOST = 'limit.bench.test';
const MODES: Mode[] = ['h1 keep-alive', 'h2 keep-alive', 'h1 new handshake', 'h2 new handshake', 'h1 resumed'];
/** The issue's bar for a / b. */
const TARGET = 0.97;

const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';

/** The hand-written side: what any Envoy serving this one route with client certificates needs, and no more. */
function minimalEnvoyConfig(dir: string, ports: { https: number; admin: number; upstream: number }): string {
  return `admin:
  address: { socket_address: { address: 127.0.0.1, port_value: ${ports.admin} } }
static_resources:
  listeners:
    - name: https
      address: { socket_address: { address: 127.0.0.1, port_value: ${ports.https} } }
      filter_chains:
        - transport_socket:
            name: envoy.transport_sockets.tls
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
              require_client_certificate: true
              common_tls_context:
                alpn_protocols: [h2, http/1.1]
                tls_certificates:
                  - certificate_chain: { filename: ${join(dir, 'server.pem')} }
                    private_key: { filename: ${join(dir, 'server-key.pem')} }
                validation_context:
                  trusted_ca: { filename: ${join(dir, 'ca.pem')} }
          filters:
            - name: envoy.filters.network.http_connection_manager
              typed_config:
                "@type": ${HCM}
                stat_prefix: https
                codec_type: AUTO
                route_config:
                  virtual_hosts:
                    - name: limit
                      domains: [${HOST}]
                      routes: [{ match: { prefix: / }, route: { cluster: upstream } }]
                http_filters:
                  - name: envoy.filters.http.router
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
    - name: upstream
      type: STATIC
      load_assignment:
        cluster_name: upstream
        endpoints:
          - lb_endpoints:
              - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${ports.upstream} } } }
`;
}

interface Side {
  port: number;
  envoyPid: number;
  /** mtls-edge's `run`, which passes the access log on. */
  controlPlanePid?: number | undefined;
}

/** The minimal Envoy, started as `run` starts its own (one worker, no hot restart), ready when its admin says LIVE. */
async function startMinimalEnvoy(dir: string, upstream: number) {
  const found = findEnvoy(process.env);
  if ('error' in found) throw new Error(found.error);
  const [https, admin] = [await freePort(), await freePort()];
  const config = join(dir, 'minimal-envoy.yaml');
  writeFileSync(config, minimalEnvoyConfig(dir, { https, admin, upstream }));
  const args = ['-c', config, '--concurrency', '1', '--disable-hot-restart', '--log-level', 'warn'];
  const child = spawn(found.path, args, { stdio: 'ignore' });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  };
  const deadline = Date.now() + 20_000;
  for (;;) {
    const ready = await fetch(`http://127.0.0.1:${admin}/ready`).then(
      (r) => r.text(),
      () => '',
    );
    if (ready.trim() === 'LIVE') return { port: https, envoyPid: child.pid!, stop };
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`the minimal Envoy did not start (${config})`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** mtls-edge with the same route: `tls_downstream_client_ca_file` (the handshake demands a valid certificate). */
async function startMtlsEdge(dir: string, upstream: number) {
  const ports = await edgePorts();
  const config = join(dir, 'mtls-edge.yaml');
  const route = [`  - from: https://${HOST}`, `    to: http://127.0.0.1:${upstream}`];
  const access = ['    tls_downstream_client_ca_file: ca.pem', '    allow_any_authenticated_user: true'];
  const lines = [...ports.yaml, 'certificate_file: server.pem', 'certificate_key_file: server-key.pem', 'routes:'];
  if (process.env['LIMIT_BENCH_NO_LOG']) lines.unshift('access_log_fields: off');
  // Another set of access log fields (comma-separated), to see what each costs.
  const fields = process.env['LIMIT_BENCH_LOG_FIELDS'];
  if (fields && !process.env['LIMIT_BENCH_NO_LOG']) lines.unshift(`access_log_fields: [${fields}]`);
  writeFileSync(config, [...lines, ...route, ...access, ''].join('\n'));
  // At run's own log level: the access log lines go out (to /dev/null here), as they do where it is deployed.
  const edge = await startEdge(config, ports.admin, 'ignore', [], { logLevel: 'info', cli: OTHER_CLI });
  const status = (await (await fetch(`http://127.0.0.1:${ports.admin}/status`)).json()) as { envoyPid: number | null };
  if (status.envoyPid === null) throw new Error('the control plane reports no Envoy process');
  return { port: ports.port, envoyPid: status.envoyPid, controlPlanePid: edge.child.pid, stop: () => edge.stop() };
}

/** One run, with the Envoy's (all threads) and the control plane's CPU time per request over it. */
async function run(
  mode: Mode,
  side: Side,
  tls: Tls,
  body: string,
): Promise<LoadResult & { cpuUs: number; controlPlaneCpuUs: number }> {
  const cpp = side.controlPlanePid;
  const before = [cpuMicros(side.envoyPid), cpp === undefined ? 0 : cpuMicros(cpp)] as const;
  const r = await measure(mode, side.port, HOST, tls, body, SECONDS);
  const per = (us: number) => us / Math.max(1, r.requests);
  return {
    ...r,
    cpuUs: per(cpuMicros(side.envoyPid) - before[0]),
    controlPlaneCpuUs: cpp === undefined ? 0 : per(cpuMicros(cpp) - before[1]),
  };
}

async function compare(checks: BenchChecks, mode: Mode, a: Side, b: Side, tls: Tls, body: string) {
  const runs = await sideBySide(
    () => run(mode, a, tls, body),
    () => run(mode, b, tls, body),
  );
  for (const [i, r] of [...runs.warmUp, ...runs.a, ...runs.b].entries()) checks.noErrors(`${mode}, run ${i}`, r);
  const [ra, rb] = [average(runs.a[0]!, runs.a[1]!), average(runs.b[0]!, runs.b[1]!)];
  const cpu = (xs: Array<{ cpuUs: number }>) => (xs[0]!.cpuUs + xs[1]!.cpuUs) / 2;
  const controlPlaneCpu = (runs.a[0]!.controlPlaneCpuUs + runs.a[1]!.controlPlaneCpuUs) / 2;
  const ratio = ra.rps / rb.rps;
  console.log(
    `${mode.padEnd(16)} | ${ra.rps.toFixed(0).padStart(11)} | ${rb.rps.toFixed(0).padStart(11)} | ` +
      `${ratio.toFixed(2).padStart(9)} | ${cpu(runs.a).toFixed(0).padStart(13)} | ` +
      `${cpu(runs.b).toFixed(0).padStart(13)} | ${controlPlaneCpu.toFixed(1).padStart(24)} | ` +
      `${ratio >= TARGET ? 'met' : 'NOT met'}`,
  );
}

await runBench(async (checks) => {
  const dir = mkdtempSync(join(tmpdir(), 'mtls-edge-limit-bench-'));
  const ca = await createRootCa({ commonName: 'limit bench CA' });
  const server = await issueServerCertificate(ca, { dnsNames: [HOST] });
  const client = await issueClientCertificate(ca, { commonName: 'bench', email: 'bench@example.com' });
  writeFileSync(join(dir, 'ca.pem'), ca.certPem);
  writeFileSync(join(dir, 'server.pem'), server.chainPem);
  writeFileSync(join(dir, 'server-key.pem'), server.keyPem);
  const options = { ca: ca.certPem, cert: client.certPem, key: client.keyPem };
  const tls: Tls = { ...options, secureContext: createSecureContext(options) };
  const upstream = await startUpstream('limit-bench upstream');
  const stops: Array<() => Promise<void>> = [() => upstream.stop()];
  try {
    const minimal = await startMinimalEnvoy(dir, upstream.port);
    stops.push(minimal.stop);
    const edge = await startMtlsEdge(dir, upstream.port);
    stops.push(edge.stop);
    console.log(
      `\nthe physical limit: mtls-edge's Envoy (a) and a minimal static Envoy (b), same binary, one worker each, ` +
        `same route (two ${SECONDS} s runs a side, alternating, after a warm-up); target a / b ≥ ${TARGET}`,
    );
    console.log(
      'mode             |  (a) rps    |  (b) rps    | rps a / b | (a) Envoy µs/req | (b) Envoy µs/req | ' +
        '(a) control plane µs/req |',
    );
    if (OTHER_CLI) console.log(`(a) runs ${OTHER_CLI}`);
    for (const mode of MODES) await compare(checks, mode, edge, minimal, tls, upstream.body);
  } finally {
    for (const stop of stops.reverse()) await stop();
  }
});
