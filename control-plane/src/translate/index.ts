export { translate } from './translate.js';
export { inconsistencies } from './consistency.js';
export { TYPE_URL, type EnvoyResources, type NamedResource } from './types.js';
export { isGenerationRouteConfigurationName } from './names.js';
