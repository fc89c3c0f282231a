import { certificateBlocks, certificateFingerprint, decodeInlinePem } from '../certificates/index.js';

/**
 * The SHA-256 fingerprint (lower-case hex of the DER) of the one certificate a `client_certificate`'s
 * `certificate:` pins: its PEM, or the base64 of its PEM (Pomerium's form; users paste both).
 */
export function pinnedCertificateFingerprint(value: string): { fingerprint: string } | { error: string } {
  const blocks = certificateBlocks(decodeInlinePem(value));
  if (blocks.length !== 1) {
    return {
      error:
        blocks.length === 0
          ? 'no PEM certificate found (expected "-----BEGIN CERTIFICATE-----")'
          : `expected a single certificate, got ${blocks.length}: ` +
            'use one client_certificate criterion per certificate under or, or fingerprint: [...]',
    };
  }
  try {
    return { fingerprint: certificateFingerprint(blocks[0]!) };
  } catch (e) {
    return { error: `the certificate does not parse: ${(e as Error).message}` };
  }
}
