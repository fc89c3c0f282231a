import { buildAssertionClaims, buildSessionAssertionClaims, type AssertionSigner } from '../identity/index.js';
import type { AssertionClaims, CertificateIdentity } from '../identity/types.js';
import { LruCache } from './decision-cache.js';
import type { AuthorizationRoute } from './types.js';

/** A cached assertion is signed again this long before it expires. */
export const ASSERTION_RENEW_MS = 60_000;

export interface Assertion {
  claims: AssertionClaims;
  jwt: string;
  /** Milliseconds since the epoch. */
  expiresAtMs: number;
}

/**
 * Who an assertion is about: the client certificate the service verified, and on a signed-in route the session
 * Envoy validated, with its digest (decision-cache.ts sessionDigest). A signed-in route's assertion is the session's.
 */
export interface AssertionSubject {
  identity?: CertificateIdentity;
  session?: { payload: Readonly<Record<string, unknown>>; digest: string };
}

/** Thrown for a deny that is not the policy's (no signing key): its message is shown. */
export class DenyError extends Error {}

/**
 * Signed assertions by route + fingerprint (+ session, on a signed-in route: two users behind one certificate, or
 * one certificate without any, never share one); pending signatures are shared by concurrent requests.
 */
export class AssertionCache {
  private readonly assertions: LruCache<Promise<Assertion>>;
  private lastSigner: AssertionSigner | undefined;

  constructor(
    size: number,
    private readonly signer: () => AssertionSigner | undefined,
    private readonly now: () => number,
  ) {
    this.assertions = new LruCache(size);
  }

  /** The cache key of the subject's assertion on the route. */
  static key(route: AuthorizationRoute, subject: AssertionSubject): string {
    const base = `${route.name}\0${subject.identity?.fingerprint ?? '-'}`;
    return route.signIn ? `${base}\0${subject.session?.digest ?? '-'}` : base;
  }

  clear(): void {
    this.assertions.clear();
  }

  /** The route's assertion for the subject: cached until a minute before it expires, or signed now. */
  async get(route: AuthorizationRoute, subject: AssertionSubject): Promise<Assertion> {
    const signer = this.signer();
    if (!signer)
      throw new DenyError(
        'the identity assertion for this route cannot be signed yet (no signing key is loaded); try again',
      );
    if (signer !== this.lastSigner) {
      // A new key: assertions signed with the old one may not verify against the published keys.
      this.assertions.clear();
      this.lastSigner = signer;
    }
    const key = AssertionCache.key(route, subject);
    const cached = this.assertions.get(key);
    if (cached) {
      const assertion = await cached.catch(() => undefined);
      if (assertion && this.now() < assertion.expiresAtMs - ASSERTION_RENEW_MS) return assertion;
      // Expired or failed. A request that got here first may already be signing the next one: share it.
      const current = this.assertions.get(key);
      if (current && current !== cached) return current;
    }
    const pending = sign(signer, route, subject);
    this.assertions.set(key, pending);
    pending.catch(() => {
      if (this.assertions.get(key) === pending) this.assertions.delete(key);
    });
    return pending;
  }
}

async function sign(signer: AssertionSigner, route: AuthorizationRoute, subject: AssertionSubject) {
  const claims = assertionClaims(route, subject);
  const { jwt, expiresAt } = await signer.sign(claims);
  return { claims, jwt, expiresAtMs: expiresAt * 1000 };
}

/** On a signed-in route, the session's claims (and the certificate's); elsewhere, the certificate's. */
function assertionClaims(route: AuthorizationRoute, { identity, session }: AssertionSubject): AssertionClaims {
  if (route.signIn) {
    if (!session) throw new Error('no session to sign an assertion for on a signed-in route');
    const claims = route.claimsHeaders.map(([, claim]) => claim);
    const options = { groupsClaim: route.signIn.groupsClaim, claims };
    const built = buildSessionAssertionClaims(session.payload, route.audience, options, identity);
    if (!built) throw new DenyError('the sign-in names no user (the ID token has no sub claim)');
    return built;
  }
  if (!identity) throw new Error('no certificate identity to sign an assertion for');
  return buildAssertionClaims(identity, route.audience);
}
