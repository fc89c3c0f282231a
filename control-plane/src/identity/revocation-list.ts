// CRLs as Envoy's validation context uses them (translate/secrets.ts: `crl` with only_verify_leaf_cert_crl,
// i.e. BoringSSL's X509_V_FLAG_CRL_CHECK): the leaf's issuer must have a CRL, signed by that issuer and
// current, and the leaf's serial must not be in it. Read with der.ts: a CRL of thousands of entries is
// read once per trust, on the first check after a config change.
import { verify as verifySignature, type KeyObject } from 'node:crypto';
import { children, OID, readOid, readTlv, SEQUENCE, type Tlv } from './der.js';
import { isoSeconds, KEY_USAGE, normalizeSerial, readTime, type ParsedCertificate } from './parsed-certificate.js';

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

/** Signature algorithms CAs sign CRLs with, by OID. RSA-PSS is not among them here: such a CRL never verifies (fail closed). */
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
  const base64 = pem.replace(/-----(BEGIN|END) X509 CRL-----/g, '').replace(/\s+/g, '');
  const der = new Uint8Array(Buffer.from(base64, 'base64'));
  // CertificateList ::= SEQUENCE { tbsCertList, signatureAlgorithm, signatureValue BIT STRING }
  const [tbs, algorithm, bits] = children(der, readTlv(der, 0, der.length));
  if (tbs?.tag !== SEQUENCE || algorithm?.tag !== SEQUENCE || bits?.tag !== 0x03) throw new Error('not an X.509 CRL');
  const algorithmOid = children(der, algorithm)[0];
  // tbsCertList ::= SEQUENCE { version INTEGER OPTIONAL, signature, issuer, thisUpdate, nextUpdate OPTIONAL, revokedCertificates OPTIONAL, [0] crlExtensions OPTIONAL }
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
    revoked.set(normalizeSerial(Buffer.from(der.subarray(serial.contentStart, serial.end)).toString('hex')), readTime(der, date));
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

export type RevocationCheck = { ok: true; validUntilMs: number } | { ok: false; reason: string; validUntilMs: number };

/** The leaf's revocation status under `crls` (all the route's CRLs), given the certificate that issued it. */
export function checkRevocation(leaf: ParsedCertificate, issuer: ParsedCertificate, crls: readonly ParsedCrl[], nowMs: number): RevocationCheck {
  const named = crls.filter((c) => c.issuerDer.equals(issuer.subjectDer));
  if (named.length === 0) return { ok: false, reason: `there is no CRL from its issuer (${issuer.name}), and this route checks CRLs`, validUntilMs: Infinity };
  if (issuer.keyUsage !== undefined && (issuer.keyUsage & KEY_USAGE.cRLSign) === 0) {
    return { ok: false, reason: `its issuer (${issuer.name}) may not sign CRLs (no cRLSign key usage)`, validUntilMs: Infinity };
  }
  const signed = named.filter((c) => crlSignedBy(c, issuer));
  if (signed.length === 0) return { ok: false, reason: `the CRL named after its issuer (${issuer.name}) is not signed by that issuer`, validUntilMs: Infinity };
  const current = signed.filter((c) => c.thisUpdateMs <= nowMs && (c.nextUpdateMs === undefined || nowMs <= c.nextUpdateMs));
  if (current.length === 0) {
    const future = signed.map((c) => c.thisUpdateMs).filter((t) => t > nowMs);
    if (future.length > 0) return { ok: false, reason: `the CRL of its issuer (${issuer.name}) is not valid yet`, validUntilMs: Math.min(...future) };
    return { ok: false, reason: `the CRL of its issuer (${issuer.name}) has expired (nextUpdate passed)`, validUntilMs: Infinity };
  }
  // Of several current CRLs, the newest speaks (BoringSSL picks one CRL per issuer, the latest).
  const crl = current.reduce((a, b) => (b.thisUpdateMs > a.thisUpdateMs ? b : a));
  const revokedAt = crl.revoked.get(leaf.serial);
  if (revokedAt !== undefined) return { ok: false, reason: `it is revoked (serial ${leaf.serial}, revoked ${isoSeconds(revokedAt)})`, validUntilMs: Infinity };
  return { ok: true, validUntilMs: crl.nextUpdateMs ?? Infinity };
}

function crlSignedBy(crl: ParsedCrl, issuer: ParsedCertificate): boolean {
  let ok = crl.verifiedBy.get(issuer.fingerprint);
  if (ok === undefined) {
    ok = verifyCrlSignature(crl, issuer.node.publicKey);
    crl.verifiedBy.set(issuer.fingerprint, ok);
  }
  return ok;
}

function verifyCrlSignature(crl: ParsedCrl, key: KeyObject): boolean {
  if (crl.digest === undefined) return false;
  try {
    return verifySignature(crl.digest, crl.tbs, key, crl.signature);
  } catch {
    // A key of another type than the algorithm's, or a malformed signature.
    return false;
  }
}
