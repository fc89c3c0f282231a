import type { StringMatcher } from './types.js';
import { caselessQuote } from './regex-text.js';

/**
 * certificates/host-names.ts in RE2, for Envoy's RBAC filter: host names in LDH form and mail addresses with a
 * dot-atom local part. Tested against names.ts on the same inputs (test/unit/translate/host-name-regex.test.ts).
 */

// Written so that each character class appears as few times as it can: Envoy refuses a regex whose RE2
// program is larger than a limit (envoy/bootstrap.yaml), and every copy of a class counts.
const ALNUM = '[A-Za-z0-9]';
const LDH = '[A-Za-z0-9-]';
/** A letter or digit, then hyphens or nothing before each further letter or digit. */
const LABEL = `${ALNUM}(?:-*${ALNUM})*`;
/** A regex that matches nothing (RE2 has no empty class). */
export const NOTHING_REGEX = '[^\\s\\S]';

/** Labels joined by dots: after the first letter or digit, each further one follows hyphens, a dot or nothing. */
export const HOST_NAME_REGEX = `${ALNUM}(?:(?:-*|\\.)${ALNUM})*`;

/**
 * RFC 5322 atext (0x21, 0x23-0x27, 0x2A, 0x2B, 0x2D, 0x2F-0x39, 0x3D, 0x3F, 0x41-0x5A, 0x5E-0x7E), and a dot-atom of
 * it.
 */
const ATEXT = "[!#-'*+\\-/-9=?A-Z^-~]";
export const DOT_ATOM_REGEX = `${ATEXT}(?:\\.?${ATEXT})*`;
export const MAIL_ADDRESS_REGEX = `${DOT_ATOM_REGEX}@${HOST_NAME_REGEX}`;

/**
 * Host names (in any case) that meet `m`, whose values are lower case (matcher-values.ts). RE2 has no
 * lookahead to say "a host name, and ends with …": each matcher is woven into the host name grammar instead.
 */
export function hostNameRegex(m: StringMatcher): string {
  switch (m.op) {
    case 'is':
    case 'not':
      return around(m.value, false, false);
    case 'in':
      return m.values.length === 0 ? NOTHING_REGEX : `(?:${m.values.map((v) => around(v, false, false)).join('|')})`;
    case 'starts_with':
      return around(m.value, false, true);
    case 'ends_with':
      return around(m.value, true, false);
    case 'contains':
      return around(m.value, true, true);
  }
}

/**
 * Host names made of anything (`before`), then `text`, then anything (`after`). `text` is cut at its dots:
 * the labels between two dots are whole labels; the first and last pieces are parts of labels whose other
 * part may come before or after, as long as each label still has a letter or digit at both ends.
 */
function around(text: string, before: boolean, after: boolean): string {
  const pieces = text.split('.');
  const labels: string[] = [];
  for (const [i, piece] of pieces.entries()) {
    const label = labelAround(piece, i === 0 && before, i === pieces.length - 1 && after);
    if (label === undefined) return NOTHING_REGEX;
    labels.push(label);
  }
  return `${before ? `(?:${LABEL}\\.)*` : ''}${labels.join('\\.')}${after ? `(?:\\.${LABEL})*` : ''}`;
}

/** One label holding `core`, with more characters allowed in front (`head`) or behind (`tail`). */
function labelAround(core: string, head: boolean, tail: boolean): string | undefined {
  if (core === '') return head || tail ? LABEL : undefined;
  if (!/^[A-Za-z0-9-]+$/.test(core)) return undefined;
  const alnum = (c: string) => /[A-Za-z0-9]/.test(c);
  const startsWell = alnum(core[0]!);
  const endsWell = alnum(core[core.length - 1]!);
  const front = head ? (startsWell ? `(?:${ALNUM}${LDH}*)?` : `${ALNUM}${LDH}*`) : startsWell ? '' : undefined;
  const back = tail ? (endsWell ? `(?:${LDH}*${ALNUM})?` : `${LDH}*${ALNUM}`) : endsWell ? '' : undefined;
  if (front === undefined || back === undefined) return undefined;
  return front + caselessQuote(core) + back;
}
