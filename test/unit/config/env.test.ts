// Environment variables override the YAML file, as in Pomerium (CLIENT_CA_FILE for client_ca_file).
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { formatError } from '../../../control-plane/src/config/index.js';
import { Diagnostics } from '../../../control-plane/src/source/diagnostics.js';
import { readBool, type MapValue } from '../../../control-plane/src/source/fields.js';
import {
  CONFIG_FILE,
  MemoryFiles,
  SERVER_CERT_LINES,
  assertError,
  base64,
  expectErrors,
  expectOk,
  loadPems,
  run,
  standardFiles,
  yaml,
  type Pems,
} from './fixture.js';

let pems: Pems;
const fingerprint = (pem: string) => createHash('sha256').update(new X509Certificate(pem).raw).digest('hex');

before(async () => {
  pems = await loadPems();
});

/** The standard files, plus copies under the cwd so a test can see which directory a path went to. */
function filesWithCwdCopies(): MemoryFiles {
  const std = standardFiles(pems);
  const copies = Object.fromEntries(
    Object.entries(std).map(([path, text]) => [path.replace('/etc/edge/', '/srv/run/certs/'), text]),
  );
  return new MemoryFiles({ ...std, ...copies });
}

const ROUTES_YAML = yaml`
  - from: https://env.example.com
    to: http://127.0.0.1:9000
    allow_public_unauthenticated_access: true
`;

const ANY_USER_ROUTE = yaml`
  routes:
    - from: https://a.example.com
      to: http://127.0.0.1:8080
      allow_any_authenticated_user: true
`;

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
        `certificate_file: missing.pem\ncertificate_key_file: missing-key.pem\n${ANY_USER_ROUTE}client_ca_file: ca.pem\n`,
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

describe('ROUTES and CERTIFICATES as YAML in a variable', () => {
  const base = `${SERVER_CERT_LINES}routes:\n  - from: https://file.example.com\n    to: http://127.0.0.1:1\n    allow_public_unauthenticated_access: true\n`;
  const hostsOf = (env: Record<string, string>) =>
    expectOk(run(base, { files: filesWithCwdCopies(), env })).routes.map((r) => r.from.host);

  test('base64 YAML replaces the routes of the file', () => {
    assert.deepEqual(hostsOf({ ROUTES: base64(ROUTES_YAML) }), ['env.example.com']);
  });

  test('plain YAML and JSON are taken as they are', () => {
    assert.deepEqual(hostsOf({ ROUTES: ROUTES_YAML }), ['env.example.com']);
    const json = JSON.stringify([
      { from: 'https://json.example.com', to: ['http://127.0.0.1:9'], allow_public_unauthenticated_access: true },
    ]);
    assert.deepEqual(hostsOf({ ROUTES: json }), ['json.example.com']);
    assert.deepEqual(hostsOf({ ROUTES: base64(json) }), ['json.example.com']);
  });

  test('base64 wrapped at 76 columns, as `base64` prints it', () => {
    const many = Array.from({ length: 4 }, (_, i) =>
      ROUTES_YAML.replace('env.example.com', `env${i}.example.com`),
    ).join('');
    const wrapped = base64(many).replace(/.{76}/g, '$&\n');
    assert.ok(wrapped.includes('\n'));
    assert.deepEqual(hostsOf({ ROUTES: wrapped }), [
      'env0.example.com',
      'env1.example.com',
      'env2.example.com',
      'env3.example.com',
    ]);
  });

  test('an empty ROUTES keeps the file routes', () => {
    assert.deepEqual(hostsOf({ ROUTES: '' }), ['file.example.com']);
  });

  test('errors inside ROUTES name the variable, the line within it and the key', () => {
    const text = yaml`
      - from: https://ok.example.com
        to: http://127.0.0.1:1
        allow_public_unauthenticated_access: true
      - from: http://bad.example.com
        to: http://127.0.0.1:1
        allow_public_unauthenticated_acces: true
    `;
    const errors = expectErrors(run(base, { files: filesWithCwdCopies(), env: { ROUTES: base64(text) } }));
    assertError(errors, {
      file: 'environment variable ROUTES',
      key: 'routes[1].from',
      line: 4,
      message: /must be an https URL/,
    });
    assertError(errors, {
      file: 'environment variable ROUTES',
      key: 'routes[1].allow_public_unauthenticated_acces',
      line: 6,
      message: /did you mean "allow_public_unauthenticated_access"/,
    });
  });

  test('a syntax error in ROUTES', () => {
    const errors = expectErrors(
      run(base, { files: filesWithCwdCopies(), env: { ROUTES: '- from: https://a.example.com\n  to: [\n' } }),
    );
    assert.equal(errors.length, 1);
    assertError(errors, { file: 'environment variable ROUTES', key: 'routes', line: 3, message: /^YAML syntax: / });
  });

  test('ROUTES that is not a list', () => {
    const errors = expectErrors(
      run(base, { files: filesWithCwdCopies(), env: { ROUTES: base64('from: https://a.example.com\n') } }),
    );
    assertError(errors, {
      file: 'environment variable ROUTES',
      key: 'routes',
      line: 1,
      message: /^expected a list, got a mapping$/,
    });
  });

  test('file paths inside ROUTES resolve against cwd, like every other variable', () => {
    const f = filesWithCwdCopies();
    const text = yaml`
      - from: https://env.example.com
        to: http://127.0.0.1:1
        tls_downstream_client_ca_file: certs/ca-b.pem
        allow_any_authenticated_user: true
    `;
    const config = expectOk(run(base, { files: f, env: { ROUTES: base64(text) } }));
    assert.ok(f.reads.includes('/srv/run/certs/ca-b.pem'), f.reads.join(', '));
    assert.deepEqual(config.routes[0]!.clientCa!.fingerprints, [fingerprint(pems.caB)]);
  });

  test('CERTIFICATES adds to certificate_file', () => {
    const list = `- cert: /etc/edge/server.pem\n  key: ${base64(pems.serverKey)}\n`;
    const config = expectOk(run(base, { files: filesWithCwdCopies(), env: { CERTIFICATES: base64(list) } }));
    assert.equal(config.certificates.length, 2);
    assert.deepEqual(config.certificates[1]!.at, {
      file: 'environment variable CERTIFICATES',
      line: 1,
      key: 'certificates[0].cert',
    });
  });

  test('booleans inside ROUTES are YAML booleans', () => {
    const text = '- from: https://a.example.com\n  to: http://x\n  allow_public_unauthenticated_access: "true"\n';
    const errors = expectErrors(run(base, { files: filesWithCwdCopies(), env: { ROUTES: text } }));
    assertError(errors, {
      file: 'environment variable ROUTES',
      key: 'routes[0].allow_public_unauthenticated_access',
      line: 3,
      message: /^expected true or false, got string "true"$/,
    });
  });
});

describe('boolean spellings of environment values', () => {
  // No boolean option is a scalar variable yet, so this exercises the reader the overlay feeds.
  const read = (value: string | boolean, fromEnv: boolean) => {
    const map: MapValue = {
      kind: 'map',
      entries: new Map([
        [
          'flag',
          {
            kind: 'scalar',
            value,
            at: { file: fromEnv ? 'environment variable FLAG' : CONFIG_FILE, key: 'flag' },
            fromEnv,
          },
        ],
      ]),
      at: { file: CONFIG_FILE, line: 1, key: '(document)' },
    };
    const diag = new Diagnostics();
    return { value: readBool(map, 'flag', diag)?.value, errors: diag.errors };
  };

  for (const s of ['1', 't', 'T', 'true', 'TRUE', 'True']) {
    test(`${JSON.stringify(s)} is true`, () => assert.deepEqual(read(s, true), { value: true, errors: [] }));
  }
  for (const s of ['0', 'f', 'F', 'false', 'FALSE', 'False']) {
    test(`${JSON.stringify(s)} is false`, () => assert.deepEqual(read(s, true), { value: false, errors: [] }));
  }
  for (const s of ['yes', 'no', 'on', '2', ' true']) {
    test(`${JSON.stringify(s)} is refused, naming the variable`, () => {
      const r = read(s, true);
      assert.equal(r.value, undefined);
      assert.equal(r.errors.length, 1);
      assert.equal(r.errors[0]!.file, 'environment variable FLAG');
      assert.match(r.errors[0]!.message, /^expected true or false/);
    });
  }

  test('the same spellings are not accepted from YAML, where booleans are typed', () => {
    assert.equal(read('true', false).value, undefined);
    assert.equal(read(true, false).value, true);
  });
});
