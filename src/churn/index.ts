/**
 * Churn prediction from a customer table (issue 10): the table's preparation (`table.ts`) and the models
 * `attune churn evaluate` compares. Each model is one entry of `CHURN_MODELS`: adding a model (a GBDT) is
 * adding an entry, and the CLI and `bench/churn-table.ts` pick it up.
 */
import { performance } from 'node:perf_hooks';
import {
  applyStandardization,
  fitLogistic,
  logLoss,
  predictLogistic,
  rocAuc,
  standardize,
  trainGbdt,
  type Standardization,
} from '../models/tabular/index.js';
import type { FeatureRows, PreparedTable } from './table.js';

export {
  DEFAULT_SEED,
  DEFAULT_TEST_SHARE,
  parseRowList,
  prepareTable,
  stratifiedSplit,
  TableInputError,
  type FeatureRows,
  type PreparedTable,
  type TableOptions,
} from './table.js';

/** A trained model: P(churn) for every row of a feature matrix laid out as the training one. */
export type ChurnPredictor = (x: Float64Array) => Float64Array;

export interface ChurnModel {
  /** The `model` field of the CLI's output. */
  readonly name: string;
  train(table: PreparedTable): ChurnPredictor;
}

/**
 * The logistic model's scaling: the table's numeric features standardised with the train rows' mean and
 * population sd, one-hot features as they are (the reference's preparation).
 */
export function logisticScaling(table: PreparedTable): Standardization {
  return standardize(table.train.x, table.train.rows, table.features.length, table.numeric);
}

/** L2 logistic regression, C = 1, on standardised numeric features. */
export const logisticChurnModel: ChurnModel = {
  name: 'logreg',
  train(table) {
    const scaling = logisticScaling(table);
    const fit = fitLogistic(
      applyStandardization(table.train.x, scaling),
      table.train.y,
      table.features.length,
    );
    if (!fit.converged) {
      throw new Error(`logistic regression did not converge in ${fit.iterations} steps`);
    }
    return (x) => predictLogistic(fit, applyStandardization(x, scaling));
  },
};

/**
 * Gradient-boosted trees on the same features unscaled (trees split on order, not scale), with the
 * settings the reference's XGBoost used: 300 trees, learning rate 0.05, depth 6, no subsampling.
 */
export const gbdtChurnModel: ChurnModel = {
  name: 'gbdt',
  train(table) {
    const { model } = trainGbdt(
      {
        features: table.train.x,
        labels: Float64Array.from(table.train.y),
        nRows: table.train.rows,
        nFeatures: table.features.length,
      },
      { objective: 'binary', nTrees: 300, learningRate: 0.05, maxDepth: 6 },
    );
    return (x) => model.predict(x);
  },
};

/** Every model `attune churn evaluate` reports, in output order. */
export const CHURN_MODELS: readonly ChurnModel[] = [logisticChurnModel, gbdtChurnModel];

export interface ChurnEvaluation {
  readonly model: string;
  /** On the test rows. */
  readonly auc: number;
  readonly logloss: number;
  /** Seconds to train, scaling included; prediction excluded. */
  readonly train_s: number;
}

/** Trains one model on the train rows and scores its probabilities on the test rows. */
export function evaluateChurnModel(model: ChurnModel, table: PreparedTable): ChurnEvaluation {
  const started = performance.now();
  const predict = model.train(table);
  const trainSeconds = (performance.now() - started) / 1000;
  const test: FeatureRows = table.test;
  const probabilities = predict(test.x);
  return {
    model: model.name,
    auc: rocAuc(test.y, probabilities),
    logloss: logLoss(test.y, probabilities),
    train_s: trainSeconds,
  };
}

// --- churn from the engine's events -------------------------------------------------------------------
export {
  BAND_QUANTILES,
  CHURN_ARTIFACT,
  ChurnArtifactError,
  ChurnScorer,
  decodeChurnArtifact,
  encodeChurnArtifact,
  riskBand,
  type ChurnArtifactData,
  type ChurnDriver,
  type ChurnScore,
  type RiskBand,
  type RiskBands,
} from './artifact.js';
export { churnMonotone } from './constraints.js';
export {
  DERIVED_KINDS,
  churnColumns,
  derivedMeanings,
  derivedValue,
  modelRowMapper,
  modelRows,
  type ChurnColumnOptions,
} from './derived.js';
export {
  columnMeanings,
  describeValue,
  driverText,
  type ColumnMeaning,
  type DerivedColumnMeaning,
  type DerivedKind,
  type FeatureColumnMeaning,
} from './drivers.js';
export {
  GBDT_BASES,
  churnContributions,
  churnMargins,
  churnProbabilities,
  type ChurnModelFit,
  type GbdtBase,
} from './event-models.js';
export {
  DAY_MS,
  LabelCollector,
  MAX_STACKED_CUTS,
  STACK_STEP_DAYS,
  churnRate,
  churnTable,
  stackChurnTables,
  stackedChurnTable,
  stackedCuts,
  validationCuts,
  type ChurnCut,
  type ChurnTable,
  type EventScan,
} from './events.js';
export {
  loadChurnScorer,
  scoreStore,
  storeItems,
  trainChurn,
  validateStore,
  type ChurnModelChoice,
  type StoreChurnOptions,
  type StoreValidation,
  type UserChurnScore,
} from './from-store.js';
export { servedChurnModel } from './serving.js';
export {
  reportLine,
  validateOverTime,
  type ChurnModelReport,
  type TableSummary,
  type TimeValidation,
  type TimeValidationOptions,
} from './validation.js';
