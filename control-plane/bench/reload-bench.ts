// `npm run bench` (second part): how long from a file save until every Envoy has acknowledged the new
// config, p50 and p95 over 20 edits, for 10, 1,000 and 10,000 routes, over state-of-the-world and delta
// xDS; the control plane's resident memory at each size (at 10,000 routes also once it has idled 25 s); then how
// long from the save of a new route (new host, new upstream) until it answers through Envoy (new-route.ts).
// Real Envoy, real control plane (`mtls-edge run`).
// Each edit moves the first route between two upstream ports; after the ACK, Envoy's own /clusters must list the
// new upstream and not the old one (the time is of an edit Envoy really applied). A failed check, or an edit
// that never becomes current, makes the run invalid (exit code 1).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSecureContext } from 'node:tls';
import { createRootCa, issueClientCertificate, issueServerCertificate } from '../src/pki/index.js';
import { runBench, type BenchChecks } from './checks.js';
import { freePort, percentile, type Tls } from './load.js';
import { newRouteLines, startNewRouteUpstream, timeNewRoute, type NewRoute } from './new-route.js';
import { CLI } from './processes.js';

const SIZES = (process.env['RELOAD_BENCH_SIZES'] ?? '10,1000,10000').split(',').map(Number);
const EDITS = 20;
const PAUSE_MS = 300;
const SETTLE_MS = 25_000;
const SETTLED_RSS_MIN_ROUTES = 10_000;
const NEW_ROUTES = Number(process.env['RELOAD_BENCH_NEW_ROUTES'] ?? 10);

function configYaml(n: number, ports: number[], firstTo: number, added: readonly NewRoute[] = []): string {
  const [https, admin, xds, envoyAdmin] = ports;
  const lines = [
    `address: 127.0.0.1:${https}`,
    `admin_address: 127.0.0.1:${admin}`,
    `xds_address: 127.0.0.1:${xds}`,
    `envoy_admin_address: 127.0.0.1:${envoyAdmin}`,
    'certificate_file: server.pem',
    'certificate_key_file: server-key.pem',
    'client_ca_file: ca.pem',
    'routes:',
  ];
  for (let i = 0; i < n; i++) {
    lines.push(
      `  - from: https://r${i}.bench.test`,
      `    to: http://127.0.0.1:${i === 0 ? firstTo : 8000 + (i % 100)}`,
      '    allow_any_authenticated_user: true',
    );
  }
  lines.push(...newRouteLines(added));
  return lines.join('\n') + '\n';
}

interface Status {
  configVersion: string;
  ready: boolean;
  synced: boolean;
  /** When the control plane received the last ACK that made every Envoy current. */
  syncedAt: string | null;
}

async function status(adminUrl: string): Promise<Status | undefined> {
  try {
    return (await (await fetch(`${adminUrl}/status`)).json()) as Status;
  } catch {
    return undefined;
  }
}

async function waitFor(adminUrl: string, done: (s: Status) => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await status(adminUrl);
    if (s && done(s)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting on ${adminUrl}/status: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function rssMiB(pid: number): number {
  const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
  return kb / 1024;
}

interface Row {
  p50: number;
  p95: number;
  rss: number;
  settledRss: number | undefined;
  envoyRss: number;
  /** Save → the new route's first answer, p50 (ms). */
  newRouteP50: number | undefined;
}

async function measure(
  checks: BenchChecks,
  dir: string,
  n: number,
  protocol: 'sotw' | 'delta',
  tls: Tls,
): Promise<Row> {
  const ports = [await freePort(), await freePort(), await freePort(), await freePort()];
  const adminUrl = `http://127.0.0.1:${ports[1]}`;
  const configPath = join(dir, `config-${n}-${protocol}.yaml`);
  writeFileSync(configPath, configYaml(n, ports, 9000));
  const child: ChildProcess = spawn(
    process.execPath,
    [CLI, 'run', '--config', configPath, '--xds-protocol', protocol, '--envoy-concurrency', '1'],
    { stdio: 'ignore', env: { ...process.env, LOG_LEVEL: 'warn' } },
  );
  try {
    await waitFor(adminUrl, (s) => s.synced, 120_000);
    const times: number[] = [];
    for (let i = 1; i <= EDITS; i++) {
      // Edits a few hundred ms apart, as a person or a deploy makes them (the control plane tidies up
      // its memory after each acknowledged reload; back-to-back saves would measure that instead).
      await new Promise((r) => setTimeout(r, PAUSE_MS));
      const before = (await status(adminUrl))!.configVersion;
      const tmp = `${configPath}.tmp`;
      writeFileSync(tmp, configYaml(n, ports, 9000 + (i % 2)));
      const savedAt = Date.now();
      renameSync(tmp, configPath); // the save, as an editor does it
      let syncedAt = 0;
      await waitFor(
        adminUrl,
        (s) => s.configVersion !== before && s.synced && (syncedAt = Date.parse(s.syncedAt ?? '')) >= savedAt,
        60_000,
      );
      // Timed by the control plane's clock at the final ACK, so the polling of /status does not count.
      times.push(syncedAt - savedAt);
      // Untimed: what Envoy ACKed is this edit (the first route's upstream moved), not only a new version.
      const clusters = await (await fetch(`http://127.0.0.1:${ports[3]}/clusters`)).text();
      const [now, old] = [9000 + (i % 2), 9000 + ((i + 1) % 2)].map((p) => clusters.includes(`127.0.0.1:${p}`));
      checks.expect(
        now === true && old === false,
        `${n} routes, ${protocol}, edit ${i}: after the ACK Envoy's clusters ${now ? 'include' : 'lack'} ` +
          `the new upstream 127.0.0.1:${9000 + (i % 2)} and ${old ? 'still include' : 'no longer include'} the old one`,
      );
    }
    const statusJson = (await (await fetch(`${adminUrl}/status`)).json()) as { envoyPid: number };
    const sorted = [...times].sort((a, b) => a - b);
    const rss = rssMiB(child.pid!);
    const envoyRss = rssMiB(statusJson.envoyPid);
    // What an idle control plane holds: V8 gives back the young generation's pages only when its memory reducer runs,
    // some 10–20 s after the last allocations. (Only at the target's size: it adds half a minute per row.)
    let settledRss: number | undefined;
    if (n >= SETTLED_RSS_MIN_ROUTES) {
      await new Promise((r) => setTimeout(r, SETTLE_MS));
      settledRss = rssMiB(child.pid!);
    }
    const newRouteTimes: number[] = [];
    const added: Awaited<ReturnType<typeof startNewRouteUpstream>>[] = [];
    try {
      for (let k = 1; k <= NEW_ROUTES; k++) {
        await new Promise((r) => setTimeout(r, PAUSE_MS));
        const route = await startNewRouteUpstream(k);
        added.push(route);
        const save = (): number => {
          const tmp = `${configPath}.tmp`;
          writeFileSync(tmp, configYaml(n, ports, 9000, added));
          const savedAt = Date.now();
          renameSync(tmp, configPath);
          return savedAt;
        };
        const ms = await timeNewRoute(checks, ports[0]!, tls, route, 'r1.bench.test', save);
        if (ms !== undefined) newRouteTimes.push(ms);
      }
    } finally {
      for (const r of added) r.server.close();
    }
    return {
      p50: percentile(sorted, 50),
      p95: percentile(sorted, 95),
      rss,
      settledRss,
      envoyRss,
      newRouteP50:
        newRouteTimes.length > 0
          ? percentile(
              [...newRouteTimes].sort((a, b) => a - b),
              50,
            )
          : undefined,
    };
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
}

await runBench(async (checks) => {
  const dir = mkdtempSync(join(tmpdir(), 'mtls-edge-reload-bench-'));
  const ca = await createRootCa({ commonName: 'bench CA' });
  const server = await issueServerCertificate(ca, { dnsNames: ['*.bench.test'] });
  writeFileSync(join(dir, 'ca.pem'), ca.certPem);
  writeFileSync(join(dir, 'server.pem'), server.chainPem);
  writeFileSync(join(dir, 'server-key.pem'), server.keyPem);
  const client = await issueClientCertificate(ca, { commonName: 'bench' });
  const clientTls = { ca: ca.certPem, cert: client.chainPem, key: client.keyPem };
  const tls: Tls = { ...clientTls, secureContext: createSecureContext(clientTls) };

  console.log(
    `\nsave → every Envoy ACKed (one route's upstream changed per edit; ${EDITS} edits ${PAUSE_MS} ms ` +
      `apart; ms), resident memory after them (MiB), and save → a new route's first answer through Envoy ` +
      `(a new host and upstream per edit, ${NEW_ROUTES} edits; p50, ms)`,
  );
  console.log(
    `   routes | protocol |      p50 |      p95 | control plane RSS | RSS ${SETTLE_MS / 1000} s later | Envoy RSS ` +
      `| new route answers`,
  );
  for (const n of SIZES) {
    for (const protocol of ['sotw', 'delta'] as const) {
      const r = await measure(checks, dir, n, protocol, tls);
      console.log(
        `${String(n).padStart(9)} | ${protocol.padEnd(8)} | ${r.p50.toFixed(1).padStart(8)} | ` +
          `${r.p95.toFixed(1).padStart(8)} | ${r.rss.toFixed(0).padStart(17)} | ` +
          `${(r.settledRss?.toFixed(0) ?? '-').padStart(17)} | ${r.envoyRss.toFixed(0).padStart(9)} | ` +
          `${(r.newRouteP50?.toFixed(0) ?? '-').padStart(17)}`,
      );
      targets(checks, n, protocol, r);
    }
  }
});

/** Issue 14, point 5: the verdicts printed at the end (only if every check passed). */
function targets(checks: BenchChecks, n: number, protocol: string, r: Row): void {
  const at = `${n.toLocaleString('en')} routes (${protocol})`;
  const ackTarget = n === 1000 ? 50 : n === 10_000 ? 300 : undefined;
  if (ackTarget !== undefined) {
    checks.target(r.p50 <= ackTarget, (w) => `save → ACKed p50 ≤ ${ackTarget} ms at ${at}: ${w} (${r.p50.toFixed(0)})`);
  }
  if (n !== 10_000) return;
  const answered = r.newRouteP50;
  checks.target(
    answered !== undefined && answered <= 400,
    (w) => `save → a new route answering ≤ 400 ms at ${at}: ${w} (${answered?.toFixed(0) ?? '-'})`,
  );
  const rss = r.settledRss ?? r.rss;
  checks.target(rss <= 150, (w) => `control-plane RSS ≤ 150 MiB at ${at}, idle: ${w} (${rss.toFixed(0)})`);
}
