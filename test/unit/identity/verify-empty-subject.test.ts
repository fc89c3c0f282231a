import assert from 'node:assert/strict';
import { test } from 'node:test';
import { verifyClientCertificate } from '../../../control-plane/src/identity/verify-certificate.js';
import { certificateIdentity } from '../../../control-plane/src/identity/index.js';
import { FuzzIssuer, type FuzzCertificate } from '../../support/identity-fuzz.js';
import { testCa } from './certs.js';

// Found by the random certificates of the agreement test: Envoy's handshake accepts a certificate with an
// empty subject (with SANs or without), so the ext_authz service must too, or the two disagree (495 vs 403).
test('a certificate with an empty subject is verified like any other, and has an identity without a name', async () => {
  const ca = await testCa();
  const issuer = new FuzzIssuer(ca);
  const trust = { caPem: ca.certPem, crlPem: '', maxVerifyDepth: 0, matchSubjectAltNames: [] };
  const sanLists: FuzzCertificate['sans'][] = [[], [['dns', 'a.example']]];
  for (const sans of sanLists) {
    const { certPem } = await issuer.issue({ subject: [], sans });
    const verified = verifyClientCertificate(certPem, [], trust, Date.now());
    assert.equal(verified.ok, true, JSON.stringify(verified));
    const id = certificateIdentity(certPem);
    assert.equal(id.subject, '');
    assert.equal(id.commonName, undefined);
    assert.equal(id.email, undefined);
  }
});
