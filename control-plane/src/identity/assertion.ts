// X-Pomerium-Jwt-Assertion: an ES256 JWT telling an upstream who the client certificate belongs to,
// and the JWKS an upstream verifies it with.
import { createPrivateKey, randomUUID, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import type { AssertionClaims, CertificateIdentity, SigningKey } from './types.js';

const DEFAULT_ASSERTION_LIFETIME_SECONDS = 300;

export class AssertionSigner {
  readonly kid: string;
  readonly #privateKey: KeyObject;

  constructor(key: SigningKey) {
    this.kid = key.kid;
    this.#privateKey = createPrivateKey(key.privateKeyPem);
  }

  /** Signs `claims` with iat (now), exp (now + lifetime) and a random jti added; header alg ES256, kid, typ JWT. */
  async sign(
    claims: AssertionClaims,
    lifetimeSeconds = DEFAULT_ASSERTION_LIFETIME_SECONDS,
  ): Promise<{ jwt: string; expiresAt: number }> {
    if (!Number.isInteger(lifetimeSeconds) || lifetimeSeconds <= 0)
      throw new Error(`assertion lifetime must be a positive whole number of seconds, not ${lifetimeSeconds}`);
    const now = Math.floor(Date.now() / 1000);
    const expiresAt = now + lifetimeSeconds;
    const payload: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(claims)) if (value !== undefined) payload[name] = value;
    const jwt = await new SignJWT(payload)
      .setProtectedHeader({ alg: 'ES256', kid: this.kid, typ: 'JWT' })
      .setIssuedAt(now)
      .setExpirationTime(expiresAt)
      .setJti(randomUUID())
      .sign(this.#privateKey);
    return { jwt, expiresAt };
  }
}

/** The JSON Web Key Set document (/.well-known/pomerium/jwks.json) of the given keys. */
export function jwks(keys: SigningKey[]): { keys: Array<SigningKey['publicJwk']> } {
  return { keys: keys.map((k) => ({ ...k.publicJwk })) };
}

/**
 * The claims of the assertion for one route: `audience` is the route's host (or URL); like
 * Pomerium, iss is that host and aud the audience. sub is the user, else the certificate
 * fingerprint. Certificate details are added under snake_case names; empty SAN lists are left out.
 */
export function buildAssertionClaims(identity: CertificateIdentity, audience: string): AssertionClaims {
  const claims: AssertionClaims = {
    iss: audienceHost(audience),
    aud: audience,
    sub: identity.user ?? identity.fingerprint,
  };
  if (identity.email !== undefined) claims.email = identity.email;
  if (identity.user !== undefined) claims.user = identity.user;
  if (identity.domain !== undefined) claims.domain = identity.domain;
  claims.fingerprint = identity.fingerprint;
  claims.spki_hash = identity.spkiHash;
  claims.subject = identity.subject;
  claims.issuer = identity.issuer;
  if (identity.commonName !== undefined) claims.common_name = identity.commonName;
  const sans: Array<[string, string[]]> = [
    ['san_dns', identity.sans.dns],
    ['san_email', identity.sans.email],
    ['san_uri', identity.sans.uri],
    ['san_ip_address', identity.sans.ip_address],
    ['san_user_principal_name', identity.sans.user_principal_name],
  ];
  for (const [name, values] of sans) if (values.length > 0) claims[name] = [...values];
  return claims;
}

/**
 * The value of an X-Pomerium-Claim-* header for `claim`: arrays joined with ",", numbers as
 * decimal. Undefined when the claim is absent or empty, or when its value could not travel in a
 * header (control characters such as CR or LF, possible in certificate names), or when an element of
 * an array holds a comma: the upstream would read one SAN `evil.ex,victim.ex` as two (the JWT keeps it whole).
 */
export function claimHeaderValue(claims: AssertionClaims, claim: string): string | undefined {
  if (!Object.hasOwn(claims, claim)) return undefined;
  const value = claims[claim];
  if (value === undefined) return undefined;
  if (Array.isArray(value) && (value.length === 0 || value.some((v) => v.includes(',')))) return undefined;
  const text = Array.isArray(value) ? value.join(',') : String(value);
  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u0008\u000a-\u001f\u007f]/.test(text) ? undefined : text;
}

/** The host of an audience given as a URL ("https://a.example.com:8443/" → "a.example.com:8443"), else the audience itself. */
export function audienceHost(audience: string): string {
  if (audience.includes('://')) {
    try {
      const host = new URL(audience).host;
      if (host !== '') return host;
    } catch {
      // Not a URL after all: the audience is used as it is.
    }
  }
  return audience;
}
