// The identity assertion of a signed-in route: who the identity provider says the user is, as Pomerium's
// X-Pomerium-Jwt-Assertion says it, and which client certificate came with the request, if one did.
import { audienceHost, buildAssertionClaims } from './assertion.js';
import { verifiedEmail } from './session-email.js';
import type { AssertionClaims, CertificateIdentity } from './types.js';

/**
 * The registered claims the edge sets in each assertion itself (assertion.ts: iss and aud from the route, the
 * others when it signs): an ID token's own never replace them, nor can they be claim headers of the provider's.
 */
export const EDGE_SET_CLAIMS: readonly string[] = ['iss', 'aud', 'exp', 'iat', 'nbf', 'jti'];

/**
 * What only a verified client certificate says: never taken from an ID token, so that a claim header such as
 * X-Pomerium-Claim-Fingerprint always means the certificate the edge verified.
 */
export const CERTIFICATE_CLAIMS: readonly string[] = [
  'fingerprint',
  'spki_hash',
  'subject',
  'issuer',
  'common_name',
  'san_dns',
  'san_email',
  'san_uri',
  'san_ip_address',
  'san_user_principal_name',
];

/** The claims this module sets from the ID token by name (sub, user, email, name, groups): not copied as they are. */
const SET_BY_NAME: readonly string[] = ['sub', 'user', 'email', 'name', 'groups'];

interface SessionAssertionOptions {
  /** The ID token claim that lists the user's groups (idp_groups_claim): the assertion's `groups`. */
  groupsClaim: string;
  /** More ID token claims to carry, as they are (the claims jwt_claims_headers names, as Pomerium does). */
  claims: readonly string[];
}

/**
 * The assertion's claims for a signed-in user: iss and aud as for a certificate; sub and user the ID token's sub;
 * its email and name; groups from the groups claim (one group as a list of one); the further claims named in
 * `options.claims`, when the token has them as text, a number, true/false or a list of texts and numbers; and,
 * with a verified client certificate (`identity`), the certificate's own claims (fingerprint, spki_hash, subject,
 * SANs…), but not its email, user or domain: the user is the one who signed in. Undefined when the token names no
 * user (no `sub`): OpenID Connect requires one, and an assertion about nobody proves nothing.
 */
export function buildSessionAssertionClaims(
  session: Readonly<Record<string, unknown>>,
  audience: string,
  options: SessionAssertionOptions,
  identity?: CertificateIdentity,
): AssertionClaims | undefined {
  const sub = session['sub'];
  if (typeof sub !== 'string' || sub === '') return undefined;
  const claims: AssertionClaims = { iss: audienceHost(audience), aud: audience, sub, user: sub };
  // An email the provider did not verify is no identity: the assertion carries none (as the policy reads none).
  const email = verifiedEmail(session);
  if (email !== undefined) setClaim(claims, 'email', email);
  const displayName = ownClaim(session, 'name');
  if (typeof displayName === 'string') setClaim(claims, 'name', displayName);
  const groups = claimValue(ownClaim(session, options.groupsClaim));
  if (groups !== undefined && typeof groups !== 'boolean')
    setClaim(claims, 'groups', Array.isArray(groups) ? groups : [String(groups)]);
  for (const name of options.claims) {
    if (EDGE_SET_CLAIMS.includes(name) || CERTIFICATE_CLAIMS.includes(name) || SET_BY_NAME.includes(name)) continue;
    const value = claimValue(ownClaim(session, name));
    if (value !== undefined) setClaim(claims, name, value);
  }
  if (identity) {
    const certificate = buildAssertionClaims(identity, audience);
    for (const name of CERTIFICATE_CLAIMS) {
      const value = certificate[name];
      if (value !== undefined) setClaim(claims, name, value);
    }
  }
  return claims;
}

/** A claim of the token itself (never one its prototype answers for, such as `constructor`). */
function ownClaim(session: Readonly<Record<string, unknown>>, name: string): unknown {
  return Object.hasOwn(session, name) ? session[name] : undefined;
}

/** A value an assertion and a header can carry: text, a finite number, true/false, or a list of texts and numbers. */
function claimValue(value: unknown): string | number | boolean | string[] | undefined {
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (!Array.isArray(value)) return undefined;
  const items = value as unknown[];
  if (!items.every((v) => typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v)))) return undefined;
  return items.map(String);
}

/** As `claims[name] = value`, also for a name such as `__proto__` (an assignment would set the prototype). */
function setClaim(claims: AssertionClaims, name: string, value: AssertionClaims[string]): void {
  Object.defineProperty(claims, name, { value, enumerable: true, writable: true, configurable: true });
}
