/**
 * Decision points: definitions (actions with features and bounded parameters, the feature row, the
 * learner, rewards, rules, guardrails), the serving state of each point, and the service that decides,
 * logs every decision with its propensity, attributes rewards and keeps learners saved.
 */
export {
  DEFAULT_FEATURES,
  DecisionPointError,
  formatWindow,
  learnerShape,
  parseDecisionPoint,
  pointJson,
  type Action,
  type Bounds,
  type DecisionPoint,
  type FeatureSpec,
  type PointContext,
  type RewardSpec,
  type Rule,
} from './definition.js';
export { defaultCandidates, pointDecisionLog } from './own-log.js';
export { offer, type Offer, type OfferRequest, type RuleFacts } from './eligibility.js';
export { FeatureEncoder, type DecisionInputs } from './encoder.js';
export { Guardrail, type GuardrailStatus } from './guardrail.js';
export { LivePoint, type Choice, type RequestedPolicy } from './live-point.js';
export type {
  CloseResult,
  DecisionClose,
  DecisionLogStats,
  DecisionOutcome,
  DecisionPolicy,
  LoggedDecision,
  OutcomeSource,
} from './log-types.js';
export {
  DecisionPoints,
  stateKey,
  type DecideRequest,
  type Decision,
  type DecisionArm,
  type DecisionEnvironment,
  type InputNeeds,
  type PointStatus,
  type RankedAction,
  type RewardResult,
} from './service.js';
