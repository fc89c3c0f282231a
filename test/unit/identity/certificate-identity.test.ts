import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { createIntermediateCa, issueClientCertificate } from '../../../control-plane/src/pki/index.js';
import {
  certificateIdentity,
  clearIdentityCache,
  identityFromEnvoyCertificate,
  MAX_CACHED_IDENTITIES,
} from '../../../control-plane/src/identity/index.js';
import { requireOpenssl } from '../../support/tools.js';
import { issueLeaf, testCa, unknownOtherName } from './certs.js';

/** What Envoy does to the PEM (ConnectionInfo::urlEncodedPemEncodedPeerCertificate). */
function envoyEncode(pem: string): string {
  return pem.replace(/[\n +/=]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

test('a client certificate from the shared PKI: email from the SAN, user from the CN', async () => {
  const issued = await issueClientCertificate(await testCa(), { commonName: 'alice', email: 'alice@Example.COM' });
  const id = certificateIdentity(issued.certPem);
  assert.equal(id.commonName, 'alice');
  assert.equal(id.email, 'alice@Example.COM');
  assert.equal(id.domain, 'example.com');
  assert.equal(id.user, 'alice');
  assert.equal(id.subject, 'CN=alice');
  assert.equal(id.issuer, 'CN=Identity Test CA');
  assert.deepEqual(id.sans, {
    dns: [],
    email: ['alice@Example.COM'],
    uri: [],
    ip_address: [],
    user_principal_name: [],
  });
});

test('the email SAN wins over an email-like CN, and the first email SAN is taken', async () => {
  const leaf = await issueLeaf({
    subject: 'cn@cn.example',
    sans: [
      { type: 'email', value: 'first@san.example' },
      { type: 'email', value: 'second@san.example' },
    ],
  });
  const id = certificateIdentity(leaf.certPem);
  assert.equal(id.email, 'first@san.example');
  assert.equal(id.domain, 'san.example');
  assert.deepEqual(id.sans.email, ['first@san.example', 'second@san.example']);
});

test('without an email SAN, a CN that is an email address is the email', async () => {
  for (const cn of ['Bob@Example.ORG', 'bob@localhost', "o'neil+tag@sub.Example.org"]) {
    const id = certificateIdentity((await issueLeaf({ subject: cn })).certPem);
    assert.equal(id.email, cn, cn);
    assert.equal(id.domain, cn.slice(cn.lastIndexOf('@') + 1).toLowerCase(), cn);
    assert.equal(id.user, cn, cn);
  }
});

test('a CN that is not an email address gives no email and no domain', async () => {
  for (const cn of [
    'carol',
    'carol smith@example.com',
    'a@b@example.com',
    '@example.com',
    'carol@',
    'carol@ example.com',
  ]) {
    const id = certificateIdentity((await issueLeaf({ subject: cn })).certPem);
    assert.equal(id.email, undefined, cn);
    assert.equal(id.domain, undefined, cn);
    assert.equal(id.user, cn, cn);
    assert.equal(id.commonName, cn, cn);
  }
});

test('user: the first UPN SAN, else the CN; nothing without either', async () => {
  const withUpn = certificateIdentity(
    (
      await issueLeaf({
        subject: 'Dave',
        sans: [
          { type: 'upn', value: 'dave@corp.example' },
          { type: 'upn', value: 'other@corp.example' },
        ],
      })
    ).certPem,
  );
  assert.equal(withUpn.user, 'dave@corp.example');
  assert.deepEqual(withUpn.sans.user_principal_name, ['dave@corp.example', 'other@corp.example']);
  assert.equal(withUpn.email, undefined, 'a UPN is not an email address');

  const bare = certificateIdentity((await issueLeaf({ sans: [{ type: 'dns', value: 'device-7.example' }] })).certPem);
  assert.equal(bare.commonName, undefined);
  assert.equal(bare.user, undefined);
  assert.equal(bare.email, undefined);
  assert.equal(bare.subject, '');
  assert.deepEqual(bare.sans.dns, ['device-7.example']);
});

test('every SAN kind is read; kinds it cannot decode are skipped, not fatal', async () => {
  const leaf = await issueLeaf({
    subject: 'erin',
    sans: [
      { type: 'dns', value: 'a.example.com' },
      { type: 'email', value: 'erin@example.com' },
      { type: 'url', value: 'spiffe://example.com/erin' },
      { type: 'ip', value: '192.0.2.7' },
      { type: 'ip', value: '2001:db8::1' },
      { type: 'upn', value: 'erin@corp.example' },
      { type: 'guid', value: '8ee13e53-2c1c-42bb-8df7-39927c0bdbb6' },
      { type: 'dns', value: 'b.example.com' },
    ],
    // SmtpUTF8Mailbox (RFC 8398), an otherName the library cannot decode.
    rawSans: [unknownOtherName([1, 3, 6, 1, 5, 5, 7, 8, 9], 'erin@example.com')],
  });
  assert.deepEqual(certificateIdentity(leaf.certPem).sans, {
    dns: ['a.example.com', 'b.example.com'],
    email: ['erin@example.com'],
    uri: ['spiffe://example.com/erin'],
    ip_address: ['192.0.2.7', '2001:db8::1'],
    user_principal_name: ['erin@corp.example'],
  });
});

test('fingerprint is the lower-case hex SHA-256 of the DER, as Node computes it', async () => {
  const leaf = await issueLeaf({ subject: 'frank' });
  const id = certificateIdentity(leaf.certPem);
  const expected = new X509Certificate(leaf.certPem).fingerprint256.replace(/:/g, '').toLowerCase();
  assert.equal(id.fingerprint, expected);
  assert.match(id.fingerprint, /^[0-9a-f]{64}$/);
});

test('spkiHash is the base64 SHA-256 of the DER SubjectPublicKeyInfo', async () => {
  const leaf = await issueLeaf({ subject: 'grace' });
  const spki = leaf.publicKey.export({ type: 'spki', format: 'der' });
  const expected = createHash('sha256').update(spki).digest('base64');
  assert.equal(certificateIdentity(leaf.certPem).spkiHash, expected);
  const fromCert = new X509Certificate(leaf.certPem).publicKey.export({ type: 'spki', format: 'der' });
  assert.equal(createHash('sha256').update(fromCert).digest('base64'), expected);
});

test('the leaf is the first certificate of a chain', async () => {
  const intermediate = await createIntermediateCa(await testCa(), { commonName: 'Identity Test Intermediate' });
  const issued = await issueClientCertificate(intermediate, { commonName: 'heidi', email: 'heidi@example.com' });
  const id = certificateIdentity(issued.chainPem);
  assert.equal(id.commonName, 'heidi');
  assert.equal(id.issuer, 'CN=Identity Test Intermediate');
  assert.equal(id.fingerprint, certificateIdentity(issued.certPem).fingerprint);
});

test('subject and issuer are RFC 2253 with most specific first and special characters escaped', async () => {
  const subject = new x509.Name([
    { DC: ['com'] },
    { DC: ['example'] },
    { C: ['DE'] },
    { O: [{ utf8String: 'Müller, Söhne & Co. <GmbH>' }] },
    { OU: [{ utf8String: 'a;b"c\\d' }] },
    { CN: [{ utf8String: ' #ivan+1 ' }] },
  ]);
  const leaf = await issueLeaf({ subject });
  const id = certificateIdentity(leaf.certPem);
  assert.equal(
    id.subject,
    'CN=\\ #ivan\\+1\\ ,OU=a\\;b\\"c\\\\d,O=M\\C3\\BCller\\, S\\C3\\B6hne & Co. \\<GmbH\\>,C=DE,DC=example,DC=com',
  );
  assert.equal(id.commonName, ' #ivan+1 ');
});

test('names print exactly as OpenSSL prints them with -nameopt RFC2253 (what Envoy logs)', async () => {
  const openssl = requireOpenssl();
  const subject = new x509.Name([
    { C: ['US'] },
    { ST: ['CA'], L: ['San Francisco'] },
    { O: [{ utf8String: 'Acme, Inc. é' }] },
    { '1.2.3.4': [{ utf8String: 'unknown type' }] },
    { E: ['judy@example.com'] },
    { CN: [{ utf8String: 'Judy "J" =Smith' }] },
  ]);
  const leaf = await issueLeaf({ subject });
  const dir = mkdtempSync(join(tmpdir(), 'identity-test-'));
  try {
    const file = join(dir, 'leaf.pem');
    writeFileSync(file, leaf.certPem);
    const out = execFileSync(openssl, ['x509', '-in', file, '-noout', '-subject', '-issuer', '-nameopt', 'RFC2253'], {
      encoding: 'utf8',
    });
    const id = certificateIdentity(leaf.certPem);
    assert.equal(out, `subject=${id.subject}\nissuer=${id.issuer}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('text that is not a certificate is an error', () => {
  assert.throws(() => certificateIdentity(''), /no PEM certificate/);
  assert.throws(
    () => certificateIdentity('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n'),
    /no PEM certificate/,
  );
  assert.throws(
    () => certificateIdentity('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'),
    /does not parse/,
  );
});

test("Envoy's URL-encoded certificate gives the same identity", async () => {
  clearIdentityCache();
  const leaf = await issueLeaf({ subject: 'kim', sans: [{ type: 'email', value: 'kim@example.com' }] });
  const direct = certificateIdentity(leaf.certPem);
  assert.deepEqual({ ...identityFromEnvoyCertificate(envoyEncode(leaf.certPem)) }, direct);
  assert.deepEqual({ ...identityFromEnvoyCertificate(encodeURIComponent(leaf.certPem)) }, direct);
  assert.equal(identityFromEnvoyCertificate(''), undefined);
  assert.throws(() => identityFromEnvoyCertificate('%E0%A4%A'), /URL-encoded/);
  assert.throws(() => identityFromEnvoyCertificate('not%20a%20certificate'), /no PEM certificate/);
});

test('identities are cached by encoded text, frozen, and the least recently used is evicted', async () => {
  clearIdentityCache();
  const encoded = envoyEncode((await issueLeaf({ subject: 'leo' })).certPem);
  // Distinct texts of the same certificate: anything after the PEM block is ignored.
  const key = (i: number): string => `${encoded}%0A${i}`;

  const first = identityFromEnvoyCertificate(key(0));
  assert.ok(first);
  assert.equal(identityFromEnvoyCertificate(key(0)), first, 'a second request is served from the cache');
  assert.ok(Object.isFrozen(first) && Object.isFrozen(first.sans) && Object.isFrozen(first.sans.dns));
  assert.throws(() => {
    (first as { user?: string }).user = 'mallory';
  }, TypeError);

  const second = identityFromEnvoyCertificate(key(1));
  // Fill the cache; touching key 0 halfway makes key 1 the least recently used.
  for (let i = 2; i < MAX_CACHED_IDENTITIES; i++) {
    if (i === MAX_CACHED_IDENTITIES / 2) assert.equal(identityFromEnvoyCertificate(key(0)), first);
    identityFromEnvoyCertificate(key(i));
  }
  identityFromEnvoyCertificate(key(MAX_CACHED_IDENTITIES)); // one over: evicts key 1
  assert.equal(identityFromEnvoyCertificate(key(0)), first, 'recently used: kept');
  assert.notEqual(identityFromEnvoyCertificate(key(1)), second, 'least recently used: parsed again');
  clearIdentityCache();
});
