export {
  AuthorizationService,
  ASSERTION_HEADER,
  ERROR_REASON,
  INVALID_CERTIFICATE_REASON,
  UNKNOWN_ROUTE_REASON,
  type AuthorizationServiceOptions,
  type DecisionOutcome,
} from './service.js';
export { loadAuthorizationService, type CheckRequest, type CheckResponse } from './check-wire.js';
export { DecisionCache, LruCache } from './decision-cache.js';
export type { AuthorizationRoute, AuthorizationTable } from './types.js';
