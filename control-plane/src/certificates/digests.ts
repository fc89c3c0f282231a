// The digests that name a certificate or its key, in the forms Envoy and Pomerium print them.
import { createHash } from 'node:crypto';

/** Lower-case hex SHA-256 of a certificate's DER, no colons (Envoy's %DOWNSTREAM_PEER_FINGERPRINT_256%). */
export function sha256Fingerprint(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('hex');
}

/** Base64 SHA-256 of a DER SubjectPublicKeyInfo (Pomerium's spki_hash). */
export function spkiHash(spkiDer: Uint8Array): string {
  return createHash('sha256').update(spkiDer).digest('base64');
}
