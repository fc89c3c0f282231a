// `npm run mutate [-- ID…]`: applies each mutation of test/mutation/mutations.yaml to a copy of the built project,
// runs the tests the entry names against it, and prints caught/survived. Exits non-zero when a mutation survives,
// no longer applies, or the named tests fail without any mutation (then "caught" would mean nothing).
//
// The copy holds dist/ and test/ (copied) beside links to everything else, so the checkout is never changed. A mutated
// file is compiled alone (TypeScript's transpileModule): a few milliseconds instead of a full build per mutation.
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { applyMutation, compiledPath, failedTests, parseMutations, type Mutation } from './mutations.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const LIST = 'test/mutation/mutations.yaml';
/**
 * Not linked into the copy: the build, the tests and the CLI's launcher are copied instead (a test that writes beside
 * itself, such as the golden test, must never write into the checkout), and the rest the tests never read or write
 * themselves.
 */
// bin/ too: Node runs a linked script from its real path, and bin/mtls-edge.js would load the checkout's bundle.
const COPIED = ['dist', 'test', 'bin'];
const NOT_LINKED = new Set(COPIED);
const TEST_TIMEOUT_MS = 10 * 60_000;

interface Outcome {
  mutation: Mutation;
  result: 'caught' | 'survived' | 'error';
  detail: string;
  seconds: number;
}

/** Compiles one mutated source file the way the build does (ES modules, ES2022), refusing text that does not parse. */
function compile(file: string, text: string): { ok: true; js: string } | { ok: false; error: string } {
  const out = ts.transpileModule(text, {
    fileName: file,
    reportDiagnostics: true,
    compilerOptions: {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ES2022,
      esModuleInterop: true,
      sourceMap: false,
    },
  });
  const problems = (out.diagnostics ?? []).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  return problems.length > 0
    ? { ok: false, error: `does not parse: ${problems.join('; ')}` }
    : { ok: true, js: out.outputText };
}

interface TestRun {
  code: number;
  /** Names of the tests that failed (not files that failed to load). */
  failed: string[];
  timedOut: boolean;
}

/** Runs test files under node --test in the copy; every process it leaves behind is killed with its group. */
function runTests(workspace: string, tests: string[]): Promise<TestRun> {
  const files = tests.map((t) => join(workspace, compiledPath(t)));
  const env = { ...process.env };
  // The golden test would rewrite its expectations from the mutated output, and pass.
  delete env['UPDATE_GOLDEN'];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=tap', ...files], {
      cwd: workspace,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const killGroup = () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // Already gone.
      }
    };
    let out = '';
    let timedOut = false;
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', () => {});
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, TEST_TIMEOUT_MS);
    child.on('exit', (code) => {
      clearTimeout(timer);
      // A mutated product may leave an edge running when its test fails: it must not disturb the next mutation.
      killGroup();
      const failed = failedTests(out);
      resolve({ code: code ?? 1, failed, timedOut });
    });
  });
}

function makeWorkspace(): string {
  const workspace = mkdtempSync(join(tmpdir(), 'mtls-edge-mutate-'));
  // What the repository holds (and its packages), not what a run left in the checkout (.mtls-edge/, artifacts).
  for (const entry of [...trackedTopLevel(), 'node_modules'])
    if (!NOT_LINKED.has(entry)) symlinkSync(join(ROOT, entry), join(workspace, entry));
  for (const entry of COPIED)
    cpSync(join(ROOT, entry), join(workspace, entry), { recursive: true, preserveTimestamps: true });
  return workspace;
}

async function tryMutation(workspace: string, m: Mutation): Promise<Outcome> {
  const started = performance.now();
  const done = (result: Outcome['result'], detail: string): Outcome => ({
    mutation: m,
    result,
    detail,
    seconds: (performance.now() - started) / 1000,
  });
  const source = readFileSync(join(ROOT, m.file), 'utf8');
  const mutated = applyMutation(m, source);
  if (!mutated.ok) return done('error', mutated.error);
  const original = compile(m.file, source);
  const changed = compile(m.file, mutated.text);
  if (!original.ok) return done('error', `${m.file} ${original.error}`);
  if (!changed.ok) return done('error', `the mutated ${m.file} ${changed.error}`);
  // A change in a comment or a type only would be "survived" for no fault of the tests.
  if (original.js === changed.js) return done('error', 'the mutation changes no compiled code (a comment or a type?)');
  const target = join(workspace, compiledPath(m.file));
  const built = readFileSync(target, 'utf8');
  // The file alone must compile as the build compiled it, or the copy would differ in more than the mutation.
  if (withoutSourceMap(built) !== withoutSourceMap(original.js))
    return done(
      'error',
      `${compiledPath(m.file)} is not what ${m.file} compiles to alone: ` +
        `rebuild (npm run build), or the file needs the whole program to compile`,
    );
  writeFileSync(target, changed.js);
  rebundle(workspace, target);
  try {
    // Each named file must catch it on its own, by a failing test (not a file that fails to load or a timeout).
    const missed: string[] = [];
    const failures: string[] = [];
    for (const test of m.tests) {
      const run = await runTests(workspace, [test]);
      if (run.timedOut) return done('error', `${test} did not finish within ${TEST_TIMEOUT_MS / 60_000} minutes`);
      if (run.code === 0) missed.push(test);
      else if (run.failed.length === 0)
        return done('error', `${test} failed without a failing test (it did not load?)`);
      else failures.push(`${basename(test, '.test.ts')}: "${run.failed[0]!}"`);
    }
    if (missed.length > 0) return done('survived', `not caught by ${missed.join(', ')}`);
    return done('caught', failures.join('; '));
  } finally {
    writeFileSync(target, built);
    rebundle(workspace, target);
  }
}

/** The CLI the tests run is the bundle (scripts/bundle.mjs): a mutated file of it counts only once bundled again. */
function rebundle(workspace: string, compiled: string): void {
  if (!compiled.startsWith(join(workspace, 'dist', 'control-plane', 'src'))) return;
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'bundle.mjs'), workspace], { stdio: 'inherit' });
}

function trackedTopLevel(): string[] {
  return execFileSync('git', ['ls-tree', '--name-only', 'HEAD'], { cwd: ROOT, encoding: 'utf8' })
    .split('\n')
    .filter(Boolean);
}

const withoutSourceMap = (js: string) => js.replace(/\n\/\/# sourceMappingURL=.*\n?$/, '\n').trimEnd();

async function main(): Promise<number> {
  const parsed = parseMutations(readFileSync(join(ROOT, LIST), 'utf8'), LIST);
  if (!parsed.ok) {
    for (const e of parsed.errors) console.error(e);
    return 2;
  }
  // --baseline-passed: the caller has just run every test file unmutated, each in its own process as here (CI runs
  // `npm test` first, and stops if any fails), so the baseline below would only repeat it.
  const baselinePassed = process.argv.includes('--baseline-passed');
  const wanted = process.argv.slice(2).filter((a) => a !== '--baseline-passed');
  const unknown = wanted.filter((id) => !parsed.mutations.some((m) => m.id === id));
  if (unknown.length > 0) {
    console.error(`no mutation named ${unknown.join(', ')} in ${LIST}`);
    return 2;
  }
  const mutations = wanted.length > 0 ? parsed.mutations.filter((m) => wanted.includes(m.id)) : parsed.mutations;
  const workspace = makeWorkspace();
  try {
    // Unmutated first, each file alone as the mutations run it: a test that already fails would make every
    // mutation look caught.
    const tests = [...new Set(mutations.flatMap((m) => m.tests))].sort();
    if (baselinePassed) console.log(`baseline: ${tests.length} test files passed unmutated in this run's npm test`);
    else console.log(`baseline: ${tests.length} test files, unmutated, one at a time…`);
    for (const test of baselinePassed ? [] : tests) {
      const baseline = await runTests(workspace, [test]);
      if (baseline.code !== 0 || baseline.timedOut) {
        console.error(
          `${test} fails without any mutation ` +
            `(${baseline.failed.join('; ') || (baseline.timedOut ? 'timed out' : `exit ${baseline.code}`)}): ` +
            'fix it first',
        );
        return 1;
      }
    }
    const outcomes: Outcome[] = [];
    for (const m of mutations) {
      const o = await tryMutation(workspace, m);
      outcomes.push(o);
      console.log(`${o.result.padEnd(8)} ${m.id.padEnd(44)} ${o.seconds.toFixed(0).padStart(4)} s  ${o.detail}`);
    }
    const count = (r: Outcome['result']) => outcomes.filter((o) => o.result === r).length;
    console.log(
      `\n${count('caught')} caught, ${count('survived')} survived, ` +
        `${count('error')} could not be applied, of ${outcomes.length}`,
    );
    if (count('survived') > 0)
      console.log('A survivor is a change the tests let through: add a test that fails with it.');
    return count('survived') + count('error') > 0 ? 1 : 0;
  } finally {
    rmSync(workspace, { recursive: true, force: true });
  }
}

process.exitCode = await main();
