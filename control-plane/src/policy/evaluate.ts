import { criterionSpec } from './criteria.js';
import type { Decision, PolicyClause, PolicyCriterion, RequestFacts, RoutePolicy } from './types.js';

/**
 * Pomerium's PPL semantics: access = some allow clause holds and no deny clause holds (deny wins).
 * Clauses are numbered from 1 in order in the reason, which names what decided.
 */
export function evaluatePolicy(policy: RoutePolicy, facts: RequestFacts): Decision {
  for (const [i, clause] of policy.deny.entries()) {
    if (clauseHolds(clause, facts))
      return { allowed: false, reason: `denied by deny rule ${i + 1}: ${explainHeld(clause, facts)}` };
  }
  for (const [i, clause] of policy.allow.entries()) {
    if (clauseHolds(clause, facts))
      return { allowed: true, reason: `allowed by allow rule ${i + 1}: ${explainHeld(clause, facts)}` };
  }
  if (policy.allow.length === 0)
    return { allowed: false, reason: 'no allow rule matched (the policy has no allow rule)' };
  const shown = policy.allow
    .slice(0, MAX_RULES_SHOWN)
    .map((clause, i) => `allow rule ${i + 1} needs: ${explainNeeded(clause, facts)}`);
  const more = policy.allow.length - shown.length;
  return {
    allowed: false,
    reason: `no allow rule matched (${shown.join('; ')}${more > 0 ? `; and ${more} more` : ''})`,
  };
}

/**
 * True when the policy looks at the request's method or path, i.e. its decision depends on more than certificate +
 * route.
 */
export function usesRequest(policy: RoutePolicy): boolean {
  const clauses = [...policy.allow, ...policy.deny];
  return clauses.some((clause) => clause.criteria.some((c) => criterionSpec(c.kind).readsRequest));
}

/** One criterion as a short phrase, e.g. `email is "bob@example.com"`. */
export function describeCriterion(c: PolicyCriterion): string {
  return criterionSpec(c.kind).describe(c);
}

export function criterionHolds(c: PolicyCriterion, facts: RequestFacts): boolean {
  return criterionSpec(c.kind).holds(c, facts);
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

const MAX_RULES_SHOWN = 3;

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
