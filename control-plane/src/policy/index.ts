export { evaluatePolicy, usesRequest, describeCriterion, describeClause, criterionHolds, clauseHolds, matches } from './evaluate.js';
export type { Decision, RequestFacts } from './types.js';
export { INTERNAL_HEADER_PREFIX, CLIENT_CERTIFICATE_STATE_HEADER, PEER_HEADERS } from './internal-headers.js';
