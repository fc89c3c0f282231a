// verifyClientCertificate: the chain checks the ext_authz service repeats after Envoy.
// Here: revocation, SAN matchers, direct issuers, garbage input and the trust id.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCrl, createRootCa, issueClientCertificate } from '../../../control-plane/src/pki/index.js';
import { clientTrustId, verifyClientCertificate } from '../../../control-plane/src/identity/verify-certificate.js';
import { DAY_MS, root, other, intermediate, alice, carol, trust, refused } from './verify-certificate-fixture.js';

test(
  'a revoked leaf is refused; an unrevoked one passes; ' + 'the CRL must come from the issuer and be current',
  async () => {
    const revoked = await issueClientCertificate(root, { commonName: 'revoked' });
    const crl = await createCrl(root, [revoked.serialHex]);
    refused(verifyClientCertificate(revoked.certPem, [], trust({ crlPem: crl }), Date.now()), /it is revoked/);
    const ok = verifyClientCertificate(alice.certPem, [], trust({ crlPem: crl }), Date.now());
    assert.equal(ok.ok, true);

    // A CRL that names the issuer but is signed by someone else is no CRL of the issuer.
    const lookAlike = await createRootCa({ commonName: 'Verify Root CA' });
    const forgedCrl = await createCrl(lookAlike, [alice.serialHex]);
    refused(
      verifyClientCertificate(alice.certPem, [], trust({ crlPem: forgedCrl }), Date.now()),
      /not signed by that issuer/,
    );
    // Next to the genuine CRL, the forged one is ignored (it cannot revoke alice).
    assert.equal(verifyClientCertificate(alice.certPem, [], trust({ crlPem: forgedCrl + crl }), Date.now()).ok, true);

    const now = Date.now();
    const stale = await createCrl(root, [], {
      thisUpdate: new Date(now - 3 * DAY_MS),
      nextUpdate: new Date(now - DAY_MS),
    });
    refused(verifyClientCertificate(alice.certPem, [], trust({ crlPem: stale }), now), /has expired/);
    // CRLs on: a leaf whose issuer has none is refused (BoringSSL: unable to get CRL).
    refused(
      verifyClientCertificate(carol.certPem, [intermediate.certPem], trust({ crlPem: crl, maxVerifyDepth: 2 }), now),
      /no CRL from its issuer/,
    );
  },
);

test('match_subject_alt_names: some matcher must match one whole SAN of its type', async () => {
  const emails = trust({ matchSubjectAltNames: [{ type: 'email', regex: 'alice@example\\.com' }] });
  assert.equal(verifyClientCertificate(alice.certPem, [], emails, Date.now()).ok, true);
  const bob = await issueClientCertificate(root, {
    commonName: 'bob',
    email: 'bob@example.com',
    dnsNames: ['alice@example.com'],
  });
  refused(
    verifyClientCertificate(bob.certPem, [], emails, Date.now()),
    /none of its subject alternative names matches/,
  );
  // A separator inside one SAN does not make two SANs, and the match is on the whole SAN.
  const joined = await issueClientCertificate(root, { commonName: 'x', email: 'mallory@evil.test,alice@example.com' });
  refused(verifyClientCertificate(joined.certPem, [], emails, Date.now()), /none of its subject alternative names/);
  const suffixed = await issueClientCertificate(root, { commonName: 'x', email: 'alice@example.com.evil.test' });
  refused(verifyClientCertificate(suffixed.certPem, [], emails, Date.now()), /none of its subject alternative names/);
  const either = trust({
    matchSubjectAltNames: [
      { type: 'dns', regex: '.*\\.corp\\.test' },
      { type: 'email', regex: 'bob@.*' },
    ],
  });
  assert.equal(verifyClientCertificate(bob.certPem, [], either, Date.now()).ok, true);
  // UPN SANs (otherName) match by their UTF-8 value; an email matcher does not look at them.
  const upn = await issueClientCertificate(root, { commonName: 'u', userPrincipalNames: ['alice@corp.example'] });
  assert.equal(
    verifyClientCertificate(
      upn.certPem,
      [],
      trust({ matchSubjectAltNames: [{ type: 'user_principal_name', regex: 'alice@corp\\.example' }] }),
      Date.now(),
    ).ok,
    true,
  );
  refused(
    verifyClientCertificate(
      upn.certPem,
      [],
      trust({ matchSubjectAltNames: [{ type: 'email', regex: 'alice@corp\\.example' }] }),
      Date.now(),
    ),
    /none of its subject/,
  );
});

test('direct issuer only (a shared host): the route CA must have issued the leaf itself', () => {
  const shared = trust({ maxVerifyDepth: 1, directIssuerOnly: true });
  assert.equal(verifyClientCertificate(alice.certPem, [], shared, Date.now()).ok, true);
  refused(
    verifyClientCertificate(carol.certPem, [intermediate.certPem], { ...shared, maxVerifyDepth: 3 }, Date.now()),
    /issued directly by one of its CAs/,
  );
  // The issuing intermediate in the route's own file: direct again.
  assert.equal(
    verifyClientCertificate(carol.certPem, [], { ...shared, caPem: intermediate.certPem }, Date.now()).ok,
    true,
  );
});

test('garbage, empty input and long chains are refused without throwing', async () => {
  refused(verifyClientCertificate('', [], trust(), Date.now()), /no certificate was sent/);
  refused(
    verifyClientCertificate('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', [], trust(), Date.now()),
    /does not parse/,
  );
  refused(
    verifyClientCertificate(
      alice.certPem,
      ['-----BEGIN CERTIFICATE-----\n\u0000\n-----END CERTIFICATE-----'],
      trust(),
      Date.now(),
    ),
    /does not parse/,
  );
  const many = await Promise.all(Array.from({ length: 9 }, (_, i) => createRootCa({ commonName: `Noise ${i}` })));
  refused(
    verifyClientCertificate(
      alice.certPem,
      many.map((c) => c.certPem),
      trust(),
      Date.now(),
    ),
    /at most 8 are considered/,
  );
  refused(verifyClientCertificate(alice.certPem, [], trust({ caPem: 'not a pem' }), Date.now()), /trust does not load/);
});

test('the trust id changes with what the verdict depends on, and only with that', async () => {
  const crl = await createCrl(root, []);
  const base = clientTrustId(trust());
  assert.equal(clientTrustId(trust()), base);
  // The same CA written differently (extra text around the PEM) is the same trust.
  assert.equal(clientTrustId(trust({ caPem: `# comment\n${root.certPem}\n` })), base);
  // Direct issuer only is depth 1, which this trust already has.
  assert.equal(clientTrustId(trust({ directIssuerOnly: true, maxVerifyDepth: 3 })), base);
  const changed = [
    trust({ caPem: other.certPem }),
    trust({ crlPem: crl }),
    trust({ maxVerifyDepth: 2 }),
    trust({ caPem: root.certPem + other.certPem }),
    trust({ matchSubjectAltNames: [{ type: 'email', regex: '.*' }] }),
  ];
  const ids = changed.map(clientTrustId);
  assert.equal(new Set([base, ...ids]).size, ids.length + 1);
});
