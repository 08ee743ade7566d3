export {
  BUNDLE_ARTIFACT,
  BundleDecodeError,
  ModelBundle,
  compareBundles,
  storedPosition,
  type BundleInfo,
  type RerankingRecord,
  type SelectionRecord,
  type TrainedInfo,
} from './bundle.js';
export { buildTrainingSet, type TrainingSet } from './dataset.js';
export {
  TRAINING_LEASE,
  TrainingLease,
  TrainingLeaseHeldError,
  trainerId,
  type LeaseListener,
} from './lease.js';
export { TrainingRunner } from './runner.js';
export {
  DEFAULT_SCORING_BUDGET_MS,
  trainBundle,
  type RerankMode,
  type TrainingConfig,
  type TrainingProgress,
} from './train.js';
