import { typed } from '../../envoy-api/index.js';
import { RBAC, rbacPerRoute, routeRbac } from './route-rbac.js';
import type { HttpFilter, HttpFilterModule } from './types.js';

export const POLICY_ALLOW_FILTER = 'mtls-edge.policy-allow' as const;

function policyAllowFilter(): HttpFilter {
  // Off unless a route configures it: a route without a policy runs no RBAC at all (issue 14, point 6).
  return { name: POLICY_ALLOW_FILTER, disabled: true, typed_config: typed(RBAC, {}) };
}

/** The route's allow rules: a request none matches gets 403. */
export const policyAllow: HttpFilterModule<typeof POLICY_ALLOW_FILTER> = {
  name: POLICY_ALLOW_FILTER,
  connectionManagerEntry: () => policyAllowFilter(),
  perRoute: (ctx) => {
    const rules = routeRbac(ctx)?.allow;
    return rules === undefined ? undefined : rbacPerRoute(rules);
  },
};
