// What each criterion's string matcher values must be, and the form they are kept in: the form the value
// they are compared with has (upper-case methods, lower-case A-label host names).
import { normaliseHostName, type HostNamePart } from '../certificates/index.js';
import type { StringMatcher } from './types.js';

/** A value as kept, or why it cannot be used. */
export type MatcherValue = (op: StringMatcher['op'], value: string) => { value: string } | { error: string };

/** An HTTP token (RFC 9110): what a method name is made of. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

const HOST_NAME_PART: Record<StringMatcher['op'], HostNamePart> = {
  is: 'whole',
  not: 'whole',
  in: 'whole',
  ends_with: 'end',
  starts_with: 'start',
  contains: 'inside',
};

/**
 * Host names (`san_dns`, `domain`) compare as DNS does: without regard to case, internationalised names as
 * A-labels, which is how certificates carry them. A value in another form is converted here, once; a value
 * no host name can match is an error rather than a rule that silently never holds (or, under `not`, always).
 */
export const hostNameValue: MatcherValue = (op, value) => {
  const normal = normaliseHostName(value, HOST_NAME_PART[op]);
  return 'error' in normal
    ? { error: `${normal.error} (host names are compared in lower case, internationalised labels as A-labels)` }
    : normal;
};

export const domainValue: MatcherValue = (op, value) =>
  // The domain is what follows the "@" of the email address: it never holds one. Surely an address meant for `email`.
  value.includes('@')
    ? {
        error:
          `domain takes a domain (such as example.com), not an email address like ` +
          `${JSON.stringify(value)}: use email`,
      }
    : hostNameValue(op, value);

// Methods are case-sensitive in HTTP (RFC 9110) and clients send them upper case, but users write `get`:
// upper-casing what they wrote is what they mean, and it keeps `get` from silently matching nothing.
export const methodValue: MatcherValue = (_op, value) => {
  const upper = value.toUpperCase();
  return TOKEN.test(upper) ? { value: upper } : { error: `${JSON.stringify(upper)} is not an HTTP method` };
};

export const pathValue: MatcherValue = (op, value) =>
  (op === 'is' || op === 'starts_with' || op === 'in') && !value.startsWith('/')
    ? { error: `a path must start with "/", got ${JSON.stringify(value)}` }
    : { value };

export const anyValue: MatcherValue = (_op, value) => ({ value });
