// CRLs as Envoy's validation context uses them (translate/secrets.ts: `crl` with only_verify_leaf_cert_crl,
// i.e. BoringSSL's X509_V_FLAG_CRL_CHECK): the leaf's issuer must have a CRL, signed by that issuer and
// current, and the leaf's serial must not be in it.
import { constants, verify as verifySignature, type KeyObject } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { children, readTlv } from './der.js';
import { isoSeconds, type ParsedCertificate } from './parsed-certificate.js';

export interface ParsedCrl {
  lib: x509.X509Crl;
  /** The issuer's name as @peculiar/x509 prints it (compared with a certificate's subject printed alike). */
  issuer: string;
  thisUpdateMs: number;
  nextUpdateMs?: number;
  tbs: Buffer;
  signature: Buffer;
  /** Whether the signature verifies with a CA's key, by the CA's fingerprint. */
  verifiedBy: Map<string, boolean>;
}

export function parseCrl(pem: string): ParsedCrl {
  const lib = new x509.X509Crl(pem);
  const der = new Uint8Array(lib.rawData);
  // CertificateList ::= SEQUENCE { tbsCertList, signatureAlgorithm, signatureValue BIT STRING }
  const [tbs, , bits] = children(der, readTlv(der, 0, der.length));
  if (!tbs || !bits || bits.tag !== 0x03) throw new Error('not an X.509 CRL');
  const parsed: ParsedCrl = {
    lib,
    issuer: lib.issuer,
    thisUpdateMs: lib.thisUpdate.getTime(),
    tbs: Buffer.from(der.subarray(tbs.start, tbs.end)),
    // The first content byte of a BIT STRING counts unused bits (0 for signatures).
    signature: Buffer.from(der.subarray(bits.contentStart + 1, bits.end)),
    verifiedBy: new Map(),
  };
  if (lib.nextUpdate) parsed.nextUpdateMs = lib.nextUpdate.getTime();
  return parsed;
}

export type RevocationCheck = { ok: true; validUntilMs: number } | { ok: false; reason: string; validUntilMs: number };

/** The leaf's revocation status under `crls` (all the route's CRLs), given the certificate that issued it. */
export function checkRevocation(leaf: ParsedCertificate, issuer: ParsedCertificate, crls: readonly ParsedCrl[], nowMs: number): RevocationCheck {
  const named = crls.filter((c) => c.issuer === issuer.lib.subject);
  if (named.length === 0) return { ok: false, reason: `there is no CRL from its issuer (${issuer.name}), and this route checks CRLs`, validUntilMs: Infinity };
  if (issuer.keyUsage !== undefined && (issuer.keyUsage & x509.KeyUsageFlags.cRLSign) === 0) {
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
  const entry = crl.lib.findRevoked(leaf.lib);
  if (entry) return { ok: false, reason: `it is revoked (serial ${leaf.lib.serialNumber}, revoked ${isoSeconds(entry.revocationDate.getTime())})`, validUntilMs: Infinity };
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

/** The CRL's signature over its tbsCertList, with the algorithms CAs use; any other one does not verify. */
function verifyCrlSignature(crl: ParsedCrl, key: KeyObject): boolean {
  const algorithm = crl.lib.signatureAlgorithm as x509.HashedAlgorithm & { saltLength?: number };
  const hash = typeof algorithm.hash === 'object' && algorithm.hash !== null ? (algorithm.hash as { name: string }).name : String(algorithm.hash ?? '');
  const digest = hash.replace('-', '').toLowerCase();
  try {
    switch (algorithm.name) {
      case 'ECDSA':
      case 'RSASSA-PKCS1-v1_5':
        return verifySignature(digest, crl.tbs, key, crl.signature);
      case 'RSA-PSS':
        return verifySignature(digest, crl.tbs, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: algorithm.saltLength ?? 32 }, crl.signature);
      case 'Ed25519':
      case 'EdDSA':
        return verifySignature(null, crl.tbs, key, crl.signature);
      default:
        return false;
    }
  } catch {
    // A key of another type than the algorithm's, or a malformed signature.
    return false;
  }
}
