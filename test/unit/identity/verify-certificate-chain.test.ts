// verifyClientCertificate: the chain checks the ext_authz service repeats after Envoy.
// Here: issuers, validity, chains and depth, CA flags and key usage.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { createIntermediateCa, createRootCa, issueClientCertificate } from '../../../control-plane/src/pki/index.js';
import { verifyClientCertificate } from '../../../control-plane/src/identity/verify-certificate.js';
import { nonCaIssuer, selfSignedClient } from './chain-certs.js';
import { DAY_MS, root, other, intermediate, alice, carol, trust, refused } from './verify-certificate-fixture.js';

test('a leaf issued directly by the CA verifies, until its own notAfter', () => {
  const result = verifyClientCertificate(alice.certPem, [], trust(), Date.now());
  assert.equal(result.ok, true);
  // Until the first notAfter on the path (the CA was made first, so it expires first).
  const notAfter = (pem: string) => Date.parse(new X509Certificate(pem).validTo);
  assert.equal(result.validUntilMs, Math.min(notAfter(alice.certPem), notAfter(root.certPem)));
});

test(
  'a self-signed certificate claiming alice@example.com ' + 'is refused, also when it names the CA as its issuer',
  async () => {
    const forged = await selfSignedClient('alice', 'alice@example.com');
    refused(verifyClientCertificate(forged, [], trust(), Date.now()), /not issued by a CA this route trusts/);
    const namingTheCa = await selfSignedClient('alice', 'alice@example.com', 'Verify Root CA');
    refused(verifyClientCertificate(namingTheCa, [], trust(), Date.now()), /signature on it does not verify/);
    // Sending the real CA along as "chain" changes nothing: the forger's signature is still the forger's.
    refused(
      verifyClientCertificate(namingTheCa, [root.certPem], trust(), Date.now()),
      /signature on it does not verify/,
    );
  },
);

test('a CA of the same name but another key issues nothing this route accepts', async () => {
  const lookAlike = await createRootCa({ commonName: 'Verify Root CA' });
  const mallory = await issueClientCertificate(lookAlike, { commonName: 'alice', email: 'alice@example.com' });
  // Its authority key identifier already tells it apart (OpenSSL's check_issued), whatever the name says.
  refused(verifyClientCertificate(mallory.certPem, [], trust(), Date.now()), /not issued by a CA this route trusts/);
  // Sent along, the look-alike is an intermediate that names the real CA but is not signed by it.
  refused(
    verifyClientCertificate(mallory.certPem, [lookAlike.certPem], trust({ maxVerifyDepth: 2 }), Date.now()),
    /intermediate CN=Verify Root CA does not verify with the key/,
  );
});

test('a certificate from another CA is refused', async () => {
  const bob = await issueClientCertificate(other, { commonName: 'bob', email: 'bob@example.com' });
  refused(
    verifyClientCertificate(bob.certPem, [], trust(), Date.now()),
    /not issued by a CA this route trusts \(issuer: CN=Verify Other CA\)/,
  );
  assert.equal(
    verifyClientCertificate(bob.certPem, [], trust({ caPem: root.certPem + other.certPem }), Date.now()).ok,
    true,
  );
});

test('an expired leaf, a leaf not yet valid, and an expired intermediate are refused', async () => {
  const now = Date.now();
  const expired = await issueClientCertificate(root, {
    commonName: 'eve',
    notBefore: new Date(now - 10 * DAY_MS),
    notAfter: new Date(now - DAY_MS),
  });
  refused(verifyClientCertificate(expired.certPem, [], trust(), now), /it expired at/);
  const notBefore = new Date(Math.ceil((now + DAY_MS) / 1000) * 1000);
  const early = await issueClientCertificate(root, {
    commonName: 'eve',
    notBefore,
    notAfter: new Date(now + 10 * DAY_MS),
  });
  const result = verifyClientCertificate(early.certPem, [], trust(), now);
  refused(result, /it is not valid before/);
  // The refusal holds until the certificate becomes valid, not for ever.
  assert.equal(result.validUntilMs, notBefore.getTime());
  assert.equal(verifyClientCertificate(early.certPem, [], trust(), notBefore.getTime() + 1000).ok, true);
  const old = await createIntermediateCa(root, {
    commonName: 'Old Intermediate',
    notBefore: new Date(now - 10 * DAY_MS),
    notAfter: new Date(now - DAY_MS),
  });
  const dave = await issueClientCertificate(old, { commonName: 'dave', notBefore: new Date(now - 5 * DAY_MS) });
  refused(
    verifyClientCertificate(dave.certPem, [old.certPem], trust({ maxVerifyDepth: 2 }), now),
    /the intermediate CN=Old Intermediate expired/,
  );
});

test('a leaf via an intermediate verifies with the chain and depth 2; not without the chain, nor at depth 1', () => {
  assert.equal(
    verifyClientCertificate(carol.certPem, [intermediate.certPem], trust({ maxVerifyDepth: 2 }), Date.now()).ok,
    true,
  );
  // Envoy's peer chain starts with the leaf itself: that must not count as an intermediate.
  assert.equal(
    verifyClientCertificate(
      carol.certPem,
      [carol.certPem, intermediate.certPem],
      trust({ maxVerifyDepth: 2 }),
      Date.now(),
    ).ok,
    true,
  );
  assert.equal(
    verifyClientCertificate(carol.certPem, [intermediate.certPem], trust({ maxVerifyDepth: 0 }), Date.now()).ok,
    true,
  );
  refused(
    verifyClientCertificate(carol.certPem, [], trust({ maxVerifyDepth: 2 }), Date.now()),
    /not issued by a CA this route trusts/,
  );
  refused(
    verifyClientCertificate(carol.certPem, [intermediate.certPem], trust({ maxVerifyDepth: 1 }), Date.now()),
    /issued directly by one of its CAs/,
  );
});

test('depth counts every certificate above the leaf, the anchor included (Envoy max_verify_depth)', async () => {
  const second = await createIntermediateCa(intermediate, { commonName: 'Verify Second Intermediate' });
  const dan = await issueClientCertificate(second, { commonName: 'dan' });
  const chain = [second.certPem, intermediate.certPem];
  refused(
    verifyClientCertificate(dan.certPem, chain, trust({ maxVerifyDepth: 2 }), Date.now()),
    /3 certificates above it, and this route allows 2/,
  );
  assert.equal(verifyClientCertificate(dan.certPem, chain, trust({ maxVerifyDepth: 3 }), Date.now()).ok, true);
  // An intermediate in the bundle is an anchor itself (partial chains): the path is shorter.
  assert.equal(
    verifyClientCertificate(
      dan.certPem,
      [second.certPem],
      trust({ caPem: intermediate.certPem, maxVerifyDepth: 2 }),
      Date.now(),
    ).ok,
    true,
  );
});

test('pathLenConstraint of an intermediate is enforced', async () => {
  const limited = await createIntermediateCa(root, { commonName: 'Limited Intermediate', pathLength: 0 });
  const below = await createIntermediateCa(limited, { commonName: 'Below Limited' });
  const erin = await issueClientCertificate(below, { commonName: 'erin' });
  refused(
    verifyClientCertificate(erin.certPem, [below.certPem, limited.certPem], trust({ maxVerifyDepth: 5 }), Date.now()),
    /allows 0 intermediates below it/,
  );
});

test('an issuer without the basicConstraints cA flag issues nothing valid', async () => {
  const fake = await nonCaIssuer(root, 'Not A CA');
  const frank = await issueClientCertificate(fake, { commonName: 'frank', email: 'alice@example.com' });
  refused(
    verifyClientCertificate(frank.certPem, [fake.certPem], trust({ maxVerifyDepth: 2 }), Date.now()),
    /the intermediate CN=Not A CA is not a CA/,
  );
});

test('extended key usage: serverAuth only is refused, none at all is accepted', async () => {
  const server = await issueClientCertificate(root, { commonName: 'srv', extendedKeyUsage: 'serverAuth' });
  refused(
    verifyClientCertificate(server.certPem, [], trust(), Date.now()),
    /does not include TLS client authentication/,
  );
  const none = await issueClientCertificate(root, { commonName: 'plain', extendedKeyUsage: 'none' });
  assert.equal(verifyClientCertificate(none.certPem, [], trust(), Date.now()).ok, true);
});
