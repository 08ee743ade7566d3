import { encodeFloats } from './codec.js';
import { LearnerRandom } from './random.js';
import { RidgeSet } from './ridge.js';
import {
  LEARNER_STATE_FORMAT,
  LEARNER_STATE_VERSION,
  type CommonLearnerOptions,
  type FeatureLayout,
  type Learner,
  type LearnerKind,
  type LearnerState,
} from './types.js';

export const DEFAULT_RIDGE = 1;
export const DEFAULT_REFRESH_EVERY = 1_000;

/**
 * What the three learners share: ridge models laid out per action or shared, input checks, the floor, the
 * draw from a distribution, and persistence. A learner only says how it scores and how its distribution
 * is formed.
 */
export abstract class LinearLearner implements Learner {
  abstract readonly kind: LearnerKind;
  readonly layout: FeatureLayout;
  readonly actions: number;
  readonly dimension: number;
  readonly inputLength: number;
  readonly floor: number;
  /** @internal the models, read by persistence and tests */
  readonly ridgeSet: RidgeSet;
  /** @internal the random stream, read by persistence */
  readonly random: LearnerRandom;
  /** `choose`'s distribution when the caller passes none. */
  private readonly chosen: Float64Array;
  /**
   * The actions the distribution being written may put mass on (1) or not (0); null: all. Set only for the
   * duration of one `probabilities` call, so the subclasses' `writeDistribution` reads it without a parameter.
   */
  protected allowed: Uint8Array | null = null;
  /** How many actions `allowed` lets through. */
  protected allowedCount = 0;

  protected constructor(options: CommonLearnerOptions, withFactor: boolean) {
    const actions = checkInteger(options.actions, 'actions', 1);
    const dimension = checkInteger(options.dimension, 'dimension', 1);
    const layout = options.layout ?? 'disjoint';
    if (layout !== 'disjoint' && layout !== 'shared')
      throw new RangeError(`layout: unknown '${String(layout)}'`);
    const ridge = options.ridge ?? DEFAULT_RIDGE;
    if (!(ridge > 0) || !Number.isFinite(ridge)) throw new RangeError('ridge: must be a positive number');
    const floor = options.floor ?? 0;
    if (!(floor >= 0 && floor <= 1)) throw new RangeError('floor: must lie in [0, 1]');
    const refreshEvery = checkInteger(options.refreshEvery ?? DEFAULT_REFRESH_EVERY, 'refreshEvery', 0);
    const seed = options.seed ?? 0;
    if (!Number.isFinite(seed)) throw new RangeError('seed: must be a finite number');

    this.layout = layout;
    this.actions = actions;
    this.dimension = dimension;
    this.inputLength = layout === 'disjoint' ? dimension : actions * dimension;
    this.floor = floor;
    this.ridgeSet = new RidgeSet(
      layout === 'disjoint' ? actions : 1,
      dimension,
      ridge,
      refreshEvery,
      withFactor,
    );
    this.random = new LearnerRandom(seed);
    this.chosen = new Float64Array(actions);
  }

  get updates(): number {
    let total = 0;
    const counts = this.ridgeSet.counts;
    for (let m = 0; m < counts.length; m++) total += counts[m]!;
    return total;
  }

  estimates(features: Float64Array, out?: Float64Array): Float64Array {
    this.checkFeatures(features);
    const target = this.output(out);
    for (let a = 0; a < this.actions; a++)
      target[a] = this.ridgeSet.mean(this.modelOf(a), features, this.offsetOf(a));
    return target;
  }

  scores(features: Float64Array, out?: Float64Array): Float64Array {
    this.checkFeatures(features);
    const target = this.output(out);
    this.writeScores(features, target);
    return target;
  }

  probabilities(features: Float64Array, out?: Float64Array, allowed?: Uint8Array): Float64Array {
    this.checkFeatures(features);
    const target = this.output(out);
    this.allowedCount = allowed === undefined ? this.actions : this.checkAllowed(allowed);
    this.allowed = allowed ?? null;
    try {
      this.writeDistribution(features, target);
    } finally {
      this.allowed = null;
    }
    const floor = this.floor;
    if (floor > 0) {
      const uniform = floor / this.allowedCount;
      for (let a = 0; a < this.actions; a++) {
        target[a] = allowed === undefined || allowed[a] ? (1 - floor) * target[a]! + uniform : 0;
      }
    }
    return target;
  }

  choose(features: Float64Array, out?: Float64Array, allowed?: Uint8Array): number {
    const distribution = this.probabilities(features, out ?? this.chosen, allowed);
    let r = this.random.next();
    for (let a = 0; a < this.actions; a++) {
      r -= distribution[a]!;
      if (r < 0) return a;
    }
    // The probabilities sum to one up to rounding, which can leave r a hair above zero: the last action
    // with positive probability is the one the draw fell at the end of.
    for (let a = this.actions - 1; a >= 0; a--) if (distribution[a]! > 0) return a;
    return this.actions - 1;
  }

  update(action: number, features: Float64Array, reward: number): void {
    if (!Number.isInteger(action) || action < 0 || action >= this.actions) {
      throw new RangeError(`action: ${action} is not an action index in [0, ${this.actions})`);
    }
    if (!Number.isFinite(reward)) throw new RangeError(`reward: must be a finite number, got ${reward}`);
    // One non-finite feature would poison A⁻¹ for good, so updates check every value.
    this.checkFeatures(features);
    this.ridgeSet.update(this.modelOf(action), features, this.offsetOf(action), reward);
  }

  toJSON(): LearnerState {
    const ridge = this.ridgeSet;
    return {
      format: LEARNER_STATE_FORMAT,
      version: LEARNER_STATE_VERSION,
      kind: this.kind,
      layout: this.layout,
      actions: this.actions,
      dimension: this.dimension,
      ridge: ridge.ridge,
      floor: this.floor,
      refreshEvery: ridge.refreshEvery,
      params: this.params(),
      random: this.random.getState(),
      models: {
        counts: Array.from(ridge.counts),
        a: encodeFloats(ridge.a),
        ainv: encodeFloats(ridge.ainv),
        b: encodeFloats(ridge.b),
        theta: encodeFloats(ridge.theta),
        factor: ridge.factor ? encodeFloats(ridge.factor) : null,
      },
    };
  }

  /** The hyper-parameters particular to the learner, persisted under `params`. */
  protected abstract params(): Record<string, number>;
  /** The policy's index per action into `out`. */
  protected abstract writeScores(features: Float64Array, out: Float64Array): void;
  /** The policy's distribution before the floor into `out`. */
  protected abstract writeDistribution(features: Float64Array, out: Float64Array): void;

  /** Sets the scores of actions `allowed` excludes to −∞, so that no maximum can fall on them. */
  protected excludeDisallowed(scores: Float64Array): void {
    const allowed = this.allowed;
    if (allowed === null) return;
    for (let a = 0; a < scores.length; a++) if (!allowed[a]) scores[a] = -Infinity;
  }

  protected modelOf(action: number): number {
    return this.layout === 'disjoint' ? action : 0;
  }

  protected offsetOf(action: number): number {
    return this.layout === 'disjoint' ? 0 : action * this.dimension;
  }

  private output(out: Float64Array | undefined): Float64Array {
    if (out === undefined) return new Float64Array(this.actions);
    if (out.length !== this.actions) {
      throw new RangeError(`out: expected ${this.actions} entries (one per action), got ${out.length}`);
    }
    return out;
  }

  private checkAllowed(allowed: Uint8Array): number {
    if (allowed.length !== this.actions) {
      throw new RangeError(`allowed: expected ${this.actions} flags (one per action), got ${allowed.length}`);
    }
    let count = 0;
    for (let a = 0; a < allowed.length; a++) if (allowed[a]) count++;
    if (count === 0) throw new RangeError('allowed: at least one action must be allowed');
    return count;
  }

  private checkFeatures(features: Float64Array): void {
    if (features.length !== this.inputLength) {
      throw new RangeError(
        `features: expected ${this.inputLength} values (${this.layout === 'disjoint' ? 'dimension' : 'actions × dimension'}), got ${features.length}`,
      );
    }
    for (let i = 0; i < features.length; i++) {
      if (!Number.isFinite(features[i]!))
        throw new RangeError(`features[${i}]: must be finite, got ${features[i]}`);
    }
  }
}

/** Writes the uniform distribution over the maxima of `scores` into `out`: exact ties share evenly. */
export function argmaxShares(scores: Float64Array, out: Float64Array, weight: number): void {
  let best = -Infinity;
  let ties = 0;
  for (let a = 0; a < scores.length; a++) {
    const s = scores[a]!;
    if (s > best) {
      best = s;
      ties = 1;
    } else if (s === best) ties++;
  }
  const share = weight / ties;
  for (let a = 0; a < scores.length; a++) out[a] = scores[a] === best ? share : 0;
}

function checkInteger(value: number, name: string, min: number): number {
  if (!Number.isInteger(value) || value < min) throw new RangeError(`${name}: must be an integer ≥ ${min}`);
  return value;
}
