import {
  decodeFloats,
  encodeFloats,
  LearnerStateError,
  requireInteger,
  requireNumber,
  requireObject,
} from './codec.js';
import { learnerFromJSON } from './factory.js';
import type { Learner, LearnerState, Policy } from './types.js';

export const APPRENTICE_STATE_FORMAT = 'attune.apprentice';
export const APPRENTICE_STATE_VERSION = 1;

export interface ApprenticeOptions {
  /** The action served when a call names none. */
  defaultAction: number;
  /**
   * Bounds every reward lies within (e.g. [0, 1] for a click). Without them the value of the learned
   * policy is not bounded at all (see `ApprenticeReport.learnedValueBounds`).
   */
  rewardRange?: readonly [number, number];
}

/**
 * What can honestly be said about the learned policy while only the default was served.
 *
 * The log is that of a deterministic policy: every round shows the reward of the default action and of no
 * other. The learned policy's value, E_x[Σ_a π(a|x)·r(x, a)], therefore splits into a part on the default
 * action, which the log measures, and a part on every other action, which no estimator can measure: the
 * inverse-propensity weight of a never-served action is 1/0. A running mean of reward·π(default|x)/1 is
 * not an estimate of the learned policy's value; it is the first part alone, i.e. the value with every
 * disagreement scored as zero reward, biased toward whichever policy agrees with the default most.
 * A model's prediction for the unserved actions is extrapolation by the learner from data it does not
 * have, so none is reported. What is reported is what is identified:
 *
 * - how often the learner would have agreed with what was served, and the reward on those rounds;
 * - with a reward range, the interval the learned policy's value must lie in whatever the unserved
 *   actions would have paid (a worst-case bound: disagreements score the lowest or the highest reward).
 *
 * Each round is scored by the learner as it stood before that round's reward was learned (progressive
 * validation), so no reward judges a policy that has already learned from it.
 */
export interface ApprenticeReport {
  /** Rewards seen. */
  rounds: number;
  /** The served (default) policy's mean reward: measured on-policy, exactly. */
  defaultValue: number | null;
  /** Mean over rounds of π_learner(served action | x): the share of choices the learner would have agreed with. */
  agreement: number | null;
  /** Mean reward on the rounds the learner agrees with, weighted by its probability of agreeing. */
  agreedValue: number | null;
  /**
   * The learned policy's value when every disagreement scores the ends of `rewardRange`; the interval's
   * width is (1 − agreement)·(range width). Null without a reward range or before any round.
   */
  learnedValueBounds: [number, number] | null;
}

/** Totals: rounds, Σ reward, Σ π(served), Σ π(served)·reward. */
const TOTALS = 4;

/**
 * Apprentice mode: serves the default action (propensity 1) whatever the learner thinks, learns from every
 * reward, and keeps score of what the learner would have done. The learner only ever sees rewards of the
 * served actions, so with one fixed default it learns that action's reward model and nothing about the
 * others; it learns more when the default varies with the context (an existing business rule, passed per
 * call), and most from logs gathered with exploration.
 */
export class Apprentice implements Policy {
  readonly defaultAction: number;
  readonly rewardRange: readonly [number, number] | null;
  private readonly totals = new Float64Array(TOTALS);
  private readonly learnerProbabilities: Float64Array;

  constructor(
    readonly learner: Learner,
    options: ApprenticeOptions,
  ) {
    this.defaultAction = checkAction(options.defaultAction, learner.actions, 'defaultAction');
    const range = options.rewardRange;
    if (range !== undefined) {
      if (!Number.isFinite(range[0]) || !Number.isFinite(range[1]) || range[0] > range[1]) {
        throw new RangeError('rewardRange: expected finite [low, high] with low ≤ high');
      }
      this.rewardRange = [range[0], range[1]];
    } else this.rewardRange = null;
    this.learnerProbabilities = new Float64Array(learner.actions);
  }

  get actions(): number {
    return this.learner.actions;
  }

  get inputLength(): number {
    return this.learner.inputLength;
  }

  /** Probability 1 on the default (this call's, when given), 0 elsewhere. */
  probabilities(
    features: Float64Array,
    out?: Float64Array,
    defaultAction = this.defaultAction,
  ): Float64Array {
    if (features.length !== this.inputLength) {
      throw new RangeError(`features: expected ${this.inputLength} values, got ${features.length}`);
    }
    const action = checkAction(defaultAction, this.actions, 'defaultAction');
    const target = out ?? new Float64Array(this.actions);
    if (target.length !== this.actions) throw new RangeError(`out: expected ${this.actions} entries`);
    target.fill(0);
    target[action] = 1;
    return target;
  }

  /** Serves the default; the learner is not consulted, so serving cannot depend on it. */
  choose(features: Float64Array, out?: Float64Array, defaultAction = this.defaultAction): number {
    if (out !== undefined) this.probabilities(features, out, defaultAction);
    else if (features.length !== this.inputLength) {
      throw new RangeError(`features: expected ${this.inputLength} values, got ${features.length}`);
    }
    return checkAction(defaultAction, this.actions, 'defaultAction');
  }

  /** Scores the round with the learner as it stands, then lets it learn; `action` is the one served. */
  update(action: number, features: Float64Array, reward: number): void {
    checkAction(action, this.actions, 'action');
    if (!Number.isFinite(reward)) throw new RangeError(`reward: must be a finite number, got ${reward}`);
    const agree = this.learner.probabilities(features, this.learnerProbabilities)[action]!;
    this.learner.update(action, features, reward);
    const totals = this.totals;
    totals[0] = totals[0]! + 1;
    totals[1] = totals[1]! + reward;
    totals[2] = totals[2]! + agree;
    totals[3] = totals[3]! + agree * reward;
  }

  report(): ApprenticeReport {
    const [rounds = 0, reward = 0, agreement = 0, agreedReward = 0] = this.totals;
    if (rounds === 0) {
      return { rounds: 0, defaultValue: null, agreement: null, agreedValue: null, learnedValueBounds: null };
    }
    const range = this.rewardRange;
    return {
      rounds,
      defaultValue: reward / rounds,
      agreement: agreement / rounds,
      agreedValue: agreement > 0 ? agreedReward / agreement : null,
      learnedValueBounds: range
        ? [
            (agreedReward + (rounds - agreement) * range[0]) / rounds,
            (agreedReward + (rounds - agreement) * range[1]) / rounds,
          ]
        : null,
    };
  }

  toJSON(): ApprenticeState {
    return {
      format: APPRENTICE_STATE_FORMAT,
      version: APPRENTICE_STATE_VERSION,
      defaultAction: this.defaultAction,
      rewardRange: this.rewardRange ? [this.rewardRange[0], this.rewardRange[1]] : null,
      totals: encodeFloats(this.totals),
      learner: this.learner.toJSON(),
    };
  }

  /** @internal restores the running totals; `apprenticeFromJSON` is the way in. */
  restoreTotals(totals: Float64Array): void {
    this.totals.set(totals);
  }
}

export interface ApprenticeState {
  format: typeof APPRENTICE_STATE_FORMAT;
  version: typeof APPRENTICE_STATE_VERSION;
  defaultAction: number;
  rewardRange: [number, number] | null;
  /** Rounds, Σ reward, Σ π(served), Σ π(served)·reward: base64 doubles. */
  totals: string;
  learner: LearnerState;
}

export function apprenticeFromJSON(value: unknown): Apprentice {
  const state = requireObject(value, '(root)');
  if (state.format !== APPRENTICE_STATE_FORMAT) {
    throw new LearnerStateError(
      'format',
      `expected '${APPRENTICE_STATE_FORMAT}', got ${JSON.stringify(state.format)}`,
    );
  }
  const version = requireInteger(state.version, 'version', 1);
  if (version !== APPRENTICE_STATE_VERSION) {
    throw new LearnerStateError('version', `version ${version} is not readable here`);
  }
  let learner: Learner;
  try {
    learner = learnerFromJSON(state.learner);
  } catch (error) {
    if (error instanceof LearnerStateError)
      throw new LearnerStateError(`learner.${error.field}`, error.detail);
    throw error;
  }
  const defaultAction = requireInteger(state.defaultAction, 'defaultAction', 0);
  if (defaultAction >= learner.actions)
    throw new LearnerStateError('defaultAction', `not an action of ${learner.actions}`);
  let rewardRange: [number, number] | undefined;
  if (state.rewardRange !== null) {
    if (!Array.isArray(state.rewardRange) || state.rewardRange.length !== 2) {
      throw new LearnerStateError('rewardRange', 'expected [low, high] or null');
    }
    rewardRange = [
      requireNumber(state.rewardRange[0], 'rewardRange[0]'),
      requireNumber(state.rewardRange[1], 'rewardRange[1]'),
    ];
    if (rewardRange[0] > rewardRange[1]) throw new LearnerStateError('rewardRange', 'low exceeds high');
  }
  const apprentice = new Apprentice(
    learner,
    rewardRange ? { defaultAction, rewardRange } : { defaultAction },
  );
  apprentice.restoreTotals(decodeFloats(state.totals, 'totals', TOTALS));
  return apprentice;
}

function checkAction(action: number, actions: number, name: string): number {
  if (!Number.isInteger(action) || action < 0 || action >= actions) {
    throw new RangeError(`${name}: ${action} is not an action index in [0, ${actions})`);
  }
  return action;
}
