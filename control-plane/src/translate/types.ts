// The resource contract lives below translate/ and xds/ (envoy-api/); re-exported while the builders move to it.
export {
  TYPE_URL,
  type EnvoyJson,
  type EnvoyResources,
  type NamedResource,
  type ResourceKind,
} from '../envoy-api/index.js';
