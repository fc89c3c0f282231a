// What the service lets Envoy's identity cache keep (authz/check-wire.ts allowResponse, its dynamic_metadata):
// only an allow that holds for every request of a verified certificate on the route, and never past the certificate's
// chain (notAfter) or CRL (nextUpdate), the assertion's renewal or five minutes; as a duration, in seconds.
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { decodeJwt } from 'jose';
import { createCrl, issueClientCertificate } from '../../../control-plane/src/pki/index.js';
import type { CheckResponse } from '../../../control-plane/src/authz/index.js';
import {
  and,
  checkRequest,
  client,
  criterion,
  newSigner,
  or,
  route,
  tableOf,
  type ClientCertificate,
} from './fixtures.js';
import { assertAllowed, assertDenied, harness, loadTestPki, pki } from './service-harness.js';

before(loadTestPki);

// The service's clock, fixed for each run at the time it starts (the test PKI, made at that time, is valid then).
const NOW = Math.floor(Date.now() / 1000) * 1000; // whole seconds, as in certificates

function kept(response: CheckResponse): { ttl: number; headers: Record<string, string> } | undefined {
  const value = response.dynamic_metadata?.fields['mtls_edge_cache'];
  if (value === undefined) return undefined;
  assert.ok('struct_value' in value);
  const fields = value.struct_value.fields;
  const ttl = fields['ttl'];
  const headers = fields['headers'];
  assert.ok(ttl && 'number_value' in ttl && headers && 'struct_value' in headers);
  const out: Record<string, string> = {};
  for (const [name, v] of Object.entries(headers.struct_value.fields)) {
    assert.ok('string_value' in v);
    out[name] = v.string_value;
  }
  return { ttl: ttl.number_value, headers: out };
}

const anyone = () => route('route-1', { allow: [or(criterion.authenticated())], deny: [] });

describe("what Envoy's identity cache may keep", () => {
  test('an allow of a verified certificate: five minutes at most, no headers when the route passes none', async () => {
    const { service } = harness(tableOf(anyone()), { now: () => NOW });
    const response = await service.check(checkRequest({ route: 'route-1', cert: pki.alice }));
    assertAllowed(response);
    assert.deepEqual(kept(response), { ttl: 300, headers: {} });
  });

  test("never past the certificate's notAfter", async () => {
    const soon = await issueClientCertificate(pki.ca, {
      commonName: 'brief',
      notBefore: new Date(NOW - 3600_000),
      notAfter: new Date(NOW + 42_000),
    });
    const { service } = harness(tableOf(anyone()), { now: () => NOW });
    const response = await service.check(checkRequest({ route: 'route-1', cert: client(soon.certPem) }));
    assertAllowed(response);
    assert.equal(kept(response)?.ttl, 42);
  });

  test("never past the issuer's CRL's nextUpdate", async () => {
    const crlPem = await createCrl(pki.ca, [], {
      thisUpdate: new Date(NOW - 3600_000),
      nextUpdate: new Date(NOW + 30_000),
    });
    const { service } = harness(tableOf(route('route-1', anyone().policy, { clientTrust: { ...pki.trust, crlPem } })), {
      now: () => NOW,
    });
    const response = await service.check(checkRequest({ route: 'route-1', cert: pki.alice }));
    assertAllowed(response);
    assert.equal(kept(response)?.ttl, 30);
  });

  test('with identity headers: the headers as set, until a minute before the assertion expires', async () => {
    const signer = await newSigner();
    const table = tableOf(
      route('route-1', anyone().policy, { passIdentityHeaders: true, claimsHeaders: [['X-Claim-Email', 'email']] }),
    );
    // The signer stamps exp from the real clock: the service's clock must be the same here.
    const now = Date.now();
    const { service } = harness(table, { now: () => now, signer: () => signer });
    const response = await service.check(checkRequest({ route: 'route-1', cert: pki.alice }));
    assertAllowed(response);
    const entry = kept(response);
    assert.ok(entry);
    const jwt = response.ok_response!.headers[0]!.header.value;
    assert.deepEqual(entry.headers, { 'x-pomerium-jwt-assertion': jwt, 'x-claim-email': 'alice@example.com' });
    assert.equal(entry.ttl, Math.floor((decodeJwt(jwt).exp! * 1000 - 60_000 - now) / 1000));
  });

  test('nothing for a decision that reads the method or path, or for a request without a certificate', async () => {
    const byPath = route('route-2', {
      allow: [and(criterion.authenticated(), criterion.path({ op: 'starts_with', value: '/public' }))],
      deny: [],
    });
    const open = route('route-3', { allow: [or(criterion.accept())], deny: [] }, { clientCaRequired: false });
    const { service } = harness(tableOf(byPath, open), { now: () => NOW });
    const byPathAnswer = await service.check(checkRequest({ route: 'route-2', cert: pki.alice, path: '/public/a' }));
    assertAllowed(byPathAnswer);
    assert.equal(kept(byPathAnswer), undefined);
    const anonymous = await service.check(checkRequest({ route: 'route-3' }));
    assertAllowed(anonymous);
    assert.equal(kept(anonymous), undefined);
  });

  test('nothing for a deny, nor for an expired certificate', async () => {
    const expired: ClientCertificate = client(
      (
        await issueClientCertificate(pki.ca, {
          commonName: 'old',
          notBefore: new Date(NOW - 7200_000),
          notAfter: new Date(NOW - 3600_000),
        })
      ).certPem,
    );
    const { service } = harness(tableOf(anyone()), { now: () => NOW });
    const response = await service.check(checkRequest({ route: 'route-1', cert: expired }));
    assert.equal(response.dynamic_metadata, undefined);
    assertDenied(
      await service.check(checkRequest({ route: 'route-1' })),
      /needs: a valid client certificate|authenticated/,
    );
  });
});
