export type { Impression, ImpressionItem } from './impression.js';
export { ImpressionLog } from './impression-log.js';
export { runPipeline } from './pipeline.js';
export { buildProfile, type ServingProfile } from './profile.js';
export { RecentHistory, type HistoryEntry } from './recent-history.js';
export { similarItems, type SimilarRequest, type SimilarResult } from './similar.js';
export { defaultStages } from './stages.js';
export type {
  CatalogView,
  PipelineContext,
  Reason,
  RecommendationRequest,
  RecommendationResult,
  RecommendedItem,
  Stage,
} from './types.js';
