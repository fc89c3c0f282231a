export { errorAt, formatError, type ConfigError, type Location, type Result } from '../source/diagnostics.js';
export { loadConfigFile } from './load.js';
export { configVariablesSet, resolveConfig, SCALAR_KEYS, STRUCTURED_KEYS, type ConfigInput } from './resolve.js';
export { ROUTE_KEYS } from './route.js';
export type * from './types.js';
export { acceptsIntermediates, casWithoutCrl, crlsForBundle } from './downstream-mtls.js';
export { configuredClientCas, type ConfiguredClientCas } from './client-ca-chains.js';
export {
  ACCESS_LOG_MESSAGE,
  accessLogOperator,
  EDGE_METADATA_NAMESPACE,
  ERROR_ONLY_FIELDS,
  INFO_LEVEL,
  LOG_SERVICE,
  REQUEST_AUTHORITY_STATE,
} from './access-log-fields.js';
