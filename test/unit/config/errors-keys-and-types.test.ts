// Every kind of config error: each must name the file, the line and the dotted key the user has to edit.
// Here: unknown keys, wrong types, and an inline value set along with its file.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertError, yaml } from './fixture.js';
import { pems, loadTestPems, errorsOf } from './errors-fixture.js';

before(loadTestPems);

describe('unknown keys', () => {
  test('top level, with the closest known key as a hint', () => {
    const errors = errorsOf(yaml`
      certificate_file: server.pem
      certificate_key_file: server-key.pem
      client_ca_fil: ca.pem
      routes: []
    `);
    assertError(errors, {
      key: 'client_ca_fil',
      line: 3,
      message: /^unknown key \(did you mean "client_ca_file"\?\)$/,
    });
    assert.equal(errors.length, 1);
  });

  test('top level, without a hint when nothing is close', () => {
    const errors = errorsOf(yaml`
      certificate_file: server.pem
      certificate_key_file: server-key.pem
      routes: []
      frobnicate_everything: 1
    `);
    assertError(errors, { key: 'frobnicate_everything', line: 4, message: /^unknown key$/ });
  });

  test('in a route, with the route index in the key', () => {
    const errors = errorsOf(yaml`
      certificate_file: server.pem
      certificate_key_file: server-key.pem
      routes:
        - from: https://a.example.com
          to: http://127.0.0.1:8080
          allow_public_unauthenticated_access: true
        - from: https://b.example.com
          to: http://127.0.0.1:8081
          allow_public_unauthenticated_acess: true
    `);
    assertError(errors, {
      key: 'routes[1].allow_public_unauthenticated_acess',
      line: 9,
      message: /unknown key \(did you mean "allow_public_unauthenticated_access"\?\)/,
    });
  });

  test('in a certificates entry', () => {
    const errors = errorsOf(yaml`
      certificates:
        - cert: server.pem
          kye: server-key.pem
      routes: []
    `);
    assertError(errors, { key: 'certificates[0].kye', line: 3, message: /unknown key \(did you mean "key"\?\)/ });
    // The missing `key` is reported on the entry itself.
    assertError(errors, { key: 'certificates[0]', line: 2, message: /needs both cert and key/ });
  });
});

describe('wrong types', () => {
  test('a string where the routes list is expected', () => {
    const errors = errorsOf(yaml`
      certificate_file: server.pem
      certificate_key_file: server-key.pem
      routes: https://a.example.com
    `);
    assertError(errors, {
      key: 'routes',
      line: 3,
      message: /^expected a list, got string "https:\/\/a\.example\.com"$/,
    });
  });

  test('a string where a map, a bool or a mapping route is expected', () => {
    const errors = errorsOf(yaml`
      certificate_file: server.pem
      certificate_key_file: server-key.pem
      routes:
        - from: https://a.example.com
          to: http://127.0.0.1:8080
          allow_public_unauthenticated_access: "true"
          set_request_headers: X-Env=prod
          preserve_host_header: yes
        - just a string
    `);
    assertError(errors, {
      key: 'routes[0].allow_public_unauthenticated_access',
      line: 6,
      message: /^expected true or false, got string "true"$/,
    });
    assertError(errors, {
      key: 'routes[0].set_request_headers',
      line: 7,
      message: /^expected a mapping, got string "X-Env=prod"$/,
    });
    // YAML 1.2: `yes` is a string, not a boolean; say so rather than guess.
    assertError(errors, {
      key: 'routes[0].preserve_host_header',
      line: 8,
      message: /^expected true or false, got string "yes"$/,
    });
    assertError(errors, { key: 'routes[1]', line: 9, message: /^expected a mapping, got string "just a string"$/ });
    // No "says nobody may use it" on top of the mistyped allow_public_unauthenticated_access.
    assert.equal(errors.length, 4);
  });

  test('a list or a mapping where a string is expected', () => {
    const errors = errorsOf(yaml`
      certificate_file: [server.pem]
      certificate_key_file: server-key.pem
      routes:
        - from:
            host: a.example.com
          to: http://127.0.0.1:8080
          timeout:
          allow_public_unauthenticated_access: true
    `);
    assertError(errors, { key: 'certificate_file', line: 1, message: /^expected a string, got a list$/ });
    assertError(errors, { key: 'routes[0].from', line: 4, message: /^expected a string, got a mapping$/ });
    assertError(errors, { key: 'routes[0].timeout', line: 7, message: /^expected a string, got empty$/ });
  });

  test('a header value that is a list', () => {
    const errors = errorsOf(yaml`
      certificate_file: server.pem
      certificate_key_file: server-key.pem
      routes:
        - from: https://a.example.com
          to: http://127.0.0.1:8080
          allow_public_unauthenticated_access: true
          set_request_headers:
            X-Ok: fine
            X-Bad: [a, b]
    `);
    assertError(errors, {
      key: 'routes[0].set_request_headers.X-Bad',
      line: 9,
      message: /^expected a string value, got a list$/,
    });
  });

  test('a document that is not a mapping', () => {
    const errors = errorsOf('- from: https://a.example.com\n');
    assertError(errors, { key: '(document)', line: 1, message: /must be a mapping of options/ });
  });
});

describe('inline value and file both set', () => {
  test('client_ca and client_ca_file', () => {
    const errors = errorsOf(yaml`
      certificate_file: server.pem
      certificate_key_file: server-key.pem
      client_ca: ${Buffer.from(pems.ca).toString('base64')}
      client_ca_file: ca.pem
      routes: []
    `);
    assertError(errors, {
      key: 'client_ca_file',
      line: 4,
      message: /^set either client_ca or client_ca_file, not both \(client_ca is set at \/etc\/edge\/config\.yaml:3\)$/,
    });
    assert.equal(errors.length, 1);
  });

  test('tls_downstream_client_ca and tls_downstream_client_ca_file', () => {
    const errors = errorsOf(yaml`
      certificate_file: server.pem
      certificate_key_file: server-key.pem
      routes:
        - from: https://a.example.com
          to: http://127.0.0.1:8080
          allow_public_unauthenticated_access: true
        - from: https://b.example.com
          to: http://127.0.0.1:8081
          tls_downstream_client_ca: ${Buffer.from(pems.ca).toString('base64')}
          tls_downstream_client_ca_file: ca.pem
          allow_any_authenticated_user: true
    `);
    assertError(errors, {
      key: 'routes[1].tls_downstream_client_ca_file',
      line: 10,
      message:
        /set either tls_downstream_client_ca or tls_downstream_client_ca_file, not both \(tls_downstream_client_ca is set at \/etc\/edge\/config\.yaml:9\)/,
    });
  });

  test('certificate and certificate_file', () => {
    const errors = errorsOf(yaml`
      certificate: ${Buffer.from(pems.serverCert).toString('base64')}
      certificate_file: server.pem
      certificate_key_file: server-key.pem
      routes: []
    `);
    assertError(errors, {
      key: 'certificate_file',
      line: 2,
      message: /set either certificate or certificate_file, not both/,
    });
  });
});
