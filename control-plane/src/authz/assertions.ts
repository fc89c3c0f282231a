import { buildAssertionClaims, type AssertionSigner } from '../identity/index.js';
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

/** Thrown for a deny that is not the policy's (no signing key): its message is shown. */
export class DenyError extends Error {}

/** Signed assertions by route + fingerprint; pending signatures are shared by concurrent requests. */
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

  clear(): void {
    this.assertions.clear();
  }

  /** The route's assertion for the certificate: cached until a minute before it expires, or signed now. */
  async get(route: AuthorizationRoute, identity: CertificateIdentity): Promise<Assertion> {
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
    const key = `${route.name}\0${identity.fingerprint}`;
    const cached = this.assertions.get(key);
    if (cached) {
      const assertion = await cached.catch(() => undefined);
      if (assertion && this.now() < assertion.expiresAtMs - ASSERTION_RENEW_MS) return assertion;
      // Expired or failed. A request that got here first may already be signing the next one: share it.
      const current = this.assertions.get(key);
      if (current && current !== cached) return current;
    }
    const pending = sign(signer, route, identity);
    this.assertions.set(key, pending);
    pending.catch(() => {
      if (this.assertions.get(key) === pending) this.assertions.delete(key);
    });
    return pending;
  }
}

async function sign(signer: AssertionSigner, route: AuthorizationRoute, identity: CertificateIdentity) {
  const claims = buildAssertionClaims(identity, route.audience);
  const { jwt, expiresAt } = await signer.sign(claims);
  return { claims, jwt, expiresAtMs: expiresAt * 1000 };
}
