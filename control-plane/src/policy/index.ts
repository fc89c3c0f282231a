export { evaluatePolicy, usesRequest, describeCriterion, criterionHolds, clauseHolds } from './evaluate.js';
export { criterionSpec } from './criteria.js';
export { readPolicy, identityCriteria, anyAuthenticatedUserClause, sessionCriteria } from './parse.js';
export { SESSION_METADATA_NAMESPACE, SESSION_PAYLOAD_KEY } from './session-claims.js';
export type * from './types.js';
export {
  INTERNAL_HEADER_PREFIX,
  CLIENT_CERTIFICATE_STATE_HEADER,
  PEER_HEADERS,
  CHECK_ALLOWED_METADATA_KEY,
  CHECK_CACHE_METADATA_KEY,
} from './internal-headers.js';
export type { PeerProperty } from './internal-headers.js';
export { INSTALL_CERTIFICATE_TEXT } from './texts.js';
