// The provider's JWKS read into the canonical text Envoy's jwt_authn gets inline: only keys Envoy can verify with,
// never private or symmetric ones, the same bytes for the same keys whatever their order.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import { parseJwks } from '../../../control-plane/src/config/oidc-jwks.js';

const at = { file: 'config.yaml', line: 3, key: 'idp_provider_url' };
const JWKS_URI = 'https://idp.example.com/certs';

type Jwk = JsonWebKey & Record<string, unknown>;
let rsa: Jwk, rsaPrivate: Jwk, p256: Jwk, p384: Jwk, ed25519: Jwk;

before(() => {
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  rsa = pair.publicKey.export({ format: 'jwk' });
  rsaPrivate = pair.privateKey.export({ format: 'jwk' });
  p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' });
  p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ format: 'jwk' });
  ed25519 = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' });
});

const parse = (keys: unknown[]) => parseJwks(JSON.stringify({ keys }), JWKS_URI, at);

function ok(keys: unknown[]) {
  const result = parse(keys);
  assert.ok(result.ok, JSON.stringify(result));
  return result.value;
}

function errors(text: string): string[] {
  const result = parseJwks(text, JWKS_URI, at);
  assert.equal(result.ok, false, 'expected errors');
  if (result.ok) return [];
  for (const e of result.errors) assert.deepEqual([e.file, e.line, e.key], ['config.yaml', 3, 'idp_provider_url']);
  return result.errors.map((e) => e.message);
}

describe('keys Envoy can verify with', () => {
  test('an RSA key without alg verifies every RSA algorithm; with alg, only that one', () => {
    assert.deepEqual(ok([rsa]).algorithms, ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512']);
    assert.deepEqual(ok([{ ...rsa, alg: 'PS384', use: 'sig' }]).algorithms, ['PS384']);
  });

  test("an EC key's curve gives its algorithm; Ed25519 gives EdDSA; the algorithms come in one fixed order", () => {
    assert.deepEqual(ok([p384]).algorithms, ['ES384']);
    assert.deepEqual(ok([{ ...p256, alg: 'ES256' }]).algorithms, ['ES256']);
    assert.deepEqual(ok([ed25519, { ...p256, kid: 'b' }, { ...rsa, alg: 'RS256' }]).algorithms, [
      'RS256',
      'ES256',
      'EdDSA',
    ]);
  });

  test('keys are kept as served, members sorted, other top-level members dropped', () => {
    const key = { ...rsa, kid: 'k1', alg: 'RS256', use: 'sig', x5t: 'abc' };
    const result = parseJwks(JSON.stringify({ keys: [key], cache: 'long' }), JWKS_URI, at);
    assert.ok(result.ok);
    assert.deepEqual(JSON.parse(result.value.jwksJson), { keys: [key] });
    const members = Object.keys((JSON.parse(result.value.jwksJson) as { keys: object[] }).keys[0]!);
    assert.deepEqual(members, [...members].sort());
  });

  test('the same keys in another order, with members in another order, give byte-identical text', () => {
    const a = { ...rsa, kid: 'a', alg: 'RS256' };
    const b = { ...p256, kid: 'b' };
    const noKid = { ...ed25519 };
    const reversed = (o: object) => Object.fromEntries(Object.entries(o).reverse());
    const first = ok([a, b, noKid]).jwksJson;
    assert.equal(ok([reversed(noKid), reversed(b), reversed(a)]).jwksJson, first);
    assert.equal(ok([b, noKid, a]).jwksJson, first);
    // Keys without a kid sort first (by their text), then by kid.
    assert.deepEqual(
      (JSON.parse(first) as { keys: Array<{ kid?: string }> }).keys.map((k) => k.kid),
      [undefined, 'a', 'b'],
    );
  });

  test('two keys with the same kid are ordered by their text', () => {
    const one = { ...p256, kid: 'same' };
    const two = { ...p384, kid: 'same' };
    assert.equal(ok([one, two]).jwksJson, ok([two, one]).jwksJson);
  });
});

describe('keys left out', () => {
  test('encryption keys and keys Envoy cannot use are left out of the text; the rest serve', () => {
    const result = ok([
      { ...rsa, kid: 'enc', use: 'enc', alg: 'RSA-OAEP' },
      { ...rsa, kid: 'oaep', alg: 'RSA-OAEP' },
      { ...p256, kid: 'mismatch', alg: 'ES384' },
      { ...p256, kid: 'wrap', key_ops: ['wrapKey'] },
      { ...p256, kid: 'sig', key_ops: ['verify'] },
    ]);
    assert.deepEqual(
      (JSON.parse(result.jwksJson) as { keys: Array<{ kid: string }> }).keys.map((k) => k.kid),
      ['sig'],
    );
    assert.deepEqual(result.algorithms, ['ES256']);
  });

  test('a set with no usable key is an error that says why each key was left out', () => {
    const secp256k1 = { kty: 'EC', crv: 'secp256k1', x: 'AA', y: 'AA' };
    const [m] = errors(
      JSON.stringify({
        keys: [
          { ...rsa, kid: 'enc', use: 'enc' },
          { kty: 'RSA', e: 'AQAB' },
          secp256k1,
          { kty: 'OKP', crv: 'X25519', x: 'AA' },
          { kty: 'EC', crv: 'P-256', x: 'AA' },
          { ...rsa, alg: 7 },
          { ...rsa, alg: 'HS256' },
          'not a key',
          { kty: 'XYZ' },
        ],
      }),
    );
    assert.equal(
      m,
      `jwks_uri ${JWKS_URI} has no keys Envoy can verify ID tokens with (ignored key "enc": use "enc", not for ` +
        'signatures; key 2: an RSA key without n; key 3: EC curve "secp256k1" is not one Envoy knows; key 4: OKP ' +
        'curve "X25519" is not one Envoy verifies with; key 5: an EC key without y; key 6: alg is not a string; ' +
        'key 7: alg "HS256" is not one Envoy verifies with this key; key 8 is not a JSON object; key 9: key type ' +
        '"XYZ" is not one Envoy knows); the provider must publish the public key it signs ID tokens with (RS256, ' +
        'RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA)',
    );
  });

  test('an empty set is an error', () => {
    const [m] = errors('{"keys":[]}');
    assert.match(m!, /^jwks_uri \S+ has no keys Envoy can verify ID tokens with \(it lists no keys\)/);
  });
});

describe('refused sets', () => {
  test('a private key is an error naming its private members, even where the key would be left out', () => {
    for (const key of [rsaPrivate, { ...rsaPrivate, use: 'enc' }]) {
      const [m] = errors(
        JSON.stringify({
          keys: [
            { ...p256, kid: 'good' },
            { ...key, kid: 'leak' },
          ],
        }),
      );
      assert.match(
        m!,
        /^jwks_uri \S+ publishes private key material \("d", "p", "q", "dp", "dq", "qi"\) in key "leak"/,
      );
      assert.match(m!, /never puts secrets into Envoy config/);
      assert.doesNotMatch(m!, new RegExp(rsaPrivate.d!), 'the message never shows the secret');
    }
    const ecPrivate = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
    assert.match(errors(JSON.stringify({ keys: [ecPrivate] }))[0]!, /private key material \("d"\) in key 1:/);
  });

  test('a symmetric (oct) key is refused, with or without its secret', () => {
    for (const key of [
      { kty: 'oct', k: 'c2VjcmV0', kid: 'hmac' },
      { kty: 'oct', kid: 'hmac' },
    ]) {
      const [m] = errors(JSON.stringify({ keys: [key] }));
      assert.match(m!, /publishes a symmetric \(oct\) key, a shared secret in key "hmac"/);
      assert.match(m!, /sign ID tokens with an asymmetric algorithm/);
    }
  });

  test('text that is not a JSON Web Key Set is an error', () => {
    assert.match(errors('<html>')[0]!, new RegExp(`^jwks_uri ${JWKS_URI} is not JSON`));
    assert.deepEqual(errors('{"kty":"RSA"}'), [
      `jwks_uri ${JWKS_URI} is not a JSON Web Key Set: it has no "keys" list`,
    ]);
    assert.deepEqual(errors('{"keys":{}}'), [`jwks_uri ${JWKS_URI} is not a JSON Web Key Set: it has no "keys" list`]);
  });
});
