import type { StringMatcher } from '../config/index.js';
import { caselessQuote } from './regex-text.js';

/**
 * identity/names.ts in RE2, for Envoy's RBAC filter: host names in LDH form and mail addresses with a
 * dot-atom local part. Tested against names.ts on the same inputs (test/unit/translate/host-name-regex.test.ts).
 */

const ALNUM = '[A-Za-z0-9]';
const LDH = '[A-Za-z0-9-]';
const LABEL = `${ALNUM}(?:${LDH}*${ALNUM})?`;
/** A regex that matches nothing (RE2 has no empty class). */
export const NOTHING_REGEX = '[^\\s\\S]';

export const HOST_NAME_REGEX = `${LABEL}(?:\\.${LABEL})*`;

/** RFC 5322 atext, and a dot-atom of it. */
const ATEXT = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]";
export const DOT_ATOM_REGEX = `${ATEXT}+(?:\\.${ATEXT}+)*`;
export const MAIL_ADDRESS_REGEX = `${DOT_ATOM_REGEX}@${HOST_NAME_REGEX}`;

/**
 * Host names (in any case) that meet `m`, whose values are lower case (config/matcher-values.ts). RE2 has no
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
