export { checksClientCertificates } from './client-certificate-check.js';
export { CONTROL_PLANE_CLUSTER, EXT_AUTHZ_FILTER } from './ext-authz.js';
export { buildLocalReplyConfig } from './local-reply.js';
export { PEER_IDENTITY_FILTER } from './peer-identity.js';
export { POLICY_ALLOW_FILTER } from './policy-allow.js';
export { POLICY_DENY_FILTER } from './policy-deny.js';
export {
  HTTP_FILTERS,
  httpFilterResources,
  httpFilters,
  typedPerFilterConfig,
  withTypedPerFilterConfig,
  type TypedPerFilterConfig,
} from './registry.js';
export type {
  CertificateOnConnection,
  ChainContext,
  EdgeAnswer,
  HttpFilterModule,
  RouteChain,
  RouteContext,
} from './types.js';
