export { defaultEngineConfig, engineConfig, type EngineConfig } from './config.js';
export { Engine, type RecommendOptions, type SimilarOptions, type TrainingState } from './engine.js';
export { EngineMetrics } from './metrics.js';
