import type { CertificateCondition, PolicyClause, PolicyCriterion, RoutePolicy, SanType, StringMatcher } from '../config/index.js';
import { comparableHostName } from '../certificates/index.js';
import type { CertificateIdentity } from '../identity/types.js';
import type { Decision, RequestFacts } from './types.js';

/**
 * Pomerium's PPL semantics: access = some allow clause holds and no deny clause holds (deny wins).
 * Clauses are numbered from 1 in order in the reason, which names what decided.
 */
export function evaluatePolicy(policy: RoutePolicy, facts: RequestFacts): Decision {
  for (const [i, clause] of policy.deny.entries()) {
    if (clauseHolds(clause, facts)) return { allowed: false, reason: `denied by deny rule ${i + 1}: ${explainHeld(clause, facts)}` };
  }
  for (const [i, clause] of policy.allow.entries()) {
    if (clauseHolds(clause, facts)) return { allowed: true, reason: `allowed by allow rule ${i + 1}: ${explainHeld(clause, facts)}` };
  }
  if (policy.allow.length === 0) return { allowed: false, reason: 'no allow rule matched (the policy has no allow rule)' };
  const shown = policy.allow.slice(0, MAX_RULES_SHOWN).map((clause, i) => `allow rule ${i + 1} needs: ${explainNeeded(clause, facts)}`);
  const more = policy.allow.length - shown.length;
  return { allowed: false, reason: `no allow rule matched (${shown.join('; ')}${more > 0 ? `; and ${more} more` : ''})` };
}

/** True when the policy looks at the request's method or path, i.e. its decision depends on more than certificate + route. */
export function usesRequest(policy: RoutePolicy): boolean {
  return [...policy.allow, ...policy.deny].some((clause) => clause.criteria.some((c) => c.kind === 'http_method' || c.kind === 'http_path'));
}

/** One criterion as a short phrase, e.g. `email is "bob@example.com"`. */
export function describeCriterion(c: PolicyCriterion): string {
  switch (c.kind) {
    case 'accept':
      return 'accept (anyone)';
    case 'reject':
      return 'reject (no one)';
    case 'authenticated_user':
      return 'a valid client certificate';
    case 'invalid_client_certificate':
      return 'a missing or invalid client certificate';
    case 'email':
    case 'domain':
    case 'user':
      return describeMatchers(c.kind, c.match);
    case 'http_method':
      return describeMatchers('method', c.match);
    case 'http_path':
      return describeMatchers('path', c.match);
    case 'client_certificate':
      return c.conditions.length === 0 ? 'a valid client certificate' : c.conditions.map(describeCondition).join(' and ');
  }
}

export function criterionHolds(c: PolicyCriterion, facts: RequestFacts): boolean {
  switch (c.kind) {
    case 'accept':
      return true;
    case 'reject':
      return false;
    case 'authenticated_user':
      return facts.identity !== undefined;
    case 'invalid_client_certificate':
      return facts.invalidClientCertificate;
    case 'email':
    case 'domain':
    case 'user': {
      const value = facts.identity?.[c.kind];
      return value !== undefined && matchesAll(value, c.match);
    }
    case 'http_method':
      return matchesAll(facts.method, c.match);
    case 'http_path':
      return matchesAll(facts.path, c.match);
    case 'client_certificate': {
      const identity = facts.identity;
      return identity !== undefined && c.conditions.every((cond) => conditionHolds(cond, identity));
    }
  }
}

export function clauseHolds(clause: PolicyClause, facts: RequestFacts): boolean {
  const { criteria } = clause;
  if (criteria.length === 0) return false;
  switch (clause.operator) {
    case 'and':
      return criteria.every((c) => criterionHolds(c, facts));
    case 'or':
      return criteria.some((c) => criterionHolds(c, facts));
    case 'not':
      return criteria.every((c) => !criterionHolds(c, facts));
    case 'nor':
      return criteria.some((c) => !criterionHolds(c, facts));
  }
}

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

function matchesAll(value: string, matchers: StringMatcher[]): boolean {
  return matchers.every((m) => matches(value, m));
}

function conditionHolds(cond: CertificateCondition, identity: CertificateIdentity): boolean {
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

const MAX_RULES_SHOWN = 3;
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

function describeMatchers(subject: string, matchers: StringMatcher[]): string {
  return matchers.length === 0 ? `any ${subject}` : matchers.map((m) => describeMatcher(subject, m)).join(' and ');
}

function describeCondition(cond: CertificateCondition): string {
  switch (cond.kind) {
    case 'fingerprint':
      return cond.values.length === 1 ? `certificate fingerprint is ${quote(cond.values[0]!)}` : `certificate fingerprint is one of ${describeValues(cond.values)}`;
    case 'spki_hash':
      return cond.values.length === 1 ? `certificate public key hash is ${quote(cond.values[0]!)}` : `certificate public key hash is one of ${describeValues(cond.values)}`;
    case 'san':
      return `a certificate ${describeMatchers(`${SAN_WORDS[cond.san]} SAN`, cond.match)}`;
  }
}

const EMPTY_CLAUSE = 'nothing (an empty rule never matches)';

function joinCriteria(criteria: PolicyCriterion[], word: 'and' | 'or'): string {
  const parts = criteria.map(describeCriterion);
  return parts.length === 1 ? parts[0]! : parts.map((p) => `(${p})`).join(` ${word} `);
}

/** What a clause requires, as a phrase. */
export function describeClause(clause: PolicyClause): string {
  if (clause.criteria.length === 0) return EMPTY_CLAUSE;
  switch (clause.operator) {
    case 'and':
      return joinCriteria(clause.criteria, 'and');
    case 'or':
      return joinCriteria(clause.criteria, 'or');
    case 'not':
      return `not (${joinCriteria(clause.criteria, 'or')})`;
    case 'nor':
      return `not (${joinCriteria(clause.criteria, 'and')})`;
  }
}

/** Why a clause that holds held: the criteria that decided it, not the whole clause. */
function explainHeld(clause: PolicyClause, facts: RequestFacts): string {
  switch (clause.operator) {
    case 'and':
    case 'not':
      return describeClause(clause);
    case 'or': {
      const held = clause.criteria.find((c) => criterionHolds(c, facts));
      return held ? describeCriterion(held) : describeClause(clause);
    }
    case 'nor': {
      const failed = clause.criteria.find((c) => !criterionHolds(c, facts));
      return failed ? `not (${describeCriterion(failed)})` : describeClause(clause);
    }
  }
}

/** What a clause that does not hold still needs: for `and`, only the criteria that failed. */
function explainNeeded(clause: PolicyClause, facts: RequestFacts): string {
  if (clause.operator === 'and' && clause.criteria.length > 0) {
    const failed = clause.criteria.filter((c) => !criterionHolds(c, facts));
    if (failed.length > 0) return joinCriteria(failed, 'and');
  }
  return describeClause(clause);
}
