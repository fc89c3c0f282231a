import { criterionSpec } from '../policy/criteria.js';
import { describeClause, describeCriterionOnPage } from '../policy/evaluate.js';
import { and, NOTHING, not, or, type RbacPrincipal } from '../policy/rbac-rules.js';
import type { PolicyClause, PolicyCriterion, RoutePolicy } from '../policy/types.js';
import type { envoy_config_rbac_v3 } from '../envoy-api/index.js';

/**
 * A PPL policy as Envoy RBAC policies: the boolean structure of its rules here, each criterion's principal
 * from the criteria table (policy/criteria.ts, policy/rbac-rules.ts).
 */
export interface RbacPolicies {
  /** One RBAC policy per clause, named `deny-rule-N`: the name Envoy reports in the 403's details. */
  deny?: envoy_config_rbac_v3.RBAC;
  allow: envoy_config_rbac_v3.RBAC;
}

export function buildRbacPolicies(policy: RoutePolicy, clientCaRequired: boolean): RbacPolicies {
  const rules = (action: 'ALLOW' | 'DENY', clauses: PolicyClause[], prefix: string): envoy_config_rbac_v3.RBAC => ({
    action,
    policies: Object.fromEntries(
      clauses.map((c, i) => [
        `${prefix}-rule-${i + 1}`,
        { permissions: [{ any: true }], principals: [clausePrincipal(c, clientCaRequired)] },
      ]),
    ),
  });
  return {
    ...(policy.deny.length > 0 ? { deny: rules('DENY', policy.deny, 'deny') } : {}),
    // No allow clause: nothing is allowed (Pomerium's rule), which an ALLOW with no policies is.
    allow: rules('ALLOW', policy.allow, 'allow'),
  };
}

/** Rules a 403 page lists before it says "and more": a page is read by a person. */
const RULES_SHOWN = 3;

/**
 * The words of a 403 from these policies, by the details Envoy gives it (`rbac_access_denied_matched_policy[…]`):
 * what each rule that lets people in asks for, or which deny rule matched. Numbered as the ext_authz service numbers
 * them; the kind of rule, not the values of people and certificates (policy/evaluate.ts describeCriterionOnPage).
 * Plain text; the pages read it from the route's metadata (http-filters/local-reply.ts).
 */
export function rbacDenialWords(policy: RoutePolicy): Array<[details: string, words: string]> {
  const details = (name: string) => `rbac_access_denied_matched_policy[${name}]`;
  const onPage = (clause: PolicyClause) => describeClause(clause, describeCriterionOnPage);
  const shown = policy.allow.slice(0, RULES_SHOWN).map((c, i) => `allow rule ${i + 1} needs ${onPage(c)}`);
  const more = policy.allow.length - shown.length;
  const allowed =
    shown.length === 0
      ? 'This page has no allow rule: it lets no one in.'
      : `${capitalised(shown.join('; '))}${more > 0 ? `; and ${more} more` : ''}.`;
  return [
    [details('none'), allowed],
    ...policy.deny.map((c, i): [string, string] => [
      details(`deny-rule-${i + 1}`),
      `Deny rule ${i + 1}: ${onPage(c)}.`,
    ]),
  ];
}

const capitalised = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);

function clausePrincipal(clause: PolicyClause, ca: boolean): RbacPrincipal {
  const ids = clause.criteria.map((c) => criterionPrincipal(c, ca));
  if (ids.length === 0) return NOTHING;
  switch (clause.operator) {
    case 'and':
      return and(ids);
    case 'or':
      return or(ids);
    case 'not':
      return and(ids.map(not));
    case 'nor':
      return or(ids.map(not));
  }
}

function criterionPrincipal(c: PolicyCriterion, ca: boolean): RbacPrincipal {
  const rule = criterionSpec(c.kind).rbac;
  if (rule === 'ext_authz') {
    throw new Error(`\`${c.kind}\` is decided by the ext_authz service (model/authorization.ts)`);
  }
  return rule.principal(c, ca);
}
