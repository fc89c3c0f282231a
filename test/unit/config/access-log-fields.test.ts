// The access_log_fields option (and ACCESS_LOG_FIELDS): which fields each access log line holds, or none.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_ACCESS_LOG_FIELDS } from '../../../control-plane/src/config/access-log-fields.js';
import { assertError, expectOk, run } from './fixture.js';
import { loadTestPems, files, errorsOf, BASE } from './policy-fixture.js';

before(loadTestPems);

const fieldsOf = (text: string, env: Record<string, string> = {}) =>
  expectOk(run(text, { files: files(), env })).accessLogFields;

describe('access_log_fields', () => {
  test('absent: the default fields', () => {
    assert.deepEqual(fieldsOf(BASE), DEFAULT_ACCESS_LOG_FIELDS);
    assert.ok(DEFAULT_ACCESS_LOG_FIELDS.includes('client-certificate-fingerprint'));
  });

  test("a list of Pomerium's names, ours, and headers.<name>, in the order given", () => {
    const given = ['authority', 'response-code-details', 'client-certificate-subject', 'reason', 'headers.x-trace-id'];
    assert.deepEqual(fieldsOf(`access_log_fields: [${given.join(', ')}]\n${BASE}`), given);
  });

  test('off, or an empty list: no access log', () => {
    assert.deepEqual(fieldsOf(`access_log_fields: off\n${BASE}`), []);
    assert.deepEqual(fieldsOf(`access_log_fields: []\n${BASE}`), []);
  });

  test('ACCESS_LOG_FIELDS: names separated by commas, a list, or off; it replaces the file', () => {
    assert.deepEqual(fieldsOf(BASE, { ACCESS_LOG_FIELDS: 'authority, path,duration' }), [
      'authority',
      'path',
      'duration',
    ]);
    assert.deepEqual(fieldsOf(BASE, { ACCESS_LOG_FIELDS: '["size"]' }), ['size']);
    assert.deepEqual(fieldsOf(`access_log_fields: [path]\n${BASE}`, { ACCESS_LOG_FIELDS: 'off' }), []);
    assert.deepEqual(fieldsOf(`access_log_fields: off\n${BASE}`, { ACCESS_LOG_FIELDS: 'ip' }), ['ip']);
  });

  test('an unknown name is an error naming the file, key and line, and the names there are', () => {
    const errors = errorsOf(`access_log_fields:\n  - path\n  - status\n${BASE}`);
    const e = assertError(errors, {
      key: 'access_log_fields[1]',
      line: 3,
      message: /unknown access log field "status"/,
    });
    assert.match(e.message, /response-code/);
    assert.match(e.message, /headers\.<header name>/);
  });

  test('from the environment, the error names the variable', () => {
    const r = run(BASE, { files: files(), env: { ACCESS_LOG_FIELDS: 'path,bogus' } });
    assert.equal(r.ok, false);
    if (!r.ok) {
      assert.equal(r.errors.length, 1);
      assert.match(r.errors[0]!.file, /ACCESS_LOG_FIELDS/);
      assert.match(r.errors[0]!.message, /unknown access log field "bogus"/);
    }
  });

  test('names that could inject a command operator, inherited names, twice the same name, other shapes', () => {
    for (const bad of ['headers.x%START_TIME%', 'headers.a)%', 'headers.', 'toString', 'constructor']) {
      const errors = errorsOf(`access_log_fields: ["${bad}"]\n${BASE}`);
      assertError(errors, { key: 'access_log_fields[0]', line: 1, message: /unknown access log field/ });
    }
    assertError(errorsOf(`access_log_fields: [path, path]\n${BASE}`), {
      key: 'access_log_fields[1]',
      line: 1,
      message: /given twice/,
    });
    assertError(errorsOf(`access_log_fields:\n  a: b\n${BASE}`), {
      key: 'access_log_fields',
      line: 1,
      message: /expected a list of field names/,
    });
  });
});
