// Signing for the small PKI: keys, serials, the certificate generator and PEM/DER helpers,
// shared by the certificate issuers (index.ts) and the CRL writer (crl.ts).
import { KeyObject, randomBytes, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

// The library's typings use DOM globals (Crypto, CryptoKey) that are absent without lib "DOM"
// and subtly differ from @types/node's with it. This module uses Node's types and converts to the
// library's at the boundary (libKey), so one place changes if they part. At runtime they are the same objects.
type LibCrypto = ReturnType<typeof x509.cryptoProvider.get>;
type LibCryptoKey = Parameters<typeof x509.X509CrlGenerator.create>[0]['signingKey'];
export const libKey = (key: webcrypto.CryptoKey): LibCryptoKey => key;

x509.cryptoProvider.set(webcrypto as unknown as LibCrypto);

export type KeyPair = webcrypto.CryptoKeyPair;

export interface Issued {
  certPem: string;
  /** PKCS#8, "-----BEGIN PRIVATE KEY-----". */
  keyPem: string;
  /** Lower-case hex, exactly as encoded in the certificate (no leading 00). */
  serialHex: string;
}

export interface CertificateAuthority extends Issued {
  /** Own cert followed by the intermediates above it, never the root; for a root just its own cert. */
  chainPem: string;
  /** True for a self-signed root: its cert is the trust anchor, so it is never sent in chains. */
  isRoot: boolean;
  cert: x509.X509Certificate;
  keys: KeyPair;
}

export interface Validity {
  notBefore?: Date;
  notAfter?: Date;
}

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;
export const KEY_ALG = { name: 'ECDSA', namedCurve: 'P-256' } as const;
export const SIGNING_ALG = { name: 'ECDSA', hash: 'SHA-256' } as const;

export interface SignParams {
  subject: x509.Name;
  keys: KeyPair;
  /** Omitted for a self-signed certificate. */
  issuer?: CertificateAuthority;
  extensions: x509.Extension[];
  validity: Validity;
}

export async function sign(p: SignParams): Promise<Issued & { cert: x509.X509Certificate }> {
  const now = Date.now();
  const serialHex = randomSerialHex();
  const extensions = [...p.extensions, await x509.SubjectKeyIdentifierExtension.create(libKey(p.keys.publicKey))];
  if (p.issuer) extensions.push(new x509.AuthorityKeyIdentifierExtension(subjectKeyId(p.issuer.cert)));

  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialHex,
    subject: p.subject,
    // Reuse the issuer's encoded Name so issuer/subject bytes match exactly for chain building.
    issuer: p.issuer ? p.issuer.cert.subjectName : p.subject,
    // Backdated to tolerate clock skew between generator and peers.
    notBefore: p.validity.notBefore ?? new Date(now - HOUR_MS),
    notAfter: p.validity.notAfter ?? new Date(now + 365 * DAY_MS),
    publicKey: libKey(p.keys.publicKey),
    signingKey: libKey((p.issuer?.keys ?? p.keys).privateKey),
    signingAlgorithm: SIGNING_ALG,
    extensions,
  });
  return { cert, certPem: toPem(cert.rawData, 'CERTIFICATE'), keyPem: pkcs8Pem(p.keys.privateKey), serialHex };
}

export function subjectKeyId(cert: x509.X509Certificate): string {
  const ski = cert.getExtension(x509.SubjectKeyIdentifierExtension);
  if (!ski) throw new Error(`CA certificate ${cert.subject} has no subjectKeyIdentifier`);
  return ski.keyId;
}

export async function generateKeys(): Promise<KeyPair> {
  return await webcrypto.subtle.generateKey(KEY_ALG, true, ['sign', 'verify']);
}

function pkcs8Pem(key: webcrypto.CryptoKey): string {
  return KeyObject.from(key).export({ type: 'pkcs8', format: 'pem' }) as string;
}

function randomSerialHex(): string {
  const bytes = randomBytes(16);
  // Clear the sign bit (serials must be positive) and avoid a leading zero byte, which DER
  // would strip, so the value stays 16 bytes and serialHex equals what the cert encodes.
  bytes[0] = bytes.readUInt8(0) & 0x7f || 0x01;
  return bytes.toString('hex');
}

/** DER INTEGER (tag + length + minimal positive content) from hex such as "0A:1B" or "a1b". */
export function derPositiveInteger(hex: string) {
  let digits = hex.replace(/[:\s]/g, '').toLowerCase();
  if (!/^[0-9a-f]+$/.test(digits)) throw new Error(`not a hex serial number: ${hex}`);
  digits = digits.replace(/^0+(?=.)/, '');
  if (digits.length % 2 === 1) digits = `0${digits}`;
  let content = Buffer.from(digits, 'hex');
  if (content.readUInt8(0) & 0x80) content = Buffer.concat([Buffer.of(0), content]);
  if (content.length > 127) throw new Error(`serial number too long: ${hex}`);
  // A fresh Uint8Array: DOM typings reject a Buffer (possibly pooled memory) as BufferSource.
  return new Uint8Array(Buffer.concat([Buffer.of(0x02, content.length), content]));
}

export function toPem(der: ArrayBuffer, label: string): string {
  const lines =
    Buffer.from(der)
      .toString('base64')
      .match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
