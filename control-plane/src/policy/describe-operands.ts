import type { CertificateCondition, SanType, StringMatcher } from './types.js';

/** Phrases for a criterion's operands, for the 403 page's reason. */

const MAX_VALUES_SHOWN = 5;

const OP_WORDS: Record<StringMatcher['op'], string> = {
  is: 'is',
  starts_with: 'starts with',
  ends_with: 'ends with',
  contains: 'contains',
  not: 'is not',
  in: 'is one of',
};

const SAN_WORDS: Record<SanType, string> = { dns: 'DNS', email: 'email', uri: 'URI', user_principal_name: 'UPN' };

/** JSON quoting keeps a value on one line, whatever it holds. */
const quote = (s: string): string => JSON.stringify(s);

function describeValues(values: string[]): string {
  const shown = values.slice(0, MAX_VALUES_SHOWN).map(quote).join(', ');
  return values.length > MAX_VALUES_SHOWN ? `${shown} (and ${values.length - MAX_VALUES_SHOWN} more)` : shown;
}

function describeMatcher(subject: string, m: StringMatcher): string {
  const what = m.op === 'in' ? (m.values.length === 0 ? 'nothing' : describeValues(m.values)) : quote(m.value);
  return `${subject} ${OP_WORDS[m.op]} ${what}`;
}

export function describeMatchers(subject: string, matchers: StringMatcher[]): string {
  return matchers.length === 0 ? `any ${subject}` : matchers.map((m) => describeMatcher(subject, m)).join(' and ');
}

function describePinned(what: string, values: string[]): string {
  return values.length === 1 ? `${what} is ${quote(values[0]!)}` : `${what} is one of ${describeValues(values)}`;
}

export function describeCondition(cond: CertificateCondition): string {
  switch (cond.kind) {
    case 'fingerprint':
      return describePinned('certificate fingerprint', cond.values);
    case 'spki_hash':
      return describePinned('certificate public key hash', cond.values);
    case 'san':
      return `a certificate ${describeMatchers(`${SAN_WORDS[cond.san]} SAN`, cond.match)}`;
  }
}
