import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { createLocalJWKSet, decodeJwt, jwtVerify } from 'jose';
import {
  ASSERTION_HEADER,
  AuthorizationService,
  ERROR_REASON,
  UNKNOWN_ROUTE_REASON,
  type AuthorizationServiceOptions,
  type AuthorizationTable,
  type CheckResponse,
  type DecisionOutcome,
} from '../../../control-plane/src/authz/index.js';
import { jwks, type AssertionSigner } from '../../../control-plane/src/identity/index.js';
import { CLIENT_CERTIFICATE_STATE_HEADER } from '../../../control-plane/src/policy/index.js';
import {
  and,
  capturingLogger,
  checkRequest,
  createAuthzPki,
  criterion,
  is,
  newSigner,
  newSigningKey,
  or,
  route,
  silentLogger,
  tableOf,
  type AuthzPki,
} from './fixtures.js';

let pki: AuthzPki;
before(async () => {
  pki = await createAuthzPki();
});

interface Harness {
  service: AuthorizationService;
  outcomes: DecisionOutcome[];
  setTable(table: AuthorizationTable): void;
}

function harness(table: AuthorizationTable, over: Partial<AuthorizationServiceOptions> = {}): Harness {
  let current = table;
  const outcomes: DecisionOutcome[] = [];
  const service = new AuthorizationService({
    table: () => current,
    signer: () => undefined,
    log: silentLogger(),
    onDecision: (o) => outcomes.push(o),
    ...over,
  });
  return { service, outcomes, setTable: (t) => (current = t) };
}

function header(response: CheckResponse, name: string): string | undefined {
  return response.ok_response?.headers.find((h) => h.header.key.toLowerCase() === name.toLowerCase())?.header.value;
}

function assertDenied(response: CheckResponse, reason: string | RegExp): void {
  assert.equal(response.status.code, 7);
  assert.equal(response.ok_response, undefined);
  const denied = response.denied_response;
  assert.ok(denied, 'a denied_response');
  assert.equal(denied.status.code, 'Forbidden');
  assert.deepEqual(denied.headers, [
    {
      header: { key: 'content-type', value: 'text/plain; charset=utf-8' },
      append_action: 'OVERWRITE_IF_EXISTS_OR_ADD',
    },
  ]);
  if (typeof reason === 'string') assert.equal(denied.body, reason);
  else assert.match(denied.body, reason);
}

function assertAllowed(response: CheckResponse): void {
  assert.equal(response.status.code, 0, response.denied_response?.body);
  assert.equal(response.denied_response, undefined);
  assert.ok(response.ok_response);
}

const aliceOnly = () => route('route-1', { allow: [or(criterion.email(is('alice@example.com')))], deny: [] });

describe('decisions', () => {
  test('the policy allows alice and denies bob, with the reason as the body', async () => {
    const { service } = harness(tableOf(aliceOnly()));
    assertAllowed(await service.check(checkRequest({ route: 'route-1', cert: pki.alice })));
    assertDenied(
      await service.check(checkRequest({ route: 'route-1', cert: pki.bob })),
      "no allow rule matched (allow rule 1 needs: email is 'alice@example.com')",
    );
  });

  test('without a certificate there is no identity', async () => {
    const { service } = harness(tableOf(aliceOnly()));
    assertDenied(await service.check(checkRequest({ route: 'route-1' })), /^no allow rule matched/);
  });

  test('deny wins', async () => {
    const r = route('route-1', {
      allow: [or(criterion.authenticated())],
      deny: [or(criterion.domain(is('example.org')))],
    });
    const { service } = harness(tableOf(r));
    assertAllowed(await service.check(checkRequest({ route: 'route-1', cert: pki.alice })));
    assertDenied(
      await service.check(checkRequest({ route: 'route-1', cert: pki.bob })),
      "denied by deny rule 1: domain is 'example.org'",
    );
  });

  test('an unknown route is denied, asking to try again', async () => {
    const { service, outcomes } = harness(tableOf(aliceOnly()));
    assertDenied(await service.check(checkRequest({ route: 'route-9', cert: pki.alice })), UNKNOWN_ROUTE_REASON);
    assertDenied(await service.check(checkRequest({ cert: pki.alice })), UNKNOWN_ROUTE_REASON);
    assertDenied(await service.check({}), UNKNOWN_ROUTE_REASON);
    assert.deepEqual(outcomes, Array(3).fill({ allowed: false, cached: false }));
  });

  test('the `invalid` marker header means no identity, and invalid_client_certificate when the route trusts a CA', async () => {
    const r = route('route-1', { allow: [or(criterion.accept())], deny: [or(criterion.invalidCert())] });
    const open = route(
      'route-2',
      { allow: [or(criterion.authenticated())], deny: [or(criterion.invalidCert())] },
      { clientCaRequired: false },
    );
    const { service } = harness(tableOf(r, open));
    const invalid = { [CLIENT_CERTIFICATE_STATE_HEADER]: 'invalid' };
    assertAllowed(await service.check(checkRequest({ route: 'route-1', cert: pki.alice })));
    assertDenied(
      await service.check(checkRequest({ route: 'route-1', cert: pki.alice, headers: invalid })),
      'denied by deny rule 1: a missing or invalid client certificate',
    );
    assertDenied(
      await service.check(checkRequest({ route: 'route-1' })),
      'denied by deny rule 1: a missing or invalid client certificate',
    );
    // A route without a client CA: no certificate is not an invalid one, but it is no identity either.
    assertDenied(
      await service.check(checkRequest({ route: 'route-2', cert: pki.alice, headers: invalid })),
      'no allow rule matched (allow rule 1 needs: a valid client certificate)',
    );
    assertAllowed(await service.check(checkRequest({ route: 'route-2', cert: pki.alice })));
  });

  test('the marker also counts when Envoy sends header_map instead of headers', async () => {
    const { service } = harness(tableOf(route('route-1', { allow: [or(criterion.authenticated())], deny: [] })));
    const request = checkRequest({ route: 'route-1', cert: pki.alice });
    const http = request.attributes!.request!.http!;
    delete http.headers;
    http.header_map = { headers: [{ key: CLIENT_CERTIFICATE_STATE_HEADER, raw_value: Buffer.from('invalid') }] };
    assertDenied(await service.check(request), /needs: a valid client certificate/);
  });

  test('the path is matched without its query string', async () => {
    const r = route('route-1', { allow: [and(criterion.path(is('/reports')), criterion.method(is('GET')))], deny: [] });
    const { service } = harness(tableOf(r));
    assertAllowed(await service.check(checkRequest({ route: 'route-1', path: '/reports?year=2024' })));
    assertDenied(
      await service.check(checkRequest({ route: 'route-1', path: '/reports/x?year=2024' })),
      /path is '\/reports'/,
    );
    assertDenied(
      await service.check(checkRequest({ route: 'route-1', path: '/reports', method: 'POST' })),
      /needs: method is 'GET'/,
    );
  });

  test('the body holds no markup characters and stays on one line', async () => {
    const r = route('route-1', { allow: [or(criterion.email(is('<script>alert(1)</script>')))], deny: [] });
    const { service } = harness(tableOf(r));
    const response = await service.check(checkRequest({ route: 'route-1', cert: pki.alice }));
    assertDenied(response, /‹script›alert\(1\)‹\/script›/);
    assert.doesNotMatch(response.denied_response!.body, /[<>\n]/);
  });
});

describe('failing closed', () => {
  test('a certificate that does not parse is an authorization error, logged', async () => {
    const { log, lines } = capturingLogger();
    const { service, outcomes } = harness(tableOf(aliceOnly()), { log });
    const request = checkRequest({ route: 'route-1' });
    request.attributes!.source!.certificate = encodeURIComponent(
      '-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n',
    );
    assertDenied(await service.check(request), ERROR_REASON);
    assert.ok(
      lines.some((l) => l['level'] === 50 && String(l['msg']).includes('ext_authz')),
      'an error is logged',
    );
    assert.deepEqual(outcomes, [{ allowed: false, cached: false }]);
  });

  test('a table that throws is an authorization error', async () => {
    const service = new AuthorizationService({
      table: () => {
        throw new Error('boom');
      },
      signer: () => undefined,
      log: silentLogger(),
    });
    assertDenied(await service.check(checkRequest({ route: 'route-1', cert: pki.alice })), ERROR_REASON);
  });

  test('a route passing identity headers is denied while there is no signing key', async () => {
    const r = route('route-1', { allow: [or(criterion.authenticated())], deny: [] }, { passIdentityHeaders: true });
    const { service, outcomes } = harness(tableOf(r));
    assertDenied(await service.check(checkRequest({ route: 'route-1', cert: pki.alice })), /no signing key/);
    assert.deepEqual(outcomes, [{ allowed: false, cached: false }]);
  });

  test('a signer that fails is an authorization error, and the next request signs again', async () => {
    const r = route('route-1', { allow: [or(criterion.authenticated())], deny: [] }, { passIdentityHeaders: true });
    const real = newSigner();
    let fail = true;
    const flaky = {
      sign: (...args: Parameters<AssertionSigner['sign']>) =>
        fail ? Promise.reject(new Error('hsm offline')) : real.sign(...args),
    } as unknown as AssertionSigner;
    const { service } = harness(tableOf(r), { signer: () => flaky });
    assertDenied(await service.check(checkRequest({ route: 'route-1', cert: pki.alice })), ERROR_REASON);
    fail = false;
    const response = await service.check(checkRequest({ route: 'route-1', cert: pki.alice }));
    assertAllowed(response);
    assert.ok(header(response, ASSERTION_HEADER));
  });

  test('the gRPC handler answers even when check itself rejects', async () => {
    const { service } = harness(tableOf(aliceOnly()));
    service.check = () => Promise.reject(new Error('unexpected'));
    const response = await new Promise<CheckResponse>((resolve, reject) => {
      const handler = service.implementation()['Check'] as (
        call: unknown,
        cb: (err: Error | null, value: CheckResponse) => void,
      ) => void;
      handler({ request: checkRequest({ route: 'route-1' }) }, (err, value) => (err ? reject(err) : resolve(value)));
    });
    assertDenied(response, ERROR_REASON);
  });
});

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
    assertDenied(await h.service.check(request()), /needs: email is 'bob@example.org'/);
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
    const key = newSigningKey();
    const signer = newSigner(key);
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
    const signer = newSigner();
    const { service } = harness(tableOf(passing()), { signer: () => signer });
    const response = await service.check(checkRequest({ route: 'route-1', cert: pki.device }));
    assertAllowed(response);
    assert.equal(header(response, 'X-Pomerium-Claim-Email'), undefined);
    assert.ok(header(response, ASSERTION_HEADER));
    assert.deepEqual(response.ok_response!.headers_to_remove, ['x-pomerium-claim-email', 'x-pomerium-claim-groups']);
  });

  test('the signed assertion is reused until a minute before it expires', async () => {
    const signer = newSigner();
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
    const signer = newSigner();
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
    let signer = newSigner();
    const h = harness(tableOf(passing()), { signer: () => signer });
    const jwtOf = async () =>
      header(await h.service.check(checkRequest({ route: 'route-1', cert: pki.alice })), ASSERTION_HEADER);
    const first = await jwtOf();
    signer = newSigner();
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
    const signer = newSigner();
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
    const signer = newSigner();
    const { service } = harness(tableOf(aliceOnly()), { signer: () => signer });
    const response = await service.check(checkRequest({ route: 'route-1', cert: pki.alice }));
    assertAllowed(response);
    assert.deepEqual(response.ok_response!.headers, []);
  });
});
