// Environment variables override the YAML file, as in Pomerium (CLIENT_CA_FILE for client_ca_file).
// Here: file options, and errors that name the variable.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatError } from '../../../control-plane/src/config/index.js';
import {
  MemoryFiles,
  SERVER_CERT_LINES,
  assertError,
  base64,
  expectErrors,
  expectOk,
  run,
  standardFiles,
} from './fixture.js';
import { pems, loadTestPems, fingerprint, filesWithCwdCopies, ROUTES_YAML, ANY_USER_ROUTE } from './env-fixture.js';

before(loadTestPems);

describe('file options from the environment', () => {
  test('CLIENT_CA_FILE replaces client_ca_file; the YAML file is not read', () => {
    const f = filesWithCwdCopies();
    const config = expectOk(
      run(`${SERVER_CERT_LINES}client_ca_file: ca.pem\n${ANY_USER_ROUTE}`, {
        files: f,
        env: { CLIENT_CA_FILE: '/etc/edge/ca-b.pem' },
      }),
    );
    assert.deepEqual(config.clientCa!.fingerprints, [fingerprint(pems.caB)]);
    assert.equal(config.clientCa!.origin, 'client_ca_file (/etc/edge/ca-b.pem)');
    assert.ok(!f.reads.includes('/etc/edge/ca.pem'), f.reads.join(', '));
  });

  test('a relative path from the environment resolves against cwd, one from YAML against the config directory', () => {
    const f = filesWithCwdCopies();
    expectOk(run(`${SERVER_CERT_LINES}${ANY_USER_ROUTE}`, { files: f, env: { CLIENT_CA_FILE: 'certs/ca.pem' } }));
    assert.ok(f.reads.includes('/srv/run/certs/ca.pem'), f.reads.join(', '));

    const g = new MemoryFiles({ ...standardFiles(pems), '/etc/edge/certs/ca.pem': pems.ca });
    expectOk(run(`${SERVER_CERT_LINES}client_ca_file: certs/ca.pem\n${ANY_USER_ROUTE}`, { files: g }));
    assert.ok(g.reads.includes('/etc/edge/certs/ca.pem'), g.reads.join(', '));
  });

  test('CERTIFICATE_FILE and CERTIFICATE_KEY_FILE replace the YAML pair', () => {
    const f = filesWithCwdCopies();
    const config = expectOk(
      run(
        `certificate_file: missing.pem\ncertificate_key_file: ` +
          `missing-key.pem\n${ANY_USER_ROUTE}client_ca_file: ca.pem\n`,
        {
          files: f,
          env: { CERTIFICATE_FILE: 'certs/server.pem', CERTIFICATE_KEY_FILE: '/srv/run/certs/server-key.pem' },
        },
      ),
    );
    assert.deepEqual(f.reads.slice(0, 2), ['/srv/run/certs/server.pem', '/srv/run/certs/server-key.pem']);
    const at = config.certificates[0]!.at;
    assert.deepEqual(
      [at.file, at.line, at.key],
      ['environment variable CERTIFICATE_FILE', undefined, 'certificate_file'],
    );
  });

  test('one half from the environment, the other from YAML, each resolved against its own directory', () => {
    const f = filesWithCwdCopies();
    expectOk(
      run(`certificate_file: server.pem\ncertificate_key_file: wrong.pem\nclient_ca_file: ca.pem\n${ANY_USER_ROUTE}`, {
        files: f,
        env: { CERTIFICATE_KEY_FILE: 'certs/server-key.pem' },
      }),
    );
    assert.deepEqual(f.reads.slice(0, 2), ['/etc/edge/server.pem', '/srv/run/certs/server-key.pem']);
  });

  test('CLIENT_CA takes base64 and raw PEM', () => {
    for (const value of [base64(pems.ca), pems.ca]) {
      const config = expectOk(
        run(SERVER_CERT_LINES + ANY_USER_ROUTE, { files: filesWithCwdCopies(), env: { CLIENT_CA: value } }),
      );
      assert.deepEqual(config.clientCa!.fingerprints, [fingerprint(pems.ca)]);
      assert.equal(config.clientCa!.origin, 'client_ca');
    }
  });

  test('ADDRESS and the other addresses', () => {
    const config = expectOk(
      run(`${SERVER_CERT_LINES}address: ":443"\n${ANY_USER_ROUTE}client_ca_file: ca.pem\n`, {
        files: filesWithCwdCopies(),
        env: {
          ADDRESS: ':8443',
          ADMIN_ADDRESS: '127.0.0.1:1',
          XDS_ADDRESS: '[::1]:2',
          ENVOY_ADMIN_ADDRESS: 'localhost:3',
        },
      }),
    );
    assert.deepEqual(config.address, { host: '0.0.0.0', port: 8443 });
    assert.deepEqual(config.adminAddress, { host: '127.0.0.1', port: 1 });
    assert.deepEqual(config.xdsAddress, { host: '::1', port: 2 });
    assert.deepEqual(config.envoyAdminAddress, { host: '127.0.0.1', port: 3 });
  });

  test('an empty variable is ignored, and so is a lower-case name', () => {
    const f = filesWithCwdCopies();
    const config = expectOk(
      run(`${SERVER_CERT_LINES}client_ca_file: ca.pem\n${ANY_USER_ROUTE}`, {
        files: f,
        env: { CLIENT_CA_FILE: '', client_ca_file: '/etc/edge/ca-b.pem', ADDRESS: undefined },
      }),
    );
    assert.deepEqual(config.clientCa!.fingerprints, [fingerprint(pems.ca)]);
    assert.deepEqual(config.address, { host: '0.0.0.0', port: 443 });
  });

  test('a config from the environment alone', () => {
    const f = filesWithCwdCopies();
    const config = expectOk(
      run(undefined, {
        files: f,
        env: {
          CERTIFICATE_FILE: 'certs/server.pem',
          CERTIFICATE_KEY_FILE: 'certs/server-key.pem',
          CLIENT_CA_FILE: 'certs/ca.pem',
          ROUTES: base64(ROUTES_YAML),
        },
      }),
    );
    assert.equal(config.sourceFile, '(environment)');
    assert.deepEqual(
      config.routes.map((r) => r.from.host),
      ['env.example.com'],
    );
    assert.ok(
      f.reads.every((p) => p.startsWith('/srv/run/certs/')),
      f.reads.join(', '),
    );
  });

  test('nothing at all reports what is missing', () => {
    const errors = expectErrors(run(undefined, { env: {} }));
    assert.deepEqual(
      errors.map((e) => [e.file, e.key]),
      [
        ['(environment)', '(document)'],
        ['(environment)', '(document)'],
      ],
    );
  });
});

describe('errors from environment variables name the variable', () => {
  test('CLIENT_CA_FILE that does not exist', () => {
    const errors = expectErrors(
      run(SERVER_CERT_LINES + ANY_USER_ROUTE, { files: filesWithCwdCopies(), env: { CLIENT_CA_FILE: 'nope/ca.pem' } }),
    );
    const e = assertError(errors, {
      file: 'environment variable CLIENT_CA_FILE',
      key: 'client_ca_file',
      line: undefined,
      message: /^cannot read file "\/srv\/run\/nope\/ca\.pem": ENOENT$/,
    });
    assert.equal(
      formatError(e),
      'environment variable CLIENT_CA_FILE: client_ca_file: cannot read file "/srv/run/nope/ca.pem": ENOENT',
    );
    // The route's "needs a client CA" would only repeat the same problem.
    assert.equal(errors.length, 1);
  });

  test('CLIENT_CA_FILE that is not a CA', () => {
    const errors = expectErrors(
      run(SERVER_CERT_LINES + ANY_USER_ROUTE, {
        files: filesWithCwdCopies(),
        env: { CLIENT_CA_FILE: 'certs/client.pem' },
      }),
    );
    assertError(errors, {
      file: 'environment variable CLIENT_CA_FILE',
      key: 'client_ca_file',
      line: undefined,
      message: /^client_ca_file \(certs\/client\.pem\): certificate "CN=alice" is not a CA/,
    });
  });

  test('CERTIFICATE_KEY_FILE that does not match', () => {
    const errors = expectErrors(
      run(`${SERVER_CERT_LINES}client_ca_file: ca.pem\n${ANY_USER_ROUTE}`, {
        files: filesWithCwdCopies(),
        env: { CERTIFICATE_KEY_FILE: 'certs/other-key.pem' },
      }),
    );
    assertError(errors, {
      file: 'environment variable CERTIFICATE_KEY_FILE',
      key: 'certificate_key_file',
      line: undefined,
      message:
        /^certificate_key_file \(certs\/other-key\.pem\) does not match the certificate in certificate_file \(server\.pem\)/,
    });
  });

  test('a variable that conflicts with the file: both places are named', () => {
    const errors = expectErrors(
      run(`${SERVER_CERT_LINES}client_ca: ${base64(pems.ca)}\n${ANY_USER_ROUTE}`, {
        files: filesWithCwdCopies(),
        env: { CLIENT_CA_FILE: 'certs/ca.pem' },
      }),
    );
    assertError(errors, {
      file: 'environment variable CLIENT_CA_FILE',
      key: 'client_ca_file',
      line: undefined,
      message: /^set either client_ca or client_ca_file, not both \(client_ca is set at \/etc\/edge\/config\.yaml:3\)$/,
    });
  });

  test('a bad ADDRESS', () => {
    const errors = expectErrors(
      run(`${SERVER_CERT_LINES}client_ca_file: ca.pem\n${ANY_USER_ROUTE}`, {
        files: filesWithCwdCopies(),
        env: { ADDRESS: '443' },
      }),
    );
    assertError(errors, {
      file: 'environment variable ADDRESS',
      key: 'address',
      line: undefined,
      message: /^expected an address .* got "443"$/,
    });
  });
});
