// Every kind of config error: each must name the file, the line and the dotted key the user has to edit.
// Here: YAML syntax, every error at once, formatError, and what Envoy would refuse.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatError } from '../../../control-plane/src/config/index.js';
import { CONFIG_FILE, assertError, yaml } from './fixture.js';
import { loadTestPems, errorsOf } from './errors-fixture.js';

before(loadTestPems);

describe('YAML syntax', () => {
  test('an unclosed flow sequence is reported with its line', () => {
    const errors = errorsOf(yaml`
      certificate_file: server.pem
      certificate_key_file: server-key.pem
      routes: [
      client_ca_file: ca.pem
    `);
    assert.ok(errors.length >= 1);
    for (const e of errors) {
      assert.equal(e.file, CONFIG_FILE);
      assert.equal(e.key, '(document)');
      assert.match(e.message, /^YAML syntax: /);
    }
    // The parser notices at the first line that cannot belong to the sequence.
    assert.equal(errors[0]!.line, 4, formatError(errors[0]!));
  });

  test('a tab indentation error names its exact line', () => {
    const errors = errorsOf('certificate_file: server.pem\nroutes:\n  - from: https://a.example.com\n\tto: http://x\n');
    assert.equal(errors[0]!.line, 4, formatError(errors[0]!));
    assert.match(errors[0]!.message, /^YAML syntax: /);
  });

  test('a duplicate key names the second occurrence', () => {
    const errors = errorsOf(yaml`
      certificate_file: server.pem
      certificate_key_file: server-key.pem
      routes: []
      certificate_file: other.pem
    `);
    assert.equal(errors.length, 1);
    assertError(errors, { key: '(document)', line: 4, message: /^YAML syntax: Map keys must be unique/ });
  });
});

describe('every error at once', () => {
  test('errors across the top level and several routes are all reported, in source order', () => {
    const errors = errorsOf(yaml`
      certificate_file: server.pem
      certificate_key_file: other-key.pem
      client_ca_file: missing.pem
      address: nowhere
      unknown_option: 1
      routes:
        - from: http://a.example.com
          to: ftp://backend
          timeout: soon
          allow_public_unauthenticated_access: true
        - from: https://b.example.com
          to: http://127.0.0.1:8080
          tls_downstream_client_ca_file: garbage.pem
          allow_any_authenticated_user: true
        - from: https://c.example.com/path
          to: http://127.0.0.1:8080
          policy: []
        - from: https://d.example.com
          to: http://127.0.0.1:8080
    `);
    const got = errors.map((e) => `${e.line} ${e.key}`).sort((a, b) => parseInt(a) - parseInt(b) || a.localeCompare(b));
    assert.deepEqual(got, [
      '2 certificate_key_file',
      '3 client_ca_file',
      '4 address',
      '5 unknown_option',
      '7 routes[0].from',
      '8 routes[0].to',
      '9 routes[0].timeout',
      '13 routes[1].tls_downstream_client_ca_file',
      '15 routes[2].from',
      '17 routes[2].policy',
      '18 routes[3]',
    ]);
  });

  test('every problem of one route is reported, including its optional fields', () => {
    const errors = errorsOf(yaml`
      certificate_file: server.pem
      certificate_key_file: server-key.pem
      routes:
        - from: http://a.example.com
          to: http://127.0.0.1:8080
          allow_public_unauthenticated_access: true
          preserve_host_header: "yes"
          set_request_headers: [X-A]
          remove_request_headers: {X-B: 1}
    `);
    assert.deepEqual(
      errors.map((e) => `${e.line} ${e.key}`).sort(),
      [
        '4 routes[0].from',
        '7 routes[0].preserve_host_header',
        '8 routes[0].set_request_headers',
        '9 routes[0].remove_request_headers',
      ].sort(),
    );
  });
});

describe('formatError', () => {
  test('file:line: key: message', () => {
    assert.equal(
      formatError({
        file: '/etc/edge/config.yaml',
        line: 7,
        key: 'routes[1].tls_downstream_client_ca_file',
        message: 'cannot read file "/x": ENOENT',
      }),
      '/etc/edge/config.yaml:7: routes[1].tls_downstream_client_ca_file: cannot read file "/x": ENOENT',
    );
  });

  test('without a line, as for an environment variable', () => {
    assert.equal(
      formatError({ file: 'environment variable CLIENT_CA_FILE', key: 'client_ca_file', message: 'boom' }),
      'environment variable CLIENT_CA_FILE: client_ca_file: boom',
    );
  });

  test('line 0 is still printed', () => {
    assert.equal(formatError({ file: 'f', line: 0, key: 'k', message: 'm' }), 'f:0: k: m');
  });
});

describe('what Envoy would refuse is refused here first', () => {
  test('a regex with lookaround or a backreference (RE2 has neither)', () => {
    const errors = errorsOf(yaml`
      certificate_file: server.pem
      certificate_key_file: server-key.pem
      routes:
        - from: https://a.example.com
          to: http://127.0.0.1:8080
          regex: ^/(?!admin)
          allow_public_unauthenticated_access: true
        - from: https://b.example.com
          to: http://127.0.0.1:8080
          regex: ^/(a)\\1$
          allow_public_unauthenticated_access: true
    `);
    assertError(errors, { key: 'routes[0].regex', line: 6, message: /RE2/ });
    assertError(errors, { key: 'routes[1].regex', line: 10, message: /RE2/ });
    assert.equal(errors.length, 2);
  });

  test('setting or removing Host or a pseudo-header, or an invalid header name', () => {
    const errors = errorsOf(yaml`
      certificate_file: server.pem
      certificate_key_file: server-key.pem
      routes:
        - from: https://a.example.com
          to: http://127.0.0.1:8080
          set_request_headers:
            Host: other.example.com
            X-Fine: yes
          remove_request_headers: [":authority", "bad header"]
          allow_public_unauthenticated_access: true
    `);
    assertError(errors, {
      key: 'routes[0].set_request_headers',
      line: 6,
      message: /cannot set or remove Host: use preserve_host_header/,
    });
    assertError(errors, {
      key: 'routes[0].remove_request_headers[0]',
      line: 9,
      message: /cannot set or remove :authority/,
    });
    assertError(errors, {
      key: 'routes[0].remove_request_headers[1]',
      line: 9,
      message: /"bad header" is not a valid HTTP header name/,
    });
    assert.equal(errors.length, 3);
  });
});
