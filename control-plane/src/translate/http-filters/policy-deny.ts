import { typed } from '../../envoy-api/index.js';
import { RBAC, rbacPerRoute, routeRbac } from './route-rbac.js';
import type { HttpFilter, HttpFilterModule } from './types.js';

export const POLICY_DENY_FILTER = 'mtls-edge.policy-deny' as const;

function policyDenyFilter(): HttpFilter {
  // Off unless a route configures it: a route without a policy runs no RBAC at all (issue 14, point 6).
  return { name: POLICY_DENY_FILTER, disabled: true, typed_config: typed(RBAC, {}) };
}

/** The route's deny rules (a request one matches gets 403 `deny-rule-N`), before its allow rules. */
export const policyDeny: HttpFilterModule<typeof POLICY_DENY_FILTER> = {
  name: POLICY_DENY_FILTER,
  connectionManagerEntry: () => policyDenyFilter(),
  perRoute: (ctx) => {
    const rules = routeRbac(ctx)?.deny;
    return rules === undefined ? undefined : rbacPerRoute(rules);
  },
};
