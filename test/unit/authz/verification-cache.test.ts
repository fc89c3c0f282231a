import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { chainKey, VerificationCache } from '../../../control-plane/src/authz/verification-cache.js';
import type { ClientTrust } from '../../../control-plane/src/identity/verify-certificate.js';
import { createRootCa, issueClientCertificate } from '../../../control-plane/src/pki/index.js';

const ca = await createRootCa({ commonName: 'Cache CA' });
const other = await createRootCa({ commonName: 'Cache Other CA' });
const alice = await issueClientCertificate(ca, { commonName: 'alice' });
const bob = await issueClientCertificate(ca, { commonName: 'bob' });
const trust: ClientTrust = { caPem: ca.certPem, crlPem: '', maxVerifyDepth: 1, matchSubjectAltNames: [] };

test('a verdict is reused for the same trust, certificate and chain, and only for those', () => {
  const cache = new VerificationCache(10);
  const now = Date.now();
  assert.equal(cache.verifyPem(trust, alice.certPem, [], now).cached, false);
  assert.equal(cache.verifyPem(trust, alice.certPem, [], now).cached, true);
  // Another certificate, another chain, another trust object with other content: verified anew.
  assert.equal(cache.verifyPem(trust, bob.certPem, [], now).cached, false);
  assert.equal(cache.verifyPem(trust, alice.certPem, [ca.certPem], now).cached, false);
  const narrowed = cache.verifyPem({ ...trust, caPem: other.certPem }, alice.certPem, [], now);
  assert.deepEqual([narrowed.cached, narrowed.result.ok], [false, false]);
  // A new object with the same content is the same trust.
  assert.equal(cache.verifyPem({ ...trust }, alice.certPem, [], now).cached, true);
  assert.deepEqual(cache.stats(), { hits: 2, misses: 4, size: 4 });
});

test('a verdict is not used past its validUntilMs: an accepted certificate that expires is verified again', () => {
  const cache = new VerificationCache(10);
  const notAfter = Date.parse(new X509Certificate(alice.certPem).validTo);
  assert.equal(cache.verifyPem(trust, alice.certPem, [], notAfter - 1000).result.ok, true);
  const later = cache.verifyPem(trust, alice.certPem, [], notAfter + 1000);
  assert.deepEqual([later.cached, later.result.ok], [false, false]);
});

test('the cache is bounded, and calls back for the certificates only on a miss', () => {
  const cache = new VerificationCache(2);
  let loads = 0;
  const load = () => (loads++, { leafPem: alice.certPem, chainPems: [] });
  for (const chain of ['', 'a', 'b', '']) cache.verify(trust, 'fp', chainKey(chain), Date.now(), load);
  // '' was pushed out by 'a' and 'b' before it came back.
  assert.equal(loads, 4);
  cache.verify(trust, 'fp', chainKey(''), Date.now(), load);
  assert.equal(loads, 4);
  assert.equal(cache.stats().size, 2);
  assert.equal(chainKey(''), '');
  assert.notEqual(chainKey('x'), chainKey('y'));
});
