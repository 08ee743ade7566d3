export { defaultEngineConfig, engineConfig, type EngineConfig } from './config.js';
export {
  Engine,
  type EngineOptions,
  type EventPublisher,
  type RecommendOptions,
  type ServedPlan,
  type SimilarOptions,
  type TrainingRun,
  type TrainingState,
  type UserErasure,
  type UserExport,
} from './engine.js';
export { EngineHost } from './host.js';
export { EngineMetrics } from './metrics.js';
