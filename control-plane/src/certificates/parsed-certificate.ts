// One certificate, read once into what chain verification (identity/verify-certificate.ts) looks at.
//
// Node's X509Certificate checks issuance (names, key identifiers, the issuer's keyCertSign) and signatures
// with OpenSSL. The extensions and dates are read from the DER with the small reader in der.ts: the
// @peculiar/x509 object model costs milliseconds per certificate, which a first request would pay.
import { X509Certificate } from 'node:crypto';
import { children, OCTET_STRING, OID, readOid, readTbsCertificate, readTlv, SEQUENCE, type Tlv } from './der.js';
import { readName } from './distinguished-name.js';
import { readGeneralNames, type SubjectAltNames } from './subject-alt-names.js';

export const OID_CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const OID_KEY_USAGE = '2.5.29.15';
const OID_SAN = '2.5.29.17';
const OID_BASIC_CONSTRAINTS = '2.5.29.19';
const OID_NAME_CONSTRAINTS = '2.5.29.30';
const OID_EXTENDED_KEY_USAGE = '2.5.29.37';

/** keyUsage bits (RFC 5280 numbering; bit n is 1 << n here, as x509.KeyUsageFlags). */
export const KEY_USAGE = {
  digitalSignature: 1 << 0,
  keyAgreement: 1 << 4,
  keyCertSign: 1 << 5,
  cRLSign: 1 << 6,
} as const;

/**
 * Extensions BoringSSL understands when they are critical (x509v3 "supported" list). A certificate with any
 * other critical extension fails verification there (X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION), so here too.
 */
const HANDLED_CRITICAL = new Set([
  OID_KEY_USAGE,
  OID_SAN,
  OID_BASIC_CONSTRAINTS,
  OID_EXTENDED_KEY_USAGE,
  OID_NAME_CONSTRAINTS, // (refused by the verifier: not evaluated there)
  '2.5.29.32', // certificatePolicies
  '2.5.29.33', // policyMappings
  '2.5.29.36', // policyConstraints
  '2.5.29.54', // inhibitAnyPolicy
  '1.3.6.1.5.5.7.1.14', // proxyCertInfo
  '2.16.840.1.113730.1.1', // Netscape cert type
]);

export interface ParsedCertificate {
  node: X509Certificate;
  der: Uint8Array;
  /** Lower-case hex SHA-256 of the DER, no colons. */
  fingerprint: string;
  /** Subject and issuer for reasons, as Envoy prints them (distinguished-name.ts), e.g. "CN=alice,O=Example". */
  name: string;
  issuerName: string;
  /** The subject Name's DER, to match CRL issuers exactly. */
  subjectDer: Buffer;
  /** Lower-case hex, no leading zeros. */
  serial: string;
  notBeforeMs: number;
  notAfterMs: number;
  /** basicConstraints cA. */
  isCa: boolean;
  /** basicConstraints pathLenConstraint, when set. */
  pathLength?: number;
  /** keyUsage bits (KEY_USAGE), when the extension is present. */
  keyUsage?: number;
  /** extKeyUsage OIDs, when the extension is present. */
  extendedKeyUsage?: string[];
  /** An OID of a critical extension BoringSSL would not handle, if any. */
  unhandledCritical?: string;
  hasNameConstraints: boolean;
  /** The SAN extension's content (a SEQUENCE of GeneralName), if any. */
  subjectAltNames?: Uint8Array;
}

/** A certificate from PEM text (its first block) or DER bytes. */
export function parseCertificate(pem: string | Uint8Array): ParsedCertificate {
  const node = new X509Certificate(pem);
  const der = new Uint8Array(node.raw);
  const tbs = readTbsCertificate(der);
  const fields = children(der, children(der, readTlv(der, 0, der.length))[0]!);
  const first = fields[0]?.tag === 0xa0 ? 1 : 0;
  const serial = fields[first];
  const validity = fields[first + 3];
  if (!serial || validity?.tag !== SEQUENCE) throw new Error('not an X.509 certificate');
  const [notBefore, notAfter] = children(der, validity);
  if (!notBefore || !notAfter) throw new Error('invalid validity');
  const parsed: ParsedCertificate = {
    node,
    der,
    fingerprint: node.fingerprint256.replace(/:/g, '').toLowerCase(),
    name: readableName(readName(der, tbs.subject).rfc2253),
    issuerName: readableName(readName(der, tbs.issuer).rfc2253),
    subjectDer: Buffer.from(der.subarray(tbs.subject.start, tbs.subject.end)),
    serial: normalizeSerial(Buffer.from(der.subarray(serial.contentStart, serial.end)).toString('hex')),
    notBeforeMs: readTime(der, notBefore),
    notAfterMs: readTime(der, notAfter),
    isCa: false,
    hasNameConstraints: false,
  };
  for (const extension of tbs.extensions) readExtension(der, extension, parsed);
  return parsed;
}

function readExtension(der: Uint8Array, extension: Tlv, into: ParsedCertificate): void {
  const parts = children(der, extension);
  const id = parts[0];
  const value = parts[parts.length - 1];
  if (id?.tag !== OID || value?.tag !== OCTET_STRING) throw new Error('invalid extension');
  const oid = readOid(der, id);
  // critical BOOLEAN DEFAULT FALSE sits between the OID and the value when present.
  const critical = parts.length === 3 && parts[1]!.tag === 0x01 && der[parts[1]!.contentStart] !== 0;
  if (critical && !HANDLED_CRITICAL.has(oid)) into.unhandledCritical ??= oid;
  const inner = readTlv(der, value.contentStart, value.end);
  if (oid === OID_BASIC_CONSTRAINTS) {
    for (const field of children(der, inner)) {
      if (field.tag === 0x01) into.isCa = der[field.contentStart] !== 0;
      if (field.tag === 0x02)
        into.pathLength = Number.parseInt(
          Buffer.from(der.subarray(field.contentStart, field.end)).toString('hex') || '0',
          16,
        );
    }
  } else if (oid === OID_KEY_USAGE) {
    let bits = 0;
    // BIT STRING: an unused-bits count, then the bits, most significant first (bit 0 = 0x80 of the first byte).
    for (let i = inner.contentStart + 1, n = 0; i < inner.end && n < 16; i++) {
      for (let b = 0; b < 8; b++, n++) if ((der[i] as number) & (0x80 >> b)) bits |= 1 << n;
    }
    into.keyUsage = bits;
  } else if (oid === OID_EXTENDED_KEY_USAGE) {
    into.extendedKeyUsage = children(der, inner)
      .filter((t) => t.tag === OID)
      .map((t) => readOid(der, t));
  } else if (oid === OID_NAME_CONSTRAINTS) {
    into.hasNameConstraints = true;
  } else if (oid === OID_SAN) {
    into.subjectAltNames = der.subarray(inner.start, inner.end);
  }
}

/** UTCTime (YYMMDDHHMMSSZ, 50–99 = 19xx) or GeneralizedTime (YYYYMMDDHHMMSSZ), as RFC 5280 encodes them. */
export function readTime(der: Uint8Array, tlv: Tlv): number {
  const text = Buffer.from(der.subarray(tlv.contentStart, tlv.end)).toString('latin1');
  const m =
    tlv.tag === 0x17
      ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text)
      : /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!m) throw new Error(`invalid certificate time ${JSON.stringify(text)}`);
  let year = Number(m[1]);
  if (tlv.tag === 0x17) year += year >= 50 ? 1900 : 2000;
  return Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
}

export function normalizeSerial(hex: string): string {
  return hex.toLowerCase().replace(/^0+(?=.)/, '');
}

/** An empty name, which BoringSSL accepts, prints as nothing: say so in reasons. */
function readableName(name: string): string {
  return name === '' ? '(empty subject)' : name;
}

/**
 * The SANs of a certificate, each whole, as Envoy's match_subject_alt_names sees them (not split on commas
 * like the lists its formatters join), read as certificate-fields.ts reads them.
 */
export function subjectAltNames(cert: ParsedCertificate): SubjectAltNames {
  const der = cert.subjectAltNames;
  if (!der) return { dns: [], email: [], uri: [], ip_address: [], user_principal_name: [] };
  return readGeneralNames(der, readTlv(der, 0, der.length));
}

/** Dates in reasons: ISO 8601, to the second. */
export function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
