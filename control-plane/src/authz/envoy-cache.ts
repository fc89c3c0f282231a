import { ASSERTION_RENEW_MS } from './assertions.js';
import { policyUsesRequest } from './decision-cache.js';
import type { AuthorizationRoute } from './types.js';

/**
 * How long Envoy's identity cache may keep an allow at most, even when nothing it rests on expires sooner. Any change
 * to what is decided renames the route and so misses the cache at once; this bounds what a mistake in that could
 * cost.
 */
const ENVOY_CACHE_MAX_MS = 300_000;

/**
 * For how many seconds Envoy's identity cache may answer a verified certificate on this route
 * (translate/http-filters/identity-cache.ts), or undefined: not at all. Only a decision that does not read the
 * request is kept, and never past `trustedUntilMs` (the first notAfter on the certificate's path, its issuer's CRL's
 * nextUpdate), the assertion's renewal or ENVOY_CACHE_MAX_MS. A duration, not a time: Envoy's clock and this
 * host's need not agree.
 */
export function envoyCacheSeconds(
  route: AuthorizationRoute,
  now: number,
  trustedUntilMs: number,
  assertionExpiresAtMs: number | undefined,
): number | undefined {
  if (policyUsesRequest(route)) return undefined;
  let until = Math.min(now + ENVOY_CACHE_MAX_MS, trustedUntilMs);
  if (assertionExpiresAtMs !== undefined) until = Math.min(until, assertionExpiresAtMs - ASSERTION_RENEW_MS);
  const seconds = Math.floor((until - now) / 1000);
  return seconds >= 1 ? seconds : undefined;
}
