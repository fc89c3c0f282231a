// The resource contract lives below translate/ and xds/ (envoy-api/).
export { TYPE_URL, type EnvoyResources, type NamedResource } from '../envoy-api/index.js';
