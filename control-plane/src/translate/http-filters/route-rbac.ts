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
 * Whether the ext_authz service decides this copy of a route in Envoy's place (model/trust.ts trustCheckRoute): on a
 * connection whose certificate Envoy did not verify at that connection's own handshake (a resumed session, or one
 * made under an older trust, which may itself have been resumed), where Envoy's SAN principal says no to every
 * certificate. A route that trusts no CA (on a host shared with routes that do) has no trust check: its policy
 * reads no certificate, so Envoy still decides it.
 */
export function serviceDecidesInstead(ctx: RouteContext): boolean {
  return ctx.kind === 'host-route' && ctx.certificate !== 'handshake' && ctx.route.trustCheck !== undefined;
}

/** The RBAC policies of a host route whose policy Envoy decides itself (none for any other route). */
export function routeRbac(ctx: RouteContext): RbacPolicies | undefined {
  if (ctx.kind !== 'host-route' || serviceDecidesInstead(ctx)) return undefined;
  const a = ctx.route.authorization;
  if (a.kind !== 'envoy') return undefined;
  if (last?.ctx !== ctx) last = { ctx, rbac: buildRbacPolicies(a.policy, a.clientCaRequired) };
  return last.rbac;
}

export function rbacPerRoute(rules: envoy_config_rbac_v3.RBAC): google_protobuf.Any {
  return typed('envoy.extensions.filters.http.rbac.v3.RBACPerRoute', { rbac: { rules } });
}
