// The Envoy API of the version the edge runs (envoy/VERSION), at the bottom of the pipeline: the resource
// contract, the generated message types, the codec and the loaders. It imports nothing of the pipeline.
export {
  TYPE_URL,
  isGenerationRouteConfigurationName,
  type EnvoyJson,
  type EnvoyResources,
  type NamedResource,
  type ResourceKind,
} from './resources.js';
export { ResourceCodec, EncodeError, type EncodedAny } from './codec.js';
export { loadResourceRoot, loadServiceDefinitions } from './load.js';
export { typed } from './typed.js';
export type * from './generated/index.js';
