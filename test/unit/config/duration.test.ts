// Route timeouts are Go durations (Pomerium's format), read into whole milliseconds; 0 disables the timeout.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MemoryFiles,
  SERVER_CERT_LINES,
  assertError,
  expectErrors,
  expectOk,
  loadPems,
  run,
  standardFiles,
  type Pems,
} from './fixture.js';

let pems: Pems;

before(async () => {
  pems = await loadPems();
});

/** `value` is written into the YAML as is, so quoting and YAML typing are part of the case. */
function withTimeout(value: string | undefined) {
  const timeout = value === undefined ? '' : `    timeout: ${value}\n`;
  return run(
    `${SERVER_CERT_LINES}routes:\n  - from: https://a.example.com\n    to: http://127.0.0.1:8080\n${timeout}    allow_public_unauthenticated_access: true\n`,
    { files: new MemoryFiles(standardFiles(pems)) },
  );
}

const timeoutMs = (value: string | undefined) => expectOk(withTimeout(value)).routes[0]!.timeoutMs;

describe('accepted durations', () => {
  test("no timeout means Pomerium's default of 30s", () => {
    assert.equal(timeoutMs(undefined), 30_000);
  });

  const cases: Array<[string, number]> = [
    ['0', 0],
    ['"0"', 0],
    ['0s', 0],
    ['0ms', 0],
    ['30s', 30_000],
    ['1m30s', 90_000],
    ['250ms', 250],
    ['1h', 3_600_000],
    ['2h45m', 9_900_000],
    ['1h1m1s1ms', 3_661_001],
    ['1.5s', 1_500],
    ['0.25m', 15_000],
    ['1500000us', 1_500],
    ['1500000µs', 1_500],
    ['2000000ns', 2],
    // Units may repeat and come in any order, as Go allows.
    ['1s1s', 2_000],
    ['30s1m', 90_000],
    ['"  45s  "', 45_000],
    ['1.0005s', 1_001],
  ];
  for (const [yamlValue, ms] of cases) {
    test(`${yamlValue} → ${ms} ms`, () => {
      assert.equal(timeoutMs(yamlValue), ms);
    });
  }

  test('a positive duration shorter than a millisecond does not turn into 0 (no timeout)', () => {
    for (const v of ['100us', '1ns', '499µs']) {
      assert.equal(timeoutMs(v), 1, v);
    }
  });
});

describe('refused durations', () => {
  const cases: Array<[string, string]> = [
    ['a YAML number without a unit', '30'],
    ['a string number without a unit', '"30"'],
    ['days', '1d'],
    ['an upper-case unit', '30S'],
    ['a unit alone', 's'],
    ['a space between parts', '"1m 30s"'],
    ['a negative duration', '-1s'],
    ['words', 'forever'],
    ['an exponent', '1e3s'],
    ['a trailing number', '1m30'],
    ['a leading dot', '.5s'],
  ];
  for (const [name, value] of cases) {
    test(name, () => {
      const errors = expectErrors(withTimeout(value));
      assertError(errors, {
        key: 'routes[0].timeout',
        line: 6,
        message: /^expected a duration such as "30s" or "1m30s", got /,
      });
      assert.equal(errors.length, 1);
    });
  }

  test('longer than Envoy accepts (a protobuf Duration holds at most ten thousand years)', () => {
    assert.equal(timeoutMs('87660000h'), 315_576_000_000_000, 'the longest one is accepted');
    for (const value of ['87660001h', '18446744073709551616s']) {
      const errors = expectErrors(withTimeout(value));
      assertError(errors, { key: 'routes[0].timeout', line: 6, message: /is longer than Envoy accepts/ });
      assert.equal(errors.length, 1, value);
    }
  });

  test('an empty string', () => {
    const errors = expectErrors(withTimeout('""'));
    assertError(errors, { key: 'routes[0].timeout', line: 6, message: /^expected a string/ });
  });
});
