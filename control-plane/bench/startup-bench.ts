// `npm run bench` (start-up): how long from starting `mtls-edge run` until Envoy answers 200 on a route, for a
// config of 10 routes; median and p90 over STARTUP_BENCH_RUNS runs (5 by default). Real control plane, real
// Envoy, loopback, free ports. The 200 must carry the upstream's own body (a token of this run), so that the
// time is of this edge serving this config. The breakdown comes from the control plane's own log lines (its
// clock) and /status: node loaded and listening → Envoy started → first xDS stream → every type ACKed. The
// control plane's CPU time by the first 200 is printed too: on a busy machine the wall times swell, it less so.
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ApiLoadRun } from './api-load.js';
import { createRootCa, issueClientCertificate, issueServerCertificate } from '../src/pki/index.js';
import { probe, runBench, type BenchChecks, type Outcome } from './checks.js';
import { cpuMicros, median, percentile, type Tls } from './load.js';
import { CLI, edgePorts, startUpstream } from './processes.js';

const RUNS = Number(process.env['STARTUP_BENCH_RUNS'] ?? '5');
/**
 * Another CLI run alternately: another build's dist/mtls-edge.mjs (the commit before a change), or this build's
 * dist/control-plane/src/cli.js, the same code unbundled.
 */
const BASELINE_CLI = process.env['STARTUP_BENCH_BASELINE'] || undefined;
/** Route counts to start with; issue 14's targets for the first 200 (ms), by count. */
const ROUTE_COUNTS = (process.env['STARTUP_BENCH_ROUTES'] ?? '10,10000').split(',').map(Number);
const TARGET_MS: Record<number, number> = { 10: 400, 10000: 1500 };
const POLL_MS = 5;
const TIMEOUT_MS = 60_000;
const HOST = 'r0.bench.test';

/** Log messages that mark the stages of a start, in the order they happen. */
const STAGES = [
  ['control plane listening', 'listening'],
  ['envoy started', 'Envoy spawned'],
  ['xds stream opened', 'first xDS stream'],
] as const;

/**
 * The steps `run` times itself, in ms since its process started. It reads the config, listens, starts Envoy, and only
 * then loads the Envoy API and translates, while Envoy starts.
 */
const STEPS = [
  ['modulesLoadedMs', 'Node started, modules loaded'],
  ['configReadMs', 'config read'],
  ['firstConfigMs', 'Envoy API loaded, first config translated'],
] as const;

/** The 'start-up steps' line's times. */
function stepTimes(log: string): Run['steps'] {
  for (const line of log.split('\n')) {
    if (!line.startsWith('{')) continue;
    const entry = JSON.parse(line) as Record<string, unknown>;
    if (entry['msg'] !== 'start-up steps') continue;
    const out: Run['steps'] = {};
    // A build before issue 14 logged durations, one after the other: add them up.
    const { modulesLoadedMs, envoyApiMs, firstConfigMs } = entry;
    if (typeof modulesLoadedMs === 'number' && typeof envoyApiMs === 'number' && typeof firstConfigMs === 'number')
      entry['firstConfigMs'] = modulesLoadedMs + envoyApiMs + firstConfigMs;
    for (const [field, label] of STEPS) {
      const value = entry[field];
      if (typeof value === 'number') out[label] = value;
    }
    return out;
  }
  return {};
}

interface Run {
  /** Milliseconds from spawn to each stage; a stage whose log line never came is absent. */
  stages: Record<string, number>;
  /** The control plane's own account of its first steps ('start-up steps'), ms since its process started. */
  steps: Partial<Record<(typeof STEPS)[number][1], number>>;
  firstAck?: number;
  first200: number;
  /** CPU time (user + system) the control plane process had used by the first 200: less swayed by a busy machine. */
  cpuMs: number;
}

function configYaml(ports: string[], upstreamPort: number, routes: number): string {
  const lines = [
    ...ports,
    'certificate_file: server.pem',
    'certificate_key_file: server-key.pem',
    'client_ca_file: ca.pem',
  ];
  lines.push('routes:');
  for (let i = 0; i < routes; i++) {
    lines.push(`  - from: https://r${i}.bench.test`, `    to: http://127.0.0.1:${upstreamPort}`);
    lines.push('    allow_any_authenticated_user: true');
  }
  return lines.join('\n') + '\n';
}

/** The time of the first log line with `msg`, as ms since `start`. */
function stageTimes(log: string, start: number): Record<string, number> {
  const found: Record<string, number> = {};
  for (const line of log.split('\n')) {
    if (!line.startsWith('{')) continue;
    const entry = JSON.parse(line) as { msg?: string; time?: string };
    const stage = STAGES.find(([msg]) => msg === entry.msg);
    if (stage && !(stage[1] in found) && entry.time) found[stage[1]] = Date.parse(entry.time) - start;
  }
  return found;
}

async function retry<T>(attempt: () => Promise<T>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await attempt();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }
}

async function startOnce(
  checks: BenchChecks,
  dir: string,
  tls: Tls,
  upstream: { port: number; body: string },
  cli: string,
  routes: number,
): Promise<Run> {
  const ports = await edgePorts();
  const configPath = join(dir, `config-${ports.port}.yaml`);
  writeFileSync(configPath, configYaml(ports.yaml, upstream.port, routes));
  const args = [cli, 'run', '--config', configPath, '--envoy-concurrency', '1'];
  const start = Date.now();
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LOG_LEVEL: 'info', LOG_FORMAT: 'json' },
  });
  let log = '';
  child.stdout.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  const exited = once(child, 'exit');
  try {
    let last: Outcome = { error: 'not tried' };
    for (;;) {
      if (child.exitCode !== null) throw new Error(`mtls-edge exited with ${child.exitCode}:\n${log.slice(-3000)}`);
      if (Date.now() - start > TIMEOUT_MS) throw new Error(`no 200 in ${TIMEOUT_MS} ms, last: ${JSON.stringify(last)}`);
      last = await probe('HTTP/1.1', ports.port, HOST, tls);
      if ('status' in last && last.status === 200) break;
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    const first200 = Date.now() - start;
    const cpuMs = cpuMicros(child.pid!) / 1000;
    checks.expect(
      'body' in last && last.body === upstream.body,
      `the first 200 must carry the upstream's body, got ${JSON.stringify(last)}`,
    );
    // Envoy can serve before the admin endpoint listens: it opens after the first config is served.
    const status = (await (await retry(() => fetch(`http://127.0.0.1:${ports.admin}/status`))).json()) as {
      syncedAt: string | null;
    };
    const firstAck = status.syncedAt ? Date.parse(status.syncedAt) - start : undefined;
    return {
      stages: stageTimes(log, start),
      steps: stepTimes(log),
      first200,
      cpuMs,
      ...(firstAck !== undefined ? { firstAck } : {}),
    };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}

const knownOf = (values: Array<number | undefined>) =>
  values.filter((v): v is number => v !== undefined).sort((a, b) => a - b);
const medianOf = (values: Array<number | undefined>) =>
  knownOf(values).length === 0 ? Infinity : median(knownOf(values));

function row(label: string, values: Array<number | undefined>): string {
  const known = knownOf(values);
  const cell = (v: number) => v.toFixed(0).padStart(8);
  if (known.length === 0) return `${label.padEnd(41)} |        - |        -`;
  return `${label.padEnd(41)} | ${cell(median(known))} | ${cell(percentile(known, 90))}`;
}

function printRuns(title: string, runs: Run[], routes: number): void {
  const table: Array<[string, Array<number | undefined>]> = [
    // In the order they happened (the steps and the log's stages interleave).
    ...[
      ...STEPS.map(([, label]): [string, Array<number | undefined>] => [label, runs.map((r) => r.steps[label])]),
      ...STAGES.map(([, label]): [string, Array<number | undefined>] => [label, runs.map((r) => r.stages[label])]),
    ].sort(([, a], [, b]) => medianOf(a) - medianOf(b)),
    ['every type ACKed', runs.map((r) => r.firstAck)],
    ['first 200 through the edge', runs.map((r) => r.first200)],
    ['control plane CPU by then', runs.map((r) => r.cpuMs)],
  ];
  console.log(`\nstart-up of ${title}: process start → stage, ${routes} routes, ${runs.length} runs`);
  console.log(
    "(ms since spawn; the first three by the control plane's own clock, from its process's start; CPU: ms used)",
  );
  console.log(`${'stage'.padEnd(41)} |   median |      p90`);
  for (const [label, values] of table) console.log(row(label, values));
}

/** Issue 12's target: the Envoy API loads in under 100 ms (parsing .proto files took about a second). */
const API_LOAD_TARGET_MS = 100;

function measureApiLoad(checks: BenchChecks): void {
  const script = fileURLToPath(new URL('./api-load.js', import.meta.url));
  const runs: ApiLoadRun[] = [];
  for (let i = 0; i < Math.max(RUNS, 5); i++) {
    runs.push(JSON.parse(execFileSync(process.execPath, [script], { encoding: 'utf8' })) as ApiLoadRun);
  }
  console.log(`Envoy API load in a fresh process, ${runs.length} runs (ms)`);
  console.log(`${'stage'.padEnd(41)} |   median |      p90`);
  console.log(
    row(
      'resources (codec root)',
      runs.map((r) => r.resourcesMs),
    ),
  );
  console.log(
    row(
      'services (ADS, ext_authz)',
      runs.map((r) => r.servicesMs),
    ),
  );
  console.log(
    row(
      'both, wall',
      runs.map((r) => r.wallMs),
    ),
  );
  console.log(
    row(
      'both, CPU of all threads',
      runs.map((r) => r.cpuMs),
    ),
  );
  const wall = median(runs.map((r) => r.wallMs));
  checks.target(
    wall < API_LOAD_TARGET_MS,
    (word) => `Envoy API load: ${wall.toFixed(0)} ms median wall time (target < ${API_LOAD_TARGET_MS} ms: ${word})`,
  );
}

await runBench(async (checks) => {
  measureApiLoad(checks);
  const dir = mkdtempSync(join(tmpdir(), 'mtls-edge-startup-bench-'));
  const upstream = await startUpstream(`startup-bench-${process.pid}-${Date.now()}`);
  try {
    const ca = await createRootCa({ commonName: 'bench CA' });
    const server = await issueServerCertificate(ca, { dnsNames: ['*.bench.test'] });
    const client = await issueClientCertificate(ca, { commonName: 'bench client' });
    writeFileSync(join(dir, 'ca.pem'), ca.certPem);
    writeFileSync(join(dir, 'server.pem'), server.chainPem);
    writeFileSync(join(dir, 'server-key.pem'), server.keyPem);
    const tls: Tls = { ca: ca.certPem, cert: client.certPem, key: client.keyPem };

    // Side by side: with a baseline build, its runs and this build's alternate, so that the machine's load
    // falls on both alike; the ratio of medians is the figure to trust on a busy machine.
    const sides: Array<[string, string]> = [['this build', CLI]];
    if (BASELINE_CLI !== undefined) sides.unshift(['baseline', BASELINE_CLI]);
    for (const routes of ROUTE_COUNTS) {
      const runs = new Map<string, Run[]>(sides.map(([name]) => [name, []]));
      for (let i = 0; i < RUNS; i++) {
        for (const [name, cli] of i % 2 === 0 ? sides : [...sides].reverse()) {
          runs.get(name)!.push(await startOnce(checks, dir, tls, upstream, cli, routes));
        }
      }
      for (const [name, cli] of sides) printRuns(`${name} (${cli})`, runs.get(name)!, routes);
      const ours = runs.get('this build')!;
      if (BASELINE_CLI !== undefined) {
        const ratio = (pick: (r: Run) => number) =>
          (median(ours.map(pick)) / median(runs.get('baseline')!.map(pick))).toFixed(2);
        console.log(
          `this build / baseline, medians: first 200 ${ratio((r) => r.first200)}, CPU ${ratio((r) => r.cpuMs)}`,
        );
      }
      const first200 = median(ours.map((r) => r.first200));
      const target = TARGET_MS[routes];
      if (target !== undefined)
        checks.target(
          first200 <= target,
          (word) => `start-up, ${routes} routes: first 200 at ${first200.toFixed(0)} ms (target ≤ ${target}: ${word})`,
        );
    }
  } finally {
    await upstream.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
