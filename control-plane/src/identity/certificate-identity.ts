// What a client certificate says about its holder, read once per distinct certificate. The certificate's
// fields (digests, names as Envoy prints them, SANs) come from certificates/certificate-fields.ts; this
// module decides which of them is the holder's email, user and domain.
import { isMailAddress, readCertificateFields } from '../certificates/index.js';
import type { CertificateIdentity } from './types.js';

/**
 * The identity in a PEM certificate: the leaf, i.e. the first certificate of the text.
 * Throws when the text holds no certificate or the certificate does not parse.
 */
export function certificateIdentity(pem: string): CertificateIdentity {
  const fields = readCertificateFields(pem);
  const { commonName, sans } = fields;
  const email = emailOf(sans.email, commonName);
  const user = sans.user_principal_name[0] ?? commonName;

  const identity: CertificateIdentity = {
    fingerprint: fields.fingerprint,
    spkiHash: fields.spkiHash,
    subject: fields.subject,
    issuer: fields.issuer,
    sans,
  };
  if (commonName !== undefined) identity.commonName = commonName;
  if (email !== undefined) {
    identity.email = email;
    // A mail address has one "@", followed by a host name in LDH form: lower case is how DNS compares it.
    identity.domain = email.slice(email.indexOf('@') + 1).toLowerCase();
  }
  if (user !== undefined) identity.user = user;
  return identity;
}

/**
 * The identity in Envoy's `attributes.source.certificate` (ext_authz) or `%DOWNSTREAM_PEER_CERT%`:
 * the URL-encoded PEM of the peer certificate. Undefined when the string is empty (no certificate
 * was presented); throws like {@link certificateIdentity} when it is not a certificate.
 *
 * The same certificate arrives with every request of a client, so results are cached by the
 * encoded text (bounded, least recently used first out). Cached identities are frozen and shared.
 */
export function identityFromEnvoyCertificate(urlEncodedPem: string): CertificateIdentity | undefined {
  if (urlEncodedPem === '') return undefined;
  const cached = cache.get(urlEncodedPem);
  if (cached !== undefined) {
    // Re-insert so that Map iteration order is least recently used first.
    cache.delete(urlEncodedPem);
    cache.set(urlEncodedPem, cached);
    return cached;
  }
  let pem: string;
  try {
    pem = decodeURIComponent(urlEncodedPem);
  } catch {
    throw new Error('the certificate is not valid URL-encoded text');
  }
  const identity = deepFreeze(certificateIdentity(pem));
  if (cache.size >= MAX_CACHED_IDENTITIES) {
    const oldest = cache.keys().next();
    if (!oldest.done) cache.delete(oldest.value);
  }
  cache.set(urlEncodedPem, identity);
  return identity;
}

/** Empties the cache of {@link identityFromEnvoyCertificate} (tests). */
export function clearIdentityCache(): void {
  cache.clear();
}

export const MAX_CACHED_IDENTITIES = 10_000;
const cache = new Map<string, CertificateIdentity>();

/**
 * The email: the first email SAN, else (when the certificate has none) the most specific common name, and
 * only if it is a mail address (certificates/host-names.ts: a dot-atom local part, "@", a host name).
 *
 * Envoy's RBAC filter decides from the same two sources (translate/rbac.ts): the first element of
 * %DOWNSTREAM_PEER_EMAIL_SAN% — the SANs joined with "," — else the common name in the RFC 2253 subject.
 * A mail address never holds a comma, but a SAN may: `alice@example.com,x@evil.com` would show Envoy the
 * element `alice@example.com`. So a certificate with any email SAN holding a comma has no email at all,
 * which Envoy tells apart with a per-SAN principal; then the first element is the first SAN. Envoy sets no
 * header when the joined text is empty (a single empty SAN): that counts as having no email SAN.
 */
function emailOf(emailSans: string[], commonName: string | undefined): string | undefined {
  if (emailSans.join(',') !== '') {
    const first = emailSans[0] as string;
    return !emailSans.some((san) => san.includes(',')) && isMailAddress(first) ? first : undefined;
  }
  return commonName !== undefined && isMailAddress(commonName) ? commonName : undefined;
}

function deepFreeze(identity: CertificateIdentity): CertificateIdentity {
  for (const list of Object.values(identity.sans)) Object.freeze(list);
  Object.freeze(identity.sans);
  return Object.freeze(identity);
}
