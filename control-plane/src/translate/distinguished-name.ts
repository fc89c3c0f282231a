import type { StringMatcher } from '../config/index.js';

/**
 * RE2 regexes over a subject as Envoy prints it (%DOWNSTREAM_PEER_SUBJECT%: BoringSSL's RFC 2253 form,
 * most specific RDN first, e.g. `CN=bob\+x@example.com,O=Org\, Inc`), for the policies that read the
 * common name. They must agree with identity/certificate-identity.ts, which takes the most specific common
 * name (the first one printed) and calls it an email when it has exactly one "@", text on both sides, and
 * no white space.
 *
 * BoringSSL escapes `,+"\<>;` anywhere, `#` and a space at the start of a value, a space at its end, and
 * every byte of a non-ASCII or control character as `\XX`; `=` is not escaped.
 */

/** RE2 with every character taken literally. */
export function quoteRegex(text: string): string {
  return text.replace(/[\\^$.|?*+()[\]{}-]/g, '\\$&');
}

/**
 * Literal text, ASCII letters in either case. (Not RE2's (?i): applied to a whole subject it would also
 * let "cn" pass for "CN" in the attribute types, and JavaScript, which tests these regexes, lacks it.)
 */
export function caselessQuote(text: string): string {
  return [...text].map((c) => (/[a-z]/i.test(c) ? `[${c.toLowerCase()}${c.toUpperCase()}]` : quoteRegex(c))).join('');
}

// One printed character of a value: anything but a separator or a backslash, or a backslash and the next one.
const CHAR = '(?:[^\\\\,+]|\\\\.)';
// One printed character of an email-like value: no "@" and no white space, escaped or not (a space is
// escaped at the ends; a tab, LF, VT, FF or CR always, as \09 to \0D).
const EMAIL_CHAR = '(?:[^\\\\,+@\\s]|\\\\[^@\\s0]|\\\\0[0-8EF])';
// An attribute type that is not CN: a short name or a dotted OID.
const NOT_CN = '(?:[A-BD-Za-z0-9.][A-Za-z0-9.-]*|C|C[A-MO-Za-z0-9.-][A-Za-z0-9.-]*|CN[A-Za-z0-9.-]+)';
/** Everything before the value of the first (most specific) common name. */
const BEFORE_FIRST_CN = `(?:${NOT_CN}=${CHAR}*[,+])*CN=`;
const AFTER_VALUE = '(?:[,+].*)?';

/** How BoringSSL prints `text` inside a value, as a regex; `atStart`/`atEnd`: undefined = either. */
function printed(text: string, atStart: boolean | undefined, atEnd: boolean | undefined, caseless = false): string {
  const literal = caseless ? caselessQuote : quoteRegex;
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
      return escaped ? `\\\\${quoteRegex(c)}` : maybe ? `(?:\\\\)?${quoteRegex(c)}` : literal(c);
    })
    .join('');
}

/** A value matching `m`, made of `char`s (the whole value, or the part after "@" with `tail`). */
function valueRegex(m: StringMatcher, char: string, tail = false): string {
  const any = `${char}*`;
  // In the part after "@", a matched text never starts the value; it ends it when the matcher says so.
  const start = tail ? false : undefined;
  switch (m.op) {
    case 'is':
    case 'not':
      return printed(m.value, tail ? false : true, true, tail);
    case 'starts_with':
      return printed(m.value, tail ? false : true, undefined, tail) + any;
    case 'ends_with':
      return any + printed(m.value, start, true, tail);
    case 'contains':
      return any + printed(m.value, start, undefined, tail) + any;
    case 'in':
      return `(?:${m.values.map((v) => printed(v, tail ? false : true, true, tail)).join('|') || '[^\\s\\S]'})`;
  }
}

/** The first common name matches `m`. */
export function commonNameRegex(m: StringMatcher): string {
  return `${BEFORE_FIRST_CN}${valueRegex(m, CHAR)}${AFTER_VALUE}`;
}

/** The first common name is an email address. */
export const EMAIL_COMMON_NAME_REGEX = `${BEFORE_FIRST_CN}${EMAIL_CHAR}+@${EMAIL_CHAR}+${AFTER_VALUE}`;

/** The first common name is an email address whose domain (compared without regard to case) matches `m`. */
export function commonNameDomainRegex(m: StringMatcher): string {
  return `${BEFORE_FIRST_CN}${EMAIL_CHAR}+@${valueRegex(m, EMAIL_CHAR, true)}${AFTER_VALUE}`;
}
