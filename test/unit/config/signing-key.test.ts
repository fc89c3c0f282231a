// The signing_key option (and SIGNING_KEY): the EC P-256 key that signs identity assertions.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { assertError, base64, expectOk, run } from './fixture.js';
import { pems, loadTestPems, files, at, errorsOf, BASE } from './policy-fixture.js';

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
    assert.deepEqual(config.signingKey!.at, at(1, 'signing_key'));
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
    assert.deepEqual(config.signingKey!.at, { file: 'environment variable SIGNING_KEY', key: 'signing_key' });
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
});
