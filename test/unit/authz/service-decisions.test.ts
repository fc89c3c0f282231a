// The ext_authz service: decisions, failing closed, the decision cache and identity headers.
// Here: decisions and failing closed.
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import {
  ASSERTION_HEADER,
  AuthorizationService,
  ERROR_REASON,
  UNKNOWN_ROUTE_REASON,
  type CheckResponse,
} from '../../../control-plane/src/authz/index.js';
import { type AssertionSigner } from '../../../control-plane/src/identity/index.js';
import { CLIENT_CERTIFICATE_STATE_HEADER } from '../../../control-plane/src/policy/index.js';
import {
  and,
  capturingLogger,
  checkRequest,
  criterion,
  is,
  newSigner,
  or,
  route,
  silentLogger,
  tableOf,
} from './fixtures.js';
import { pki, loadTestPki, harness, header, assertDenied, assertAllowed, aliceOnly } from './service-harness.js';

before(loadTestPki);

describe('decisions', () => {
  test('the policy allows alice and denies bob, with the reason as the body', async () => {
    const { service } = harness(tableOf(aliceOnly()));
    assertAllowed(await service.check(checkRequest({ route: 'route-1', cert: pki.alice })));
    assertDenied(
      await service.check(checkRequest({ route: 'route-1', cert: pki.bob })),
      'no allow rule matched (allow rule 1 needs: a certificate email this page accepts)',
    );
  });

  test('without a certificate there is no identity', async () => {
    const { service } = harness(tableOf(aliceOnly()));
    assertDenied(
      await service.check(checkRequest({ route: 'route-1' })),
      /^Your browser did not send a client certificate, .*\. No allow rule matched .*\. Install the client certificate/,
    );
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
      'denied by deny rule 1: a certificate email domain this page accepts',
    );
  });

  test('an unknown route is denied, asking to try again', async () => {
    const { service, outcomes } = harness(tableOf(aliceOnly()));
    assertDenied(await service.check(checkRequest({ route: 'route-9', cert: pki.alice })), UNKNOWN_ROUTE_REASON);
    assertDenied(await service.check(checkRequest({ cert: pki.alice })), UNKNOWN_ROUTE_REASON);
    assertDenied(await service.check({}), UNKNOWN_ROUTE_REASON);
    assert.deepEqual(outcomes, Array(3).fill({ allowed: false, cached: false }));
  });

  test(
    'the `invalid` marker header means no identity, and ' + 'invalid_client_certificate when the route trusts a CA',
    async () => {
      const r = route('route-1', { allow: [or(criterion.accept())], deny: [or(criterion.invalidCert())] });
      const open = route(
        'route-2',
        { allow: [or(criterion.authenticated())], deny: [or(criterion.invalidCert())] },
        { clientCaRequired: false },
      );
      const { service } = harness(tableOf(r, open));
      const invalid = { [CLIENT_CERTIFICATE_STATE_HEADER]: 'invalid' };
      assertAllowed(await service.check(checkRequest({ route: 'route-1', cert: pki.alice })));
      const rule = 'Denied by deny rule 1: a missing or invalid client certificate\\. Install';
      assertDenied(
        await service.check(checkRequest({ route: 'route-1', cert: pki.alice, headers: invalid })),
        new RegExp(`^The client certificate your browser sent is not valid for this page: .*\\. ${rule}`),
      );
      assertDenied(
        await service.check(checkRequest({ route: 'route-1' })),
        new RegExp(`^Your browser did not send a client certificate, .*\\. ${rule}`),
      );
      // A route without a client CA: no certificate is not an invalid one, but it is no identity either.
      assertDenied(
        await service.check(checkRequest({ route: 'route-2', cert: pki.alice, headers: invalid })),
        'no allow rule matched (allow rule 1 needs: a valid client certificate)',
      );
      assertAllowed(await service.check(checkRequest({ route: 'route-2', cert: pki.alice })));
    },
  );

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
    // A path is shown on the page (a person's values are not): a path rule can carry markup into it.
    const r = route('route-1', { allow: [or(criterion.path(is('/<script>alert(1)</script>')))], deny: [] });
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
    const real = await newSigner();
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
