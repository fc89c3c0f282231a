export { translate } from './translate.js';
export { inconsistencies } from './consistency.js';
export { isGenerationRouteConfigurationName } from './names.js';
