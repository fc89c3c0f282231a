// What a client certificate says about its holder, read once per distinct certificate.
//
// @peculiar/x509 parses the certificate and decodes the SAN entries. The certificate is also
// walked with a small DER reader for three things the library does not give in the form needed:
// the exact SubjectPublicKeyInfo bytes, names printed as Envoy prints them (BoringSSL's
// X509_NAME_print_ex with XN_FLAG_RFC2253), and SAN entries one by one, because the library
// refuses a whole SAN extension when a single entry is of a kind it cannot decode.
import { createHash } from 'node:crypto';
import * as x509 from '@peculiar/x509';
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
export function looksLikeEmail(value: string): boolean {
  return /^[^@\t\n\v\f\r ]+@[^@\t\n\v\f\r ]+$/.test(value);
}

function deepFreeze(identity: CertificateIdentity): CertificateIdentity {
  for (const list of Object.values(identity.sans)) Object.freeze(list);
  Object.freeze(identity.sans);
  return Object.freeze(identity);
}

// ---- DER ----

interface Tlv {
  tag: number;
  /** Offset of the tag byte. */
  start: number;
  /** Offset of the first content byte. */
  contentStart: number;
  /** Offset just past the content. */
  end: number;
}

function readTlv(der: Uint8Array, offset: number, limit: number): Tlv {
  if (offset + 2 > limit) throw new Error('truncated DER');
  const tag = der[offset] as number;
  if ((tag & 0x1f) === 0x1f) throw new Error('unsupported DER tag');
  let length = der[offset + 1] as number;
  let contentStart = offset + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 4 || contentStart + count > limit) throw new Error('invalid DER length');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + (der[contentStart + i] as number);
    contentStart += count;
  }
  const end = contentStart + length;
  if (end > limit) throw new Error('truncated DER');
  return { tag, start: offset, contentStart, end };
}

function children(der: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let at = parent.contentStart; at < parent.end; ) {
    const child = readTlv(der, at, parent.end);
    out.push(child);
    at = child.end;
  }
  return out;
}

const SEQUENCE = 0x30;
const SET = 0x31;
const OID = 0x06;
const OCTET_STRING = 0x04;

interface TbsParts {
  issuer: Tlv;
  subject: Tlv;
  spki: Tlv;
  extensions: Tlv[];
}

function readTbsCertificate(der: Uint8Array): TbsParts {
  const certificate = readTlv(der, 0, der.length);
  const tbs = children(der, certificate)[0];
  if (certificate.tag !== SEQUENCE || tbs?.tag !== SEQUENCE) throw new Error('not an X.509 certificate');
  const fields = children(der, tbs);
  // version [0] EXPLICIT is optional; then serialNumber, signature, issuer, validity, subject, spki.
  const first = fields[0]?.tag === 0xa0 ? 1 : 0;
  const [, , issuer, , subject, spki] = fields.slice(first);
  if (issuer === undefined || subject === undefined || spki === undefined) throw new Error('not an X.509 certificate');
  const extensions = fields.slice(first + 6).find((f) => f.tag === 0xa3);
  const list = extensions === undefined ? undefined : children(der, extensions)[0];
  return { issuer, subject, spki, extensions: list === undefined ? [] : children(der, list) };
}

function readOid(der: Uint8Array, tlv: Tlv): string {
  const arcs: bigint[] = [];
  let value = 0n;
  for (let i = tlv.contentStart; i < tlv.end; i++) {
    const byte = der[i] as number;
    value = (value << 7n) | BigInt(byte & 0x7f);
    if (!(byte & 0x80)) {
      arcs.push(value);
      value = 0n;
    }
  }
  const head = arcs.shift() ?? 0n;
  const top = head < 40n ? 0n : head < 80n ? 1n : 2n;
  return [top, head - top * 40n, ...arcs].join('.');
}

// ---- names ----

/**
 * The short names Envoy's BoringSSL prints for attribute types (XN_FLAG_FN_SN): those of the arcs that name
 * attributes, read from Envoy 1.40 itself. Any other type is printed as its dotted OID with the value as
 * #hex of its DER (XN_FLAG_DUMP_UNKNOWN_FIELDS): that includes organizationIdentifier (2.5.4.97) and the EV
 * jurisdiction* attributes, which BoringSSL does not know although OpenSSL does. (An OID BoringSSL knows
 * from elsewhere, such as an extension's, used as an attribute type would print by name there: no
 * certificate does that.)
 */
const ATTRIBUTE_NAMES: Readonly<Record<string, string>> = Object.fromEntries([
  ...arc('2.5.4', {
    3: 'CN', 4: 'SN', 5: 'serialNumber', 6: 'C', 7: 'L', 8: 'ST', 9: 'street', 10: 'O', 11: 'OU', 12: 'title',
    13: 'description', 14: 'searchGuide', 15: 'businessCategory', 16: 'postalAddress', 17: 'postalCode',
    18: 'postOfficeBox', 19: 'physicalDeliveryOfficeName', 20: 'telephoneNumber', 21: 'telexNumber',
    22: 'teletexTerminalIdentifier', 23: 'facsimileTelephoneNumber', 24: 'x121Address', 25: 'internationaliSDNNumber',
    26: 'registeredAddress', 27: 'destinationIndicator', 28: 'preferredDeliveryMethod', 29: 'presentationAddress',
    30: 'supportedApplicationContext', 31: 'member', 32: 'owner', 33: 'roleOccupant', 34: 'seeAlso', 35: 'userPassword',
    36: 'userCertificate', 37: 'cACertificate', 38: 'authorityRevocationList', 39: 'certificateRevocationList',
    40: 'crossCertificatePair', 41: 'name', 42: 'GN', 43: 'initials', 44: 'generationQualifier',
    45: 'x500UniqueIdentifier', 46: 'dnQualifier', 47: 'enhancedSearchGuide', 48: 'protocolInformation',
    49: 'distinguishedName', 50: 'uniqueMember', 51: 'houseIdentifier', 52: 'supportedAlgorithms',
    53: 'deltaRevocationList', 54: 'dmdName', 65: 'pseudonym', 72: 'role',
  }),
  ...arc('0.9.2342.19200300.100.1', {
    1: 'UID', 2: 'textEncodedORAddress', 3: 'mail', 4: 'info', 5: 'favouriteDrink', 6: 'roomNumber', 7: 'photo',
    8: 'userClass', 9: 'host', 10: 'manager', 11: 'documentIdentifier', 12: 'documentTitle', 13: 'documentVersion',
    14: 'documentAuthor', 15: 'documentLocation', 20: 'homeTelephoneNumber', 21: 'secretary', 22: 'otherMailbox',
    23: 'lastModifiedTime', 24: 'lastModifiedBy', 25: 'DC', 26: 'aRecord', 27: 'pilotAttributeType27', 28: 'mXRecord',
    29: 'nSRecord', 30: 'sOARecord', 31: 'cNAMERecord', 37: 'associatedDomain', 38: 'associatedName',
    39: 'homePostalAddress', 40: 'personalTitle', 41: 'mobileTelephoneNumber', 42: 'pagerTelephoneNumber',
    43: 'friendlyCountryName', 45: 'organizationalStatus', 46: 'janetMailbox', 47: 'mailPreferenceOption',
    48: 'buildingName', 49: 'dSAQuality', 50: 'singleLevelQuality', 51: 'subtreeMinimumQuality',
    52: 'subtreeMaximumQuality', 53: 'personalSignature', 54: 'dITRedirect', 55: 'audio', 56: 'documentPublisher',
  }),
  ...arc('1.2.840.113549.1.9', {
    1: 'emailAddress', 2: 'unstructuredName', 3: 'contentType', 4: 'messageDigest', 5: 'signingTime',
    6: 'countersignature', 7: 'challengePassword', 8: 'unstructuredAddress', 9: 'extendedCertificateAttributes',
    14: 'extReq', 15: 'SMIME-CAPS', 16: 'SMIME', 20: 'friendlyName', 21: 'localKeyID',
  }),
  ...arc('1.3.6.1.5.5.7.9', {
    1: 'id-pda-dateOfBirth', 2: 'id-pda-placeOfBirth', 3: 'id-pda-gender', 4: 'id-pda-countryOfCitizenship',
    5: 'id-pda-countryOfResidence',
  }),
]);

function arc(prefix: string, names: Record<number, string>): Array<[string, string]> {
  return Object.entries(names).map(([n, name]) => [`${prefix}.${n}`, name]);
}
const CN_OID = '2.5.4.3';

/**
 * Bytes per character of the string types BoringSSL prints as text (string_type_to_encoding); 0 = UTF-8,
 * 1 = Latin-1. Any other type (GeneralString, BIT STRING…) is dumped as #hex.
 */
const CHAR_WIDTH: Record<number, number> = { 12: 0, 18: 1, 19: 1, 20: 1, 22: 1, 23: 1, 24: 1, 26: 1, 28: 4, 30: 2 };

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A Name in RFC 2253 form as Envoy prints it (XN_FLAG_RFC2253): most specific RDN first, "," and
 * "+" separators, OpenSSL short names, special characters backslash-escaped, control and
 * non-ASCII bytes as \XX (UTF-8), unknown attribute types and value types as #hex of the DER.
 * Also the last (most specific) common name.
 */
function readName(der: Uint8Array, name: Tlv): { rfc2253: string; commonName?: string } {
  const entries: Array<{ set: number; text: string }> = [];
  let commonName: string | undefined;
  children(der, name).forEach((rdn, set) => {
    if (rdn.tag !== SET) throw new Error('invalid distinguished name');
    for (const atv of children(der, rdn)) {
      const [type, value] = children(der, atv);
      if (atv.tag !== SEQUENCE || type?.tag !== OID || value === undefined) throw new Error('invalid distinguished name');
      const oid = readOid(der, type);
      const short = ATTRIBUTE_NAMES[oid];
      const decoded = short === undefined ? undefined : decodeString(der, value);
      // The most specific common name is the last in the DER, the first Envoy prints. When its value is
      // of a type printed as #hex, there is no common name: Envoy's subject shows no other either.
      if (oid === CN_OID) commonName = decoded;
      const printed = decoded === undefined ? `#${hex(der.subarray(value.start, value.end))}` : escapeRfc2253(decoded);
      entries.push({ set, text: `${short ?? oid}=${printed}` });
    }
  });
  entries.reverse();
  const rfc2253 = entries.map((e, i) => (i === 0 ? '' : entries[i - 1]?.set === e.set ? '+' : ',') + e.text).join('');
  return commonName === undefined ? { rfc2253 } : { rfc2253, commonName };
}

function decodeString(der: Uint8Array, value: Tlv): string | undefined {
  const width = CHAR_WIDTH[value.tag];
  const bytes = der.subarray(value.contentStart, value.end);
  if (width === undefined) return undefined;
  if (width === 0) {
    try {
      return utf8.decode(bytes);
    } catch {
      return undefined;
    }
  }
  if (bytes.length % width !== 0) return undefined;
  let text = '';
  for (let i = 0; i < bytes.length; i += width) {
    let code = 0;
    for (let j = 0; j < width; j++) code = code * 256 + (bytes[i + j] as number);
    if (code > 0x10ffff) return undefined;
    text += String.fromCodePoint(code);
  }
  return text;
}

function escapeRfc2253(value: string): string {
  const chars = [...value];
  return chars
    .map((c, i) => {
      const code = c.codePointAt(0) as number;
      if (code > 0x7f) return [...Buffer.from(c, 'utf8')].map((b) => `\\${hexByte(b)}`).join('');
      if (code < 0x20 || code === 0x7f) return `\\${hexByte(code)}`;
      if (',+"\\<>;'.includes(c)) return `\\${c}`;
      if (i === 0 && (c === ' ' || c === '#')) return `\\${c}`;
      if (i === chars.length - 1 && c === ' ') return `\\${c}`;
      return c;
    })
    .join('');
}

const hexByte = (b: number): string => b.toString(16).toUpperCase().padStart(2, '0');
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex').toUpperCase();

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
