// `npm run bench` (fan-out, issue 13): 1,000 routes served to 100 simulated Envoys (ADS clients over the control
// channel, each with its own node certificate, subscribing and ACKing as Envoy does: fanout-envoy.ts) plus 2 real
// Envoys; the time from a save until all 102 have ACKed the edit, p50 and p95 over 10 edits, state of the world and
// delta, with one control plane and with two replicas (the clients spread over both); and each control plane's
// resident memory and CPU per edit. Each edit moves the first route between two upstreams that other routes keep in
// use, so only the route configuration changes. A simulated Envoy times itself (its ACK of the route configuration
// whose first route names the new cluster); a real Envoy is timed by its replica's fleet view (`/status`: the ACK
// that made it run the new snapshot in full), and its own /config_dump must show the edit.
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBench, type BenchChecks } from './checks.js';
import { SimulatedEnvoy, type RouteProbe } from './fanout-envoy.js';
import * as fleet from './fanout-fleet.js';
import { freePort, percentile } from './load.js';

const ROUTES = 1000;
const SIMULATED = Number(process.env['FANOUT_BENCH_CLIENTS'] ?? '100');
const REAL = 2;
const EDITS = Number(process.env['FANOUT_BENCH_EDITS'] ?? '10');
const PAUSE_MS = 300;
/** How often the replicas' /status is read while a real Envoy has not ACKed (the times come from its ACK stamp). */
const POLL_MS = 20;
/** `FANOUT_BENCH_PROFILE=DIR`: each control plane writes a CPU profile (node --cpu-prof) there when it stops. */
const PROFILE_DIR = process.env['FANOUT_BENCH_PROFILE'];
const TARGET_P95_MS = 1000;
const TARGET_RSS_MIB = 400;

type Json = Record<string, unknown>;
const HOST = 'r0.bench.test';
const clusterOf = (port: number) => `http-127.0.0.1-${port}`;

/** The cluster the first route's host routes to, in a route configuration (decoded protobuf or Envoy's JSON). */
const probe: RouteProbe = (config) => {
  for (const vh of (config['virtual_hosts'] ?? []) as Json[]) {
    if (!(vh['domains'] as string[] | undefined)?.includes(HOST)) continue;
    for (const r of (vh['routes'] ?? []) as Json[]) {
      const cluster = (r['route'] as Json | undefined)?.['cluster'];
      if (typeof cluster === 'string') return cluster;
    }
  }
  return undefined;
};

interface FleetView {
  configVersion: string | null;
  syncedAt: string | null;
  envoys: Array<{ node: string; connected: boolean; syncedVersion: string | null; lastAckAt: string | null }>;
}
const view = async (r: fleet.Replica) => (await (await fetch(`${r.adminUrl}/status`)).json()) as FleetView;

interface Row {
  replicas: number;
  protocol: 'sotw' | 'delta';
  times: number[];
  serverTimes: number[];
  rssMiB: number;
  peakMiB: number;
  cpuMsPerEdit: number;
  benchCpuMsPerEdit: number;
}

async function scenario(
  checks: BenchChecks,
  pki: fleet.FanoutPki,
  replicaCount: number,
  protocol: 'sotw' | 'delta',
): Promise<Row> {
  const name = `${replicaCount} replica(s), ${protocol}`;
  const configPath = join(pki.dir, `fanout-${replicaCount}-${protocol}.yaml`);
  const httpsPort = await freePort();
  const save = (to: number) => {
    writeFileSync(`${configPath}.tmp`, fleet.fanoutConfig(pki, httpsPort, ROUTES, to));
    renameSync(`${configPath}.tmp`, configPath); // the save, as an editor does it
  };
  save(fleet.EDIT_PORTS[0]);
  const extraArgs = PROFILE_DIR ? ['--cpu-prof', '--cpu-prof-dir', PROFILE_DIR] : [];
  const replicas: fleet.Replica[] = [];
  const simulated: SimulatedEnvoy[] = [];
  const real: Array<fleet.RealEnvoy & { replica: fleet.Replica }> = [];
  try {
    for (let i = 0; i < replicaCount; i++) replicas.push(await fleet.startReplica(configPath, extraArgs));
    for (let j = 0; j < SIMULATED; j++) {
      const nodeId = `sim-${j}`;
      const target = replicas[j % replicaCount]!.xds;
      simulated.push(new SimulatedEnvoy({ target, credentials: pki.credentials(nodeId), nodeId, protocol, probe }));
    }
    for (let k = 0; k < REAL; k++) {
      const replica = replicas[k % replicaCount]!;
      real.push({ ...(await fleet.startRealEnvoy(pki, configPath, `envoy-${k}`, replica, protocol)), replica });
    }
    await allAcked(simulated, real, clusterOf(fleet.EDIT_PORTS[0]), 0, 120_000);
    await checkFleetViews(checks, `${name}, start`, replicas, simulated.length + real.length);
    checks.stopIfFailed(name);

    const before = replicas.map((r) => fleet.processUsage(r.pid));
    const benchBefore = process.cpuUsage();
    const times: number[] = [];
    const serverTimes: number[] = [];
    for (let i = 1; i <= EDITS; i++) {
      // Edits a few hundred ms apart, as a person or a deploy makes them (reload-bench.ts does the same).
      await new Promise((r) => setTimeout(r, PAUSE_MS));
      const port = fleet.EDIT_PORTS[i % 2]!;
      const savedAt = Date.now();
      save(port);
      times.push((await allAcked(simulated, real, clusterOf(port), savedAt, 30_000)) - savedAt);
      // Untimed: the control plane agrees that every stream runs the new snapshot, and each real Envoy has the edit.
      const views = await checkFleetViews(checks, `${name}, edit ${i}`, replicas, simulated.length + real.length);
      serverTimes.push(Math.max(...views.map((v) => Date.parse(v.syncedAt ?? ''))) - savedAt);
      for (const e of real) {
        const dump = (await (await fetch(`${e.adminUrl}/config_dump?resource=dynamic_route_configs`)).json()) as Json;
        const configs = ((dump['configs'] ?? []) as Json[]).map((c) => (c['route_config'] ?? {}) as Json);
        const seen = configs.map(probe).find((c) => c !== undefined);
        checks.expect(seen === clusterOf(port), `${name}, edit ${i}: ${e.node} routes ${HOST} to ${seen}`);
      }
    }
    const benchCpu = process.cpuUsage(benchBefore);
    const after = replicas.map((r) => fleet.processUsage(r.pid));
    for (const s of simulated) checks.expect(s.error === undefined, `${name}: ${s.error}`);
    return {
      replicas: replicaCount,
      protocol,
      times,
      serverTimes,
      rssMiB: Math.max(...after.map((u) => u.rssMiB)),
      peakMiB: Math.max(...after.map((u) => u.peakMiB)),
      cpuMsPerEdit: Math.max(...after.map((u, i) => (u.cpuMs - before[i]!.cpuMs) / EDITS)),
      benchCpuMsPerEdit: (benchCpu.user + benchCpu.system) / 1000 / EDITS,
    };
  } finally {
    for (const s of simulated) s.stop();
    for (const p of [...real.map((e) => e.child), ...replicas.map((r) => r.child)]) await fleet.stopProcess(p);
  }
}

/**
 * Resolves with the time of the last ACK among all clients once every one has ACKed the config whose first route
 * goes to `cluster`: the simulated ones say when themselves; a real Envoy by its replica's fleet view, read every
 * POLL_MS, whose `lastAckAt` is the control plane's stamp of the ACK that made the node run the new snapshot.
 */
async function allAcked(
  simulated: readonly SimulatedEnvoy[],
  real: ReadonlyArray<fleet.RealEnvoy & { replica: fleet.Replica }>,
  cluster: string,
  savedAt: number,
  timeoutMs: number,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  const timeout = new Promise<never>((_, reject) => {
    const timer = setTimeout(() => {
      const behind = simulated.filter((s) => !s.settled).length;
      reject(new Error(`not every client ACKed ${cluster} in ${timeoutMs} ms (${behind} simulated ones unsettled)`));
    }, timeoutMs);
    timer.unref();
  });
  // One read of /status per replica and poll, whatever the number of real Envoys on it.
  const replicas = [...new Set(real.map((e) => e.replica))];
  const realAcks = replicas.map(async (replica) => {
    const mine = real.filter((e) => e.replica === replica);
    const acked = new Map<string, number>();
    for (;;) {
      const v = await view(replica).catch(() => undefined);
      for (const e of mine) {
        const node = v?.envoys.find((n) => n.node === e.node);
        const ackedAt = Date.parse(node?.lastAckAt ?? '');
        if (v && node?.syncedVersion === v.configVersion && ackedAt >= savedAt) acked.set(e.node, ackedAt);
      }
      if (acked.size === mine.length) return [...acked.values()];
      if (Date.now() > deadline) return Promise.reject(new Error(`a real Envoy did not ACK ${cluster}`));
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  });
  const all = Promise.all([
    ...simulated.map((s) => s.reached(cluster)),
    ...realAcks.map((p) => p.then((ts) => Math.max(...ts))),
  ]);
  const got = await Promise.race([all, timeout]);
  return Math.max(...got);
}

/**
 * Every replica lists its share of the clients, all connected and running its current snapshot in full, and the
 * replicas serve one version. Read until it holds (an ACK a client has sent may still be on its way), 5 s at most.
 */
async function checkFleetViews(
  checks: BenchChecks,
  what: string,
  replicas: readonly fleet.Replica[],
  clients: number,
): Promise<FleetView[]> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const views = await Promise.all(replicas.map(view));
    const nodes = views.flatMap((v) => v.envoys.map((n) => ({ ...n, version: v.configVersion })));
    const behind = nodes.filter((n) => !n.connected || n.syncedVersion !== n.version).map((n) => n.node);
    const versions = new Set(views.map((v) => v.configVersion));
    const problems = [
      ...(nodes.length === clients ? [] : [`the replicas list ${nodes.length} Envoys, not ${clients}`]),
      ...(behind.length === 0 ? [] : [`not running the current snapshot: ${behind.slice(0, 5).join(', ')}`]),
      ...(versions.size === 1 ? [] : [`the replicas serve different versions ${[...versions].join(', ')}`]),
    ];
    if (problems.length === 0) return views;
    if (Date.now() > deadline) {
      for (const p of problems) checks.fail(`${what}: ${p}`);
      return views;
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

await runBench(async (checks) => {
  const dir = mkdtempSync(join(tmpdir(), 'mtls-edge-fanout-bench-'));
  try {
    await fanout(checks, dir);
  } finally {
    rmSync(dir, { recursive: true, force: true }); // 102 private keys
  }
});

async function fanout(checks: BenchChecks, dir: string): Promise<void> {
  const nodeIds = [...Array.from({ length: SIMULATED }, (_, j) => `sim-${j}`), 'envoy-0', 'envoy-1'];
  const pki = await fleet.createFanoutPki(dir, nodeIds);
  console.log(
    `\nfan-out: ${ROUTES} routes, ${SIMULATED} simulated Envoys + ${REAL} real ones; save → all ` +
      `${SIMULATED + REAL} ACKed (ms, ${EDITS} edits ${PAUSE_MS} ms apart; the real Envoys' ACKs are read from ` +
      `/status every ${POLL_MS} ms, timed by the control plane's ACK stamp, 1 ms resolution); per control plane ` +
      `(the larger of two replicas): RSS after the edits and its peak (MiB), CPU per edit (ms, /proc)`,
  );
  console.log(
    'replicas | protocol |   p50 |   p95 |   max | control plane says p95 | RSS | peak RSS | CPU/edit | ' +
      'bench CPU/edit',
  );
  const rows: Row[] = [];
  for (const replicaCount of [1, 2]) {
    for (const protocol of ['sotw', 'delta'] as const) {
      const row = await scenario(checks, pki, replicaCount, protocol);
      rows.push(row);
      const [times, server] = [sortedCopy(row.times), sortedCopy(row.serverTimes)];
      const cells: Array<[number, number]> = [
        [percentile(times, 50), 5],
        [percentile(times, 95), 5],
        [times.at(-1) ?? NaN, 5],
        [percentile(server, 95), 22],
        [row.rssMiB, 3],
        [row.peakMiB, 8],
        [row.cpuMsPerEdit, 8],
        [row.benchCpuMsPerEdit, 14],
      ];
      console.log(
        [String(replicaCount).padStart(8), protocol.padEnd(8), ...cells.map(([n, width]) => fmt(n, width))].join(' | '),
      );
    }
  }
  const worstP95 = Math.max(...rows.map((r) => percentile(sortedCopy(r.times), 95)));
  const worstPeak = Math.max(...rows.map((r) => r.peakMiB));
  checks.target(worstP95 < TARGET_P95_MS, (w) => `p95 under ${TARGET_P95_MS} ms: ${w} (worst ${fmt(worstP95, 0)} ms)`);
  checks.target(
    worstPeak < TARGET_RSS_MIB,
    (w) => `control-plane resident memory under ${TARGET_RSS_MIB} MiB: ${w} (peak ${fmt(worstPeak, 0)} MiB)`,
  );
}

function sortedCopy(xs: readonly number[]): number[] {
  return [...xs].sort((a, b) => a - b);
}

function fmt(n: number, width: number): string {
  return n.toFixed(0).padStart(width);
}
