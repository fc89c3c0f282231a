import { typed, type envoy_config_rbac_v3, type google_protobuf } from '../../envoy-api/index.js';
import { buildRbacPolicies, type RbacPolicies } from '../rbac.js';
import type { RouteContext } from './types.js';

export const RBAC = 'envoy.extensions.filters.http.rbac.v3.RBAC';

/**
 * The route last translated: the deny and the allow filter ask for the same route one after the other (the
 * registry builds one route at a time), and read one translation of its policy.
 */
let last: { ctx: RouteContext; rbac: RbacPolicies } | undefined;

/**
 * The RBAC policies of a host route whose policy Envoy decides itself (none for any other route), on connections
 * whose certificate Envoy verified at their own handshake. On the others (a resumed session, one made under an older
 * trust) the ext_authz service decides the policy (model/trust.ts trustCheckRoute): Envoy's SAN principal says no to
 * a certificate it did not verify on the connection.
 */
export function routeRbac(ctx: RouteContext): RbacPolicies | undefined {
  if (ctx.kind !== 'host-route' || ctx.certificate !== 'handshake') return undefined;
  const a = ctx.route.authorization;
  if (a.kind !== 'envoy') return undefined;
  if (last?.ctx !== ctx) last = { ctx, rbac: buildRbacPolicies(a.policy, a.clientCaRequired) };
  return last.rbac;
}

export function rbacPerRoute(rules: envoy_config_rbac_v3.RBAC): google_protobuf.Any {
  return typed('envoy.extensions.filters.http.rbac.v3.RBACPerRoute', { rbac: { rules } });
}
