// What a client certificate says about its holder, read once per distinct certificate.
//
// @peculiar/x509 parses the certificate and decodes the SAN entries. The certificate is also
// walked with a small DER reader for three things the library does not give in the form needed:
// the exact SubjectPublicKeyInfo bytes, names printed as Envoy prints them (BoringSSL's
// X509_NAME_print_ex with XN_FLAG_RFC2253), and SAN entries one by one, because the library
// refuses a whole SAN extension when a single entry is of a kind it cannot decode.
import { createHash } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { children, OCTET_STRING, OID, readOid, readTbsCertificate, readTlv, SEQUENCE, type Tlv } from './der.js';
import { readName } from './rfc2253-name.js';
import type { CertificateIdentity } from './types.js';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/;

/**
 * The identity in a PEM certificate: the leaf, i.e. the first certificate of the text.
 * Throws when the text holds no certificate or the certificate does not parse.
 */
export function certificateIdentity(pem: string): CertificateIdentity {
  const block = PEM_CERTIFICATE.exec(pem)?.[0];
  if (block === undefined) throw new Error('no PEM certificate found (expected "-----BEGIN CERTIFICATE-----")');
  let cert: x509.X509Certificate;
  try {
    cert = new x509.X509Certificate(block);
  } catch (e) {
    throw new Error(`the certificate does not parse: ${(e as Error).message}`);
  }
  const der = new Uint8Array(cert.rawData);
  const tbs = readTbsCertificate(der);

  const subject = readName(der, tbs.subject);
  const commonName = subject.commonName;
  const sans = readSubjectAltNames(der, tbs.extensions);
  // Envoy's RBAC filter decides `email` from the same two sources: the first element of
  // %DOWNSTREAM_PEER_EMAIL_SAN% when there is one, else the subject's most specific common name when it
  // looks like an email address (translate/rbac.ts). Both must come out the same.
  const email = sans.email.length > 0 ? sans.email[0] : commonName !== undefined && looksLikeEmail(commonName) ? commonName : undefined;
  const user = sans.user_principal_name[0] ?? commonName;

  const identity: CertificateIdentity = {
    fingerprint: createHash('sha256').update(der).digest('hex'),
    spkiHash: createHash('sha256').update(der.subarray(tbs.spki.start, tbs.spki.end)).digest('base64'),
    subject: subject.rfc2253,
    issuer: readName(der, tbs.issuer).rfc2253,
    sans,
  };
  if (commonName !== undefined) identity.commonName = commonName;
  if (email !== undefined) {
    identity.email = email;
    // An email SAN need not hold an address ("example.com"): it then has no domain. Envoy's RBAC reads
    // the domain with a regex that needs an "@" too, and takes what follows the last one.
    const at = email.lastIndexOf('@');
    if (at >= 0) identity.domain = email.slice(at + 1).toLowerCase();
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
 * A common name that is taken for an email address: exactly one "@", a non-empty part on either side,
 * and no ASCII white space (HT, LF, VT, FF, CR, space). Any other character is fine, including those
 * RFC 2253 escapes (`,+"\<>;`, a leading "#", non-ASCII, other control characters).
 *
 * Envoy's RBAC filter applies the same rule with a regex over the RFC 2253 subject, where every
 * character of the value is either itself or an escape (`\,`, `\ `, `\09`, `\C3`…). ASCII white space
 * there is a space or `\ `, or `\09`…`\0D`: simple to refuse. Non-ASCII white space (U+00A0…) appears
 * as escaped UTF-8 bytes, which a regex cannot single out without listing every sequence; so it is not
 * refused here either, and both sides stay the same rule.
 */
function looksLikeEmail(value: string): boolean {
  return /^[^@\t\n\v\f\r ]+@[^@\t\n\v\f\r ]+$/.test(value);
}

function deepFreeze(identity: CertificateIdentity): CertificateIdentity {
  for (const list of Object.values(identity.sans)) Object.freeze(list);
  Object.freeze(identity.sans);
  return Object.freeze(identity);
}

// ---- subject alternative names ----

const SAN_OID = '2.5.29.17';

function readSubjectAltNames(der: Uint8Array, extensions: Tlv[]): CertificateIdentity['sans'] {
  const sans: CertificateIdentity['sans'] = { dns: [], email: [], uri: [], ip_address: [], user_principal_name: [] };
  for (const extension of extensions) {
    const parts = children(der, extension);
    const id = parts[0];
    const value = parts[parts.length - 1];
    if (id?.tag !== OID || value?.tag !== OCTET_STRING || readOid(der, id) !== SAN_OID) continue;
    const names = readTlv(der, value.contentStart, value.end);
    if (names.tag !== SEQUENCE) throw new Error('invalid subjectAltName extension');
    for (const entry of children(der, names)) {
      let name: x509.GeneralName;
      try {
        name = new x509.GeneralName(der.slice(entry.start, entry.end));
      } catch {
        continue; // An otherName of another kind, an X.400 address…: nothing this edge matches on.
      }
      const list = SAN_LISTS[name.type];
      if (list !== undefined) sans[list].push(name.value);
    }
  }
  for (const list of JOINED_BY_ENVOY) sans[list] = asEnvoyList(sans[list]);
  return sans;
}

/**
 * The SAN kinds Envoy hands its RBAC filter as one string, the values joined with ","
 * (%DOWNSTREAM_PEER_DNS_SAN%, _EMAIL_SAN%, _URI_SAN%). In that string a SAN "alice@example.com,zz"
 * cannot be told from two SANs "alice@example.com" and "zz", so the identity takes them apart the same
 * way: what a policy sees here (and the `email` taken from the first element) is then what Envoy's RBAC
 * sees. A CA that puts a comma in a SAN is rare, and splitting can only make a policy see the values
 * Envoy sees. IP addresses and UPNs stay whole: Envoy's RBAC never reads them.
 */
const JOINED_BY_ENVOY = ['dns', 'email', 'uri'] as const;

/** Joined with "," and split again; nothing at all when the joined text is empty (Envoy sets no header). */
function asEnvoyList(values: string[]): string[] {
  const joined = values.join(',');
  return joined === '' ? [] : joined.split(',');
}

const SAN_LISTS: Partial<Record<x509.GeneralNameType, keyof CertificateIdentity['sans']>> = {
  dns: 'dns',
  email: 'email',
  url: 'uri',
  ip: 'ip_address',
  upn: 'user_principal_name',
};
