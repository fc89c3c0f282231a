// The mutation list: reading and checking it. Each entry is one small, security-relevant change to the product's
// source that some test must catch. The list lives in test/mutation/mutations.yaml; grow it when a bug is found
// that the tests let through (add the bug as a mutation, then the test that catches it).
import { parseDocument } from 'yaml';

export interface Mutation {
  /** Short and unique: what the mutation breaks. */
  id: string;
  /** Why it matters (what an attacker or a user would get), or where the bug was found. */
  why: string;
  /** Product source file, relative to the repository root (control-plane/src/…). */
  file: string;
  /** Exact text that occurs once in the file… */
  find: string;
  /** …and what it becomes. */
  replace: string;
  /** Test files, relative to the repository root as TypeScript (test/…/x.test.ts): the ones that must catch it. */
  tests: string[];
}

export type Parsed = { ok: true; mutations: Mutation[] } | { ok: false; errors: string[] };

const FIELDS = ['id', 'why', 'file', 'find', 'replace', 'tests'] as const;

/** Parses the list; every problem is reported with the entry it belongs to, none stops at the first. */
export function parseMutations(text: string, source: string): Parsed {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) return { ok: false, errors: doc.errors.map((e) => `${source}: ${e.message}`) };
  const value: unknown = doc.toJS();
  if (!Array.isArray(value)) return { ok: false, errors: [`${source}: expected a list of mutations`] };
  const errors: string[] = [];
  const mutations: Mutation[] = [];
  const ids = new Set<string>();
  value.forEach((entry: unknown, i) => {
    const where = `${source}: entry ${i + 1}`;
    if (typeof entry !== 'object' || entry === null) return void errors.push(`${where}: expected a mapping`);
    const e = entry as Record<string, unknown>;
    const unknownKeys = Object.keys(e).filter((k) => !(FIELDS as readonly string[]).includes(k));
    if (unknownKeys.length > 0)
      errors.push(`${where}: unknown keys ${unknownKeys.join(', ')} (expected ${FIELDS.join(', ')})`);
    for (const k of ['id', 'why', 'file', 'find'] as const) {
      if (typeof e[k] !== 'string' || e[k] === '') errors.push(`${where}: \`${k}\` must be a non-empty string`);
    }
    // Only the product's own source: a path out of it would be written through the copy's links into the checkout.
    if (
      (typeof e['file'] === 'string' && !/^control-plane\/(src|bench)\/[\w./-]+\.ts$/.test(e['file'])) ||
      String(e['file']).includes('..')
    ) {
      errors.push(`${where}: \`file\` must be a source file under control-plane/src or control-plane/bench`);
    }
    if (typeof e['replace'] !== 'string') errors.push(`${where}: \`replace\` must be a string (empty to delete)`);
    const tests = e['tests'];
    if (
      !Array.isArray(tests) ||
      tests.length === 0 ||
      !tests.every((t) => typeof t === 'string' && /^test\/.+\.test\.ts$/.test(t))
    ) {
      errors.push(`${where}: \`tests\` must list test files like test/e2e/x.test.ts`);
    }
    if (typeof e['id'] === 'string') {
      if (ids.has(e['id'])) errors.push(`${where}: id ${e['id']} is used twice`);
      ids.add(e['id']);
    }
    if (e['find'] === e['replace']) errors.push(`${where}: \`replace\` is the same as \`find\``);
    if (errors.length === 0) mutations.push(e as unknown as Mutation);
  });
  return errors.length > 0 ? { ok: false, errors } : { ok: true, mutations };
}

/** The mutated source text, or why the mutation no longer applies (the code moved on: update the entry). */
export function applyMutation(m: Mutation, source: string): { ok: true; text: string } | { ok: false; error: string } {
  const first = source.indexOf(m.find);
  if (first < 0)
    return { ok: false, error: `${m.id}: the text to replace is no longer in ${m.file}; update the entry` };
  if (source.indexOf(m.find, first + 1) >= 0)
    return { ok: false, error: `${m.id}: the text to replace occurs more than once in ${m.file}; quote more of it` };
  return { ok: true, text: source.slice(0, first) + m.replace + source.slice(first + m.find.length) };
}

/** Where a source file's compiled JavaScript is (tsconfig: rootDir ".", outDir "dist"). */
export function compiledPath(file: string): string {
  return 'dist/' + file.replace(/\.ts$/, '.js');
}

/**
 * The tests whose own code failed (an assertion, an exception), from TAP output: not a failing hook (an edge
 * that would not stop), nor a suite that failed because of its tests, nor a file that did not load.
 */
export function failedTests(tap: string): string[] {
  const lines = tap.split('\n');
  const out: string[] = [];
  lines.forEach((line, i) => {
    const m = /^(\s*)not ok \d+ - (.+)$/.exec(line);
    if (!m) return;
    for (let j = i + 1; j < lines.length && j < i + 12; j++) {
      const type = /^\s*failureType: '(\w+)'/.exec(lines[j]!);
      if (type) {
        if (type[1] === 'testCodeFailure' && !m[2]!.endsWith('.js')) out.push(m[2]!.trim());
        return;
      }
    }
  });
  return out;
}
