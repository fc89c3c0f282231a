import { criterionSpec } from './criteria.js';
import type { Decision, PolicyClause, PolicyCriterion, RequestFacts, RoutePolicy } from './types.js';

/** How a criterion is put in words: with its values (logs), or as a page anyone may read shows it. */
export type CriterionWords = (c: PolicyCriterion) => string;

/** One criterion as a short phrase, e.g. `email is "bob@example.com"`. */
export function describeCriterion(c: PolicyCriterion): string {
  return criterionSpec(c.kind).describe(c);
}

/** One criterion as a 403 page says it: the kind of rule, without the values of people and certificates. */
export function describeCriterionOnPage(c: PolicyCriterion): string {
  return criterionSpec(c.kind).onPage ?? criterionSpec(c.kind).describe(c);
}

/**
 * Pomerium's PPL semantics: access = some allow clause holds and no deny clause holds (deny wins).
 * Clauses are numbered from 1 in order in the reason, which names what decided; a denial also has the words for
 * its page.
 */
export function evaluatePolicy(policy: RoutePolicy, facts: RequestFacts): Decision {
  const decision = decide(policy, facts, describeCriterion);
  return decision.allowed
    ? decision
    : { ...decision, pageReason: decide(policy, facts, describeCriterionOnPage).reason };
}

function decide(policy: RoutePolicy, facts: RequestFacts, words: CriterionWords): Decision {
  for (const [i, clause] of policy.deny.entries()) {
    if (clauseHolds(clause, facts))
      return { allowed: false, reason: `denied by deny rule ${i + 1}: ${explainHeld(clause, facts, words)}` };
  }
  for (const [i, clause] of policy.allow.entries()) {
    if (clauseHolds(clause, facts))
      return { allowed: true, reason: `allowed by allow rule ${i + 1}: ${explainHeld(clause, facts, words)}` };
  }
  if (policy.allow.length === 0)
    return { allowed: false, reason: 'no allow rule matched (the policy has no allow rule)' };
  const shown = policy.allow
    .slice(0, MAX_RULES_SHOWN)
    .map((clause, i) => `allow rule ${i + 1} needs: ${explainNeeded(clause, facts, words)}`);
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

function joinCriteria(criteria: PolicyCriterion[], word: 'and' | 'or', words: CriterionWords): string {
  const parts = criteria.map(words);
  return parts.length === 1 ? parts[0]! : parts.map((p) => `(${p})`).join(` ${word} `);
}

/** What a clause requires, as a phrase. */
export function describeClause(clause: PolicyClause, words: CriterionWords = describeCriterion): string {
  if (clause.criteria.length === 0) return EMPTY_CLAUSE;
  switch (clause.operator) {
    case 'and':
      return joinCriteria(clause.criteria, 'and', words);
    case 'or':
      return joinCriteria(clause.criteria, 'or', words);
    case 'not':
      return `not (${joinCriteria(clause.criteria, 'or', words)})`;
    case 'nor':
      return `not (${joinCriteria(clause.criteria, 'and', words)})`;
  }
}

/** Why a clause that holds held: the criteria that decided it, not the whole clause. */
function explainHeld(clause: PolicyClause, facts: RequestFacts, words: CriterionWords): string {
  switch (clause.operator) {
    case 'and':
    case 'not':
      return describeClause(clause, words);
    case 'or': {
      const held = clause.criteria.find((c) => criterionHolds(c, facts));
      return held ? words(held) : describeClause(clause, words);
    }
    case 'nor': {
      const failed = clause.criteria.find((c) => !criterionHolds(c, facts));
      return failed ? `not (${words(failed)})` : describeClause(clause, words);
    }
  }
}

/** What a clause that does not hold still needs: for `and`, only the criteria that failed. */
function explainNeeded(clause: PolicyClause, facts: RequestFacts, words: CriterionWords): string {
  if (clause.operator === 'and' && clause.criteria.length > 0) {
    const failed = clause.criteria.filter((c) => !criterionHolds(c, facts));
    if (failed.length > 0) return joinCriteria(failed, 'and', words);
  }
  return describeClause(clause, words);
}
