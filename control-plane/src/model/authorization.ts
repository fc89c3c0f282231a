import { createHash } from 'node:crypto';
import type { Config, RouteConfig } from '../config/index.js';
import type { AuthorizationRoute } from './types.js';
import { clientTrustId, type ClientTrust } from '../identity/verify-certificate.js';
import { criterionSpec, type PeerProperty, type PolicyCriterion, type RoutePolicy } from '../policy/index.js';
import type { RouteAuthorization } from './types.js';

/**
 * Where a route's policy runs. Envoy decides whatever its RBAC filter can test on the request and on the
 * certificate properties its formatters expose (fingerprint, first email SAN, subject) and on each SAN
 * (the mtls_authenticated principal); the control plane's ext_authz service decides the rest (which
 * criteria those are, the criteria table says: policy/criteria.ts) and every route that passes identity
 * headers, because only it can sign the JWT.
 */
export function routeAuthorization(
  route: RouteConfig,
  config: Config,
  clientTrust?: ClientTrust,
  jwks?: string,
): { authorization: RouteAuthorization; extAuthz?: AuthorizationRoute } {
  if (!route.policy && !route.passIdentityHeaders) return { authorization: { kind: 'none' } };
  const policy = route.policy ?? impliedPolicy(route);
  const clientCaRequired = (route.clientCa ?? config.clientCa) !== undefined;
  if (route.passIdentityHeaders || needsExtAuthz(policy)) {
    const decided = {
      audience: route.from.host,
      policy,
      passIdentityHeaders: route.passIdentityHeaders,
      claimsHeaders: route.passIdentityHeaders ? config.jwtClaimsHeaders : [],
      clientCaRequired,
      ...(clientTrust ? { clientTrust } : {}),
      ...(route.signIn && config.identityProvider
        ? { signIn: { groupsClaim: config.identityProvider.groupsClaim } }
        : {}),
    };
    // The published keys too, where the service signs: a new signing key renames the route, so no assertion made
    // with the old one is served from a cache (the service's or Envoy's identity cache) after it.
    const key = authorizationKey(route, route.passIdentityHeaders ? { ...decided, signingKeys: jwks ?? '' } : decided);
    // The service reads the certificate Envoy sends and the mark of an invalid one; of the copied properties
    // only the chain, where intermediates may stand between the leaf and the CA (Envoy sends only the leaf).
    const peerProperties: PeerProperty[] = clientTrust && acceptsIntermediates(clientTrust) ? ['chain'] : [];
    return { authorization: { kind: 'ext-authz', key, peerProperties }, extAuthz: { name: key, ...decided } };
  }
  return {
    authorization: {
      kind: 'envoy',
      policy,
      clientCaRequired,
      peerProperties: clientCaRequired ? peerPropertiesFor(policy) : [],
    },
  };
}

/** A route's name in Envoy, from its position in the config. */
export function routeName(route: RouteConfig): string {
  return `route-${route.index}`;
}

/**
 * What Envoy sends the service to name a route: its position and a digest of what the service decides for
 * it. After an edit, Envoy may still send checks from its previous route configuration (until it applies the
 * new one, or for good if it refuses it): the digest makes sure such a check can only meet the policy Envoy
 * was configured with, or none (a deny), never another route's that now sits at the same position.
 */
function authorizationKey(route: RouteConfig, decided: object): string {
  // The trust by its digest: a check from an old route configuration never meets a changed trust.
  const text = JSON.stringify(decided, (k, v: unknown) =>
    k === 'at' ? undefined : k === 'clientTrust' ? clientTrustId(v as ClientTrust) : v,
  );
  return `${routeName(route)}.${createHash('sha256').update(text).digest('hex').slice(0, 16)}`;
}

/**
 * A path from leaf to CA may hold intermediates: depth unlimited (0) or above 1, and not a shared host's direct-issuer
 * rule.
 */
function acceptsIntermediates(trust: ClientTrust): boolean {
  return !trust.directIssuerOnly && trust.maxVerifyDepth !== 1;
}

/** pass_identity_headers without a policy: the route's allow_* option, as a policy. */
function impliedPolicy(route: RouteConfig): RoutePolicy {
  const kind = route.access === 'public' ? 'accept' : 'authenticated_user';
  return { allow: [{ operator: 'or', criteria: [{ kind, at: route.at }], at: route.at }], deny: [] };
}

function criteria(policy: RoutePolicy): PolicyCriterion[] {
  return [...policy.allow, ...policy.deny].flatMap((c) => c.criteria);
}

/** Whether some criterion of the policy is one Envoy's RBAC filter cannot decide (the criteria table says). */
export function needsExtAuthz(policy: RoutePolicy): boolean {
  return criteria(policy).some((c) => {
    const rule = criterionSpec(c.kind).rbac;
    return rule === 'ext_authz' || !rule.expressible(c);
  });
}

/** Only what the policy reads: each property is one more header Envoy formats and adds on every request. */
function peerPropertiesFor(policy: RoutePolicy): PeerProperty[] {
  const out = new Set<PeerProperty>();
  for (const c of criteria(policy)) {
    const rule = criterionSpec(c.kind).rbac;
    if (rule !== 'ext_authz') for (const p of rule.peerProperties(c)) out.add(p);
  }
  const order: PeerProperty[] = ['fingerprint', 'email', 'subject'];
  return order.filter((p) => out.has(p));
}
