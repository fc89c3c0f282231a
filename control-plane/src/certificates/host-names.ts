// What counts as a host name and as a mail address in a certificate. One definition for the ext_authz
// identity, the policy evaluator and the config loader; policy/host-name-regex.ts says the same in RE2
// for Envoy's RBAC filter, and the two are tested against each other.
import { domainToASCII, domainToUnicode } from 'node:url';

/**
 * One DNS label as certificates carry it: letters, digits and hyphens, a letter or digit at each end
 * (RFC 1123 §2.1, RFC 5280 §4.2.1.6). Internationalised labels appear as A-labels (`xn--…`), which are such
 * labels too. No length limit: RE2 cannot count within a pattern as cheaply, and a long label is no
 * look-alike of anything.
 */
const LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/;

/** RFC 5322 atext: what a dot-atom local part is made of. */
const ATEXT = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]";
const DOT_ATOM = new RegExp(`^${ATEXT}+(?:\\.${ATEXT}+)*$`);

/** A host name in LDH form: labels joined by "." (no trailing dot, no wildcard, no U-labels). */
export function isHostName(value: string): boolean {
  return value.split('.').every((label) => LABEL.test(label));
}

/**
 * A mail address with an RFC 5322 dot-atom local part, one "@", and a host name: what a certificate's
 * email is taken from. Quoted local parts, address literals and non-ASCII are refused: each has
 * characters that a name printer escapes or a list joins on, and none is what a CA normally issues.
 */
export function isMailAddress(value: string): boolean {
  const at = value.indexOf('@');
  return at > 0 && DOT_ATOM.test(value.slice(0, at)) && isHostName(value.slice(at + 1));
}

/**
 * A certificate's DNS SAN in the form policies compare with: lower case, and only if it is a host name.
 * A value that is not one (a comma list, a U-label, a wildcard, white space) never matches anything.
 */
export function comparableHostName(san: string): string | undefined {
  return isHostName(san) ? san.toLowerCase() : undefined;
}

/**
 * Where a policy value sits in a host name: all of it (`is`, `not`, `in`), its end (`ends_with`), its
 * start (`starts_with`) or anywhere (`contains`). Only whole labels can be converted to A-labels.
 */
export type HostNamePart = 'whole' | 'end' | 'start' | 'inside';

const MAX_HOST_NAME = 253;
const MAX_LABEL = 63;

/**
 * A policy's host name (or part of one) as certificates carry it: lower case, U-labels as A-labels.
 * A U-label must already be in its normal form (what IDNA would map it to): `Ｅxample` or a label that
 * IDNA maps to plain ASCII is refused rather than silently taken for another name.
 */
export function normaliseHostName(value: string, part: HostNamePart): { value: string } | { error: string } {
  // DNS names may be written fully qualified; certificates never carry the final dot.
  const text =
    (part === 'whole' || part === 'end') && value.endsWith('.') && value.length > 1 ? value.slice(0, -1) : value;
  if (text === '') return { error: 'an empty host name matches nothing' };
  const labels = text.split('.');
  const out: string[] = [];
  for (const [i, label] of labels.entries()) {
    // The first label of an end, the last of a start, both of an inside may be pieces of a label.
    const piece =
      (i === 0 && (part === 'end' || part === 'inside')) ||
      (i === labels.length - 1 && (part === 'start' || part === 'inside'));
    const converted = normaliseLabel(label, piece);
    if ('error' in converted)
      return labels.length === 1 ? converted : { error: `in ${JSON.stringify(value)}, ${converted.error}` };
    out.push(converted.value);
  }
  const normal = out.join('.');
  if (part === 'whole' && normal.length > MAX_HOST_NAME)
    return { error: `a host name has at most ${MAX_HOST_NAME} characters` };
  return { value: normal };
}

function normaliseLabel(label: string, piece: boolean): { value: string } | { error: string } {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(label)) {
    const lower = label.toLowerCase();
    if (piece) {
      return /^[a-z0-9-]*$/.test(lower)
        ? { value: lower }
        : { error: `${JSON.stringify(label)} can never be part of a host name (letters, digits, "-" and "." only)` };
    }
    if (!LABEL.test(lower) || lower.length > MAX_LABEL) {
      return {
        error:
          `${JSON.stringify(label)} is not a DNS label (1 to ${MAX_LABEL} letters, digits or "-", a ` +
          `letter or digit at each end)`,
      };
    }
    if (lower.startsWith('xn--') && domainToUnicode(lower) === '')
      return { error: `${JSON.stringify(label)} is not a valid A-label` };
    return { value: lower };
  }
  if (piece)
    return {
      error:
        `${JSON.stringify(label)} is part of an internationalised label: write whole labels (such ` +
        `as .bücher.example) or the A-label (xn--…)`,
    };
  const lower = label.toLowerCase();
  const ascii = domainToASCII(lower);
  if (!ascii.startsWith('xn--') || !LABEL.test(ascii) || ascii.length > MAX_LABEL || domainToUnicode(ascii) !== lower) {
    const mapped =
      ascii === ''
        ? 'is not a valid internationalised label'
        : `is not in IDNA normal form (it maps to ${JSON.stringify(ascii)})`;
    return { error: `${JSON.stringify(label)} ${mapped}: write the name as it is registered` };
  }
  return { value: ascii };
}
