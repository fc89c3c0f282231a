// Environment variables override the YAML file, as in Pomerium (CLIENT_CA_FILE for client_ca_file).
// Here: ROUTES and CERTIFICATES as YAML, and boolean spellings.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Diagnostics } from '../../../control-plane/src/source/diagnostics.js';
import { readBool, type MapValue } from '../../../control-plane/src/source/fields.js';
import { CONFIG_FILE, SERVER_CERT_LINES, assertError, base64, expectErrors, expectOk, run, yaml } from './fixture.js';
import { pems, loadTestPems, fingerprint, filesWithCwdCopies, ROUTES_YAML } from './env-fixture.js';
import { plainLocations } from '../../support/plain-locations.js';

before(loadTestPems);

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
    assert.deepEqual(plainLocations(config.certificates[1]!.at), {
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
