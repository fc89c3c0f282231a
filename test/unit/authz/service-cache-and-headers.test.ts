// The ext_authz service: decisions, failing closed, the decision cache and identity headers.
// Here: the decision cache and identity headers.
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { createLocalJWKSet, decodeJwt, jwtVerify } from 'jose';
import { ASSERTION_HEADER } from '../../../control-plane/src/authz/index.js';
import { jwks, type AssertionSigner } from '../../../control-plane/src/identity/index.js';
import { CLIENT_CERTIFICATE_STATE_HEADER } from '../../../control-plane/src/policy/index.js';
import { and, checkRequest, criterion, is, newSigner, newSigningKey, or, route, tableOf } from './fixtures.js';
import { pki, loadTestPki, harness, header, assertDenied, assertAllowed, aliceOnly } from './service-harness.js';

before(loadTestPki);

describe('decision cache', () => {
  test('the second identical request is a hit; a new table empties the cache', async () => {
    const h = harness(tableOf(aliceOnly()));
    const request = () => checkRequest({ route: 'route-1', cert: pki.alice, path: '/a' });
    assertAllowed(await h.service.check(request()));
    assertAllowed(await h.service.check(request()));
    assert.deepEqual(h.service.stats(), { hits: 1, misses: 1, size: 1 });
    assert.deepEqual(h.outcomes, [
      { allowed: true, cached: false },
      { allowed: true, cached: true },
    ]);

    // The reload changes the policy: the cached allow must not survive it.
    h.setTable(tableOf(route('route-1', { allow: [or(criterion.email(is('bob@example.org')))], deny: [] })));
    assertDenied(await h.service.check(request()), /needs: a certificate email this page accepts/);
    assert.deepEqual(h.service.stats(), { hits: 1, misses: 2, size: 1 });
    assert.deepEqual(h.outcomes.at(-1), { allowed: false, cached: false });
  });

  test('method and path are part of the key only when the policy looks at them', async () => {
    const plain = route('route-1', { allow: [or(criterion.email(is('alice@example.com')))], deny: [] });
    const byPath = route('route-2', {
      allow: [and(criterion.authenticated(), criterion.path({ op: 'starts_with', value: '/public' }))],
      deny: [],
    });
    const { service } = harness(tableOf(plain, byPath));

    await service.check(checkRequest({ route: 'route-1', cert: pki.alice, path: '/a' }));
    await service.check(checkRequest({ route: 'route-1', cert: pki.alice, path: '/b', method: 'POST' }));
    assert.deepEqual(service.stats(), { hits: 1, misses: 1, size: 1 });

    assertAllowed(await service.check(checkRequest({ route: 'route-2', cert: pki.alice, path: '/public/x' })));
    assertDenied(
      await service.check(checkRequest({ route: 'route-2', cert: pki.alice, path: '/admin' })),
      /path starts with '\/public'/,
    );
    assert.deepEqual(service.stats(), { hits: 1, misses: 3, size: 3 });
    // The query string is not part of the path.
    assertAllowed(await service.check(checkRequest({ route: 'route-2', cert: pki.alice, path: '/public/x?page=2' })));
    assert.deepEqual(service.stats(), { hits: 2, misses: 3, size: 3 });
  });

  test('each certificate has its own entry, and no certificate has one too', async () => {
    const { service } = harness(tableOf(aliceOnly()));
    assertAllowed(await service.check(checkRequest({ route: 'route-1', cert: pki.alice })));
    assertDenied(await service.check(checkRequest({ route: 'route-1', cert: pki.bob })), /needs/);
    assertDenied(await service.check(checkRequest({ route: 'route-1' })), /needs/);
    assertDenied(
      await service.check(
        checkRequest({ route: 'route-1', cert: pki.alice, headers: { [CLIENT_CERTIFICATE_STATE_HEADER]: 'invalid' } }),
      ),
      /needs/,
    );
    assert.deepEqual(service.stats(), { hits: 1, misses: 3, size: 3 });
  });
});

describe('identity headers', () => {
  const claimsHeaders: Array<[string, string]> = [
    ['X-Pomerium-Claim-Email', 'email'],
    ['X-Pomerium-Claim-Fingerprint', 'fingerprint'],
    ['X-Pomerium-Claim-Groups', 'groups'],
  ];
  const passing = () =>
    route(
      'route-1',
      { allow: [or(criterion.authenticated())], deny: [] },
      { passIdentityHeaders: true, claimsHeaders, audience: 'app.mtls.test' },
    );

  test('the assertion verifies against the JWKS and names the certificate; claims go in their headers', async () => {
    const key = await newSigningKey();
    const signer = await newSigner(key);
    const { service } = harness(tableOf(passing()), { signer: () => signer });
    const response = await service.check(checkRequest({ route: 'route-1', cert: pki.alice }));
    assertAllowed(response);

    const jwt = header(response, ASSERTION_HEADER);
    assert.ok(jwt, 'an assertion');
    const { payload, protectedHeader } = await jwtVerify(jwt, createLocalJWKSet(jwks([key])), {
      issuer: 'app.mtls.test',
      audience: 'app.mtls.test',
      algorithms: ['ES256'],
    });
    assert.equal(protectedHeader.kid, key.kid);
    assert.equal(payload['email'], 'alice@example.com');
    assert.equal(payload['fingerprint'], pki.alice.fingerprint);
    assert.equal(payload.sub, 'alice');

    const ok = response.ok_response!;
    assert.ok(ok.headers.every((h) => h.append_action === 'OVERWRITE_IF_EXISTS_OR_ADD'));
    assert.equal(ok.headers[0]!.header.key, ASSERTION_HEADER);
    assert.equal(header(response, 'X-Pomerium-Claim-Email'), 'alice@example.com');
    assert.equal(header(response, 'X-Pomerium-Claim-Fingerprint'), pki.alice.fingerprint);
    // No such claim: no header, and a client's own copy is removed.
    assert.equal(header(response, 'X-Pomerium-Claim-Groups'), undefined);
    assert.deepEqual(ok.headers_to_remove, ['x-pomerium-claim-groups']);
  });

  test('a claim the certificate lacks is left out (a CN-only certificate has no email)', async () => {
    const signer = await newSigner();
    const { service } = harness(tableOf(passing()), { signer: () => signer });
    const response = await service.check(checkRequest({ route: 'route-1', cert: pki.device }));
    assertAllowed(response);
    assert.equal(header(response, 'X-Pomerium-Claim-Email'), undefined);
    assert.ok(header(response, ASSERTION_HEADER));
    assert.deepEqual(response.ok_response!.headers_to_remove, ['x-pomerium-claim-email', 'x-pomerium-claim-groups']);
  });

  test('the signed assertion is reused until a minute before it expires', async () => {
    const signer = await newSigner();
    let signed = 0;
    const counting = {
      sign: (...args: Parameters<AssertionSigner['sign']>) => (signed++, signer.sign(...args)),
    } as unknown as AssertionSigner;
    let now = Date.now();
    const { service } = harness(tableOf(passing()), { signer: () => counting, now: () => now });
    const jwtOf = async (cert = pki.alice) =>
      header(await service.check(checkRequest({ route: 'route-1', cert })), ASSERTION_HEADER);

    const first = await jwtOf();
    assert.equal(await jwtOf(), first);
    assert.equal(signed, 1);
    // Another certificate has its own assertion.
    assert.notEqual(await jwtOf(pki.bob), first);
    assert.equal(signed, 2);

    const exp = decodeJwt(first!).exp! * 1000;
    now = exp - 61_000;
    assert.equal(await jwtOf(), first);
    now = exp - 59_000;
    const renewed = await jwtOf();
    assert.notEqual(renewed, first);
    assert.equal(signed, 3);
  });

  test('concurrent requests share one signature', async () => {
    const signer = await newSigner();
    let signed = 0;
    const counting = {
      sign: (...args: Parameters<AssertionSigner['sign']>) => (signed++, signer.sign(...args)),
    } as unknown as AssertionSigner;
    const { service } = harness(tableOf(passing()), { signer: () => counting });
    const responses = await Promise.all(
      Array.from({ length: 5 }, () => service.check(checkRequest({ route: 'route-1', cert: pki.alice }))),
    );
    assert.equal(signed, 1);
    assert.equal(new Set(responses.map((r) => header(r, ASSERTION_HEADER))).size, 1);
  });

  test('a new signing key, or a new table, signs a new assertion', async () => {
    let signer = await newSigner();
    const h = harness(tableOf(passing()), { signer: () => signer });
    const jwtOf = async () =>
      header(await h.service.check(checkRequest({ route: 'route-1', cert: pki.alice })), ASSERTION_HEADER);
    const first = await jwtOf();
    signer = await newSigner();
    const second = await jwtOf();
    assert.notEqual(second, first);
    assert.equal(decodeJwt(second!).jti === decodeJwt(first!).jti, false);
    h.setTable(tableOf(passing()));
    assert.notEqual(await jwtOf(), second);
  });

  test('an allowed request without a certificate gets no assertion, and a forged one is removed', async () => {
    const open = route(
      'route-1',
      { allow: [or(criterion.accept())], deny: [] },
      { passIdentityHeaders: true, claimsHeaders, clientCaRequired: false },
    );
    const signer = await newSigner();
    const { service } = harness(tableOf(open), { signer: () => signer });
    const response = await service.check(checkRequest({ route: 'route-1', headers: { [ASSERTION_HEADER]: 'forged' } }));
    assertAllowed(response);
    assert.deepEqual(response.ok_response!.headers, []);
    assert.deepEqual(response.ok_response!.headers_to_remove, [
      ASSERTION_HEADER,
      'x-pomerium-claim-email',
      'x-pomerium-claim-fingerprint',
      'x-pomerium-claim-groups',
    ]);
  });

  test('a route that does not pass identity headers sends none', async () => {
    const signer = await newSigner();
    const { service } = harness(tableOf(aliceOnly()), { signer: () => signer });
    const response = await service.check(checkRequest({ route: 'route-1', cert: pki.alice }));
    assertAllowed(response);
    assert.deepEqual(response.ok_response!.headers, []);
  });
});
