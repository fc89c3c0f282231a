// The identity assertion of a signed-in route: the identity provider's user, and the certificate's own claims
// when a verified one came with the request.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { createLocalJWKSet, jwtVerify } from 'jose';
import {
  AssertionSigner,
  buildSessionAssertionClaims,
  certificateIdentity,
  claimHeaderValue,
  EDGE_SET_CLAIMS,
  jwks,
  signingKeyFromPem,
} from '../../../control-plane/src/identity/index.js';
import { issueLeaf } from './certs.js';

const identity = certificateIdentity(
  (
    await issueLeaf({
      subject: 'laptop-7',
      sans: [
        { type: 'email', value: 'device@corp.example' },
        { type: 'dns', value: 'laptop.example.com' },
      ],
    })
  ).certPem,
);

/** An ID token's payload as Envoy's jwt_authn filter validated it. */
const alice = {
  iss: 'https://idp.example',
  aud: 'mtls-edge',
  exp: 1_900_000_000,
  iat: 1_899_999_000,
  nbf: 1_899_999_000,
  jti: 'idp-token-1',
  sub: 'alice-id',
  email: 'alice@example.com',
  name: 'Alice Example',
  given_name: 'Alice',
  roles: ['admins', 'staff'],
  groups: ['not-the-groups-claim'],
  employee_number: 42,
  email_verified: true,
  address: { country: 'NZ' },
  fingerprint: 'from-the-idp',
  ids: [1, 'b'],
  odd: [{ a: 1 }],
};

test('sub, user, email, name and groups come from the ID token; iss and aud from the route', () => {
  const claims = buildSessionAssertionClaims(alice, 'app.mtls.test', { groupsClaim: 'roles', claims: [] });
  assert.deepEqual(claims, {
    iss: 'app.mtls.test',
    aud: 'app.mtls.test',
    sub: 'alice-id',
    user: 'alice-id',
    email: 'alice@example.com',
    name: 'Alice Example',
    groups: ['admins', 'staff'],
  });
});

test('an email the provider did not verify is not carried, not even when jwt_claims_headers names it', () => {
  for (const verified of [false, 'false', null, 'yes']) {
    const mallory = { ...alice, email: 'mallory@example.com', email_verified: verified };
    const claims = buildSessionAssertionClaims(mallory, 'app.mtls.test', { groupsClaim: 'roles', claims: ['email'] });
    assert.ok(claims);
    assert.equal(Object.hasOwn(claims, 'email'), false, JSON.stringify(verified));
    assert.equal(claims.sub, 'alice-id');
  }
  const { email_verified: _, ...unsaid } = alice;
  assert.equal(
    buildSessionAssertionClaims(unsaid, 'app.mtls.test', { groupsClaim: 'g', claims: [] })?.email,
    alice.email,
  );
});

test('the claims jwt_claims_headers names are carried, but never the registered claims the edge sets', () => {
  const names = [...EDGE_SET_CLAIMS, 'given_name', 'employee_number', 'email_verified', 'ids', 'address', 'odd'];
  const claims = buildSessionAssertionClaims(alice, 'https://app.mtls.test:8443/', {
    groupsClaim: 'groups',
    claims: [...names, 'absent', 'fingerprint', 'groups', 'sub', 'constructor'],
  });
  assert.ok(claims);
  assert.equal(claims.iss, 'app.mtls.test:8443');
  assert.equal(claims.aud, 'https://app.mtls.test:8443/');
  for (const registered of ['exp', 'iat', 'nbf', 'jti']) assert.equal(Object.hasOwn(claims, registered), false);
  assert.equal(claims['given_name'], 'Alice');
  assert.equal(claims['employee_number'], 42);
  assert.equal(claims['email_verified'], true);
  assert.deepEqual(claims['ids'], ['1', 'b']);
  // Objects, lists of objects, absent claims and the prototype's names: not claims an assertion can carry.
  for (const name of ['address', 'odd', 'absent', 'constructor']) assert.equal(Object.hasOwn(claims, name), false);
  // The certificate's claims are the certificate's: none came with this request, so none is in the assertion.
  assert.equal(Object.hasOwn(claims, 'fingerprint'), false);
  // The groups claim named `groups` here; the token's sub stays the sub.
  assert.deepEqual(claims['groups'], ['not-the-groups-claim']);
  assert.equal(claims.sub, 'alice-id');
});

test('with a verified certificate: its fingerprint and SANs, but the user is the signed-in one', () => {
  const claims = buildSessionAssertionClaims(alice, 'app.mtls.test', { groupsClaim: 'roles', claims: [] }, identity);
  assert.ok(claims);
  assert.equal(claims.sub, 'alice-id');
  assert.equal(claims.email, 'alice@example.com');
  assert.equal(claims.user, 'alice-id');
  assert.equal(Object.hasOwn(claims, 'domain'), false);
  assert.equal(claims['fingerprint'], identity.fingerprint);
  assert.equal(claims['spki_hash'], identity.spkiHash);
  assert.equal(claims['common_name'], 'laptop-7');
  assert.deepEqual(claims['san_email'], ['device@corp.example']);
  assert.deepEqual(claims['san_dns'], ['laptop.example.com']);
});

test('one group as text is a list of one; no groups claim, no groups; no sub, no assertion', () => {
  const one = buildSessionAssertionClaims({ sub: 'u', team: 'ops' }, 'a.test', { groupsClaim: 'team', claims: [] });
  assert.deepEqual(one?.['groups'], ['ops']);
  const none = buildSessionAssertionClaims({ sub: 'u' }, 'a.test', { groupsClaim: 'groups', claims: ['groups'] });
  assert.equal(Object.hasOwn(none!, 'groups'), false);
  assert.equal(Object.hasOwn(none!, 'email'), false);
  assert.equal(buildSessionAssertionClaims({ email: 'x@y.z' }, 'a.test', { groupsClaim: 'g', claims: [] }), undefined);
  assert.equal(buildSessionAssertionClaims({ sub: 7 }, 'a.test', { groupsClaim: 'g', claims: [] }), undefined);
});

test('a claim named __proto__ is a claim, not the prototype of the claims', () => {
  const entries: Array<[string, unknown]> = [
    ['sub', 'u'],
    ['__proto__', ['a', 'b']],
  ];
  const session = Object.fromEntries(entries);
  const claims = buildSessionAssertionClaims(session, 'a.test', { groupsClaim: 'g', claims: ['__proto__'] });
  assert.ok(claims);
  assert.equal(Object.getPrototypeOf(claims), Object.prototype);
  assert.deepEqual(Object.getOwnPropertyDescriptor(claims, '__proto__')?.value, ['a', 'b']);
});

test('claim headers: lists joined with ",", numbers and true/false as text; the signed JWT carries them', async () => {
  const claims = buildSessionAssertionClaims(alice, 'app.mtls.test', {
    groupsClaim: 'roles',
    claims: ['employee_number', 'email_verified'],
  });
  assert.ok(claims);
  assert.equal(claimHeaderValue(claims, 'groups'), 'admins,staff');
  assert.equal(claimHeaderValue(claims, 'employee_number'), '42');
  assert.equal(claimHeaderValue(claims, 'email_verified'), 'true');
  assert.equal(claimHeaderValue(claims, 'given_name'), undefined);

  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const key = await signingKeyFromPem(privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
  const { jwt } = await new AssertionSigner(key).sign(claims);
  const { payload } = await jwtVerify(jwt, createLocalJWKSet(jwks([key])), {
    issuer: 'app.mtls.test',
    audience: 'app.mtls.test',
  });
  assert.equal(payload.sub, 'alice-id');
  assert.deepEqual(payload['groups'], ['admins', 'staff']);
  assert.equal(payload['email_verified'], true);
  // The edge's own iat and exp, not the provider's.
  assert.notEqual(payload.exp, alice.exp);
  assert.notEqual(payload.jti, alice.jti);
});
