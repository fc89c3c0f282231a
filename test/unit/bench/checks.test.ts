import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { authzChecksAnswered, BenchChecks, closingLines, runBench } from '../../../control-plane/bench/checks.js';
import { summarize } from '../../../control-plane/bench/load.js';

const targets = [
  { met: true, render: (w: string) => `envoy ratio 0.99 (${w})` },
  { met: false, render: (w: string) => `envoy ratio 0.90 (${w})` },
];

/** Runs `fn` with console.log captured; the exit code it set is returned and reset. */
async function captured(fn: () => unknown): Promise<{ out: string; exitCode: number | undefined }> {
  const lines: string[] = [];
  const log = console.log;
  const error = console.error;
  console.log = (...a: unknown[]) => void lines.push(a.join(' '));
  console.error = () => undefined;
  const before = process.exitCode;
  // The test runner sets the exit code when another test fails: start from none.
  process.exitCode = undefined;
  try {
    await fn();
    return { out: lines.join('\n'), exitCode: process.exitCode === undefined ? undefined : Number(process.exitCode) };
  } finally {
    console.log = log;
    console.error = error;
    process.exitCode = before;
  }
}

describe('verdicts', () => {
  test('a run whose checks passed says met or missed per target', () => {
    assert.deepEqual(closingLines([], targets), [
      'checks: all passed',
      'envoy ratio 0.99 (met)',
      'envoy ratio 0.90 (missed)',
    ]);
  });

  test('a run with a failed check says INVALID and why, and no verdict at all', () => {
    const lines = closingLines(['/envoy answered 503'], targets);
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /^INVALID: .*\/envoy answered 503/);
    assert.doesNotMatch(lines.join('\n'), /\b(met|missed)\b/);
  });

  test('a timed run with failed requests fails the checks', () => {
    const checks = new BenchChecks();
    checks.noErrors('clean', summarize([1, 2], 0, 1000));
    assert.ok(checks.passed);
    // One failure among many is enough: a run is valid only without any.
    checks.noErrors('h1 /envoy', summarize([1, 2, 3, 4], 1, 1000, '503: no healthy upstream'));
    assert.equal(checks.passed, false);
    assert.match(checks.failures[0]!, /h1 \/envoy: 1 of 5 requests failed \(first: 503/);
  });

  test('finish exits non-zero and prints no met when a check failed', async () => {
    const checks = new BenchChecks();
    checks.target(true, (w) => `ratio (${w})`);
    const { out, exitCode } = await captured(() => {
      checks.expect(false, 'the gated host answered 200 without a certificate');
      checks.finish();
    });
    assert.equal(exitCode, 1);
    assert.match(out, /INVALID/);
    assert.doesNotMatch(out, /\bmet\b/);
  });

  test('runBench: a bench body that throws, or stops on a failed check, is invalid', async () => {
    const thrown = await captured(() =>
      runBench((checks) => {
        checks.target(true, (w) => `ratio (${w})`);
        return Promise.reject(new Error('the edge did not start'));
      }),
    );
    assert.equal(thrown.exitCode, 1);
    assert.match(thrown.out, /INVALID: .*the edge did not start/);
    assert.doesNotMatch(thrown.out, /\bmet\b/);

    let timedAfterFailure = false;
    const stopped = await captured(() =>
      runBench((checks) => {
        checks.fail('no 495');
        checks.stopIfFailed('policy_with_default_deny');
        timedAfterFailure = true;
        checks.target(true, (w) => `ratio (${w})`);
        return Promise.resolve();
      }),
    );
    assert.equal(stopped.exitCode, 1);
    assert.equal(timedAfterFailure, false, 'stopIfFailed must stop the bench before it times anything');
    assert.doesNotMatch(stopped.out, /\bmet\b/);

    const passed = await captured(() =>
      runBench((checks) => {
        checks.stopIfFailed('nothing failed');
        checks.target(true, (w) => `ratio (${w})`);
        return Promise.resolve();
      }),
    );
    assert.equal(passed.exitCode, undefined);
    assert.match(passed.out, /ratio \(met\)/);
  });
});

test('authzChecksAnswered sums mtls_edge_authz_decisions_total over its labels', () => {
  const metrics = [
    '# HELP mtls_edge_authz_decisions_total ext_authz checks answered',
    '# TYPE mtls_edge_authz_decisions_total counter',
    'mtls_edge_authz_decisions_total{decision="allow",cached="true"} 1200',
    'mtls_edge_authz_decisions_total{decision="allow",cached="false"} 20',
    'mtls_edge_authz_decisions_total{decision="deny",cached="false"} 3',
    'mtls_edge_authz_cache_hits_total 1200',
  ].join('\n');
  assert.equal(authzChecksAnswered(metrics), 1223);
  assert.equal(authzChecksAnswered(''), 0);
});
