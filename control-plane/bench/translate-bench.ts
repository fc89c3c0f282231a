// `npm run bench`: time to load + translate N routes on N distinct hosts, and the control plane's
// resident memory, for N = 10, 1,000 and 10,000. Each size runs in a fresh Node process so that
// memory figures do not carry over; each stage's time is the median of several runs after a warm-up.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfigFile } from '../src/config/index.js';
import { buildEdgeModel } from '../src/model/index.js';
import { createRootCa, issueServerCertificate } from '../src/pki/index.js';
import { translate } from '../src/translate/index.js';
import { buildSnapshot, loadResourceRoot, ResourceCodec } from '../src/xds/index.js';

const SIZES = [10, 1_000, 10_000];
const RUNS = 5;

interface Figures {
  routes: number;
  loadMs: number;
  modelMs: number;
  translateMs: number;
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

/** N routes on N hosts: most use the global CA, every tenth its own CA, every seventh is public on its own CA-less host. */
function configYaml(n: number): string {
  const lines = ['address: 127.0.0.1:8443', 'certificate_file: server.pem', 'certificate_key_file: server-key.pem', 'client_ca_file: ca-a.pem', 'routes:'];
  for (let i = 0; i < n; i++) {
    lines.push(`  - from: https://r${i}.bench.test`, `    to: http://127.0.0.1:${8000 + (i % 100)}`, `    prefix: /app${i % 7}/`);
    if (i % 10 === 0) lines.push('    tls_downstream_client_ca_file: ca-b.pem');
    lines.push('    allow_any_authenticated_user: true');
  }
  return lines.join('\n') + '\n';
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

function measure(configPath: string, routes: number): Figures {
  const baselineRssMiB = process.memoryUsage().rss / 2 ** 20;
  const codec = new ResourceCodec(loadResourceRoot());
  const t: Record<'load' | 'model' | 'translate' | 'encode', number[]> = { load: [], model: [], translate: [], encode: [] };
  for (let run = 0; run <= RUNS; run++) {
    const t0 = performance.now();
    const config = loadConfigFile(configPath, {}).result;
    if (!config.ok) throw new Error(JSON.stringify(config.errors.slice(0, 3)));
    const t1 = performance.now();
    const model = buildEdgeModel(config.value);
    if (!model.ok) throw new Error(JSON.stringify(model.errors.slice(0, 3)));
    const t2 = performance.now();
    const resources = translate(model.value);
    const t3 = performance.now();
    buildSnapshot(resources, codec);
    const t4 = performance.now();
    if (run === 0) continue; // warm-up
    t.load.push(t1 - t0);
    t.model.push(t2 - t1);
    t.translate.push(t3 - t2);
    t.encode.push(t4 - t3);
  }
  return {
    routes,
    loadMs: median(t.load),
    modelMs: median(t.model),
    translateMs: median(t.translate),
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
  const dir = mkdtempSync(join(tmpdir(), 'mtls-edge-bench-'));
  await writeFixtures(dir);
  const self = fileURLToPath(import.meta.url);
  const rows: Figures[] = [];
  for (const n of SIZES) {
    const configPath = join(dir, `routes-${n}.yaml`);
    writeFileSync(configPath, configYaml(n));
    rows.push(JSON.parse(execFileSync(process.execPath, [self, '--size', String(n), configPath], { encoding: 'utf8', maxBuffer: 1 << 20 })) as Figures);
  }
  const f = (x: number) => x.toFixed(1).padStart(9);
  console.log(`load + translate, median of ${RUNS} runs after a warm-up (ms); resident memory after the runs (MiB)`);
  console.log('   routes |  parse+validate |    model | translate | load+translate |  encode (xDS) |      RSS | RSS before');
  for (const r of rows) {
    const lt = r.loadMs + r.modelMs + r.translateMs;
    console.log(`${String(r.routes).padStart(9)} | ${f(r.loadMs)}       | ${f(r.modelMs)}| ${f(r.translateMs)} |      ${f(lt)} |     ${f(r.encodeMs)} | ${f(r.rssMiB)}| ${f(r.baselineRssMiB)}`);
  }
  const big = rows.find((r) => r.routes === 10_000);
  if (big) {
    const lt = big.loadMs + big.modelMs + big.translateMs;
    console.log(`\n10,000 routes: load+translate ${lt.toFixed(0)} ms (target < 250 ms: ${lt < 250 ? 'met' : 'NOT met'}); translate alone ${big.translateMs.toFixed(0)} ms`);
  }
}
