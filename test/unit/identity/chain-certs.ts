// Certificates the shared PKI (control-plane/src/pki) will not make, for the verifier's adversarial tests:
// a self-signed leaf, and an "issuer" that is not a CA.
import { KeyObject, randomBytes, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import type { CertificateAuthority } from '../../../control-plane/src/pki/index.js';

const KEY_ALG = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING_ALG = { name: 'ECDSA', hash: 'SHA-256' } as const;
const HOUR_MS = 3_600_000;

function serial(): string {
  return `01${randomBytes(8).toString('hex')}`;
}

async function keys(): Promise<webcrypto.CryptoKeyPair> {
  return await webcrypto.subtle.generateKey(KEY_ALG, true, ['sign', 'verify']);
}

/** A self-signed client certificate claiming whatever name and email it likes (a forgery: nobody vouches for it). */
export async function selfSignedClient(commonName: string, email: string, issuerName?: string): Promise<string> {
  const pair = await keys();
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: new x509.Name([{ CN: [{ utf8String: commonName }] }]),
    // Claiming a trusted CA as issuer does not help a forger: the signature is the forger's own.
    issuer: new x509.Name([{ CN: [{ utf8String: issuerName ?? commonName }] }]),
    notBefore: new Date(now - HOUR_MS),
    notAfter: new Date(now + 24 * HOUR_MS),
    publicKey: pair.publicKey,
    signingKey: pair.privateKey,
    signingAlgorithm: SIGNING_ALG,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
      new x509.SubjectAlternativeNameExtension([{ type: 'email', value: email }]),
    ],
  });
  return cert.toString('pem') + '\n';
}

/**
 * A certificate issued by `parent` with keyCertSign but without basicConstraints cA, usable with the
 * shared PKI's issue functions as if it were a CA: what it issues must not verify.
 */
export async function nonCaIssuer(parent: CertificateAuthority, commonName: string): Promise<CertificateAuthority> {
  const pair = await keys();
  const now = Date.now();
  const parentSki = parent.cert.getExtension(x509.SubjectKeyIdentifierExtension);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: new x509.Name([{ CN: [{ utf8String: commonName }] }]),
    issuer: parent.cert.subjectName,
    notBefore: new Date(now - HOUR_MS),
    notAfter: new Date(now + 24 * HOUR_MS),
    publicKey: pair.publicKey,
    signingKey: parent.keys.privateKey,
    signingAlgorithm: SIGNING_ALG,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(pair.publicKey),
      ...(parentSki ? [new x509.AuthorityKeyIdentifierExtension(parentSki.keyId)] : []),
    ],
  });
  const certPem = cert.toString('pem') + '\n';
  const keyPem = KeyObject.from(pair.privateKey).export({ type: 'pkcs8', format: 'pem' }) as string;
  return {
    cert,
    certPem,
    keyPem,
    serialHex: cert.serialNumber.toLowerCase(),
    chainPem: certPem,
    isRoot: false,
    keys: pair,
  };
}
