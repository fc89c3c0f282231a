export {
  AuthorizationService,
  ASSERTION_HEADER,
  ERROR_REASON,
  INVALID_CERTIFICATE_REASON,
  UNKNOWN_ROUTE_REASON,
  type AuthorizationServiceOptions,
  type DecisionOutcome,
} from './service.js';
export {
  CERTIFICATE_ERROR_STATUS,
  denied,
  loadAuthorizationService,
  type CheckRequest,
  type CheckResponse,
  type HeaderValueOption,
} from './check-wire.js';
export { DecisionCache, LruCache, DEFAULT_DECISION_CACHE_SIZE, type CacheStats } from './decision-cache.js';
export {
  VerificationCache,
  chainKey,
  DEFAULT_VERIFICATION_CACHE_SIZE,
  type PresentedCertificates,
} from './verification-cache.js';
export type { AuthorizationRoute, AuthorizationTable } from './types.js';
