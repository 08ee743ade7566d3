/**
 * Learners on feature tables (rows × features, row-major Float64Array, NaN = missing): the linear
 * baseline, gradient-boosted trees (binary, regression and LambdaRank objectives, categorical features,
 * training on a worker thread, a versioned JSON and byte form), and the metrics they are judged by.
 * Churn uses them now; ranking and decision points will.
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
  decodeGbdtModel,
  defaultGbdtParams,
  encodeGbdtModel,
  GBDT_FORMAT_VERSION,
  GbdtModel,
  groupsFromQueryIds,
  lambdaRank,
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
  type LambdaRankOptions,
} from './gbdt.js';
export { compileGbdt, MAX_COMPILED_LEAVES, type CompiledGbdt } from './gbdt-compiled.js';
export {
  trainGbdtInWorker,
  type GbdtWorkerOptions,
  type GbdtWorkerParams,
  type GbdtWorkerTraining,
} from './gbdt-worker.js';
export {
  averagePrecision,
  brierScore,
  expectedCalibrationError,
  LOG_LOSS_EPSILON,
  logLoss,
  ndcgAt,
  rocAuc,
} from './metrics.js';
