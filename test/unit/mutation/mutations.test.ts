import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { applyMutation, compiledPath, failedTests, parseMutations } from '../../mutation/mutations.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const LIST = 'test/mutation/mutations.yaml';

const entry = (overrides: Record<string, unknown> = {}) => ({
  id: 'x',
  why: 'because',
  file: 'control-plane/src/a.ts',
  find: 'a === b',
  replace: 'a !== b',
  tests: ['test/unit/a.test.ts'],
  ...overrides,
});
const yamlOf = (entries: object[]) => JSON.stringify(entries);

describe('the mutation list', () => {
  it('parses entries and refuses malformed ones, naming the entry and the key', () => {
    assert.deepEqual(parseMutations(yamlOf([entry()]), 'm.yaml'), { ok: true, mutations: [entry()] });
    const bad = parseMutations(
      yamlOf([entry(), entry({ tests: ['dist/a.js'] }), entry({ id: 'y', find: '' }), entry({ id: 'z', colour: 1 })]),
      'm.yaml',
    );
    assert.equal(bad.ok, false);
    const errors = bad.ok ? [] : bad.errors;
    assert.ok(
      errors.includes('m.yaml: entry 2: `tests` must list test files like test/e2e/x.test.ts'),
      errors.join('\n'),
    );
    assert.ok(errors.includes('m.yaml: entry 2: id x is used twice'));
    assert.ok(errors.includes('m.yaml: entry 3: `find` must be a non-empty string'));
    assert.ok(errors.some((e) => e.startsWith('m.yaml: entry 4: unknown keys colour')));
    for (const file of [
      'test/support/x.ts',
      'control-plane/src/../../etc/x.ts',
      '/etc/passwd',
      'control-plane/src/a.js',
    ]) {
      const parsed = parseMutations(yamlOf([entry({ file })]), 'm.yaml');
      assert.deepEqual(
        parsed,
        {
          ok: false,
          errors: ['m.yaml: entry 1: `file` must be a source file under control-plane/src or control-plane/bench'],
        },
        file,
      );
    }
    assert.equal(parseMutations('a: [', 'm.yaml').ok, false);
    assert.equal(parseMutations(yamlOf([entry({ replace: 'a === b' })]), 'm.yaml').ok, false, 'a no-op mutation');
  });

  it('applies a mutation only where its text occurs exactly once', () => {
    const m = entry();
    assert.deepEqual(applyMutation(m, 'if (a === b) go();'), { ok: true, text: 'if (a !== b) go();' });
    assert.match(
      (applyMutation(m, 'if (a == b) go();') as { error: string }).error,
      /no longer in control-plane\/src\/a\.ts/,
    );
    assert.match((applyMutation(m, 'a === b || a === b') as { error: string }).error, /more than once/);
    assert.equal(compiledPath('control-plane/src/x/y.ts'), 'dist/control-plane/src/x/y.js');
  });

  it('every entry of the repository list applies to the current source and names test files that exist', () => {
    const parsed = parseMutations(readFileSync(join(ROOT, LIST), 'utf8'), LIST);
    assert.ok(parsed.ok, parsed.ok ? '' : parsed.errors.join('\n'));
    assert.ok(parsed.mutations.length >= 10);
    for (const m of parsed.mutations) {
      const applied = applyMutation(m, readFileSync(join(ROOT, m.file), 'utf8'));
      assert.ok(applied.ok, applied.ok ? '' : applied.error);
      for (const t of m.tests) assert.ok(existsSync(join(ROOT, t)), `${m.id}: ${t} does not exist`);
    }
  });

  it('counts a test as failed only when its own code failed: not a hook, a suite, or a file that did not load', () => {
    const tap = [
      '    not ok 1 - refuses the revoked certificate',
      '      ---',
      "      failureType: 'testCodeFailure'",
      '    ok 2 - admits the good one',
      'not ok 1 - suite',
      '  ---',
      "  failureType: 'subtestsFailed'",
      'not ok 2 - the edge stops',
      '  ---',
      "  failureType: 'hookFailed'",
      'not ok 3 - /tmp/x/dist/test/e2e/a.test.js',
      '  ---',
      "  failureType: 'testCodeFailure'",
    ].join('\n');
    assert.deepEqual(failedTests(tap), ['refuses the revoked certificate']);
  });
});
