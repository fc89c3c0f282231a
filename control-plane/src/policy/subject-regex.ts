import type { StringMatcher } from './types.js';
import { HOST_NAME_REGEX, hostNameRegex } from './host-name-regex.js';
import { quoteRegex } from './regex-text.js';

/**
 * RE2 regexes over a subject as Envoy prints it (%DOWNSTREAM_PEER_SUBJECT%: BoringSSL's RFC 2253 form,
 * most specific RDN first, e.g. `CN=bob\+x@example.com,O=Org\, Inc`), for the policies that read the
 * common name. They must agree with identity/certificate-identity.ts, which takes the most specific common
 * name (the first one printed) and calls it an email when it is a mail address (certificates/host-names.ts).
 *
 * BoringSSL escapes `,+"\<>;` anywhere, `#` and a space at the start of a value, a space at its end, and
 * every byte of a non-ASCII or control character as `\XX`; `=` is not escaped.
 */

// One printed character of a value: anything but a separator or a backslash, or a backslash and the next one.
const CHAR = '(?:[^\\\\,+]|\\\\.)';
// One printed character of a dot-atom (RFC 5322 atext): "+" is always escaped, "#" at the start of a value.
// Nothing else of atext is escaped, and a dot-atom holds no space, control or non-ASCII character.
// (A "#" printed unescaped at the start would be accepted too: BoringSSL never prints one there.)
const LOCAL_CHAR = "(?:[!#-'*\\-/-9=?A-Z^-~]|\\\\\\+)";
/** A dot-atom local part as BoringSSL prints it at the start of a value: no dot first, last, or twice. */
const PRINTED_LOCAL_PART = `(?:\\\\#|${LOCAL_CHAR})(?:\\.?${LOCAL_CHAR})*`;
// An attribute type that is not CN: a short name or a dotted OID.
const NOT_CN = '(?:[A-BD-Za-z0-9.][A-Za-z0-9.-]*|C|C[A-MO-Za-z0-9.-][A-Za-z0-9.-]*|CN[A-Za-z0-9.-]+)';
/** Everything before the value of the first (most specific) common name. */
const BEFORE_FIRST_CN = `(?:${NOT_CN}=${CHAR}*[,+])*CN=`;
const AFTER_VALUE = '(?:[,+].*)?';

/** How BoringSSL prints `text` inside a value, as a regex; `atStart`/`atEnd`: undefined = either. */
function printed(text: string, atStart: boolean | undefined, atEnd: boolean | undefined): string {
  const chars = [...text];
  return chars
    .map((c, i) => {
      const code = c.codePointAt(0)!;
      if (code >= 0x80 || code < 0x20 || code === 0x7f) {
        return [...Buffer.from(c, 'utf8')].map((b) => `\\\\${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');
      }
      if (',+"\\<>;'.includes(c)) return `\\\\${quoteRegex(c)}`;
      const first = i === 0 && (c === '#' || c === ' ');
      const last = i === chars.length - 1 && c === ' ';
      const escaped = (first && atStart) || (last && atEnd);
      const maybe = (first && atStart === undefined) || (last && atEnd === undefined);
      return escaped ? `\\\\${quoteRegex(c)}` : maybe ? `(?:\\\\)?${quoteRegex(c)}` : quoteRegex(c);
    })
    .join('');
}

/** A whole value matching `m`. */
function valueRegex(m: StringMatcher): string {
  const any = `${CHAR}*`;
  switch (m.op) {
    case 'is':
    case 'not':
      return printed(m.value, true, true);
    case 'starts_with':
      return printed(m.value, true, undefined) + any;
    case 'ends_with':
      return any + printed(m.value, undefined, true);
    case 'contains':
      return any + printed(m.value, undefined, undefined) + any;
    case 'in':
      return `(?:${m.values.map((v) => printed(v, true, true)).join('|') || '[^\\s\\S]'})`;
  }
}

/** The first common name matches `m`. */
export function commonNameRegex(m: StringMatcher): string {
  return `${BEFORE_FIRST_CN}${valueRegex(m)}${AFTER_VALUE}`;
}

/** The first common name is a mail address. */
export const EMAIL_COMMON_NAME_REGEX = `${BEFORE_FIRST_CN}${PRINTED_LOCAL_PART}@${HOST_NAME_REGEX}${AFTER_VALUE}`;

/** The first common name is a mail address whose host name (compared as DNS does) matches `m`. */
export function commonNameDomainRegex(m: StringMatcher): string {
  return `${BEFORE_FIRST_CN}${PRINTED_LOCAL_PART}@${hostNameRegex(m)}${AFTER_VALUE}`;
}
