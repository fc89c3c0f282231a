// Every kind of config error: each must name the file, the line and the dotted key the user has to edit.
// Here: a route's from and to, timeouts and addresses, and the routes list.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertError, run, yaml } from './fixture.js';
import { files, loadTestPems, errorsOf } from './errors-fixture.js';

before(loadTestPems);

describe('from', () => {
  const route = (from: string) => yaml`
    certificate_file: server.pem
    certificate_key_file: server-key.pem
    routes:
      - from: ${from}
        to: http://127.0.0.1:8080
        allow_public_unauthenticated_access: true
  `;
  const cases: Array<[string, string, RegExp]> = [
    [
      'not https',
      'http://a.example.com',
      /^must be an https URL \(client certificates need TLS\), got "http:\/\/a\.example\.com"$/,
    ],
    [
      'with a path',
      'https://a.example.com/admin',
      /^must be only scheme and host; match paths with prefix, path or regex/,
    ],
    ['with a query', 'https://a.example.com?x=1', /^must be only scheme and host/],
    ['with a fragment', 'https://a.example.com#top', /^must be only scheme and host/],
    ['with a partial wildcard label', 'https://app*.example.com', /^a wildcard may only be the whole first label/],
    [
      'with a wildcard below the first label',
      'https://a.*.example.com',
      /^a wildcard may only be the whole first label/,
    ],
    ['with two wildcards', 'https://*.*.example.com', /^a wildcard may only be the whole first label/],
    ['with only a wildcard', 'https://*', /^a wildcard may only be the whole first label/],
    ['not a URL', 'a.example.com', /^not a URL: "a\.example\.com"$/],
  ];
  for (const [name, from, message] of cases) {
    test(name, () => {
      assertError(errorsOf(route(from)), { key: 'routes[0].from', line: 4, message });
    });
  }

  test('missing from is reported on the route', () => {
    const errors = errorsOf(yaml`
      certificate_file: server.pem
      certificate_key_file: server-key.pem
      routes:
        - to: http://127.0.0.1:8080
          allow_public_unauthenticated_access: true
    `);
    assertError(errors, { key: 'routes[0]', line: 4, message: /^a route needs "from"/ });
  });
});

describe('to', () => {
  test('a scheme other than http or https', () => {
    const errors = errorsOf(yaml`
      certificate_file: server.pem
      certificate_key_file: server-key.pem
      routes:
        - from: https://a.example.com
          to: tcp://127.0.0.1:5432
          allow_public_unauthenticated_access: true
    `);
    assertError(errors, {
      key: 'routes[0].to',
      line: 5,
      message: /^must be an http or https URL, got "tcp:\/\/127\.0\.0\.1:5432"$/,
    });
  });

  test('one bad entry in a list is named by its index and line', () => {
    const errors = errorsOf(yaml`
      certificate_file: server.pem
      certificate_key_file: server-key.pem
      routes:
        - from: https://a.example.com
          to:
            - http://10.0.0.1:8080
            - ftp://10.0.0.2
          allow_public_unauthenticated_access: true
    `);
    assertError(errors, {
      key: 'routes[0].to[1]',
      line: 7,
      message: /^must be an http or https URL, got "ftp:\/\/10\.0\.0\.2"$/,
    });
  });

  test('an empty list is an error, not a crash', () => {
    const errors = errorsOf(yaml`
      certificate_file: server.pem
      certificate_key_file: server-key.pem
      routes:
        - from: https://a.example.com
          to: []
          allow_public_unauthenticated_access: true
    `);
    assertError(errors, { key: 'routes[0].to', line: 5, message: /^expected at least one entry$/ });
  });

  test('mixed schemes and different paths', () => {
    const errors = errorsOf(yaml`
      certificate_file: server.pem
      certificate_key_file: server-key.pem
      routes:
        - from: https://a.example.com
          to: [http://10.0.0.1, https://10.0.0.2]
          allow_public_unauthenticated_access: true
        - from: https://b.example.com
          to: [http://10.0.0.1/a/, http://10.0.0.2/b/]
          allow_public_unauthenticated_access: true
    `);
    assertError(errors, { key: 'routes[0].to[0]', line: 5, message: /must use the same scheme/ });
    assertError(errors, { key: 'routes[1].to[0]', line: 8, message: /must have the same path/ });
  });

  test('missing to is reported on the route', () => {
    const errors = errorsOf(yaml`
      certificate_file: server.pem
      certificate_key_file: server-key.pem
      routes:
        - from: https://a.example.com
          allow_public_unauthenticated_access: true
    `);
    assertError(errors, { key: 'routes[0]', line: 4, message: /^a route needs "to"/ });
  });

  test('upstream TLS options on an http upstream', () => {
    const errors = errorsOf(yaml`
      certificate_file: server.pem
      certificate_key_file: server-key.pem
      routes:
        - from: https://a.example.com
          to: http://10.0.0.1
          tls_skip_verify: true
          tls_server_name: internal.example.com
          tls_custom_ca_file: ca.pem
          allow_public_unauthenticated_access: true
    `);
    for (const [key, line] of [
      ['tls_skip_verify', 6],
      ['tls_server_name', 7],
      ['tls_custom_ca_file', 8],
    ] as const) {
      assertError(errors, { key: `routes[0].${key}`, line, message: /applies only to https upstreams/ });
    }
  });
});

describe('timeouts and addresses', () => {
  test('a timeout that is not a Go duration', () => {
    const errors = errorsOf(yaml`
      certificate_file: server.pem
      certificate_key_file: server-key.pem
      routes:
        - from: https://a.example.com
          to: http://127.0.0.1:8080
          timeout: 30 seconds
          allow_public_unauthenticated_access: true
    `);
    assertError(errors, {
      key: 'routes[0].timeout',
      line: 6,
      message: /^expected a duration such as "30s" or "1m30s", got "30 seconds"$/,
    });
  });

  const addressCases: Array<[string, string]> = [
    ['no port', 'example.com'],
    ['a bare port number', '8443'],
    ['port 0', ':0'],
    ['a port above 65535', '0.0.0.0:65536'],
    ['an IPv6 address without brackets', '::1:8443'],
    ['a non-numeric port', 'localhost:https'],
  ];
  for (const [name, value] of addressCases) {
    test(`address with ${name}`, () => {
      const errors = errorsOf(yaml`
        certificate_file: server.pem
        certificate_key_file: server-key.pem
        admin_address: "${value}"
        routes: []
      `);
      const e = assertError(errors, { key: 'admin_address', line: 3, message: /^expected an address/ });
      assert.equal(e.message, `expected an address "host:port" or ":port", got ${JSON.stringify(value)}`);
    });
  }

  test('a number where an address is expected', () => {
    const errors = errorsOf(yaml`
      certificate_file: server.pem
      certificate_key_file: server-key.pem
      address: 443
      routes: []
    `);
    assertError(errors, {
      key: 'address',
      line: 3,
      message: /^expected an address "host:port" or ":port", got "443"$/,
    });
  });
});

describe('routes', () => {
  test('a config without routes', () => {
    const errors = errorsOf('certificate_file: server.pem\ncertificate_key_file: server-key.pem\n');
    assertError(errors, { key: '(document)', line: 1, message: /^no routes: add a "routes" list$/ });
  });

  test('an empty routes list is valid', () => {
    const r = run('certificate_file: server.pem\ncertificate_key_file: server-key.pem\nroutes: []\n', {
      files: files(),
    });
    assert.ok(r.ok);
  });
});
