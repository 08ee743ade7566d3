/**
 * Off-policy evaluation: the value of a candidate policy estimated from decisions another policy logged
 * (IPS, SNIPS, cross-fitted DR, with intervals and effective sample sizes). No I/O beyond parsing text;
 * `attune decisions evaluate` is the CLI on top.
 */
export { parseDecisionLogCsv, REQUIRED_COLUMNS, OPTIONAL_COLUMNS } from './csv.js';
export {
  DEFAULT_CONFIDENCE,
  doublyRobust,
  effectiveSampleSize,
  importanceWeights,
  ips,
  meanInterval,
  snips,
  type DoublyRobustInput,
  type Estimate,
  type EstimatorInput,
} from './estimators.js';
export {
  evaluateDistributions,
  evaluateLearner,
  evaluatePolicySpec,
  learnerDimension,
  learnerFor,
  prepareDecisionLog,
  type OffPolicyEvaluation,
  type OffPolicyOptions,
  type PrepareOptions,
  type PreparedDecisionLog,
} from './evaluate.js';
export { DEFAULT_MAX_LEVELS, encodeContext, type EncodedContext, type EncodeOptions } from './features.js';
export {
  checkDecisionLog,
  DecisionLogError,
  loggedMeanReward,
  timeOrder,
  type ContextColumn,
  type DecisionLog,
  type NumericContextColumn,
  type TextContextColumn,
} from './log.js';
export {
  LEARNER_TYPES,
  parsePolicyJson,
  parsePolicySpec,
  POLICY_TYPES,
  PolicySpecError,
  type ActionDistribution,
  type FixedPolicySpec,
  LEARNER_PARAMETERS,
  PROBABILITY_SUM_TOLERANCE,
  type LearnerPolicySpec,
  type LearnerType,
  type PolicySpec,
  type PositionFixedPolicySpec,
  type GlobalFixedPolicySpec,
} from './policy.js';
export {
  CrossFitRewardModel,
  DEFAULT_FOLDS,
  fitRewardModel,
  randomFolds,
  type RewardModelOptions,
} from './reward-model.js';
