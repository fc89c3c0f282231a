// The ext_authz service on signed-in routes: decisions from the session Envoy validated and the client certificate
// together, the assertion of the signed-in user, and caches that never hand one user's answer to another.
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { ASSERTION_HEADER, DecisionCache, type CheckRequest } from '../../../control-plane/src/authz/index.js';
import { AssertionCache } from '../../../control-plane/src/authz/assertions.js';
import { sessionDigest } from '../../../control-plane/src/authz/decision-cache.js';
import { jwks, type AssertionSigner } from '../../../control-plane/src/identity/index.js';
import type { PolicyCriterion } from '../../../control-plane/src/config/index.js';
import {
  CHECK_CACHE_METADATA_KEY,
  SESSION_METADATA_NAMESPACE,
  SESSION_PAYLOAD_KEY,
} from '../../../control-plane/src/policy/index.js';
import {
  and,
  at,
  checkRequest,
  is,
  newSigner,
  newSigningKey,
  or,
  route,
  tableOf,
  type ClientCertificate,
  type RequestOptions,
} from './fixtures.js';
import { assertAllowed, assertDenied, harness, header, loadTestPki, pki } from './service-harness.js';

before(loadTestPki);

const ALICE = { sub: 'alice-id', email: 'alice@example.com', roles: ['admins', 'staff'], given_name: 'Alice' };
const BOB = { sub: 'bob-id', email: 'bob@other.example', roles: ['staff'] };
const SIGN_IN = { signIn: { groupsClaim: 'roles' } };

const sessionEmail = (value: string): PolicyCriterion => ({ kind: 'session_email', match: [is(value)], at });
const signedIn = (): PolicyCriterion => ({ kind: 'session_authenticated_user', at });
const spkiHash = (cert: ClientCertificate): PolicyCriterion => ({
  kind: 'client_certificate',
  conditions: [{ kind: 'spki_hash', values: [spkiOf(cert)] }],
  at,
});

function spkiOf(cert: ClientCertificate): string {
  const der = new X509Certificate(cert.pem).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('base64');
}

/** A JSON value as a google.protobuf.Value, as proto-loader decodes one. */
function wireValue(v: unknown): object {
  if (typeof v === 'string') return { string_value: v };
  if (typeof v === 'number') return { number_value: v };
  if (typeof v === 'boolean') return { bool_value: v };
  if (Array.isArray(v)) return { list_value: { values: v.map(wireValue) } };
  if (v !== null && typeof v === 'object') return { struct_value: wireStruct(v) };
  return { null_value: 'NULL_VALUE' };
}
function wireStruct(o: object): object {
  return { fields: Object.fromEntries(Object.entries(o).map(([k, v]) => [k, wireValue(v)])) };
}

/** A Check as Envoy sends it on a signed-in route: the jwt_authn metadata with the session's payload. */
function signedInRequest(session: object | undefined, o: RequestOptions): CheckRequest {
  const request = checkRequest(o);
  if (session === undefined) return request;
  const payload = { [SESSION_PAYLOAD_KEY]: wireValue(session) };
  const metadata = { filter_metadata: { [SESSION_METADATA_NAMESPACE]: { fields: payload } } };
  return { attributes: { ...request.attributes, metadata_context: metadata } };
}

describe('a signed-in route the service decides', () => {
  const mixed = () =>
    route('route-s', { allow: [and(sessionEmail('alice@example.com'), spkiHash(pki.alice))], deny: [] }, SIGN_IN);

  test('a policy mixing a sign-in criterion with a certificate one reads both', async () => {
    const { service } = harness(tableOf(mixed()));
    const check = (session: object | undefined, cert?: ClientCertificate) =>
      service.check(signedInRequest(session, { route: 'route-s', ...(cert ? { cert } : {}) }));
    assertAllowed(await check(ALICE, pki.alice));
    assertDenied(await check(ALICE, pki.bob), /needs/);
    assertDenied(await check(BOB, pki.alice), /needs/);
    assertDenied(await check(undefined, pki.alice), /needs/);
    assertDenied(await check(ALICE), /needs/);
  });

  test('decisions are cached per session and certificate, never across users', async () => {
    const { service } = harness(tableOf(mixed()));
    const check = (session: object) => service.check(signedInRequest(session, { route: 'route-s', cert: pki.alice }));
    assertAllowed(await check(ALICE));
    // Bob behind Alice's certificate: his own decision, not Alice's cached allow.
    assertDenied(await check(BOB), /needs/);
    assertAllowed(await check({ ...ALICE }));
    assert.deepEqual(service.stats(), { hits: 1, misses: 2, size: 2 });
    // A refreshed ID token is another session (another digest): decided again.
    assertAllowed(await check({ ...ALICE, iat: 2 }));
    assert.deepEqual(service.stats(), { hits: 1, misses: 3, size: 3 });
  });

  test('the cache keys name the session on signed-in routes only; key order does not matter', () => {
    const signed = mixed();
    const plain = route('route-p', { allow: [or(spkiHash(pki.alice))], deny: [] });
    const a = sessionDigest(ALICE);
    const b = sessionDigest(BOB);
    assert.equal(
      sessionDigest({ given_name: 'Alice', roles: ['admins', 'staff'], email: ALICE.email, sub: ALICE.sub }),
      a,
    );
    assert.notEqual(sessionDigest({ ...ALICE, roles: ['staff', 'admins'] }), a);
    const fp = pki.alice.fingerprint;
    assert.notEqual(DecisionCache.key(signed, fp, 'GET', '/', a), DecisionCache.key(signed, fp, 'GET', '/', b));
    assert.notEqual(DecisionCache.key(signed, fp, 'GET', '/', a), DecisionCache.key(signed, fp, 'GET', '/'));
    assert.equal(DecisionCache.key(plain, fp, 'GET', '/', a), DecisionCache.key(plain, fp, 'GET', '/', b));
    const subject = (digest: string) => ({ session: { payload: {}, digest } });
    assert.notEqual(AssertionCache.key(signed, subject(a)), AssertionCache.key(signed, subject(b)));
    assert.notEqual(
      AssertionCache.key(signed, { ...subject(a), identity: { fingerprint: fp } as never }),
      AssertionCache.key(signed, subject(a)),
    );
  });

  test('a route without sign-in reads no session, whatever Envoy sends', async () => {
    const plain = route('route-p', { allow: [or(sessionEmail('alice@example.com'))], deny: [] });
    const { service } = harness(tableOf(plain));
    assertDenied(await service.check(signedInRequest(ALICE, { route: 'route-p', cert: pki.alice })), /needs/);
  });
});

describe('identity headers on a signed-in route', () => {
  const claimsHeaders: Array<[string, string]> = [
    ['X-Pomerium-Claim-Email', 'email'],
    ['X-Pomerium-Claim-Groups', 'groups'],
    ['X-Pomerium-Claim-Given-Name', 'given_name'],
    ['X-Pomerium-Claim-Fingerprint', 'fingerprint'],
  ];
  const passing = (over = {}) =>
    route(
      'route-h',
      { allow: [or(signedIn())], deny: [] },
      { passIdentityHeaders: true, claimsHeaders, audience: 'app.mtls.test', ...SIGN_IN, ...over },
    );

  test("the assertion names the signed-in user and the certificate's fingerprint; each user has theirs", async () => {
    const key = await newSigningKey();
    const signer = await newSigner(key);
    let signed = 0;
    const counting = {
      sign: (...args: Parameters<AssertionSigner['sign']>) => (signed++, signer.sign(...args)),
    } as unknown as AssertionSigner;
    const { service } = harness(tableOf(passing()), { signer: () => counting });
    const check = (session: object) => service.check(signedInRequest(session, { route: 'route-h', cert: pki.alice }));
    const verify = async (jwt: string | undefined) => {
      assert.ok(jwt);
      const options = { issuer: 'app.mtls.test', audience: 'app.mtls.test', algorithms: ['ES256'] };
      return (await jwtVerify(jwt, createLocalJWKSet(jwks([key])), options)).payload;
    };

    const alice = await check(ALICE);
    assertAllowed(alice);
    const payload = await verify(header(alice, ASSERTION_HEADER));
    assert.equal(payload.sub, 'alice-id');
    assert.equal(payload['email'], 'alice@example.com');
    assert.deepEqual(payload['groups'], ['admins', 'staff']);
    assert.equal(payload['given_name'], 'Alice');
    assert.equal(payload['fingerprint'], pki.alice.fingerprint);
    assert.equal(header(alice, 'X-Pomerium-Claim-Email'), 'alice@example.com');
    assert.equal(header(alice, 'X-Pomerium-Claim-Groups'), 'admins,staff');
    assert.equal(header(alice, 'X-Pomerium-Claim-Given-Name'), 'Alice');
    assert.equal(header(alice, 'X-Pomerium-Claim-Fingerprint'), pki.alice.fingerprint);
    // Never a mark Envoy's identity cache could keep: it would key the allow by the certificate alone.
    assert.equal(alice.dynamic_metadata?.fields[CHECK_CACHE_METADATA_KEY], undefined);

    const bob = await check(BOB);
    assertAllowed(bob);
    assert.equal((await verify(header(bob, ASSERTION_HEADER))).sub, 'bob-id');
    assert.equal(header(bob, 'X-Pomerium-Claim-Groups'), 'staff');
    // Bob's token has no given_name: no header, and a client's own copy is removed.
    assert.equal(header(bob, 'X-Pomerium-Claim-Given-Name'), undefined);
    assert.deepEqual(bob.ok_response!.headers_to_remove, ['x-pomerium-claim-given-name']);
    assert.equal(signed, 2);
    // Alice again: her cached assertion.
    assert.equal(header(await check(ALICE), ASSERTION_HEADER), header(alice, ASSERTION_HEADER));
    assert.equal(signed, 2);
  });

  test('the same route without sign-in lets Envoy keep the allow (the control of the test above)', async () => {
    const signer = await newSigner();
    const plain = route(
      'route-h',
      { allow: [or(spkiHash(pki.alice))], deny: [] },
      { passIdentityHeaders: true, claimsHeaders, audience: 'app.mtls.test' },
    );
    const { service } = harness(tableOf(plain), { signer: () => signer });
    const response = await service.check(signedInRequest(ALICE, { route: 'route-h', cert: pki.alice }));
    assertAllowed(response);
    assert.ok(response.dynamic_metadata?.fields[CHECK_CACHE_METADATA_KEY]);
    // And the assertion is the certificate's: the session is not read there.
    assert.equal(header(response, 'X-Pomerium-Claim-Email'), 'alice@example.com');
    assert.equal(header(response, 'X-Pomerium-Claim-Groups'), undefined);
  });

  test('a route without a client CA: the identity provider alone names the user', async () => {
    const signer = await newSigner();
    const open = passing({ clientTrust: undefined, clientCaRequired: false });
    const { service } = harness(tableOf(open), { signer: () => signer });
    const response = await service.check(signedInRequest(ALICE, { route: 'route-h', cert: pki.alice }));
    assertAllowed(response);
    assert.equal(header(response, 'X-Pomerium-Claim-Email'), 'alice@example.com');
    // A certificate sent to a route that trusts no CA proves nothing.
    assert.equal(header(response, 'X-Pomerium-Claim-Fingerprint'), undefined);
  });

  test('a session that names no user gets no assertion: a deny that says why', async () => {
    const signer = await newSigner();
    const { service } = harness(tableOf(passing()), { signer: () => signer });
    const response = await service.check(signedInRequest({ email: 'x@example.com' }, { route: 'route-h' }));
    assertDenied(response, /the sign-in names no user/);
  });
});
