import assert from 'node:assert/strict';
import { test } from 'node:test';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { certificateIdentity } from '../../../control-plane/src/identity/index.js';
import { der, issueLeaf, testCa } from './certs.js';

// SANs one by one, as Envoy's per-SAN principal sees them; the email from them only when unambiguous.

test('each SAN stays whole: a comma never makes one SAN count as two', async () => {
  const leaf = await issueLeaf({
    subject: 'cn@cn.example',
    sans: [
      { type: 'email', value: 'carol@example.org' },
      { type: 'email', value: 'alice@example.com,zz' },
      { type: 'dns', value: 'evil.ex,victim.ex' },
      { type: 'url', value: 'spiffe://example.com/a,b' },
      { type: 'ip', value: '192.0.2.7' },
      { type: 'upn', value: 'dave,x@corp.example' },
    ],
  });
  const id = certificateIdentity(leaf.certPem);
  assert.deepEqual(id.sans, {
    dns: ['evil.ex,victim.ex'],
    email: ['carol@example.org', 'alice@example.com,zz'],
    uri: ['spiffe://example.com/a,b'],
    ip_address: ['192.0.2.7'],
    user_principal_name: ['dave,x@corp.example'],
  });
  // Envoy's joined list reads "carol@example.org,alice@example.com,zz": it cannot tell where the SANs
  // end, so a certificate with an email SAN holding a comma has no email (nor domain), nor the CN's.
  assert.equal(id.email, undefined);
  assert.equal(id.domain, undefined);
  assert.equal(id.user, 'dave,x@corp.example');

  const forged = certificateIdentity(
    (await issueLeaf({ sans: [{ type: 'email', value: 'alice@example.com,mallory@evil.com' }] })).certPem,
  );
  assert.equal(forged.email, undefined, "the first element of Envoy's list is not an email SAN of the certificate");
});

test('the first email SAN is the email only when it is a mail address; empty SANs are as Envoy sees them', async () => {
  const emptyEmail = der(0x81, Buffer.alloc(0));
  const none = certificateIdentity(
    (await issueLeaf({ subject: 'x@cn.example', rawSans: [emptyEmail, der(0x82, Buffer.alloc(0))] })).certPem,
  );
  assert.deepEqual(none.sans.email, ['']);
  assert.deepEqual(none.sans.dns, ['']);
  assert.equal(none.email, 'x@cn.example', 'Envoy sets no header for one empty email SAN: the CN is taken');

  const leading = certificateIdentity(
    (await issueLeaf({ subject: 'x@cn.example', rawSans: [emptyEmail, der(0x81, Buffer.from('a@b.example'))] }))
      .certPem,
  );
  assert.deepEqual(leading.sans.email, ['', 'a@b.example']);
  assert.equal(leading.email, undefined, 'Envoy sees ",a@b.example": its first element is empty');

  for (const first of [
    'example.com',
    'a@b@Example.NET',
    '"q"@x.example',
    'a@[192.0.2.1]',
    'jürgen@example.com',
    'a@bücher.example',
    'a@x.example.',
    'a@-x.example',
  ]) {
    const id = certificateIdentity(
      (
        await issueLeaf({
          subject: 'cn@cn.example',
          sans: [
            { type: 'email', value: first },
            { type: 'email', value: 'b@second.example' },
          ],
        })
      ).certPem,
    );
    assert.equal(id.email, undefined, first);
    assert.equal(id.domain, undefined, first);
  }
  const ok = certificateIdentity(
    (await issueLeaf({ sans: [{ type: 'email', value: "O'Neil+tag@Sub.Example.ORG" }] })).certPem,
  );
  assert.equal(ok.email, "O'Neil+tag@Sub.Example.ORG");
  assert.equal(ok.domain, 'sub.example.org');
});

test('SAN bytes compare as Envoy compares them: UTF-8 as text, other bytes as lone surrogates', async () => {
  const raw = (tag: number, bytes: number[]) => der(tag, Buffer.from(bytes));
  const id = certificateIdentity(
    (
      await issueLeaf({
        rawSans: [raw(0x82, [0x61, 0xc3, 0xbc]), raw(0x82, [0x61, 0xff, 0xc3, 0x28]), raw(0x86, [0x78, 0x00, 0x79])],
      })
    ).certPem,
  );
  assert.deepEqual(id.sans.dns, ['aü', 'a\udcff\udcc3(']);
  assert.deepEqual(id.sans.uri, ['x\0y']);
});

test('a certificate with two subjectAltName extensions is refused (BoringSSL would read neither)', async () => {
  const san = new x509.SubjectAlternativeNameExtension([{ type: 'email', value: 'a@b.example' }]);
  const issuer = await testCa();
  const keys = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: '01',
    subject: 'CN=twice',
    issuer: issuer.cert.subjectName,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 60_000),
    publicKey: keys.publicKey as never,
    signingKey: issuer.keys.privateKey,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    extensions: [san, san],
  });
  assert.throws(() => certificateIdentity(cert.toString('pem')), /more than one subjectAltName extension/);
});
