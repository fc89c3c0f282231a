export {
  evaluatePolicy,
  usesRequest,
  describeCriterion,
  describeClause,
  criterionHolds,
  clauseHolds,
} from './evaluate.js';
export { matches } from './matching.js';
export { CRITERIA, CRITERION_NAMES, criterionSpec, type CriterionSpec, type RbacRule } from './criteria.js';
export { readPolicy, identityCriteria, anyAuthenticatedUserClause } from './parse.js';
export type * from './types.js';
export { INTERNAL_HEADER_PREFIX, CLIENT_CERTIFICATE_STATE_HEADER, PEER_HEADERS } from './internal-headers.js';
export type { PeerProperty } from './internal-headers.js';
