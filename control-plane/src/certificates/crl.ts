// CRLs read from PEM (one X509 CRL block): the issuer's name, the dates, the revoked serials, and what the
// signature covers. Read with der.ts: a CRL of thousands of entries is read once per trust, on the first
// check after a config change (identity/revocation-list.ts checks a certificate against it).
import * as x509 from '@peculiar/x509';
import { children, OID, readOid, readTlv, SEQUENCE, type Tlv } from './der.js';
import { printName } from './distinguished-name.js';
import { normalizeSerial, readTime } from './parsed-certificate.js';
import { pemDer } from './pem.js';

/**
 * The issuer of a PEM CRL as Envoy prints names (distinguished-name.ts), to tell which CA it belongs to.
 * Throws when the CRL does not parse (checked by @peculiar/x509, which reads all of it).
 */
export function crlIssuerName(pem: string): string {
  new x509.X509Crl(pem);
  return printName(parseCrl(pem).issuerDer);
}

export interface ParsedCrl {
  /** The issuer Name's DER, compared with a certificate's subject DER. */
  issuerDer: Buffer;
  thisUpdateMs: number;
  nextUpdateMs?: number;
  /** Revocation time by serial (lower-case hex, no leading zeros). */
  revoked: Map<string, number>;
  tbs: Buffer;
  /** Node's digest name for the signature algorithm; null for EdDSA; undefined when not supported. */
  digest: string | null | undefined;
  signature: Buffer;
  /** Whether the signature verifies with a CA's key, by the CA's fingerprint. */
  verifiedBy: Map<string, boolean>;
}

/**
 * Signature algorithms CAs sign CRLs with, by OID. RSA-PSS is not among them here: such a CRL never verifies (fail
 * closed).
 */
const DIGEST_BY_ALGORITHM: Record<string, string | null> = {
  '1.2.840.10045.4.3.2': 'sha256', // ecdsa-with-SHA256
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
  '1.2.840.113549.1.1.11': 'sha256', // sha256WithRSAEncryption
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.3.101.112': null, // Ed25519
  '1.3.101.113': null, // Ed448
};

export function parseCrl(pem: string): ParsedCrl {
  const der = pemDer(pem);
  // CertificateList ::= SEQUENCE { tbsCertList, signatureAlgorithm, signatureValue BIT STRING }
  const [tbs, algorithm, bits] = children(der, readTlv(der, 0, der.length));
  if (tbs?.tag !== SEQUENCE || algorithm?.tag !== SEQUENCE || bits?.tag !== 0x03) throw new Error('not an X.509 CRL');
  const algorithmOid = children(der, algorithm)[0];
  // tbsCertList ::= SEQUENCE { version INTEGER OPTIONAL, signature, issuer, thisUpdate, nextUpdate OPTIONAL,
  // revokedCertificates OPTIONAL, [0] crlExtensions OPTIONAL }
  const fields = children(der, tbs);
  const rest = fields[0]?.tag === 0x02 ? fields.slice(1) : fields;
  const [, issuer, thisUpdate, ...tail] = rest;
  if (issuer?.tag !== SEQUENCE || !thisUpdate) throw new Error('not an X.509 CRL');
  const isTime = (t: Tlv | undefined): t is Tlv => t !== undefined && (t.tag === 0x17 || t.tag === 0x18);
  const nextUpdate = isTime(tail[0]) ? tail.shift() : undefined;
  const list = tail[0]?.tag === SEQUENCE ? tail[0] : undefined;
  const revoked = new Map<string, number>();
  for (const entry of list ? children(der, list) : []) {
    const [serial, date] = children(der, entry);
    if (serial?.tag !== 0x02 || !date) throw new Error('invalid CRL entry');
    revoked.set(
      normalizeSerial(Buffer.from(der.subarray(serial.contentStart, serial.end)).toString('hex')),
      readTime(der, date),
    );
  }
  const oid = algorithmOid?.tag === OID ? readOid(der, algorithmOid) : '';
  const parsed: ParsedCrl = {
    issuerDer: Buffer.from(der.subarray(issuer.start, issuer.end)),
    thisUpdateMs: readTime(der, thisUpdate),
    revoked,
    tbs: Buffer.from(der.subarray(tbs.start, tbs.end)),
    digest: oid in DIGEST_BY_ALGORITHM ? DIGEST_BY_ALGORITHM[oid] : undefined,
    // The first content byte of a BIT STRING counts unused bits (0 for signatures).
    signature: Buffer.from(der.subarray(bits.contentStart + 1, bits.end)),
    verifiedBy: new Map(),
  };
  if (nextUpdate) parsed.nextUpdateMs = readTime(der, nextUpdate);
  return parsed;
}
