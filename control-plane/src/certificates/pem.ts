// PEM text: its blocks, the certificates and private keys in it, and the canonical text Envoy is given.
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { sha256Fingerprint } from './digests.js';

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]+?-----END \1-----/g;
const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Every PEM block of `text` with its type ("CERTIFICATE", "X509 CRL", "PRIVATE KEY"…), in order. */
export function pemBlocks(text: string): Array<{ type: string; pem: string }> {
  return [...text.matchAll(PEM_BLOCK)].map((m) => ({ type: m[1] ?? '', pem: m[0] }));
}

/** Every PEM certificate block in `text`, in order. */
export function certificateBlocks(text: string): string[] {
  return [...text.matchAll(PEM_CERTIFICATE)].map((m) => m[0]);
}

/** The DER bytes of one PEM block (its base64 body). */
export function pemDer(pem: string): Uint8Array {
  const body = pem.replace(/-----(BEGIN|END) [A-Z0-9 ]+-----/g, '').replace(/\s+/g, '');
  return new Uint8Array(Buffer.from(body, 'base64'));
}

/** Pomerium takes base64 of a PEM; we also take the PEM itself, since users paste both. */
export function decodeInlinePem(value: string): string {
  const trimmed = value.trim();
  if (trimmed.startsWith('-----BEGIN')) return trimmed + '\n';
  return Buffer.from(trimmed, 'base64').toString('utf8');
}

type ParsedCertificates = { certs: X509Certificate[] } | { error: string };

// Many routes name the same CA file; parse each distinct text once (bounded, since reloads bring new texts).
const parsedByText = new Map<string, ParsedCertificates>();
const MAX_CACHED = 256;

export function parseCertificates(text: string): ParsedCertificates {
  const cached = parsedByText.get(text);
  if (cached) return cached;
  const parsed = parseCertificatesUncached(text);
  if (parsedByText.size >= MAX_CACHED) parsedByText.clear();
  parsedByText.set(text, parsed);
  return parsed;
}

function parseCertificatesUncached(text: string): ParsedCertificates {
  const blocks = pemBlocks(text).filter((b) => b.type === 'CERTIFICATE');
  if (blocks.length === 0) return { error: 'no PEM certificate found (expected "-----BEGIN CERTIFICATE-----")' };
  const certs: X509Certificate[] = [];
  for (const [i, b] of blocks.entries()) {
    try {
      certs.push(new X509Certificate(b.pem));
    } catch (e) {
      return { error: `certificate ${i + 1} does not parse: ${(e as Error).message}` };
    }
  }
  return { certs };
}

export function parsePrivateKey(text: string): { key: KeyObject } | { error: string } {
  const block = pemBlocks(text).find((b) => b.type.endsWith('PRIVATE KEY'));
  if (!block) return { error: 'no PEM private key found (expected "-----BEGIN PRIVATE KEY-----")' };
  try {
    return { key: createPrivateKey(block.pem) };
  } catch (e) {
    return { error: `private key does not parse: ${(e as Error).message}` };
  }
}

/** The fingerprint of the first certificate of a PEM text; throws when it does not parse. */
export function certificateFingerprint(pem: string): string {
  return fingerprint(new X509Certificate(pem));
}

/** Lower-case hex SHA-256 of the certificate's DER (digests.ts). */
export function fingerprint(cert: X509Certificate): string {
  return sha256Fingerprint(cert.raw);
}

/** Canonical PEM text of parsed certificates: what Envoy is given, whatever spacing the user's file had. */
export function certificatesToPem(certs: X509Certificate[]): string {
  return certs.map((c) => c.toString().trim()).join('\n') + '\n';
}

/** DNS names a server certificate answers for: its SAN dNSNames, else its CN. */
export function certificateDnsNames(cert: X509Certificate): string[] {
  const san = cert.subjectAltName;
  if (san) {
    const names = san
      .split(', ')
      .filter((s) => s.startsWith('DNS:'))
      .map((s) => s.slice(4).toLowerCase());
    if (names.length > 0) return names;
  }
  const cn = /(?:^|\n)CN=([^\n]+)/.exec(cert.subject)?.[1];
  return cn ? [cn.toLowerCase()] : [];
}
