import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ACCESS_LOG_FIELDS, accessLogOperator } from '../../../control-plane/src/config/access-log-fields.js';
import { buildAccessLog } from '../../../control-plane/src/translate/access-log.js';

describe('the access log entry of each connection manager', () => {
  it('off: no access_log entry at all', () => {
    assert.deepEqual(buildAccessLog([]), []);
  });

  it("Envoy's stdout logger with one JSON field per name, in the order given, from the table", () => {
    const [entry, ...rest] = buildAccessLog(['path', 'client-certificate-subject', 'headers.x-trace-id']);
    assert.equal(rest.length, 0);
    assert.equal(entry!.name, 'envoy.access_loggers.stdout');
    assert.deepEqual(entry!.typed_config, {
      '@type': 'type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog',
      log_format: {
        json_format: {
          fields: {
            path: { string_value: '%PATH(NQ)%' },
            'client-certificate-subject': { string_value: '%DOWNSTREAM_PEER_SUBJECT%' },
            'headers.x-trace-id': { string_value: '%REQ(X-TRACE-ID)%' },
          },
        },
      },
    });
  });

  it('every field of the table is one Envoy command operator', () => {
    for (const name of Object.keys(ACCESS_LOG_FIELDS)) {
      assert.match(accessLogOperator(name), /^%[A-Z_0-9]+(\(.*\))?(:[A-Z]+)?%$/s, name);
    }
  });
});
