// The signing_key option (and SIGNING_KEY): the EC P-256 key that signs identity assertions.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { assertError, base64, expectErrors, expectOk, run } from './fixture.js';
import { pems, loadTestPems, files, at, errorsOf, BASE } from './policy-fixture.js';
import { plainLocations } from '../../support/plain-locations.js';

before(loadTestPems);

describe('signing_key', () => {
  const p256 = () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const sec1 = (key: ReturnType<typeof p256>['privateKey']) => key.export({ type: 'sec1', format: 'pem' }).toString();
  const samePublicKey = (pem: string, key: ReturnType<typeof p256>['privateKey']) =>
    assert.deepEqual(
      createPublicKey(createPrivateKey(pem)).export({ format: 'jwk' }),
      createPublicKey(key).export({ format: 'jwk' }),
    );

  test('absent: undefined (the runner makes one)', () => {
    assert.equal(expectOk(run(BASE, { files: files() })).signingKey, undefined);
  });

  test("base64 of a PEM EC P-256 key (Pomerium's form), SEC1 or PKCS#8; kept as PKCS#8 PEM", () => {
    const { privateKey } = p256();
    const config = expectOk(run(`signing_key: ${base64(sec1(privateKey))}\n${BASE}`, { files: files() }));
    assert.match(config.signingKey!.pem, /^-----BEGIN PRIVATE KEY-----\n/);
    samePublicKey(config.signingKey!.pem, privateKey);
    assert.deepEqual(plainLocations(config.signingKey!.at), at(1, 'signing_key'));
    const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    samePublicKey(
      expectOk(run(`signing_key: ${base64(pkcs8)}\n${BASE}`, { files: files() })).signingKey!.pem,
      privateKey,
    );
  });

  test('the PEM itself is taken too', () => {
    const { privateKey } = p256();
    const block = sec1(privateKey)
      .trim()
      .split('\n')
      .map((l) => '  ' + l)
      .join('\n');
    samePublicKey(expectOk(run(`signing_key: |\n${block}\n${BASE}`, { files: files() })).signingKey!.pem, privateKey);
  });

  test('SIGNING_KEY from the environment', () => {
    const { privateKey } = p256();
    const config = expectOk(run(BASE, { files: files(), env: { SIGNING_KEY: base64(sec1(privateKey)) } }));
    samePublicKey(config.signingKey!.pem, privateKey);
    assert.deepEqual(plainLocations(config.signingKey!.at), {
      file: 'environment variable SIGNING_KEY',
      key: 'signing_key',
    });
  });

  test('other curves, RSA keys and garbage are refused, without printing the key', () => {
    const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' })
      .privateKey.export({ type: 'sec1', format: 'pem' })
      .toString();
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    const ed = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const cases: Array<[string, string, RegExp]> = [
      [
        base64(p384),
        p384,
        /^must be an EC P-256 \(prime256v1\) private key, as ES256 needs; got an EC key on curve secp384r1$/,
      ],
      [base64(rsa), rsa, /^must be an EC P-256 \(prime256v1\) private key, as ES256 needs; got an rsa key$/],
      [base64(ed), ed, /^must be an EC P-256 .*got a ed25519 key$/],
      [base64('hello'), 'hello', /^expected base64 of a PEM EC P-256 private key .*: no PEM private key found/],
      [base64(pems.serverCert), pems.serverCert, /^expected base64 of a PEM EC P-256 private key/],
    ];
    for (const [value, pem, message] of cases) {
      const errors = errorsOf(`signing_key: ${value}\n${BASE}`);
      const e = assertError(errors, { key: 'signing_key', line: 1, message });
      const body = pem.split('\n')[1] ?? pem;
      assert.ok(!e.message.includes(value) && !e.message.includes(body), e.message);
    }
    const broken = base64('-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n');
    assertError(errorsOf(`signing_key: ${broken}\n${BASE}`), {
      key: 'signing_key',
      line: 1,
      message: /: private key does not parse/,
    });
    assertError(errorsOf(`signing_key: [a]\n${BASE}`), {
      key: 'signing_key',
      line: 1,
      message: /^expected a string, got a list$/,
    });
    assertError(errorsOf(BASE, { SIGNING_KEY: base64(rsa) }), {
      file: 'environment variable SIGNING_KEY',
      key: 'signing_key',
      line: undefined,
      message: /got an rsa key/,
    });
  });

  test('several keys (rotation): the first signs, the others are published; each is checked, duplicates go', () => {
    const [a, b] = [p256().privateKey, p256().privateKey];
    const text = sec1(a) + sec1(b) + a.export({ type: 'pkcs8', format: 'pem' }).toString();
    const config = expectOk(run(`signing_key: ${base64(text)}\n${BASE}`, { files: files() }));
    samePublicKey(config.signingKey!.pem, a);
    assert.equal(config.signingKey!.others.length, 1, 'the same key twice is published once');
    samePublicKey(config.signingKey!.others[0]!, b);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    assertError(errorsOf(`signing_key: ${base64(sec1(a) + rsa)}\n${BASE}`), {
      key: 'signing_key',
      line: 1,
      message: /^key 2 of 2: must be an EC P-256 \(prime256v1\) private key, as ES256 needs; got an rsa key$/,
    });
  });

  test('signing_key_file (SIGNING_KEY_FILE): a PEM file, as a mounted Secret gives it; not both options', () => {
    const { privateKey } = p256();
    const withKey = files();
    withKey.contents.set('/etc/edge/signing-key.pem', sec1(privateKey));
    const config = expectOk(run(`signing_key_file: signing-key.pem\n${BASE}`, { files: withKey }));
    samePublicKey(config.signingKey!.pem, privateKey);
    assert.deepEqual(plainLocations(config.signingKey!.at), at(1, 'signing_key_file'));
    const fromEnv = expectOk(run(BASE, { files: withKey, env: { SIGNING_KEY_FILE: '/etc/edge/signing-key.pem' } }));
    samePublicKey(fromEnv.signingKey!.pem, privateKey);
    assertError(errorsOf(`signing_key_file: missing.pem\n${BASE}`), {
      key: 'signing_key_file',
      line: 1,
      message: /^cannot read file "\/etc\/edge\/missing.pem": ENOENT$/,
    });
    const both = `signing_key: ${base64(sec1(privateKey))}\nsigning_key_file: signing-key.pem\n${BASE}`;
    assertError(expectErrors(run(both, { files: withKey })), {
      key: 'signing_key_file',
      line: 2,
      message: /^set either signing_key or signing_key_file, not both/,
    });
  });
});
