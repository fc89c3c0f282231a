export { buildEdgeModel, type ModelOptions } from './build-model.js';
export { hostPatternCovers } from './hostnames.js';
export type * from './types.js';
export { trustGeneration } from './trust.js';
