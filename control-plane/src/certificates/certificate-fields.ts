// The facts a client certificate states, read once per distinct certificate: digests, names printed as Envoy
// prints them, and SANs one by one with their bytes as Envoy compares them. identity/certificate-identity.ts
// derives the holder's email, user and domain from them.
//
// @peculiar/x509 checks that the certificate parses; the fields are read from the DER with der.ts, which
// gives the exact SubjectPublicKeyInfo bytes and each name attribute's string type and bytes.
import * as x509 from '@peculiar/x509';
import { readTbsCertificate } from './der.js';
import { readName } from './distinguished-name.js';
import { sha256Fingerprint, spkiHash } from './digests.js';
import { certificateBlocks } from './pem.js';
import { readSubjectAltNames, type SubjectAltNames } from './subject-alt-names.js';

export interface CertificateFields {
  /** Lower-case hex SHA-256 of the DER, no colons (as Envoy's %DOWNSTREAM_PEER_FINGERPRINT_256%). */
  fingerprint: string;
  /** Base64 SHA-256 of the DER SubjectPublicKeyInfo (Pomerium's spki_hash). */
  spkiHash: string;
  /** RFC 2253 distinguished names as Envoy prints them (%DOWNSTREAM_PEER_SUBJECT%, %DOWNSTREAM_PEER_ISSUER%). */
  subject: string;
  issuer: string;
  /** The subject's most specific common name, if any (see distinguished-name.ts). */
  commonName?: string;
  sans: SubjectAltNames;
}

/**
 * The fields of the first certificate of a PEM text (a client's leaf).
 * Throws when the text holds no certificate or the certificate does not parse.
 */
export function readCertificateFields(pem: string): CertificateFields {
  const block = certificateBlocks(pem)[0];
  if (block === undefined) throw new Error('no PEM certificate found (expected "-----BEGIN CERTIFICATE-----")');
  let cert: x509.X509Certificate;
  try {
    cert = new x509.X509Certificate(block);
  } catch (e) {
    throw new Error(`the certificate does not parse: ${(e as Error).message}`, { cause: e });
  }
  const der = new Uint8Array(cert.rawData);
  const tbs = readTbsCertificate(der);
  const subject = readName(der, tbs.subject);
  const fields: CertificateFields = {
    fingerprint: sha256Fingerprint(der),
    spkiHash: spkiHash(der.subarray(tbs.spki.start, tbs.spki.end)),
    subject: subject.rfc2253,
    issuer: readName(der, tbs.issuer).rfc2253,
    sans: readSubjectAltNames(der, tbs.extensions),
  };
  if (subject.commonName !== undefined) fields.commonName = subject.commonName;
  return fields;
}
