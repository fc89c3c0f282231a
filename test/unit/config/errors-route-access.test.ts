// Every kind of config error: each must name the file, the line and the dotted key the user has to edit.
// Here: a route's access options and request matching.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertError, yaml } from './fixture.js';
import { loadTestPems, errorsOf } from './errors-fixture.js';

before(loadTestPems);

describe('access', () => {
  test('a route that grants access to nobody', () => {
    const errors = errorsOf(yaml`
      certificate_file: server.pem
      certificate_key_file: server-key.pem
      routes:
        - from: https://a.example.com
          to: http://127.0.0.1:8080
          allow_public_unauthenticated_access: true
        - from: https://b.example.com
          to: http://127.0.0.1:8080
          allow_public_unauthenticated_access: false
    `);
    assertError(errors, {
      key: 'routes[1]',
      line: 7,
      message:
        /^says nobody may use it: add allow_any_authenticated_user: true .* or allow_public_unauthenticated_access: true/,
    });
  });

  test('a policy that reads the certificate on a route without a client CA: one error, at the criterion', () => {
    const errors = errorsOf(yaml`
      certificate_file: server.pem
      certificate_key_file: server-key.pem
      routes:
        - from: https://a.example.com
          to: http://127.0.0.1:8080
          policy:
            - allow:
                or:
                  - email:
                      is: alice@example.com
    `);
    assertError(errors, {
      key: 'routes[0].policy[0].allow.or[0].email',
      line: 9,
      message:
        /^email reads the client certificate, but this route asks for none .*set client_ca \/ client_ca_file, or tls_downstream_client_ca \/ tls_downstream_client_ca_file/,
    });
    // Not also "says nobody may use it": the policy says who may.
    assert.equal(errors.length, 1);
  });

  test('pass_identity_headers: true needs a client CA, false does not', () => {
    const errors = errorsOf(yaml`
      certificate_file: server.pem
      certificate_key_file: server-key.pem
      routes:
        - from: https://a.example.com
          to: http://127.0.0.1:8080
          allow_public_unauthenticated_access: true
          pass_identity_headers: true
        - from: https://b.example.com
          to: http://127.0.0.1:8080
          allow_public_unauthenticated_access: true
          pass_identity_headers: false
    `);
    assertError(errors, {
      key: 'routes[0].pass_identity_headers',
      line: 7,
      message: /^pass_identity_headers needs a client CA: .*set client_ca \/ client_ca_file/,
    });
    assert.equal(errors.length, 1);
  });

  test('allow_any_authenticated_user without any client CA', () => {
    const errors = errorsOf(yaml`
      certificate_file: server.pem
      certificate_key_file: server-key.pem
      routes:
        - from: https://a.example.com
          to: http://127.0.0.1:8080
          tls_downstream_client_ca_file: ca.pem
          allow_any_authenticated_user: true
        - from: https://b.example.com
          to: http://127.0.0.1:8080
          allow_any_authenticated_user: true
    `);
    assertError(errors, {
      key: 'routes[1].allow_any_authenticated_user',
      line: 10,
      message:
        /^allow_any_authenticated_user needs a client CA: set client_ca \/ client_ca_file, or tls_downstream_client_ca/,
    });
    assert.equal(errors.length, 1);
  });

  test('a global CA that is set but unreadable is not reported again on each route', () => {
    const errors = errorsOf(yaml`
      certificate_file: server.pem
      certificate_key_file: server-key.pem
      client_ca_file: missing.pem
      routes:
        - from: https://a.example.com
          to: http://127.0.0.1:8080
          allow_any_authenticated_user: true
        - from: https://b.example.com
          to: http://127.0.0.1:8080
          allow_any_authenticated_user: true
    `);
    assert.deepEqual(
      errors.map((e) => e.key),
      ['client_ca_file'],
    );
  });

  test('a route CA that does not parse is not reported again as a missing CA', () => {
    const errors = errorsOf(yaml`
      certificate_file: server.pem
      certificate_key_file: server-key.pem
      routes:
        - from: https://a.example.com
          to: http://127.0.0.1:8080
          tls_downstream_client_ca_file: garbage.pem
          allow_any_authenticated_user: true
    `);
    assert.deepEqual(
      errors.map((e) => e.key),
      ['routes[0].tls_downstream_client_ca_file'],
    );
  });

  test('public and any-authenticated-user together', () => {
    const errors = errorsOf(yaml`
      certificate_file: server.pem
      certificate_key_file: server-key.pem
      client_ca_file: ca.pem
      routes:
        - from: https://a.example.com
          to: http://127.0.0.1:8080
          allow_public_unauthenticated_access: true
          allow_any_authenticated_user: true
    `);
    assertError(errors, { key: 'routes[0].allow_any_authenticated_user', line: 8, message: /exclude each other/ });
  });
});

describe('matching', () => {
  test('two of prefix, path and regex', () => {
    const errors = errorsOf(yaml`
      certificate_file: server.pem
      certificate_key_file: server-key.pem
      routes:
        - from: https://a.example.com
          to: http://127.0.0.1:8080
          prefix: /api
          regex: ^/api/v[0-9]+
          allow_public_unauthenticated_access: true
    `);
    assertError(errors, {
      key: 'routes[0].regex',
      line: 7,
      message: /^set only one of prefix, path and regex \(also set: prefix\)$/,
    });
  });

  test('a prefix without a leading slash, a bad regex, and prefix_rewrite with regex', () => {
    const errors = errorsOf(yaml`
      certificate_file: server.pem
      certificate_key_file: server-key.pem
      routes:
        - from: https://a.example.com
          to: http://127.0.0.1:8080
          prefix: api
          allow_public_unauthenticated_access: true
        - from: https://b.example.com
          to: http://127.0.0.1:8080
          regex: "(unclosed"
          allow_public_unauthenticated_access: true
        - from: https://c.example.com
          to: http://127.0.0.1:8080
          regex: ^/v[0-9]+/
          prefix_rewrite: /
          allow_public_unauthenticated_access: true
    `);
    assertError(errors, { key: 'routes[0].prefix', line: 6, message: /^must start with "\/", got "api"$/ });
    assertError(errors, { key: 'routes[1].regex', line: 10, message: /^not a valid regular expression/ });
    assertError(errors, {
      key: 'routes[2].prefix_rewrite',
      line: 15,
      message: /prefix_rewrite cannot be used with regex/,
    });
  });
});
