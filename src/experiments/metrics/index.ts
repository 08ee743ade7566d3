export {
  BUILT_IN_METRICS,
  CLICK_EVENT_NAMES,
  CLICK_THROUGH,
  DAY7_RETENTION,
  IMPRESSION_EVENT_NAMES,
  PURCHASE_CONVERSION,
  PURCHASE_EVENT_NAMES,
  REVENUE_PER_USER,
} from './builtins.js';
export {
  computeMetrics,
  type ComputeMetricsInput,
  type ExperimentMetrics,
  type MetricResult,
  type RatioValues,
  type ScalarValues,
  type VariantUsers,
} from './compute.js';
export {
  ConversionMetricSchema,
  CountMetricSchema,
  DAY_MS,
  higherIsBetter,
  HOUR_MS,
  MAX_RETENTION_DAY,
  MAX_WINDOW_HOURS,
  METRIC_KINDS,
  MetricDefinitionError,
  MetricDefinitionSchema,
  RatioMetricSchema,
  RetentionMetricSchema,
  SumMetricSchema,
  validateMetricDefinition,
  validateMetricDefinitions,
  type ConversionMetric,
  type CountMetric,
  type EventNames,
  type MetricDefinition,
  type MetricDefinitionProblem,
  type MetricDefinitionValidation,
  type MetricDefinitionValidationList,
  type MetricKind,
  type MetricSource,
  type PropertyFilter,
  type RatioMetric,
  type RatioPart,
  type RetentionMetric,
  type SumMetric,
  type SumValue,
} from './definitions.js';
export { ExposureConflictError, type ExposedUser } from './exposures.js';
export { LogReader, serveLog, type LogScans, type ReaderStats } from './log-reader.js';
export { momentsOf, productIndex, productOf, type Moments } from './moments.js';
export { DEFAULT_SERIES_DAYS, MAX_SERIES_DAYS, type DailyMoments } from './series.js';
export type { BatchSource } from './served-lists.js';
export { revenueOf } from './values.js';
