// The client-certificate check Envoy's handshake makes (BoringSSL X509_verify_cert under the validation
// context translate/secrets.ts builds), redone in the control plane: the ext_authz service must not take
// a certificate's word for who its holder is when the certificate could come from anyone who can reach it.
//
// What is checked, as Envoy does:
// - a path from the leaf, through the intermediates the client sent, to a certificate of the CA bundle;
//   every certificate of the bundle is an anchor (Envoy sets X509_V_FLAG_PARTIAL_CHAIN);
// - every signature on the path; issuance by name and key identifier, and the issuer's keyCertSign;
// - validity dates of every certificate on the path, the anchor included;
// - intermediates are CAs (basicConstraints cA), within their pathLenConstraint, and carry clientAuth when
//   they have an extKeyUsage (BoringSSL checks the purpose of the untrusted part of the chain only);
// - the leaf: clientAuth when it has an extKeyUsage, digitalSignature or keyAgreement when it has a keyUsage;
// - no unhandled critical extension on the untrusted part;
// - max_verify_depth with Envoy's meaning: certificates above the leaf, the anchor included;
// - the CRL of the leaf's issuer when the route has CRLs (only_verify_leaf_cert_crl);
// - match_subject_alt_names: some matcher matches one whole SAN of its type.
// Name constraints are not evaluated: a path through a CA that has them is refused (fail closed).
import {
  certificateBlocks,
  isoSeconds,
  KEY_USAGE,
  OID_CLIENT_AUTH,
  parseCertificate,
  subjectAltNames,
  type ParsedCertificate,
  type SanKind,
} from '../certificates/index.js';
import { parsedTrust, type ClientTrust, type ParsedTrust } from './client-trust.js';
import { checkRevocation } from './revocation-list.js';

export { clientTrustId, type ClientTrust } from './client-trust.js';

/**
 * The outcome, and until when it holds if nothing but time changes (the first notAfter or CRL nextUpdate on
 * the path; for a failure, when a certificate or CRL not yet valid becomes valid; Infinity when never).
 */
export type CertificateVerification =
  { ok: true; validUntilMs: number } | { ok: false; reason: string; validUntilMs: number };

/** Intermediates a client may send; more is refused rather than searched. */
const MAX_CHAIN_CERTIFICATES = 8;

/**
 * Verifies a client certificate (`leafPem`: its first PEM block) and the intermediates sent with it against `trust` at
 * `nowMs`.
 */
export function verifyClientCertificate(
  leafPem: string,
  chainPems: readonly string[],
  trust: ClientTrust,
  nowMs: number,
): CertificateVerification {
  try {
    return verify(leafPem, chainPems, parsedTrust(trust), nowMs);
  } catch (e) {
    // A malformed extension, a key OpenSSL cannot use…: not a certificate this route can accept.
    return fail(`it could not be checked (${(e as Error).message})`);
  }
}

function verify(leafPem: string, chainPems: readonly string[], t: ParsedTrust, nowMs: number): CertificateVerification {
  if (t.error !== undefined) return fail(`this route's trust does not load (${t.error})`);
  const leafBlock = certificateBlocks(leafPem)[0];
  if (leafBlock === undefined) return fail('no certificate was sent');
  let leaf: ParsedCertificate;
  const offered = new Map<string, ParsedCertificate>();
  try {
    leaf = parseCertificate(leafBlock);
    for (const block of chainPems.flatMap(certificateBlocks)) {
      const c = parseCertificate(block);
      // Envoy's peer chain starts with the leaf; anchors sent along are anchors, not intermediates.
      if (c.fingerprint !== leaf.fingerprint && !t.anchorFingerprints.has(c.fingerprint)) offered.set(c.fingerprint, c);
    }
  } catch (e) {
    return fail(`a certificate does not parse (${(e as Error).message})`);
  }
  if (offered.size > MAX_CHAIN_CERTIFICATES)
    return fail(
      `the client sent ${offered.size} intermediate certificates; at most ${MAX_CHAIN_CERTIFICATES} are considered`,
    );

  const leafProblem = checkLeaf(leaf);
  if (leafProblem) return fail(leafProblem);
  const path = findPath(leaf, [...offered.values()], t, nowMs);
  if (!path.ok) return path;
  const san = checkSubjectAltNames(leaf, t);
  if (san) return fail(san);
  return path;
}

function fail(reason: string, validUntilMs = Infinity): CertificateVerification {
  return { ok: false, reason, validUntilMs };
}

/** What BoringSSL's ssl_client purpose asks of the leaf itself. */
function checkLeaf(leaf: ParsedCertificate): string | undefined {
  if (leaf.unhandledCritical)
    return `it has a critical extension (${leaf.unhandledCritical}) that TLS verification does not handle`;
  if (leaf.extendedKeyUsage && !leaf.extendedKeyUsage.includes(OID_CLIENT_AUTH))
    return 'its extended key usage does not include TLS client authentication (clientAuth)';
  if (leaf.keyUsage !== undefined && (leaf.keyUsage & (KEY_USAGE.digitalSignature | KEY_USAGE.keyAgreement)) === 0) {
    return 'its key usage allows neither digitalSignature nor keyAgreement';
  }
  return undefined;
}

/** Tried paths stop here: a client's chain of look-alike names must not make the search expensive. */
const MAX_PATHS = 64;

/**
 * A path from the leaf to an anchor that passes every check, or the reason the first complete path failed
 * (or why none was found). Paths are searched depth first, anchors before intermediates at each step.
 */
function findPath(
  leaf: ParsedCertificate,
  offered: ParsedCertificate[],
  t: ParsedTrust,
  nowMs: number,
): CertificateVerification {
  if (t.anchorFingerprints.has(leaf.fingerprint)) return checkPath([leaf], t, nowMs);
  const links = new Map<string, 'ok' | 'bad-signature' | 'not-issuer'>();
  const link = (child: ParsedCertificate, issuer: ParsedCertificate): 'ok' | 'bad-signature' | 'not-issuer' => {
    const key = `${child.fingerprint}>${issuer.fingerprint}`;
    let result = links.get(key);
    if (!result) {
      result = !child.node.checkIssued(issuer.node)
        ? 'not-issuer'
        : child.node.verify(issuer.node.publicKey)
          ? 'ok'
          : 'bad-signature';
      links.set(key, result);
    }
    return result;
  };
  let firstFailure: CertificateVerification | undefined;
  let badSignature: ParsedCertificate | undefined;
  let tried = 0;
  const search = (path: ParsedCertificate[]): CertificateVerification | undefined => {
    const top = path[path.length - 1]!;
    for (const anchor of t.anchors) {
      const l = link(top, anchor);
      if (l === 'bad-signature') badSignature ??= top;
      if (l !== 'ok' || tried >= MAX_PATHS) continue;
      tried++;
      const result = checkPath([...path, anchor], t, nowMs);
      if (result.ok) return result;
      firstFailure ??= result;
    }
    for (const next of offered) {
      if (path.includes(next) || tried >= MAX_PATHS) continue;
      const l = link(top, next);
      if (l === 'bad-signature') badSignature ??= top;
      if (l !== 'ok') continue;
      const found = search([...path, next]);
      if (found) return found;
    }
    return undefined;
  };
  const found = search([leaf]);
  if (found) return found;
  if (firstFailure) return firstFailure;
  if (badSignature)
    return fail(
      `the signature on ${badSignature === leaf ? 'it' : `the intermediate ${badSignature.name}`} does ` +
        `not verify with the key of the CA it names`,
    );
  return fail(
    `it is not issued by a CA this route trusts (issuer: ${leaf.issuerName}` +
      `${offered.length > 0 ? `, with ${offered.length} intermediate(s) sent` : ''})`,
  );
}

/** Every check of one complete path: leaf first, anchor last. */
function checkPath(path: ParsedCertificate[], t: ParsedTrust, nowMs: number): CertificateVerification {
  const above = path.length - 1;
  if (above > t.depth) {
    return fail(
      t.depth === 1
        ? 'this route accepts only certificates issued directly by one of its CAs, and this one comes ' +
            'through an intermediate'
        : `its chain has ${above} certificates above it, and this route allows ${t.depth} (max_verify_depth)`,
    );
  }
  let validUntilMs = Infinity;
  for (const [i, c] of path.entries()) {
    const what = i === 0 ? 'it' : `the ${i === path.length - 1 ? 'CA' : 'intermediate'} ${c.name}`;
    if (nowMs < c.notBeforeMs) return fail(`${what} is not valid before ${isoSeconds(c.notBeforeMs)}`, c.notBeforeMs);
    if (nowMs > c.notAfterMs) return fail(`${what} expired at ${isoSeconds(c.notAfterMs)}`);
    if (c.hasNameConstraints) return fail(`${what} has name constraints, which the control plane does not evaluate`);
    validUntilMs = Math.min(validUntilMs, c.notAfterMs);
  }
  // The untrusted part above the leaf: the intermediates the client sent.
  for (let i = 1; i < path.length - 1; i++) {
    const c = path[i]!;
    if (!c.isCa) return fail(`the intermediate ${c.name} is not a CA (no basicConstraints cA)`);
    if (c.pathLength !== undefined && i - 1 > c.pathLength)
      return fail(`the intermediate ${c.name} allows ${c.pathLength} intermediates below it, and there are ${i - 1}`);
    if (c.extendedKeyUsage && !c.extendedKeyUsage.includes(OID_CLIENT_AUTH))
      return fail(`the intermediate ${c.name} is restricted to other uses than TLS client authentication`);
    if (c.unhandledCritical)
      return fail(
        `the intermediate ${c.name} has a critical extension (${c.unhandledCritical}) that TLS ` +
          `verification does not handle`,
      );
  }
  if (t.crls.length > 0) {
    const issuer = path[1];
    if (!issuer)
      return fail(
        'its revocation cannot be checked: it is itself in the CA bundle, with no issuer to look up a CRL for',
      );
    const revocation = checkRevocation(path[0]!, issuer, t.crls, nowMs);
    if (!revocation.ok) return revocation;
    validUntilMs = Math.min(validUntilMs, revocation.validUntilMs);
  }
  return { ok: true, validUntilMs };
}

const SAN_TYPE_NAMES: Record<SanKind, string> = {
  dns: 'DNS',
  email: 'email',
  ip_address: 'IP address',
  uri: 'URI',
  user_principal_name: 'UPN',
};

function checkSubjectAltNames(leaf: ParsedCertificate, t: ParsedTrust): string | undefined {
  if (t.sanMatchers.length === 0) return undefined;
  const sans = subjectAltNames(leaf);
  if (t.sanMatchers.some((m) => sans[m.type].some((value) => m.regex.test(value)))) return undefined;
  return (
    `none of its subject alternative names matches this route's match_subject_alt_names ` +
    `(${t.sanMatchers.map((m) => `${SAN_TYPE_NAMES[m.type]} ${m.source}`).join('; ')})`
  );
}
