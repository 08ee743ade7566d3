export { BUNDLE_ARTIFACT, ModelBundle, type BundleInfo } from './bundle.js';
export { buildTrainingSet, type TrainingSet } from './dataset.js';
export { TrainingRunner } from './runner.js';
export {
  DEFAULT_SCORING_BUDGET_MS,
  trainBundle,
  type TrainingConfig,
  type TrainingProgress,
} from './train.js';
