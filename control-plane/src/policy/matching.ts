import { comparableHostName } from '../certificates/index.js';
import type { CertificateIdentity } from '../identity/types.js';
import type { CertificateCondition, StringMatcher } from './types.js';

/** The ext_authz service's reading of one string matcher. */
export function matches(value: string, m: StringMatcher): boolean {
  switch (m.op) {
    case 'is':
      return value === m.value;
    case 'starts_with':
      return value.startsWith(m.value);
    case 'ends_with':
      return value.endsWith(m.value);
    case 'contains':
      return value.includes(m.value);
    case 'not':
      return value !== m.value;
    case 'in':
      return m.values.includes(value);
  }
}

export function matchesAll(value: string, matchers: StringMatcher[]): boolean {
  return matchers.every((m) => matches(value, m));
}

export function conditionHolds(cond: CertificateCondition, identity: CertificateIdentity): boolean {
  switch (cond.kind) {
    case 'fingerprint':
      return cond.values.includes(identity.fingerprint);
    case 'spki_hash':
      return cond.values.includes(identity.spkiHash);
    case 'san':
      return identity.sans[cond.san].some((san) => {
        // Host names compare as DNS does: in lower case, and a DNS SAN that is no host name matches nothing.
        const value = cond.san === 'dns' ? comparableHostName(san) : san;
        return value !== undefined && matchesAll(value, cond.match);
      });
  }
}
