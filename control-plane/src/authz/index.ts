export {
  AuthorizationService,
  loadAuthorizationService,
  denied,
  ASSERTION_HEADER,
  AUTHORIZATION_PROTO,
  ERROR_REASON,
  INVALID_CERTIFICATE_REASON,
  UNKNOWN_ROUTE_REASON,
  type AuthorizationServiceOptions,
  type CheckRequest,
  type CheckResponse,
  type DecisionOutcome,
  type HeaderValueOption,
} from './service.js';
export { DecisionCache, LruCache, DEFAULT_DECISION_CACHE_SIZE, type CacheStats } from './decision-cache.js';
export { VerificationCache, chainKey, DEFAULT_VERIFICATION_CACHE_SIZE, type PresentedCertificates } from './verification-cache.js';
export type { AuthorizationRoute, AuthorizationTable } from './types.js';
