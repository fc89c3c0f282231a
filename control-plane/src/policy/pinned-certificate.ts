import { createHash, X509Certificate } from 'node:crypto';

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]+?-----END \1-----/g;

/**
 * The SHA-256 fingerprint (lower-case hex of the DER) of the one certificate a `client_certificate`'s
 * `certificate:` pins: its PEM, or the base64 of its PEM (Pomerium's form; users paste both).
 */
export function pinnedCertificateFingerprint(value: string): { fingerprint: string } | { error: string } {
  const trimmed = value.trim();
  const text = trimmed.startsWith('-----BEGIN') ? trimmed + '\n' : Buffer.from(trimmed, 'base64').toString('utf8');
  const blocks = [...text.matchAll(PEM_BLOCK)].filter((m) => m[1] === 'CERTIFICATE');
  if (blocks.length !== 1) {
    return {
      error:
        blocks.length === 0
          ? 'no PEM certificate found (expected "-----BEGIN CERTIFICATE-----")'
          : `expected a single certificate, got ${blocks.length}: use one client_certificate criterion per certificate under or, or fingerprint: [...]`,
    };
  }
  try {
    const cert = new X509Certificate(blocks[0]![0]);
    return { fingerprint: createHash('sha256').update(cert.raw).digest('hex') };
  } catch (e) {
    return { error: `the certificate does not parse: ${(e as Error).message}` };
  }
}
