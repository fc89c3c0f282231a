import { createHash } from 'node:crypto';
import type { RouteConfig, RoutePolicy } from '../config/index.js';
import type { PolicyClause } from '../policy/index.js';
import type { AuthorizationRoute } from './types.js';
import { clientTrustId, type ClientTrust } from '../identity/verify-certificate.js';
import type { CertificateCheck, ClientCaRequirement } from './types.js';

type CaRequirement = Extract<ClientCaRequirement, { ca: unknown }>;

const generationByRequirement = new WeakMap<CaRequirement, string>();

/**
 * A digest of everything a handshake on this requirement's chain checks: the CA certificates, the CRLs,
 * the depth, the SAN matchers, the enforcement. Envoy verifies a client certificate only at the handshake,
 * so a connection is as good as the trust it was made under: the route configuration a chain reads is
 * named after this generation, and a new generation is a new chain (Envoy drains the old one) whose old
 * route configuration name is then served with a per-request check (translate/stale-route-configuration.ts).
 * Deterministic from the config, so replicas agree; a widening changes it too (and drains, harmlessly).
 */
export function trustGeneration(r: CaRequirement): string {
  let generation = generationByRequirement.get(r);
  if (!generation) {
    const v = r.validation;
    const content = JSON.stringify({
      cas: r.ca.fingerprints,
      crl: createHash('sha256').update(v.crlPem).digest('hex'),
      depth: v.maxVerifyDepth,
      sans: v.matchSubjectAltNames,
      enforcement: v.enforcement,
      perRoute: v.checkedPerRoute === true,
    });
    generation = createHash('sha256').update(content).digest('hex').slice(0, 12);
    generationByRequirement.set(r, generation);
  }
  return generation;
}

/**
 * What the ext_authz service must know to decide, on a connection whose certificate Envoy did not verify at that
 * connection's own handshake (one made under an older trust, a resumed TLS session), a route that Envoy decides
 * itself (or that needs no policy): allow when the certificate still meets the route's current trust, and — where
 * the route needs one — when there is one. A route with a policy Envoy decides (`envoyPolicy`) has the service
 * decide that policy too: on a resumed session (also one made under an older trust) Envoy's own SAN matcher (the
 * mtls_authenticated principal) says no to every certificate, so its deny rules would let anyone through and its
 * allow rules no one.
 * Named by a digest of the trust (and the policy), so a check from a route configuration Envoy kept from an even
 * older generation meets no entry (a deny), never a trust it was not built for.
 */
export function trustCheckRoute(
  route: RouteConfig,
  trust: ClientTrust,
  certificateRequired: boolean,
  envoyPolicy?: RoutePolicy,
  signIn?: { groupsClaim: string },
): AuthorizationRoute {
  const kind = certificateRequired ? 'authenticated_user' : 'accept';
  const requirement = (operator: PolicyClause['operator']): PolicyClause => ({
    operator,
    criteria: [{ kind, at: route.at }],
    at: route.at,
  });
  // The policy's allows, but only with a certificate where the route requires one (`nor`: deny unless it holds),
  // after the user's deny rules, so that a 403 names the same rule as at a handshake (`deny rule N`).
  const policy: RoutePolicy = envoyPolicy
    ? {
        allow: envoyPolicy.allow,
        deny: certificateRequired ? [...envoyPolicy.deny, requirement('nor')] : envoyPolicy.deny,
      }
    : { allow: [requirement('or')], deny: [] };
  // A policy that reads the sign-in is decided with the session Envoy validated (the service reads it only where
  // the route says so): without it, its allow rules would hold for no one and its deny rules for no one either.
  const session = envoyPolicy && signIn ? signIn : undefined;
  const withoutLocations = (k: string, v: unknown) => (k === 'at' ? undefined : v);
  // (The session's settings join the digest only where they apply: other trust checks keep their names.)
  const decided = envoyPolicy ? JSON.stringify(session ? [policy, session] : policy, withoutLocations) : kind;
  const digest = trustCheckDigest(decided, trust);
  // Routes of several hosts share one entry (same trust, same name); it signs nothing, so it names no audience.
  return {
    name: `trust.${digest}`,
    audience: '',
    policy,
    passIdentityHeaders: false,
    claimsHeaders: [],
    clientCaRequired: true,
    clientTrust: trust,
    ...(session ? { signIn: session } : {}),
  };
}

// Thousands of routes share a few trusts and kinds: hash each pair once (model/requirement.ts shares the trusts).
const digestsByTrust = new WeakMap<ClientTrust, Map<string, string>>();

function trustCheckDigest(decided: string, trust: ClientTrust): string {
  let digests = digestsByTrust.get(trust);
  if (!digests) digestsByTrust.set(trust, (digests = new Map<string, string>()));
  let digest = digests.get(decided);
  if (digest === undefined) {
    digest = createHash('sha256')
      .update(`${decided}\n${clientTrustId(trust)}`)
      .digest('hex')
      .slice(0, 16);
    if (digests.size >= MAX_DIGESTS_PER_TRUST) digests.clear(); // policies Envoy decides: one each, new on reload
    digests.set(decided, digest);
  }
  return digest;
}

const MAX_DIGESTS_PER_TRUST = 4096;

/** Whether a route serves only requests with a valid certificate (its own check, or a handshake that demands one). */
export function requiresValidCertificate(check: CertificateCheck, requirement: ClientCaRequirement): boolean {
  if (check.kind !== 'none') return true;
  return (
    'ca' in requirement &&
    requirement.validation.enforcement === 'reject_connection' &&
    requirement.validation.checkedPerRoute !== true
  );
}
