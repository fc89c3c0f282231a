import type { CertificateIdentity } from '../identity/types.js';
import { ASSERTION_RENEW_MS } from './assertions.js';
import { policyUsesRequest } from './decision-cache.js';
import type { AuthorizationRoute } from './types.js';

/**
 * How long Envoy's identity cache may keep an allow at most, even when neither the certificate nor the assertion
 * expires sooner. Any change to what is decided renames the route and so misses the cache at once; this bounds
 * what a mistake in that could cost.
 */
const ENVOY_CACHE_MAX_MS = 300_000;

/**
 * Until when (Unix seconds) Envoy may answer this certificate on this route from its identity cache
 * (translate/http-filters/identity-cache.ts): only for a verified certificate and a decision that does not read the
 * request; never past the certificate's notAfter, the assertion's renewal or ENVOY_CACHE_MAX_MS. Undefined: not at
 * all.
 */
export function envoyCacheUntil(
  route: AuthorizationRoute,
  identity: CertificateIdentity | undefined,
  now: number,
  assertionExpiresAtMs: number | undefined,
): number | undefined {
  if (!identity || policyUsesRequest(route)) return undefined;
  let until = Math.min(now + ENVOY_CACHE_MAX_MS, identity.notAfterMs);
  if (assertionExpiresAtMs !== undefined) until = Math.min(until, assertionExpiresAtMs - ASSERTION_RENEW_MS);
  const seconds = Math.floor(until / 1000);
  return seconds > Math.ceil(now / 1000) ? seconds : undefined;
}
