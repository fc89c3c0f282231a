// Distinguished names printed exactly as Envoy prints them (BoringSSL's X509_NAME_print_ex, XN_FLAG_RFC2253),
// so that what the control plane compares is what Envoy's RBAC regexes and issuer checks see
// (policy/subject-regex.ts, model/shared-host.ts). The one printer of names.
import { children, OID, readOid, readTbsCertificate, readTlv, SEQUENCE, SET, type Tlv } from './der.js';

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
    3: 'CN',
    4: 'SN',
    5: 'serialNumber',
    6: 'C',
    7: 'L',
    8: 'ST',
    9: 'street',
    10: 'O',
    11: 'OU',
    12: 'title',
    13: 'description',
    14: 'searchGuide',
    15: 'businessCategory',
    16: 'postalAddress',
    17: 'postalCode',
    18: 'postOfficeBox',
    19: 'physicalDeliveryOfficeName',
    20: 'telephoneNumber',
    21: 'telexNumber',
    22: 'teletexTerminalIdentifier',
    23: 'facsimileTelephoneNumber',
    24: 'x121Address',
    25: 'internationaliSDNNumber',
    26: 'registeredAddress',
    27: 'destinationIndicator',
    28: 'preferredDeliveryMethod',
    29: 'presentationAddress',
    30: 'supportedApplicationContext',
    31: 'member',
    32: 'owner',
    33: 'roleOccupant',
    34: 'seeAlso',
    35: 'userPassword',
    36: 'userCertificate',
    37: 'cACertificate',
    38: 'authorityRevocationList',
    39: 'certificateRevocationList',
    40: 'crossCertificatePair',
    41: 'name',
    42: 'GN',
    43: 'initials',
    44: 'generationQualifier',
    45: 'x500UniqueIdentifier',
    46: 'dnQualifier',
    47: 'enhancedSearchGuide',
    48: 'protocolInformation',
    49: 'distinguishedName',
    50: 'uniqueMember',
    51: 'houseIdentifier',
    52: 'supportedAlgorithms',
    53: 'deltaRevocationList',
    54: 'dmdName',
    65: 'pseudonym',
    72: 'role',
  }),
  ...arc('0.9.2342.19200300.100.1', {
    1: 'UID',
    2: 'textEncodedORAddress',
    3: 'mail',
    4: 'info',
    5: 'favouriteDrink',
    6: 'roomNumber',
    7: 'photo',
    8: 'userClass',
    9: 'host',
    10: 'manager',
    11: 'documentIdentifier',
    12: 'documentTitle',
    13: 'documentVersion',
    14: 'documentAuthor',
    15: 'documentLocation',
    20: 'homeTelephoneNumber',
    21: 'secretary',
    22: 'otherMailbox',
    23: 'lastModifiedTime',
    24: 'lastModifiedBy',
    25: 'DC',
    26: 'aRecord',
    27: 'pilotAttributeType27',
    28: 'mXRecord',
    29: 'nSRecord',
    30: 'sOARecord',
    31: 'cNAMERecord',
    37: 'associatedDomain',
    38: 'associatedName',
    39: 'homePostalAddress',
    40: 'personalTitle',
    41: 'mobileTelephoneNumber',
    42: 'pagerTelephoneNumber',
    43: 'friendlyCountryName',
    45: 'organizationalStatus',
    46: 'janetMailbox',
    47: 'mailPreferenceOption',
    48: 'buildingName',
    49: 'dSAQuality',
    50: 'singleLevelQuality',
    51: 'subtreeMinimumQuality',
    52: 'subtreeMaximumQuality',
    53: 'personalSignature',
    54: 'dITRedirect',
    55: 'audio',
    56: 'documentPublisher',
  }),
  ...arc('1.2.840.113549.1.9', {
    1: 'emailAddress',
    2: 'unstructuredName',
    3: 'contentType',
    4: 'messageDigest',
    5: 'signingTime',
    6: 'countersignature',
    7: 'challengePassword',
    8: 'unstructuredAddress',
    9: 'extendedCertificateAttributes',
    14: 'extReq',
    15: 'SMIME-CAPS',
    16: 'SMIME',
    20: 'friendlyName',
    21: 'localKeyID',
  }),
  ...arc('1.3.6.1.5.5.7.9', {
    1: 'id-pda-dateOfBirth',
    2: 'id-pda-placeOfBirth',
    3: 'id-pda-gender',
    4: 'id-pda-countryOfCitizenship',
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

/** One attribute of a Name, in DER order. */
export interface NameAttribute {
  /** Index of its RDN in the DER (attributes of one multi-valued RDN share it). */
  rdn: number;
  /** Dotted OID of its type. */
  oid: string;
  /** BoringSSL's short name for the type, when it has one. */
  shortName?: string;
  /** The value as text, when BoringSSL prints it as text (a known type of a string type that decodes). */
  text?: string;
  /** The value's whole DER (tag, length, content). */
  valueDer: Uint8Array;
}

/** The attributes of the Name `name` (inside `der`), in DER order: least specific RDN first. */
export function readNameAttributes(der: Uint8Array, name: Tlv): NameAttribute[] {
  const attributes: NameAttribute[] = [];
  children(der, name).forEach((rdn, index) => {
    if (rdn.tag !== SET) throw new Error('invalid distinguished name');
    for (const atv of children(der, rdn)) {
      const [type, value] = children(der, atv);
      if (atv.tag !== SEQUENCE || type?.tag !== OID || value === undefined) {
        throw new Error('invalid distinguished name');
      }
      const oid = readOid(der, type);
      const attribute: NameAttribute = { rdn: index, oid, valueDer: der.subarray(value.start, value.end) };
      const shortName = ATTRIBUTE_NAMES[oid];
      if (shortName !== undefined) {
        attribute.shortName = shortName;
        const text = decodeString(der, value);
        if (text !== undefined) attribute.text = text;
      }
      attributes.push(attribute);
    }
  });
  return attributes;
}

/**
 * A Name in RFC 2253 form as Envoy prints it (XN_FLAG_RFC2253): most specific RDN first, "," and
 * "+" separators, OpenSSL short names, special characters backslash-escaped, control and
 * non-ASCII bytes as \XX (UTF-8), unknown attribute types and value types as #hex of the DER.
 * Also the last (most specific) common name.
 */
export function readName(der: Uint8Array, name: Tlv): { rfc2253: string; commonName?: string } {
  const attributes = readNameAttributes(der, name);
  // The most specific common name is the last in the DER, the first Envoy prints. When its value is
  // of a type printed as #hex, there is no common name: Envoy's subject shows no other either.
  const commonName = attributes.filter((a) => a.oid === CN_OID).at(-1)?.text;
  const printed = attributes.map((a) => {
    const value = a.text === undefined ? `#${hex(a.valueDer)}` : escapeRfc2253(a.text);
    return { rdn: a.rdn, text: `${a.shortName ?? a.oid}=${value}` };
  });
  printed.reverse();
  const rfc2253 = printed.map((e, i) => (i === 0 ? '' : printed[i - 1]?.rdn === e.rdn ? '+' : ',') + e.text).join('');
  return commonName === undefined ? { rfc2253 } : { rfc2253, commonName };
}

/** A Name given as its own DER (a CRL's issuer) as Envoy prints it. */
export function printName(nameDer: Uint8Array): string {
  return readName(nameDer, readTlv(nameDer, 0, nameDer.length)).rfc2253;
}

/** The subject of a certificate (its DER) as Envoy prints it; its attributes when `attributes` is wanted. */
export function certificateSubject(certificateDer: Uint8Array): { rfc2253: string; attributes: NameAttribute[] } {
  const { subject } = readTbsCertificate(certificateDer);
  const attributes = readNameAttributes(certificateDer, subject);
  return { rfc2253: readName(certificateDer, subject).rfc2253, attributes };
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
