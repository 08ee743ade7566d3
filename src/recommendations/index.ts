export type { Impression, ImpressionItem } from './impression.js';
export { ImpressionLog } from './impression-log.js';
export { runPipeline, type StageTimer } from './pipeline.js';
export { ResultCache, type ServedList } from './result-cache.js';
export { buildProfile, impersonalProfile, type ProfileSettings, type ServingProfile } from './profile.js';
export { UserHistories } from './user-histories.js';
export {
  BYTES_PER_ITEM,
  HistoryTables,
  isPurchase,
  UserHistory,
  type HistoryEntry,
  type HistorySettings,
} from './user-history.js';
export {
  currentSession,
  defaultSessionConfig,
  type CurrentSession,
  type SessionBoost,
  type SessionConfig,
  type SessionItem,
  type SessionOverride,
} from './session.js';
export { diversify, intraListDiversity, type CategoryCaps } from './diversity.js';
export {
  compileRules,
  mergeRulesSpecs,
  noRules,
  RulesError,
  withServingOptions,
  MAX_PER_CATEGORY,
  MAX_SESSION_ITEMS,
  MAX_SESSION_WEIGHT,
  type Pin,
  type ReshowPolicy,
  type Rules,
  type RulesSpec,
} from './rules.js';
export { explainRecommendation, type ExplainResult, type ResolvedExplanation } from './explain.js';
export { presetsFor, RulePresets, PRESET_KEY_PREFIX, type StoredPreset } from './rules-presets.js';
export { segmentRules, withSegmentRules, type SegmentRule } from './rules-segments.js';
export { similarItems, type SimilarRequest, type SimilarResult } from './similar.js';
export { defaultStages, forgetServedUser } from './stages.js';
export type {
  CatalogView,
  PipelineContext,
  Reason,
  RecommendationRequest,
  RecommendationResult,
  RecommendedItem,
  Stage,
} from './types.js';
export { parseSharedList, sharedListKey, type SharedList, type SharedLists } from './shared-lists.js';
