/**
 * Experiment statistics: pure functions from per-user data to the analysis of an A/B(/n) test (Welch t,
 * relative lift by the delta method, chance to win, two-proportion z-test, CUPED, ratio metrics, SRM check,
 * Holm and Benjamini–Hochberg corrections, confidence sequences). No I/O; `attune stats` is the CLI on top.
 */
export {
  analyzeExperiment,
  StatsInputError,
  type AnalyzeOptions,
  type Comparison,
  type ConversionComparison,
  type CorrectedPValues,
  type CupedVariantSummary,
  type DecisionExtras,
  type ExperimentAnalysis,
  type MeanKindComparison,
  type RatioKindComparison,
  type SrmResult,
  type ValueSummary,
  type VariantSummary,
} from './analyze.js';
export { chanceToWin, expectedLoss, type ExpectedLoss } from './bayes.js';
export { benjaminiHochberg, holm } from './corrections.js';
export { CsvInputError, parseExperimentCsv } from './csv.js';
export { cupedAdjusted, fitCuped, type CupedFit, type CupedSample } from './cuped.js';
export {
  chiSquareUpperTail,
  normalCdf,
  normalCriticalValue,
  normalPdf,
  normalQuantile,
  normalTwoSidedTail,
  normalUpperTail,
  studentTCdf,
  studentTCriticalValue,
  studentTPdf,
  studentTQuantile,
  studentTTwoSidedTail,
  studentTUpperTail,
} from './distributions.js';
export {
  CONTROL,
  CSV_HEADERS,
  isMetricKind,
  METRIC_KINDS,
  VARIANT_NAME,
  type ExperimentData,
  type MetricKind,
  type VariantColumns,
} from './kinds.js';
export { twoProportionTest, type ProportionCounts, type ProportionTest } from './proportions.js';
export { compareRatios, summarizeRatio, type RatioComparison, type RatioSummary } from './ratio.js';
export { relativeLift, type Estimate, type RelativeLift } from './relative.js';
export { formatAnalysisReport } from './report.js';
export {
  confidenceSequence,
  DEFAULT_SEQUENTIAL_TUNING_N,
  sequentialRho,
  type ConfidenceSequence,
  type ConfidenceSequenceInput,
} from './sequential.js';
export {
  erf,
  erfc,
  lnBeta,
  lnGamma,
  regularizedBetaTails,
  regularizedGammaTails,
  type Tails,
} from './special.js';
export { SRM_ALARM_P_VALUE, sampleRatioTest, type SampleRatioTest } from './srm.js';
export { concatenate, covariance, mean, meanVariance, sum, variance, type MeanVariance } from './summary.js';
export { welchDegreesOfFreedom, welchTest, type MeanComparison } from './welch.js';
