import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import {
  ASSERTION_HEADER,
  AuthorizationService,
  INVALID_CERTIFICATE_REASON,
  type AuthorizationServiceOptions,
  type AuthorizationTable,
  type CheckResponse,
} from '../../../control-plane/src/authz/index.js';
import { CLIENT_CERTIFICATE_STATE_HEADER, PEER_HEADERS } from '../../../control-plane/src/policy/index.js';
import {
  createCrl,
  createIntermediateCa,
  createRootCa,
  issueClientCertificate,
} from '../../../control-plane/src/pki/index.js';
import { selfSignedClient } from '../identity/chain-certs.js';
import {
  capturingLogger,
  checkRequest,
  client,
  createAuthzPki,
  criterion,
  is,
  newSigner,
  or,
  route,
  silentLogger,
  tableOf,
  type AuthzPki,
  type ClientCertificate,
} from './fixtures.js';

let pki: AuthzPki;
let forgedAlice: ClientCertificate;
before(async () => {
  pki = await createAuthzPki();
  forgedAlice = client(await selfSignedClient('alice', 'alice@example.com'));
});

const claimsHeaders: Array<[string, string]> = [['x-pomerium-claim-email', 'email']];
/** pass_identity_headers, and a policy that lets alice@example.com in. */
const identityRoute = (over = {}) =>
  route(
    'route-1',
    { allow: [or(criterion.email(is('alice@example.com')))], deny: [] },
    { passIdentityHeaders: true, claimsHeaders, ...over },
  );

const signer = await newSigner();
function service(table: AuthorizationTable, over: Partial<AuthorizationServiceOptions> = {}): AuthorizationService {
  return new AuthorizationService({ table: () => table, signer: () => signer, log: silentLogger(), ...over });
}

const jwt = (r: CheckResponse) => r.ok_response?.headers.find((h) => h.header.key === ASSERTION_HEADER)?.header.value;

function assertRefused(r: CheckResponse, reason: RegExp): void {
  assert.equal(r.status.code, 7);
  assert.equal(r.ok_response, undefined, 'no ok_response: no JWT, no claim headers');
  assert.ok(r.denied_response!.body.startsWith(`${INVALID_CERTIFICATE_REASON}: `), r.denied_response!.body);
  assert.match(r.denied_response!.body, reason);
}

test(
  'a forged self-signed certificate claiming alice@example.com ' + 'is denied with no JWT, and logged without its PEM',
  async () => {
    const { log, lines } = capturingLogger();
    const s = service(tableOf(identityRoute()), { log });
    assertRefused(
      await s.check(checkRequest({ route: 'route-1', cert: forgedAlice })),
      /not issued by a CA this route trusts/,
    );
    const warning = lines.find((l) => l['level'] === 40);
    assert.ok(warning, 'a warning');
    assert.equal(warning['route'], 'route-1');
    assert.equal(warning['fingerprint'], forgedAlice.fingerprint);
    assert.ok(!JSON.stringify(lines).includes('BEGIN CERTIFICATE'), 'no PEM in the log');
    // A second try is refused from the cache, and does not warn again.
    assertRefused(await s.check(checkRequest({ route: 'route-1', cert: forgedAlice })), /not issued/);
    assert.equal(lines.filter((l) => l['level'] === 40).length, 1);
  },
);

test('the genuine certificate is allowed with a JWT; the second check verifies from the cache', async () => {
  const s = service(tableOf(identityRoute()));
  const first = await s.check(checkRequest({ route: 'route-1', cert: pki.alice }));
  assert.equal(first.status.code, 0, first.denied_response?.body);
  assert.ok(jwt(first));
  assert.deepEqual(s.verificationStats(), { hits: 0, misses: 1, size: 1 });
  assert.ok(jwt(await s.check(checkRequest({ route: 'route-1', cert: pki.alice }))));
  assert.deepEqual(s.verificationStats(), { hits: 1, misses: 1, size: 1 });
});

test('a verdict is cached per trust: a narrowed trust under the same route name refuses at once', async () => {
  let table = tableOf(identityRoute());
  const s = service(table, { table: () => table });
  assert.ok(jwt(await s.check(checkRequest({ route: 'route-1', cert: pki.alice }))));
  const serial = new X509Certificate(pki.alice.pem).serialNumber.toLowerCase();
  table = tableOf(identityRoute({ clientTrust: { ...pki.trust, crlPem: await createCrl(pki.ca, [serial]) } }));
  assertRefused(await s.check(checkRequest({ route: 'route-1', cert: pki.alice })), /it is revoked/);
});

test('a cached verdict lasts only until the certificate expires', async () => {
  let now = Date.now();
  const s = service(tableOf(identityRoute()), { now: () => now });
  assert.ok(jwt(await s.check(checkRequest({ route: 'route-1', cert: pki.alice }))));
  now = Date.parse(new X509Certificate(pki.alice.pem).validTo) + 1000;
  assertRefused(await s.check(checkRequest({ route: 'route-1', cert: pki.alice })), /expired at/);
});

test('a route that trusts no CA takes no identity from a certificate (it was never verified)', async () => {
  const open = route(
    'route-1',
    { allow: [or(criterion.accept())], deny: [] },
    { passIdentityHeaders: true, claimsHeaders, clientCaRequired: false, clientTrust: undefined },
  );
  const s = service(tableOf(open));
  const r = await s.check(checkRequest({ route: 'route-1', cert: forgedAlice }));
  assert.equal(r.status.code, 0);
  assert.deepEqual(r.ok_response!.headers, []);
  assert.ok(r.ok_response!.headers_to_remove.includes(ASSERTION_HEADER));
  const user = route('route-2', { allow: [or(criterion.authenticated())], deny: [] }, { clientTrust: undefined });
  assert.equal(
    (await service(tableOf(user)).check(checkRequest({ route: 'route-2', cert: pki.alice }))).status.code,
    7,
  );
});

test('a certificate Envoy marked invalid is not verified again: no identity, the policy decides', async () => {
  const s = service(tableOf(route('route-1', { allow: [or(criterion.invalidCert())], deny: [] })));
  const r = await s.check(
    checkRequest({ route: 'route-1', cert: forgedAlice, headers: { [CLIENT_CERTIFICATE_STATE_HEADER]: 'invalid' } }),
  );
  assert.equal(r.status.code, 0);
  assert.equal(s.verificationStats().misses, 0);
});

test(
  'intermediates come in the peer-chain header; without ' + 'it, or with a forged one, the leaf does not chain',
  async () => {
    const intermediate = await createIntermediateCa(pki.ca, { commonName: 'Authz Intermediate' });
    const carol = client(
      (await issueClientCertificate(intermediate, { commonName: 'carol', email: 'alice@example.com' })).certPem,
    );
    const deep = identityRoute({ clientTrust: { ...pki.trust, maxVerifyDepth: 2 } });
    const s = service(tableOf(deep));
    assertRefused(
      await s.check(checkRequest({ route: 'route-1', cert: carol })),
      /not issued by a CA this route trusts/,
    );
    const chain = encodeURIComponent(carol.pem + intermediate.certPem);
    assert.ok(
      jwt(await s.check(checkRequest({ route: 'route-1', cert: carol, headers: { [PEER_HEADERS.chain]: chain } }))),
    );
    // A chain of the attacker's making: its own "intermediate" of the same name.
    const fake = await createIntermediateCa(await createRootCa({ commonName: 'Authz Test CA' }), {
      commonName: 'Authz Intermediate',
    });
    assertRefused(
      await s.check(
        checkRequest({
          route: 'route-1',
          cert: carol,
          headers: { [PEER_HEADERS.chain]: encodeURIComponent(fake.certPem) },
        }),
      ),
      /does not verify|not issued/,
    );
    assertRefused(
      await s.check(checkRequest({ route: 'route-1', cert: carol, headers: { [PEER_HEADERS.chain]: '%E0%A4%A' } })),
      /not issued/,
    );
  },
);
