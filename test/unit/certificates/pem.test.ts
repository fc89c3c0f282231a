// PEM text and digests (certificates/pem.ts, digests.ts, certificate-fields.ts): what config/, model/, authz/
// and identity/ read certificates with.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import {
  certificateBlocks,
  certificateDnsNames,
  certificateFingerprint,
  certificatesToPem,
  decodeInlinePem,
  fingerprint,
  parseCertificates,
  parsePrivateKey,
  pemBlocks,
  pemDer,
  readCertificateFields,
} from '../../../control-plane/src/certificates/index.js';
import { createCrl, createRootCa, issueServerCertificate } from '../../../control-plane/src/pki/index.js';

describe('PEM text', async () => {
  const ca = await createRootCa({ commonName: 'PEM Test CA' });
  const server = await issueServerCertificate(ca, { dnsNames: ['A.example', 'b.example'] });
  const crl = await createCrl(ca, []);

  it('splits blocks by type, in order, and certificates alone', () => {
    const text = `junk\n${ca.certPem}\n${crl}\n${server.keyPem}\n${server.certPem}`;
    assert.deepEqual(
      pemBlocks(text).map((b) => b.type),
      ['CERTIFICATE', 'X509 CRL', 'PRIVATE KEY', 'CERTIFICATE'],
    );
    assert.deepEqual(certificateBlocks(text), [ca.certPem.trim(), server.certPem.trim()]);
  });

  it('reads a block as DER', () => {
    assert.deepEqual(Buffer.from(pemDer(ca.certPem)), new X509Certificate(ca.certPem).raw);
  });

  it('takes a PEM itself or its base64', () => {
    assert.equal(decodeInlinePem(Buffer.from(ca.certPem).toString('base64')), ca.certPem);
    assert.equal(decodeInlinePem(`  ${ca.certPem.trim()}  `), ca.certPem.trim() + '\n');
  });

  it('parses certificates and keys, or says which one does not parse', () => {
    const parsed = parseCertificates(`${server.certPem}${ca.certPem}`);
    assert.ok('certs' in parsed);
    assert.equal(certificatesToPem(parsed.certs), `${server.certPem.trim()}\n${ca.certPem.trim()}\n`);
    assert.deepEqual(certificateDnsNames(parsed.certs[0]!), ['a.example', 'b.example']);
    const broken = parseCertificates(`${ca.certPem}-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n`);
    assert.match('error' in broken ? broken.error : '', /^certificate 2 does not parse/);
    assert.deepEqual(parseCertificates('nothing'), {
      error: 'no PEM certificate found (expected "-----BEGIN CERTIFICATE-----")',
    });
    assert.ok('key' in parsePrivateKey(server.keyPem));
    assert.ok('error' in parsePrivateKey('x'));
  });

  it('fingerprints: lower-case hex SHA-256 of the DER; the SPKI hash: base64 SHA-256 of the public key DER', () => {
    const node = new X509Certificate(server.certPem);
    const hex = node.fingerprint256.replace(/:/g, '').toLowerCase();
    assert.equal(fingerprint(node), hex);
    assert.equal(certificateFingerprint(server.certPem), hex);
    const fields = readCertificateFields(server.certPem);
    assert.equal(fields.fingerprint, hex);
    const spki = node.publicKey.export({ type: 'spki', format: 'der' });
    assert.equal(fields.spkiHash, createHash('sha256').update(spki).digest('base64'));
    assert.equal(fields.issuer, 'CN=PEM Test CA');
    assert.deepEqual(fields.sans.dns, ['A.example', 'b.example']);
  });
});
