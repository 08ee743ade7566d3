/**
 * Learning to rank: a two-stage model (candidates from a recommender, re-ranked by gradient-boosted trees
 * over named features of the interactions the recommender was fitted on). Offline, `attune evaluate
 * --auto` validates it as one more candidate (`validateTwoStage`) and ranks the test split with it
 * (`rerankTopK`) when validation chose it.
 */
export { FeatureTable } from './feature-table.js';
export {
  DEFAULT_CANDIDATES,
  GENERATOR_COLUMNS,
  generateCandidates,
  type CandidateLists,
} from './candidates.js';
export { interactionStats, type InteractionStats, type StatsOptions } from './interaction-stats.js';
export { addInteractionFeatures, INTERACTION_FEATURES, type FeatureOptions } from './features.js';
export {
  lambdarank,
  pointwise,
  rankObjectives,
  type RankObjective,
  type RankObjectiveName,
  type RankerTreeParams,
  type RankingRows,
} from './objective.js';
export {
  defaultRankerParams,
  gainImportances,
  labelLists,
  listNdcg,
  scoreRows,
  TooFewListsError,
  trainRanker,
  type HeldOutRows,
  type LabelledLists,
  type RankerParams,
  type TrainedRanker,
} from './ranker.js';
export {
  rankingLists,
  rerankTopK,
  validateTwoStage,
  type RankedLists,
  type TwoStageOptions,
  type TwoStageTrial,
  type TwoStageValidation,
} from './two-stage.js';
export { CANDIDATE_LIST_DEPTH, Reranker, type RerankerInfo } from './reranker.js';
export {
  countShown,
  RERANK_FEATURES,
  rerankFeatures,
  shownByIndex,
  SHOWN_LISTS,
  SHOWN_WINDOW_MS,
  type ItemSnapshot,
  type RerankUser,
  type ShownList,
} from './rerank-features.js';
export { positionBias, type PositionBias } from './position-bias.js';
export {
  trainFromCandidateLists,
  trainFromLoggedLists,
  type ItemCategories,
  type LoggedList,
  type RerankTraining,
} from './train-reranker.js';
export { itemCategoriesFromStore, loggedListsFromStore, outcomeGrade } from './logged-from-store.js';
export { MAX_RANK_ITEMS, rankItems, type RankResult } from './rank-items.js';
