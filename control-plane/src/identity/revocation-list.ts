// CRLs as Envoy's validation context uses them (translate/secrets.ts: `crl` with only_verify_leaf_cert_crl,
// i.e. BoringSSL's X509_V_FLAG_CRL_CHECK): the leaf's issuer must have a CRL, signed by that issuer and
// current, and the leaf's serial must not be in it. The CRLs are parsed by certificates/crl.ts.
import { verify as verifySignature, type KeyObject } from 'node:crypto';
import { isoSeconds, KEY_USAGE, type ParsedCertificate, type ParsedCrl } from '../certificates/index.js';

export type RevocationCheck = { ok: true; validUntilMs: number } | { ok: false; reason: string; validUntilMs: number };

/** The leaf's revocation status under `crls` (all the route's CRLs), given the certificate that issued it. */
export function checkRevocation(
  leaf: ParsedCertificate,
  issuer: ParsedCertificate,
  crls: readonly ParsedCrl[],
  nowMs: number,
): RevocationCheck {
  const named = crls.filter((c) => c.issuerDer.equals(issuer.subjectDer));
  if (named.length === 0)
    return {
      ok: false,
      reason: `there is no CRL from its issuer (${issuer.name}), and this route checks CRLs`,
      validUntilMs: Infinity,
    };
  if (issuer.keyUsage !== undefined && (issuer.keyUsage & KEY_USAGE.cRLSign) === 0) {
    return {
      ok: false,
      reason: `its issuer (${issuer.name}) may not sign CRLs (no cRLSign key usage)`,
      validUntilMs: Infinity,
    };
  }
  const signed = named.filter((c) => crlSignedBy(c, issuer));
  if (signed.length === 0)
    return {
      ok: false,
      reason: `the CRL named after its issuer (${issuer.name}) is not signed by that issuer`,
      validUntilMs: Infinity,
    };
  const current = signed.filter(
    (c) => c.thisUpdateMs <= nowMs && (c.nextUpdateMs === undefined || nowMs <= c.nextUpdateMs),
  );
  if (current.length === 0) {
    const future = signed.map((c) => c.thisUpdateMs).filter((t) => t > nowMs);
    if (future.length > 0)
      return {
        ok: false,
        reason: `the CRL of its issuer (${issuer.name}) is not valid yet`,
        validUntilMs: Math.min(...future),
      };
    return {
      ok: false,
      reason: `the CRL of its issuer (${issuer.name}) has expired (nextUpdate passed)`,
      validUntilMs: Infinity,
    };
  }
  // Of several current CRLs, the newest speaks (BoringSSL picks one CRL per issuer, the latest).
  const crl = current.reduce((a, b) => (b.thisUpdateMs > a.thisUpdateMs ? b : a));
  const revokedAt = crl.revoked.get(leaf.serial);
  if (revokedAt !== undefined)
    return {
      ok: false,
      reason: `it is revoked (serial ${leaf.serial}, revoked ${isoSeconds(revokedAt)})`,
      validUntilMs: Infinity,
    };
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
