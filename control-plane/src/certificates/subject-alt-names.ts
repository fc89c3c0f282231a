// A certificate's subject alternative names, one by one, as they are in the DER: never joined and split
// again, so that a SAN holding a comma stays one SAN (Envoy's %DOWNSTREAM_PEER_*_SAN% headers cannot show
// that, which is why the RBAC filter matches SANs with a per-SAN principal instead; translate/rbac.ts).
import * as x509 from '@peculiar/x509';
import { children, OCTET_STRING, OID, readOid, readTlv, SEQUENCE, type Tlv } from './der.js';

const SAN_OID = '2.5.29.17';

/** The kinds of SAN this edge matches on (config's SanMatcher types, and IP addresses). */
export type SanKind = 'dns' | 'email' | 'uri' | 'ip_address' | 'user_principal_name';

/** A route's `match_subject_alt_names` entry: an RE2 matched against each whole SAN of its kind. */
export interface SanMatcher {
  type: SanKind;
  /** RE2, matched against the whole SAN. */
  regex: string;
}

/**
 * Each SAN as it is in the certificate (never split on ","); IA5String bytes that are not UTF-8 as
 * U+DC80…U+DCFF.
 */
export type SubjectAltNames = Record<SanKind, string[]>;

/** Context tags of the GeneralName choices held as IA5String bytes (RFC 5280 §4.2.1.6). */
const TEXT_SANS: Readonly<Record<number, 'email' | 'dns' | 'uri'>> = { 0x81: 'email', 0x82: 'dns', 0x86: 'uri' };

export function readSubjectAltNames(der: Uint8Array, extensions: Tlv[]): SubjectAltNames {
  const found = extensions.filter((extension) => {
    const id = children(der, extension)[0];
    return id?.tag === OID && readOid(der, id) === SAN_OID;
  });
  // RFC 5280 §4.2: an extension appears at most once. BoringSSL (Envoy) then reads no SAN at all, so
  // whatever one side took from such a certificate, the other would not see.
  if (found.length > 1) throw new Error('the certificate has more than one subjectAltName extension');
  const extension = found[0];
  if (extension === undefined) return noSans();
  const value = children(der, extension).at(-1);
  if (value?.tag !== OCTET_STRING) throw new Error('invalid subjectAltName extension');
  return readGeneralNames(der, readTlv(der, value.contentStart, value.end));
}

/** The SANs in `names` (the extension's SEQUENCE of GeneralName, inside `der`): the one reader of SANs. */
export function readGeneralNames(der: Uint8Array, names: Tlv): SubjectAltNames {
  if (names.tag !== SEQUENCE) throw new Error('invalid subjectAltName extension');
  const sans = noSans();
  for (const entry of children(der, names)) {
    const text = TEXT_SANS[entry.tag];
    if (text !== undefined) {
      sans[text].push(decodeBytes(der.subarray(entry.contentStart, entry.end)));
      continue;
    }
    let name: x509.GeneralName;
    try {
      name = new x509.GeneralName(der.slice(entry.start, entry.end));
    } catch {
      continue; // An otherName of another kind, an X.400 address…: nothing this edge matches on.
    }
    if (name.type === 'ip') sans.ip_address.push(name.value);
    if (name.type === 'upn') sans.user_principal_name.push(name.value);
  }
  return sans;
}

function noSans(): SubjectAltNames {
  return { dns: [], email: [], uri: [], ip_address: [], user_principal_name: [] };
}

/**
 * The bytes of an IA5String SAN as text that compares like the bytes do in Envoy, which matches SANs
 * byte by byte: UTF-8 sequences become their characters, and a byte that starts no valid sequence becomes
 * the lone surrogate U+DC80…U+DCFF (as Python's surrogateescape), which no policy value (valid UTF-8) holds.
 */
function decodeBytes(bytes: Uint8Array): string {
  let text = '';
  for (let i = 0; i < bytes.length;) {
    const length = utf8SequenceLength(bytes, i);
    if (length === 0) {
      text += String.fromCharCode(0xdc00 + (bytes[i] as number));
      i += 1;
    } else {
      text += Buffer.from(bytes.subarray(i, i + length)).toString('utf8');
      i += length;
    }
  }
  return text;
}

/** The length of the well-formed UTF-8 sequence at `i` (RFC 3629 table), or 0 if there is none. */
function utf8SequenceLength(bytes: Uint8Array, i: number): number {
  const b0 = bytes[i] as number;
  if (b0 < 0x80) return 1;
  const at = (k: number): number => bytes[i + k] ?? -1;
  const tail = (k: number): boolean => at(k) >= 0x80 && at(k) <= 0xbf;
  if (b0 >= 0xc2 && b0 <= 0xdf) return tail(1) ? 2 : 0;
  if (b0 >= 0xe0 && b0 <= 0xef) {
    const [lo, hi] = b0 === 0xe0 ? [0xa0, 0xbf] : b0 === 0xed ? [0x80, 0x9f] : [0x80, 0xbf];
    return at(1) >= lo && at(1) <= hi && tail(2) ? 3 : 0;
  }
  if (b0 >= 0xf0 && b0 <= 0xf4) {
    const [lo, hi] = b0 === 0xf0 ? [0x90, 0xbf] : b0 === 0xf4 ? [0x80, 0x8f] : [0x80, 0xbf];
    return at(1) >= lo && at(1) <= hi && tail(2) && tail(3) ? 4 : 0;
  }
  return 0;
}
