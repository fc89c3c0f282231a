import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ACCESS_LOG_FIELDS, accessLogOperator } from '../../../control-plane/src/config/access-log-fields.js';
import { buildAccessLog } from '../../../control-plane/src/translate/access-log.js';

describe('the access log entry of each connection manager', () => {
  it('off: no access_log entry at all', () => {
    assert.deepEqual(buildAccessLog([]), []);
  });

  it("Envoy's stdout logger writes the edge's log line: each field under access, from the table", () => {
    const [entry, ...rest] = buildAccessLog(['path', 'client-certificate-subject', 'headers.x-trace-id']);
    assert.equal(rest.length, 0);
    assert.equal(entry!.name, 'envoy.access_loggers.stdout');
    assert.deepEqual(entry!.typed_config, {
      '@type': 'type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog',
      log_format: {
        json_format: {
          fields: {
            level: { number_value: 30 },
            time: { string_value: '%START_TIME%' },
            service: { string_value: 'mtls-edge' },
            src: { string_value: 'envoy' },
            msg: { string_value: 'http-request' },
            access: {
              struct_value: {
                fields: {
                  path: { string_value: '%PATH(NQ)%' },
                  'client-certificate-subject': { string_value: '%DOWNSTREAM_PEER_SUBJECT%' },
                  'headers.x-trace-id': { string_value: '%REQ(X-TRACE-ID)%' },
                },
              },
            },
          },
        },
      },
    });
  });

  it('with reason: one logger below 400 with reason null (no CEL), one from 400 on, the rest alike', () => {
    const loggers = buildAccessLog(['method', 'response-code', 'reason']);
    assert.equal(loggers.length, 2);
    const comparisons = loggers.map((l) => l.filter?.status_code_filter?.comparison);
    assert.deepEqual(
      comparisons.map((c) => [c?.op, c?.value?.default_value]),
      [
        ['LE', 399],
        ['GE', 400],
      ],
    );
    type Value = { string_value?: string; struct_value?: { fields: Record<string, unknown> } };
    type Stdout = { log_format: { json_format: { fields: Record<string, Value> } } };
    const lines = loggers.map((l) => (l.typed_config as unknown as Stdout).log_format.json_format.fields);
    assert.deepEqual(lines[0]!['access']!.struct_value!.fields, {
      method: { string_value: '%REQ(:METHOD)%' },
      'response-code': { string_value: '%RESPONSE_CODE%' },
      reason: { null_value: 'NULL_VALUE' },
    });
    assert.deepEqual(lines[1]!['access']!.struct_value!.fields, {
      method: { string_value: '%REQ(:METHOD)%' },
      'response-code': { string_value: '%RESPONSE_CODE%' },
      reason: { string_value: accessLogOperator('reason') },
    });
    assert.match(accessLogOperator('reason'), /^%CEL\(/);
  });

  it('every field of the table is one Envoy command operator', () => {
    for (const name of Object.keys(ACCESS_LOG_FIELDS)) {
      assert.match(accessLogOperator(name), /^%[A-Z_0-9]+(\(.*\))?(:[A-Z]+)?%$/s, name);
    }
  });
});
