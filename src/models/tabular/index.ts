/**
 * Learners on feature tables (rows × features, row-major Float64Array, NaN = missing): the linear
 * baseline, gradient-boosted trees, and the metrics they are judged by. Churn uses them now; ranking and
 * decision points will.
 */
export {
  applyStandardization,
  calibrationTable,
  fitLogistic,
  predictLogistic,
  sigmoid,
  standardize,
  type CalibrationBin,
  type LogisticFit,
  type LogisticModel,
  type LogisticOptions,
  type Standardization,
} from './logistic.js';
export {
  binaryLogistic,
  defaultGbdtParams,
  GbdtModel,
  objectiveByName,
  shapContributions,
  squaredError,
  trainGbdt,
  type GbdtDataset,
  type GbdtModelJson,
  type GbdtNodes,
  type GbdtObjective,
  type GbdtParams,
  type GbdtTraining,
} from './gbdt.js';
export { brierScore, LOG_LOSS_EPSILON, logLoss, rocAuc } from './metrics.js';
