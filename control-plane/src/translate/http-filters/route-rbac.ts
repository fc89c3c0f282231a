import { typed } from '../common.js';
import { buildRbacPolicies, type RbacPolicies } from '../rbac.js';
import type { EnvoyJson } from '../types.js';
import type { RouteContext } from './types.js';

export const RBAC = 'envoy.extensions.filters.http.rbac.v3.RBAC';

/** Per route being built: the deny and the allow filter read one translation of the policy. */
const built = new WeakMap<RouteContext, RbacPolicies>();

/** The RBAC policies of a host route whose policy Envoy decides itself (none for any other route). */
export function routeRbac(ctx: RouteContext): RbacPolicies | undefined {
  if (ctx.kind !== 'host-route') return undefined;
  const a = ctx.route.authorization;
  if (a.kind !== 'envoy') return undefined;
  let rbac = built.get(ctx);
  if (rbac === undefined) {
    rbac = buildRbacPolicies(a.policy, a.clientCaRequired);
    built.set(ctx, rbac);
  }
  return rbac;
}

export function rbacPerRoute(rules: EnvoyJson): EnvoyJson {
  return typed('envoy.extensions.filters.http.rbac.v3.RBACPerRoute', { rbac: { rules } });
}
