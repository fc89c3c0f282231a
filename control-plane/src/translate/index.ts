export { translate } from './translate.js';
export { inconsistencies } from './consistency.js';
export { TYPE_URL, type EnvoyJson, type EnvoyResources, type NamedResource, type ResourceKind } from './types.js';
export { isGenerationRouteConfigurationName } from './names.js';
