// Every kind of config error: each must name the file, the line and the dotted key the user has to edit.
// Here: files that cannot be read, PEM that does not parse, the server certificate and key.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertError, expectErrors, run, yaml } from './fixture.js';
import { files, loadTestPems, errorsOf } from './errors-fixture.js';

before(loadTestPems);

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

  test('a leaf certificate given as a CA on two routes: each route reports it (parsed bundles are shared)', () => {
    const config = yaml`
      certificate_file: server.pem
      certificate_key_file: server-key.pem
      routes:
        - from: https://a.example.com
          to: http://127.0.0.1:8080
          tls_downstream_client_ca_file: client.pem
          allow_any_authenticated_user: true
        - from: https://b.example.com
          to: http://127.0.0.1:8080
          tls_downstream_client_ca_file: client.pem
          allow_any_authenticated_user: true
    `;
    // Twice: a second load must not take the first one's bundle for a good one either.
    for (let load = 0; load < 2; load++) {
      const errors = errorsOf(config);
      for (const [route, line] of [
        [0, 6],
        [1, 10],
      ] as const) {
        assertError(errors, {
          key: `routes[${route}].tls_downstream_client_ca_file`,
          line,
          message: /is not a CA/,
        });
      }
    }
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
