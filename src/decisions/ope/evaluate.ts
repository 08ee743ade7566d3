/**
 * Off-policy evaluation of one candidate policy on a decision log: the target policy's probability of each
 * logged action (and, for DR, its whole distribution against the reward model), then IPS, SNIPS and DR.
 *
 * Learners are evaluated by progressive replay: the log is walked in time order; at each row the learner's
 * distribution, computed before it learns from the row, gives the target probabilities; then the learner
 * updates on the row's logged action and reward, every row. Why every row, and not Li et al.'s (2011)
 * rejection replay (keep a row only when the learner's own draw matches the logged action):
 * - rejection replay is unbiased only under uniform logging (else it needs propensity-scaled acceptance),
 *   keeps about 1/K of the rows, and gives one average reward, not the three estimators and intervals;
 * - here each row's term uses a distribution fixed by earlier rows only, so given the past it is an
 *   unbiased estimate of the current policy's value (importance weighting needs nothing more), and the
 *   terms form a martingale difference sequence around the running values: the mean estimates the average
 *   value of the policies the learner passes through, and the usual interval holds by the martingale CLT
 *   (conservatively: the rows' spread includes that of the running values). DR's terms keep this, since
 *   the reward model scoring a row is fitted on other folds.
 * The quantity differs from rejection replay's: it is the learner trained on this log's feedback (what an
 * off-policy learner bootstrapped from logged data would serve along the way), not a learner that only
 * sees the outcomes of its own choices. The learners' per-action reward models are consistent on logged
 * data without reweighting their updates, so the updates are not importance weighted (weights would
 * mostly add variance).
 */
import {
  DEFAULT_CONFIDENCE,
  doublyRobust,
  ips,
  snips,
  type DoublyRobustInput,
  type Estimate,
} from './estimators.js';
import { encodeContext, type EncodedContext, type EncodeOptions } from './features.js';
import { checkDecisionLog, loggedMeanReward, rowLabel, timeOrder, type DecisionLog } from './log.js';
import { createLearner, type Policy } from '../learners/index.js';
import { PolicySpecError, type FixedPolicySpec, type LearnerPolicySpec, type PolicySpec } from './policy.js';
import { CrossFitRewardModel, fitRewardModel, type RewardModelOptions } from './reward-model.js';

/** Below this effective sample size a warning says the normal approximation may be poor. */
export const LOW_ESS = 100;
/** Slack on a learner's distribution summing to 1. */
const SUM_TOLERANCE = 1e-6;

export interface PreparedDecisionLog {
  readonly log: DecisionLog;
  readonly features: EncodedContext;
  readonly rewardModel: CrossFitRewardModel;
}

export type PrepareOptions = RewardModelOptions & EncodeOptions;

/**
 * Checks the log, encodes the context and fits the reward model: once, for any number of policies.
 * Throws `DecisionLogError` naming the first bad row of a log built in memory.
 */
export function prepareDecisionLog(log: DecisionLog, options: PrepareOptions = {}): PreparedDecisionLog {
  checkDecisionLog(log);
  const features = encodeContext(log, options);
  return { log, features, rewardModel: fitRewardModel(log, features, options) };
}

export interface OffPolicyOptions {
  /** Level of every interval; 0.95 by default. */
  readonly confidence?: number;
}

export interface OffPolicyEvaluation {
  readonly rows: number;
  readonly loggedMeanReward: number;
  readonly estimators: { readonly ips: Estimate; readonly snips: Estimate; readonly dr: Estimate };
  /** What a reader of the estimates should know (unsupported actions, few effective rows, …). */
  readonly warnings: readonly string[];
}

/** The target policy on the log: what the estimators need beyond the log. */
interface TargetOnLog {
  /** π(aᵢ | xᵢ). */
  readonly target: Float64Array;
  /** Σₐ π(a | xᵢ) q̂(xᵢ, a). */
  readonly direct: Float64Array;
  readonly warnings: string[];
}

function estimate(
  prepared: PreparedDecisionLog,
  target: TargetOnLog,
  options: OffPolicyOptions,
): OffPolicyEvaluation {
  const { log, rewardModel } = prepared;
  const predicted = new Float64Array(log.rows);
  for (let i = 0; i < log.rows; i++) predicted[i] = rewardModel.predict(i, log.action[i]!);
  const input: DoublyRobustInput = {
    reward: log.reward,
    propensity: log.propensity,
    target: target.target,
    direct: target.direct,
    predicted,
  };
  const confidence = options.confidence ?? DEFAULT_CONFIDENCE;
  const estimators = {
    ips: ips(input, confidence),
    snips: snips(input, confidence),
    dr: doublyRobust(input, confidence),
  };
  const warnings = [...target.warnings];
  const ess = estimators.ips.ess;
  if (ess === 0) {
    warnings.push('the policy gives every logged action probability 0: the log says nothing about it');
  } else if (ess < LOW_ESS) {
    warnings.push(
      `few rows carry the estimates (effective sample size ${ess.toFixed(1)} of ${log.rows}): the ` +
        'normal-approximation intervals may be too narrow',
    );
  }
  return { rows: log.rows, loggedMeanReward: loggedMeanReward(log), estimators, warnings };
}

/**
 * A fixed policy's distributions over the log's actions followed by the actions only the policy names.
 * Those get no reward model of their own: their reward is unknowable from this log. IPS counts it as 0,
 * SNIPS (normalising by the weights of logged actions) as the supported actions' average, DR as the mean
 * logged reward; a warning says how much probability is at stake.
 */
function fixedTarget(prepared: PreparedDecisionLog, spec: FixedPolicySpec): TargetOnLog {
  const { log, rewardModel } = prepared;
  const index = new Map(log.actions.map((name, i) => [name, i]));
  const unlogged: string[] = [];
  const named = spec.by === null ? [spec.probabilities] : [...spec.probabilities.values()];
  for (const distribution of named) {
    for (const action of distribution.keys()) {
      if (!index.has(action)) {
        index.set(action, index.size);
        unlogged.push(action);
      }
    }
  }
  const toArray = (distribution: ReadonlyMap<string, number>) => {
    const array = new Float64Array(index.size);
    for (const [action, p] of distribution) array[index.get(action)!] = p;
    return array;
  };

  const warnings: string[] = [];
  // One distribution per position code (or one for the whole log).
  let distributions: Float64Array[];
  if (spec.by === null) {
    distributions = [toArray(spec.probabilities)];
  } else {
    if (log.positions === null || log.position === null) {
      throw new PolicySpecError('by', 'the policy is by position but the log has no position column');
    }
    const positions = log.positions;
    const firstRow = new Int32Array(positions.length).fill(-1);
    for (let i = log.rows - 1; i >= 0; i--) firstRow[log.position[i]!] = i;
    distributions = positions.map((label, code) => {
      const distribution = spec.probabilities.get(label);
      if (distribution === undefined) {
        throw new PolicySpecError(
          'probabilities',
          `no distribution for position "${label}" (${rowLabel(log, firstRow[code]!)} has it)`,
        );
      }
      return toArray(distribution);
    });
    const unused = [...spec.probabilities.keys()].filter((label) => !positions.includes(label));
    if (unused.length > 0) {
      warnings.push(
        `the policy's positions ${unused.map((p) => `"${p}"`).join(', ')} never appear in the log`,
      );
    }
  }

  const averaged = distributions.map((d) => rewardModel.averaged(d));
  const target = new Float64Array(log.rows);
  const direct = new Float64Array(log.rows);
  let unsupported = 0;
  const unsupportedOf = distributions.map((d) => d.subarray(log.actions.length).reduce((s, p) => s + p, 0));
  for (let i = 0; i < log.rows; i++) {
    const k = log.position === null || spec.by === null ? 0 : log.position[i]!;
    target[i] = distributions[k]![log.action[i]!]!;
    direct[i] = rewardModel.expectedAveraged(i, averaged[k]!);
    unsupported += unsupportedOf[k]!;
  }
  unsupported /= log.rows;
  if (unsupported > 0) {
    warnings.push(
      `the policy puts ${(100 * unsupported).toPrecision(3)}% of its probability on actions never logged ` +
        `(${unlogged.join(', ')}): no estimate can know their rewards (IPS counts them as 0, SNIPS as the ` +
        'logged actions’ average, DR as the mean logged reward)',
    );
  }
  return { target, direct, warnings };
}

/**
 * Walks the rows (in `order`, or file order), takes each row's target distribution over the log's
 * actions, checks it, and keeps π(aᵢ|xᵢ) and Σₐ π(a|xᵢ) q̂(xᵢ, a); `after` runs once a row is scored.
 */
function walk(
  prepared: PreparedDecisionLog,
  order: Int32Array | null,
  distributionAt: (row: number) => Float64Array,
  after?: (row: number) => void,
): TargetOnLog {
  const { log, rewardModel } = prepared;
  const actions = log.actions.length;
  const target = new Float64Array(log.rows);
  const direct = new Float64Array(log.rows);
  for (let t = 0; t < log.rows; t++) {
    const i = order === null ? t : order[t]!;
    const p = distributionAt(i);
    if (p.length !== actions) {
      throw new RangeError(
        `the policy gave ${p.length} probabilities for ${actions} actions at ${rowLabel(log, i)}`,
      );
    }
    let sum = 0;
    for (let a = 0; a < actions; a++) {
      if (!(p[a]! >= 0)) throw new RangeError(`the policy gave probability ${p[a]} at ${rowLabel(log, i)}`);
      sum += p[a]!;
    }
    if (!(Math.abs(sum - 1) <= SUM_TOLERANCE)) {
      throw new RangeError(`the policy's probabilities sum to ${sum} at ${rowLabel(log, i)}`);
    }
    target[i] = p[log.action[i]!]!;
    direct[i] = rewardModel.expected(i, p);
    after?.(i);
  }
  return { target, direct, warnings: [] };
}

/**
 * Evaluates a policy that does not learn and is defined on the log's own rows (a simulation's policy, or
 * probabilities a model computed elsewhere): `fill(row, out)` writes row's distribution over the log's
 * actions (`log.actions` order) into `out`.
 */
export function evaluateDistributions(
  prepared: PreparedDecisionLog,
  fill: (row: number, out: Float64Array) => void,
  options: OffPolicyOptions = {},
): OffPolicyEvaluation {
  const out = new Float64Array(prepared.log.actions.length);
  const target = walk(prepared, null, (row) => {
    out.fill(0);
    fill(row, out);
    return out;
  });
  return estimate(prepared, target, options);
}

/**
 * The length of the feature array a learner replayed over this log takes: a constant 1, then the encoded
 * context. The learners' ridge models have no intercept of their own, and the encoded context is centred,
 * so without the constant a learner could not learn that one action simply pays more than another.
 */
export function learnerDimension(prepared: PreparedDecisionLog): number {
  return prepared.features.dimension + 1;
}

/**
 * Evaluates a learner (built with `actions: log.actions.length` and `dimension: learnerDimension(…)`) by
 * progressive replay in time order: see the file's note. The learner is trained by the replay.
 */
export function evaluateLearner(
  prepared: PreparedDecisionLog,
  learner: Policy,
  options: OffPolicyOptions = {},
): OffPolicyEvaluation {
  const { log, features } = prepared;
  const d = features.dimension;
  const input = new Float64Array(d + 1);
  input[0] = 1;
  const distribution = new Float64Array(log.actions.length);
  const target = walk(
    prepared,
    timeOrder(log),
    (row) => {
      input.set(features.values.subarray(row * d, (row + 1) * d), 1);
      return learner.probabilities(input, distribution);
    },
    (row) => learner.update(log.action[row]!, input, log.reward[row]!),
  );
  return estimate(prepared, target, options);
}

/** The learners' kind for a policy file's type. */
const LEARNER_KIND = { linucb: 'linucb', thompson: 'thompson', epsilon_greedy: 'epsilon-greedy' } as const;

/** Builds the learner of a policy file for this log; a parameter a learner refuses names its field. */
export function learnerFor(prepared: PreparedDecisionLog, spec: LearnerPolicySpec): Policy {
  try {
    return createLearner({
      ...spec.parameters,
      kind: LEARNER_KIND[spec.type],
      actions: prepared.log.actions.length,
      dimension: learnerDimension(prepared),
    });
  } catch (error) {
    // The learners name the option first: "alpha: must be a number ≥ 0".
    const message = error instanceof Error ? error.message : String(error);
    const named = /^(\w+): (.*)$/s.exec(message);
    if (named !== null && named[1]! in spec.parameters) throw new PolicySpecError(named[1]!, named[2]!);
    throw error;
  }
}

/** Evaluates the policy of a policy file: a fixed one directly, a learner by replay. */
export function evaluatePolicySpec(
  prepared: PreparedDecisionLog,
  spec: PolicySpec,
  options: OffPolicyOptions = {},
): OffPolicyEvaluation {
  if (spec.type === 'fixed') return estimate(prepared, fixedTarget(prepared, spec), options);
  return evaluateLearner(prepared, learnerFor(prepared, spec), options);
}
