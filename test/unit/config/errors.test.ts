// Every kind of config error: each must name the file, the line and the dotted key the user has to edit.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatError } from '../../../control-plane/src/config/index.js';
import {
  CONFIG_FILE,
  MemoryFiles,
  assertError,
  expectErrors,
  loadPems,
  run,
  standardFiles,
  yaml,
  type Pems,
} from './fixture.js';

let pems: Pems;
let files: () => MemoryFiles;

before(async () => {
  pems = await loadPems();
  files = () => new MemoryFiles(standardFiles(pems));
});

const errorsOf = (text: string, extra: Record<string, string> = {}) =>
  expectErrors(run(text, { files: new MemoryFiles({ ...standardFiles(pems), ...extra }) }));

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

describe('files that cannot be read', () => {
  test('ENOENT names the resolved path, the key and the line', () => {
    const errors = errorsOf(yaml`
      certificate_file: server.pem
      certificate_key_file: server-key.pem
      client_ca_file: missing-ca.pem
      routes:
        - from: https://a.example.com
          to: http://127.0.0.1:8080
          tls_downstream_client_ca_file: /nowhere/route-ca.pem
          allow_any_authenticated_user: true
    `);
    assertError(errors, {
      key: 'client_ca_file',
      line: 3,
      message: /^cannot read file "\/etc\/edge\/missing-ca\.pem": ENOENT$/,
    });
    assertError(errors, {
      key: 'routes[0].tls_downstream_client_ca_file',
      line: 7,
      message: /^cannot read file "\/nowhere\/route-ca\.pem": ENOENT$/,
    });
  });

  test('a missing key file is reported at its own key', () => {
    const errors = errorsOf(yaml`
      certificate_file: server.pem
      certificate_key_file: keys/server-key.pem
      routes: []
    `);
    assertError(errors, {
      key: 'certificate_key_file',
      line: 2,
      message: /cannot read file "\/etc\/edge\/keys\/server-key\.pem": ENOENT/,
    });
    // The certificate alone is fine; no second, misleading "key is not set" error.
    assert.equal(errors.length, 1);
  });

  test('an error without a code shows its message', () => {
    const inner = files();
    const failing = {
      configDir: inner.configDir,
      cwd: inner.cwd,
      readFile: (path: string): string => {
        if (path.endsWith('/ca.pem')) throw new Error('permission denied');
        return inner.readFile(path);
      },
    };
    const errors = expectErrors(
      run(
        yaml`
        certificate_file: server.pem
        certificate_key_file: server-key.pem
        client_ca_file: ca.pem
        routes: []
      `,
        { files: failing },
      ),
    );
    assertError(errors, {
      key: 'client_ca_file',
      line: 3,
      message: /^cannot read file "\/etc\/edge\/ca\.pem": permission denied$/,
    });
  });
});

describe('PEM that does not parse', () => {
  test('a file with no certificate in it', () => {
    const errors = errorsOf(yaml`
      certificate_file: server.pem
      certificate_key_file: server-key.pem
      client_ca_file: garbage.pem
      routes: []
    `);
    assertError(errors, {
      key: 'client_ca_file',
      line: 3,
      message: /^client_ca_file \(garbage\.pem\): no PEM certificate found/,
    });
  });

  test('a certificate block whose body is corrupt', () => {
    const broken = '-----BEGIN CERTIFICATE-----\nMIIBkTCB+wIJAKHHIG\n-----END CERTIFICATE-----\n';
    const errors = errorsOf(
      yaml`
        certificate_file: server.pem
        certificate_key_file: server-key.pem
        routes:
          - from: https://a.example.com
            to: http://127.0.0.1:8080
            tls_downstream_client_ca_file: broken.pem
            allow_any_authenticated_user: true
      `,
      { '/etc/edge/broken.pem': broken },
    );
    assertError(errors, {
      key: 'routes[0].tls_downstream_client_ca_file',
      line: 6,
      message: /^tls_downstream_client_ca_file \(broken\.pem\): certificate 1 does not parse/,
    });
  });

  test('a leaf certificate given as a CA', () => {
    const errors = errorsOf(yaml`
      certificate_file: server.pem
      certificate_key_file: server-key.pem
      routes:
        - from: https://a.example.com
          to: http://127.0.0.1:8080
          allow_public_unauthenticated_access: true
        - from: https://b.example.com
          to: http://127.0.0.1:8080
          tls_downstream_client_ca_file: client.pem
          allow_any_authenticated_user: true
    `);
    assertError(errors, {
      key: 'routes[1].tls_downstream_client_ca_file',
      line: 9,
      message:
        /^tls_downstream_client_ca_file \(client\.pem\): certificate "CN=alice" is not a CA \(basicConstraints CA:TRUE is missing\)$/,
    });
  });

  test('garbage in place of a server certificate and of a key', () => {
    const certErrors = errorsOf(yaml`
      certificate_file: garbage.pem
      certificate_key_file: server-key.pem
      routes: []
    `);
    assertError(certErrors, {
      key: 'certificate_file',
      line: 1,
      message: /^certificate_file \(garbage\.pem\): no PEM certificate found/,
    });

    const keyErrors = errorsOf(yaml`
      certificate_file: server.pem
      certificate_key_file: garbage.pem
      routes: []
    `);
    assertError(keyErrors, {
      key: 'certificate_key_file',
      line: 2,
      message: /^certificate_key_file \(garbage\.pem\): no PEM private key found/,
    });
  });

  test('base64 that decodes to garbage', () => {
    const errors = errorsOf(yaml`
      certificate_file: server.pem
      certificate_key_file: server-key.pem
      client_ca: ${Buffer.from('not a certificate').toString('base64')}
      routes: []
    `);
    assertError(errors, { key: 'client_ca', line: 3, message: /^client_ca: no PEM certificate found/ });
  });
});

describe('server certificate and key', () => {
  test('a key that does not match its certificate', () => {
    const errors = errorsOf(yaml`
      certificate_file: server.pem
      certificate_key_file: other-key.pem
      routes: []
    `);
    assertError(errors, {
      key: 'certificate_key_file',
      line: 2,
      message:
        /^certificate_key_file \(other-key\.pem\) does not match the certificate in certificate_file \(server\.pem\) \(subject CN=a\.example\.com\)$/,
    });
  });

  test('a mismatched pair in the certificates list', () => {
    const errors = errorsOf(yaml`
      certificates:
        - cert: server.pem
          key: server-key.pem
        - cert: server.pem
          key: other-key.pem
      routes: []
    `);
    assertError(errors, {
      key: 'certificates[1].key',
      line: 5,
      message: /does not match the certificate in certificates\[1\]\.cert \(server\.pem\)/,
    });
  });

  test('a certificate without a key, and a key without a certificate', () => {
    const onlyCert = errorsOf('certificate_file: server.pem\nroutes: []\n');
    assertError(onlyCert, {
      key: 'certificate_file',
      line: 1,
      message: /is set but certificate_key \/ certificate_key_file is not/,
    });
    const onlyKey = errorsOf('routes: []\ncertificate_key_file: server-key.pem\n');
    assertError(onlyKey, {
      key: 'certificate_key_file',
      line: 2,
      message: /is set but certificate \/ certificate_file is not/,
    });
  });

  test('no server certificate at all', () => {
    const errors = errorsOf('routes: []\n');
    assertError(errors, { key: '(document)', line: 1, message: /^no server certificate/ });
  });
});

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
