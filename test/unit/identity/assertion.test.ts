import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import {
  AssertionSigner,
  buildAssertionClaims,
  certificateIdentity,
  claimHeaderValue,
  jwks,
  signingKeyFromPem,
  type CertificateIdentity,
  type SigningKey,
} from '../../../control-plane/src/identity/index.js';
import { issueLeaf } from './certs.js';

function newKey(): Promise<SigningKey> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return signingKeyFromPem(privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const identity = certificateIdentity(
  (
    await issueLeaf({
      subject: 'alice',
      sans: [
        { type: 'email', value: 'alice@Example.com' },
        { type: 'dns', value: 'laptop.example.com' },
        { type: 'dns', value: 'laptop2.example.com' },
        { type: 'upn', value: 'alice@corp.example' },
      ],
    })
  ).certPem,
);

test('an assertion verifies against the JWKS and carries iss, aud, sub, email, iat, exp and jti', async () => {
  const key = await newKey();
  const signer = new AssertionSigner(key);
  const before = Math.floor(Date.now() / 1000);
  const { jwt, expiresAt } = await signer.sign(buildAssertionClaims(identity, 'x.mtls.test'));

  assert.deepEqual(decodeProtectedHeader(jwt), { alg: 'ES256', kid: key.kid, typ: 'JWT' });
  const { payload } = await jwtVerify(jwt, createLocalJWKSet(jwks([key])), {
    issuer: 'x.mtls.test',
    audience: 'x.mtls.test',
    algorithms: ['ES256'],
    typ: 'JWT',
  });
  assert.equal(payload.iss, 'x.mtls.test');
  assert.equal(payload.aud, 'x.mtls.test');
  assert.equal(payload.sub, 'alice@corp.example');
  assert.equal(payload.email, 'alice@Example.com');
  assert.equal(payload.user, 'alice@corp.example');
  assert.equal(payload.domain, 'example.com');
  assert.ok(typeof payload.iat === 'number' && payload.iat >= before && payload.iat <= Math.floor(Date.now() / 1000));
  assert.equal(payload.exp, payload.iat + 300);
  assert.equal(expiresAt, payload.exp);
  assert.equal(payload.nbf, undefined);
  assert.match(String(payload.jti), UUID);
  assert.deepEqual(payload.san_dns, ['laptop.example.com', 'laptop2.example.com']);
  assert.equal(payload.fingerprint, identity.fingerprint);
});

test('the lifetime is configurable, and each assertion has its own jti', async () => {
  const key = await newKey();
  const signer = new AssertionSigner(key);
  const claims = buildAssertionClaims(identity, 'x.mtls.test');
  const a = await signer.sign(claims, 60);
  const b = await signer.sign(claims, 60);
  const set = createLocalJWKSet(jwks([key]));
  const pa = (await jwtVerify(a.jwt, set)).payload;
  const pb = (await jwtVerify(b.jwt, set)).payload;
  assert.equal(pa.exp, (pa.iat ?? 0) + 60);
  assert.notEqual(pa.jti, pb.jti);
  await assert.rejects(signer.sign(claims, 0), /positive/);
  await assert.rejects(signer.sign(claims, 1.5), /positive/);
});

test('a token signed by another key does not verify, even under the trusted kid', async () => {
  const trusted = await newKey();
  const other = await newKey();
  const set = createLocalJWKSet(jwks([trusted]));
  const claims = buildAssertionClaims(identity, 'x.mtls.test');

  const foreign = await new AssertionSigner(other).sign(claims);
  await assert.rejects(jwtVerify(foreign.jwt, set), { code: 'ERR_JWKS_NO_MATCHING_KEY' });

  const forged = await new AssertionSigner({ ...other, kid: trusted.kid }).sign(claims);
  assert.equal(decodeProtectedHeader(forged.jwt).kid, trusted.kid);
  await assert.rejects(jwtVerify(forged.jwt, set), { code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' });
});

test('the JWKS lists every key given, public parts only, and a key rotation keeps old tokens valid', async () => {
  const old = await newKey();
  const current = await newKey();
  const doc = jwks([current, old]);
  assert.deepEqual(
    doc.keys.map((k) => k.kid),
    [current.kid, old.kid],
  );
  for (const k of doc.keys) {
    assert.deepEqual(Object.keys(k).sort(), ['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
  }
  assert.deepEqual(JSON.parse(JSON.stringify(doc)), doc);
  const set = createLocalJWKSet(doc);
  const claims = buildAssertionClaims(identity, 'x.mtls.test');
  await jwtVerify((await new AssertionSigner(old).sign(claims)).jwt, set);
  await jwtVerify((await new AssertionSigner(current).sign(claims)).jwt, set);
});

test('buildAssertionClaims: every certificate claim, empty SAN lists left out', () => {
  assert.deepEqual(buildAssertionClaims(identity, 'x.mtls.test'), {
    iss: 'x.mtls.test',
    aud: 'x.mtls.test',
    sub: 'alice@corp.example',
    email: 'alice@Example.com',
    user: 'alice@corp.example',
    domain: 'example.com',
    fingerprint: identity.fingerprint,
    spki_hash: identity.spkiHash,
    subject: 'CN=alice',
    issuer: 'CN=Identity Test CA',
    common_name: 'alice',
    san_dns: ['laptop.example.com', 'laptop2.example.com'],
    san_email: ['alice@Example.com'],
    san_user_principal_name: ['alice@corp.example'],
  });
});

test('buildAssertionClaims: iss is the host of a URL audience; sub falls back to the fingerprint', async () => {
  const url = buildAssertionClaims(identity, 'https://x.mtls.test:8443/');
  assert.equal(url.iss, 'x.mtls.test:8443');
  assert.equal(url.aud, 'https://x.mtls.test:8443/');

  const anonymous: CertificateIdentity = certificateIdentity(
    (await issueLeaf({ sans: [{ type: 'ip', value: '192.0.2.1' }] })).certPem,
  );
  const claims = buildAssertionClaims(anonymous, 'y.mtls.test');
  assert.equal(claims.sub, anonymous.fingerprint);
  for (const absent of [
    'email',
    'user',
    'domain',
    'common_name',
    'san_dns',
    'san_email',
    'san_uri',
    'san_user_principal_name',
  ]) {
    assert.equal(absent in claims, false, absent);
  }
  assert.deepEqual(claims.san_ip_address, ['192.0.2.1']);
  assert.equal(claims.subject, '');
});

test('claimHeaderValue: strings as they are, arrays joined with ",", absent or unsendable values undefined', () => {
  const claims = buildAssertionClaims(identity, 'x.mtls.test');
  assert.equal(claimHeaderValue(claims, 'email'), 'alice@Example.com');
  assert.equal(claimHeaderValue(claims, 'san_dns'), 'laptop.example.com,laptop2.example.com');
  assert.equal(claimHeaderValue(claims, 'san_uri'), undefined);
  assert.equal(claimHeaderValue(claims, 'groups'), undefined);
  assert.equal(claimHeaderValue(claims, 'toString'), undefined);
  assert.equal(claimHeaderValue({ ...claims, iat: 1700000000 }, 'iat'), '1700000000');
  assert.equal(claimHeaderValue({ ...claims, empty: [] }, 'empty'), undefined);
  assert.equal(claimHeaderValue({ ...claims, user: 'a\r\nX-Injected: 1' }, 'user'), undefined);
  assert.equal(claimHeaderValue({ ...claims, user: 'tab\tok' }, 'user'), 'tab\tok');
  // One SAN with a comma would read as two once joined: no header (the JWT has the list).
  assert.equal(claimHeaderValue({ ...claims, san_dns: ['evil.ex,victim.ex'] }, 'san_dns'), undefined);
  assert.equal(
    claimHeaderValue({ ...claims, common_name: 'a,b' }, 'common_name'),
    'a,b',
    'a single value is not a list',
  );
});
