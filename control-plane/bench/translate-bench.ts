// `npm run bench`: time to load + translate N routes on N distinct hosts, and the control plane's
// resident memory, for N = 10, 1,000 and 10,000. Each size runs in a fresh Node process so that
// memory figures do not carry over; each stage's time is the median of several runs after a warm-up.
// The warm-up run checks what is timed: every host has its virtual host with its one route, and each
// distinct upstream its cluster. A failed check (or a config the loader refuses) prints no verdict on the
// 120 ms target (issue 14, point 5), and the bench exits with code 1.
import { type EnvoyResources, loadResourceRoot, ResourceCodec } from '../src/envoy-api/index.js';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfigFile } from '../src/config/index.js';
import { buildEdgeModel } from '../src/model/index.js';
import { createRootCa, issueServerCertificate } from '../src/pki/index.js';
import { inconsistencies, translate } from '../src/translate/index.js';
import { buildSnapshot } from '../src/xds/index.js';
import { runBench } from './checks.js';

const SIZES = [10, 1_000, 10_000];
const RUNS = 5;
const BASELINE_BENCH = process.env['TRANSLATE_BENCH_BASELINE'] || undefined;
const BASELINE_ROUNDS = Number(process.env['TRANSLATE_BENCH_ROUNDS'] || 4);
/**
 * What the baseline mode compares. A baseline older than the consistency check has none (0); one from between the
 * check and its column (dd694a9..72aa7a9) counts it in translate without saying so: compare translate+check then.
 */
type Stage = readonly [name: string, pick: (f: Figures) => number];
const STAGES: readonly Stage[] = [
  ['parse+validate', (f) => f.loadMs],
  ['model', (f) => f.modelMs],
  ['translate', (f) => f.translateMs - (f.consistencyMs ?? 0)],
  ['translate+check', (f) => f.translateMs],
  ['encode', (f) => f.encodeMs],
  ['translate+check+encode', (f) => f.translateMs + f.encodeMs],
];

interface Figures {
  routes: number;
  loadMs: number;
  modelMs: number;
  translateMs: number;
  /** Of translateMs, the snapshot consistency check (new in issue 12: an older baseline has none). */
  consistencyMs?: number;
  encodeMs: number;
  rssMiB: number;
  baselineRssMiB: number;
}

async function writeFixtures(dir: string): Promise<void> {
  const caA = await createRootCa({ commonName: 'bench CA A' });
  const caB = await createRootCa({ commonName: 'bench CA B' });
  const server = await issueServerCertificate(caA, { dnsNames: ['*.bench.test'] });
  writeFileSync(join(dir, 'ca-a.pem'), caA.certPem);
  writeFileSync(join(dir, 'ca-b.pem'), caB.certPem);
  writeFileSync(join(dir, 'server.pem'), server.chainPem);
  writeFileSync(join(dir, 'server-key.pem'), server.keyPem);
}

/**
 * N routes on N hosts, to min(N, 100) upstreams: most use the global CA, every tenth its own CA (ca-b.pem); prefixes
 * /app0/../app6/.
 */
function configYaml(n: number): string {
  const lines = [
    'address: 127.0.0.1:8443',
    'certificate_file: server.pem',
    'certificate_key_file: server-key.pem',
    'client_ca_file: ca-a.pem',
    'routes:',
  ];
  for (let i = 0; i < n; i++) {
    lines.push(
      `  - from: https://r${i}.bench.test`,
      `    to: http://127.0.0.1:${8000 + (i % 100)}`,
      `    prefix: /app${i % 7}/`,
    );
    if (i % 10 === 0) lines.push('    tls_downstream_client_ca_file: ca-b.pem');
    lines.push('    allow_any_authenticated_user: true');
  }
  return lines.join('\n') + '\n';
}

/**
 * What is timed is a translation of this config: one virtual host per route's host with its one route, one cluster per
 * upstream.
 */
export function checkTranslation(resources: EnvoyResources, n: number): void {
  const routesByHost = new Map<string, number>();
  for (const rc of resources.routeConfigurations) {
    for (const vh of (rc.resource['virtual_hosts'] ?? []) as Array<{
      domains: string[];
      routes: Array<{ match: { prefix?: string; tls_context?: unknown } }>;
    }>) {
      // A route's twin for resumed TLS sessions (translate/session-resumption.ts) is the same route.
      const routes = vh.routes.filter((r) => r.match.prefix?.startsWith('/app') && !r.match.tls_context).length;
      for (const d of vh.domains)
        if (d.endsWith('.bench.test')) routesByHost.set(d, (routesByHost.get(d) ?? 0) + routes);
    }
  }
  const missing = Array.from({ length: n }, (_, i) => `r${i}.bench.test`).filter((h) => routesByHost.get(h) !== 1);
  if (missing.length > 0 || routesByHost.size !== n)
    throw new Error(
      `translated ${routesByHost.size} hosts for ${n} routes; without exactly one route: ` +
        `${missing.slice(0, 3).join(', ')}`,
    );
  if (resources.clusters.length !== Math.min(n, 100))
    throw new Error(`translated ${resources.clusters.length} clusters for ${Math.min(n, 100)} upstreams`);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

function measure(configPath: string, routes: number): Figures {
  const baselineRssMiB = process.memoryUsage().rss / 2 ** 20;
  const codec = new ResourceCodec(loadResourceRoot());
  const t: Record<'load' | 'model' | 'translate' | 'consistency' | 'encode', number[]> = {
    load: [],
    model: [],
    translate: [],
    consistency: [],
    encode: [],
  };
  for (let run = 0; run <= RUNS; run++) {
    const t0 = performance.now();
    const config = loadConfigFile(configPath, {}).result;
    if (!config.ok) throw new Error(JSON.stringify(config.errors.slice(0, 3)));
    const t1 = performance.now();
    const model = buildEdgeModel(config.value);
    if (!model.ok) throw new Error(JSON.stringify(model.errors.slice(0, 3)));
    const t2 = performance.now();
    const resources = translate(model.value);
    const tc = performance.now();
    // As the pipeline does before serving: the consistency check counts in the translate time.
    const problems = inconsistencies(resources);
    if (problems.length > 0) throw new Error(problems.slice(0, 3).join('; '));
    const t3 = performance.now();
    buildSnapshot(resources, codec);
    const t4 = performance.now();
    if (run === 0) {
      checkTranslation(resources, routes); // the warm-up, untimed
      continue;
    }
    t.load.push(t1 - t0);
    t.model.push(t2 - t1);
    t.translate.push(t3 - t2);
    t.consistency.push(t3 - tc);
    t.encode.push(t4 - t3);
  }
  return {
    routes,
    loadMs: median(t.load),
    modelMs: median(t.model),
    translateMs: median(t.translate),
    consistencyMs: median(t.consistency),
    encodeMs: median(t.encode),
    rssMiB: process.memoryUsage().rss / 2 ** 20,
    baselineRssMiB,
  };
}

const sizeArg = process.argv.indexOf('--size');
if (sizeArg > 0) {
  const n = Number(process.argv[sizeArg + 1]);
  const configPath = process.argv[sizeArg + 2] ?? '';
  process.stdout.write(JSON.stringify(measure(configPath, n)));
} else {
  await runBench(async (checks) => {
    const dir = mkdtempSync(join(tmpdir(), 'mtls-edge-bench-'));
    await writeFixtures(dir);
    const self = fileURLToPath(import.meta.url);
    const rows: Figures[] = [];
    for (const n of SIZES) {
      const configPath = join(dir, `routes-${n}.yaml`);
      writeFileSync(configPath, configYaml(n));
      if (BASELINE_BENCH === undefined) rows.push(measureInChild(self, n, configPath));
      else rows.push(compareWithBaseline(self, BASELINE_BENCH, n, configPath));
    }
    printTable(rows);
    const big = rows.find((r) => r.routes === 10_000);
    if (!checks.expect(big !== undefined, 'no figures for 10,000 routes') || !big) return;
    const lt = big.loadMs + big.modelMs + big.translateMs;
    checks.target(
      lt <= 120,
      (word) =>
        `10,000 routes: load+translate ${lt.toFixed(0)} ms (target ≤ 120 ms: ${word}); translate alone ` +
        `${big.translateMs.toFixed(0)} ms`,
    );
  });
}

/** One size in a fresh process. A check that fails in the child makes it exit non-zero: the run is invalid. */
function measureInChild(script: string, n: number, configPath: string): Figures {
  const out = execFileSync(process.execPath, [script, '--size', String(n), configPath], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return JSON.parse(out) as Figures;
}

/**
 * TRANSLATE_BENCH_BASELINE=<an older build's translate-bench.js>: each size runs in both builds in turn, the order
 * swapped every round, so that a busy machine weighs on both sides alike; prints the ratios of the medians.
 */
function compareWithBaseline(self: string, baseline: string, n: number, configPath: string): Figures {
  const sides: Record<'this' | 'baseline', Figures[]> = { this: [], baseline: [] };
  for (let round = 0; round < BASELINE_ROUNDS; round++) {
    const order: Array<['this' | 'baseline', string]> = [
      ['this', self],
      ['baseline', baseline],
    ];
    for (const [side, script] of round % 2 === 0 ? order : order.reverse())
      sides[side].push(measureInChild(script, n, configPath));
  }
  const mid = (side: 'this' | 'baseline', stage: Stage) => median(sides[side].map(stage[1]));
  const line = STAGES.map((stage) => {
    const [name] = stage;
    const ratio = (mid('this', stage) / mid('baseline', stage)).toFixed(2);
    return `${name} ${mid('baseline', stage).toFixed(1)} → ${mid('this', stage).toFixed(1)} (${ratio})`;
  });
  console.log(`${n} routes, medians of ${BASELINE_ROUNDS} alternating rounds, baseline → this build ms (ratio):`);
  console.log(`  ${line.join(', ')}`);
  const median0 = (pick: (f: Figures) => number) => median(sides.this.map(pick));
  return {
    routes: n,
    loadMs: median0((f) => f.loadMs),
    modelMs: median0((f) => f.modelMs),
    translateMs: median0((f) => f.translateMs),
    consistencyMs: median0((f) => f.consistencyMs ?? 0),
    encodeMs: median0((f) => f.encodeMs),
    rssMiB: median0((f) => f.rssMiB),
    baselineRssMiB: median0((f) => f.baselineRssMiB),
  };
}

function printTable(rows: Figures[]): void {
  const f = (x: number) => x.toFixed(1).padStart(9);
  console.log(`load + translate, median of ${RUNS} runs after a warm-up (ms); resident memory after the runs (MiB)`);
  console.log('(translate includes the snapshot consistency check, shown apart as "check")');
  console.log(
    '   routes |  parse+validate |    model | translate |     check | load+translate |  encode (xDS) ' +
      '|      RSS | RSS before',
  );
  for (const r of rows) {
    const lt = r.loadMs + r.modelMs + r.translateMs;
    console.log(
      `${String(r.routes).padStart(9)} | ${f(r.loadMs)}       | ${f(r.modelMs)}| ${f(r.translateMs)} | ` +
        `${f(r.consistencyMs ?? NaN)} |      ${f(lt)} |     ${f(r.encodeMs)} | ${f(r.rssMiB)}| ${f(r.baselineRssMiB)}`,
    );
  }
}
