export {
  Assigner,
  matchesAudience,
  SEGMENT_TRAIT,
  variantAt,
  type DecisionArmPlan,
  type HoldoutSettings,
} from './assignment.js';
export {
  BUILT_IN_METRIC_NAMES,
  DEFAULT_GUARDRAILS,
  DEFAULT_METRICS,
  ExperimentError,
  targetText,
  type ExperimentInput,
  type ExperimentUpdate,
  type VariantInput,
} from './definition.js';
export { hashPoint } from './hash.js';
export { MetricCatalog } from './metric-catalog.js';
export { ANALYSIS_RESOURCE_LIMITS, reportInWorker, type ReportJob } from './report-job.js';
export {
  experimentReport,
  holdoutSubject,
  reportSubject,
  type ExperimentReport,
  type MetricReport,
  type ReportSubject,
  type SeriesPoint,
  type Verdict,
} from './report.js';
export { ExperimentRegistry, type ExperimentRegistryOptions } from './registry.js';
export {
  DECISION_VARIANT_POLICIES,
  HOLDOUT,
  type Assignment,
  type DecisionVariantPolicy,
  type AudienceCondition,
  type Experiment,
  type ExperimentStatus,
  type ExperimentTarget,
  type Exposure,
  type ServingPlan,
  type Variant,
  type VariantTreatment,
} from './types.js';
