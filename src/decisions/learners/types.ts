/**
 * The surface every contextual-bandit learner of a decision point shares: the engine builds a feature
 * array per request, asks for a distribution over the actions, draws one, logs it with its propensity, and
 * later feeds the reward back. Off-policy evaluation reads the same surface (`probabilities` of a target
 * policy, `estimates` as the reward model of a doubly robust estimate).
 */

/**
 * How the feature array of a request maps onto the actions.
 *
 * - `'disjoint'`: one ridge model per action over the request's context features. The array holds the
 *   `dimension` context features once. The right default when the actions are a fixed, small set with no
 *   descriptive features: each update costs O(d²) for one model, a choice O(|A|·d²).
 * - `'shared'`: one ridge model over a joint feature vector per action (e.g. context ⊗ action features),
 *   so what is learned about one action carries over to similar and to new actions. The array is
 *   `actions × dimension`, row `a` the joint features of action `a`. The joint dimension is the cost: with
 *   one-hot actions it is |A|·d (600 for 20 × 30), and a choice costs O(|A|·D²) — milliseconds, not
 *   microseconds — so `'shared'` suits a few descriptive action features, not one-hot encodings.
 */
export type FeatureLayout = 'disjoint' | 'shared';

export type LearnerKind = 'linucb' | 'thompson' | 'epsilon-greedy';

/** What serving needs of a decision point's policy: a distribution, a draw from it, and the rewards. */
export interface Policy {
  /** The number of actions, indexed 0..actions−1. */
  readonly actions: number;
  /** The length of the feature array `choose` and `update` take: `dimension` or `actions × dimension`. */
  readonly inputLength: number;
  /** The distribution `choose` would draw from for these features; sums to one. */
  probabilities(features: Float64Array, out?: Float64Array): Float64Array;
  /**
   * Draws an action from `probabilities(features, out)` and returns its index; `out[action]` is then the
   * exact probability with which it was drawn — the propensity to log.
   */
  choose(features: Float64Array, out?: Float64Array): number;
  /** Learns from the reward of `action` on the same feature array its choice was made with. */
  update(action: number, features: Float64Array, reward: number): void;
}

export interface Learner extends Policy {
  readonly kind: LearnerKind;
  readonly layout: FeatureLayout;
  /** Features per model: context features (`'disjoint'`) or joint features per action (`'shared'`). */
  readonly dimension: number;
  /** Rewards learned from so far; persisted, so a store can version learners by it. */
  readonly updates: number;

  /** The ridge estimate of each action's expected reward, x_aᵀθ̂_a: the learner's reward model. */
  estimates(features: Float64Array, out?: Float64Array): Float64Array;
  /**
   * The index the policy maximises: the upper confidence bound (LinUCB), one posterior draw (Thompson
   * sampling; advances the learner's random stream), the estimate (epsilon-greedy).
   */
  scores(features: Float64Array, out?: Float64Array): Float64Array;
  /**
   * Deterministic for LinUCB and epsilon-greedy. For Thompson sampling it is the share of K posterior
   * draws each action wins (plus the floor), so it is itself random and advances the random stream.
   *
   * With `allowed` (one flag per action), only the allowed actions get mass: the policy as if the others
   * did not exist (its maximum among the allowed, its exploration and floor spread over them).
   */
  probabilities(features: Float64Array, out?: Float64Array, allowed?: Uint8Array): Float64Array;
  /** `Policy.choose` among the `allowed` actions. */
  choose(features: Float64Array, out?: Float64Array, allowed?: Uint8Array): number;
  /** The whole state, versioned and JSON-safe; `learnerFromJSON` restores it bit for bit. */
  toJSON(): LearnerState;
}

/** Options shared by every learner. */
export interface CommonLearnerOptions {
  actions: number;
  dimension: number;
  /** Default `'disjoint'`. */
  layout?: FeatureLayout;
  /** λ of the ridge prior A = λI + Σ xxᵀ; default 1. */
  ridge?: number;
  /**
   * A share of uniform exploration mixed into every distribution, (1 − floor)·π + floor/|A|; default 0.
   * Set it above zero when the log will evaluate other policies: it guarantees every action a propensity
   * of at least floor/|A|, without which no estimator can say anything about the actions a policy never
   * takes.
   */
  floor?: number;
  /** Seed of the learner's random stream (tie-breaking, ε draws, posterior draws); default 0. */
  seed?: number;
  /**
   * Every this many updates of a model, A⁻¹ is recomputed from A by Cholesky instead of by the rank-1
   * update, so that rounding cannot accumulate over millions of rewards; default 1,000.
   */
  refreshEvery?: number;
}

export interface LinUcbOptions extends CommonLearnerOptions {
  kind: 'linucb';
  /** Width of the confidence bonus, in reward units per unit of √(xᵀA⁻¹x). */
  alpha?: number;
}

export interface ThompsonOptions extends CommonLearnerOptions {
  kind: 'thompson';
  /** v: the posterior θ̃ ~ N(θ̂, v²A⁻¹); the reward noise's standard deviation is the Bayesian choice. */
  scale?: number;
  /** K: posterior draws per decision, whose win shares are the logged distribution; default 100. */
  samples?: number;
}

export interface EpsilonGreedyOptions extends CommonLearnerOptions {
  kind: 'epsilon-greedy';
  /** ε: the share of uniformly random choices. */
  epsilon?: number;
}

export type LearnerOptions = LinUcbOptions | ThompsonOptions | EpsilonGreedyOptions;

/** Format tag and version of a persisted learner; a reader refuses versions it does not know. */
export const LEARNER_STATE_FORMAT = 'attune.learner';
export const LEARNER_STATE_VERSION = 1;

/** A persisted learner. Float arrays are base64 of little-endian IEEE doubles: exact, −0 and all. */
export interface LearnerState {
  format: typeof LEARNER_STATE_FORMAT;
  version: typeof LEARNER_STATE_VERSION;
  kind: LearnerKind;
  layout: FeatureLayout;
  actions: number;
  dimension: number;
  ridge: number;
  floor: number;
  refreshEvery: number;
  /** `alpha` (LinUCB), `scale` and `samples` (Thompson), `epsilon` (epsilon-greedy). */
  params: Record<string, number>;
  /** The random stream: four 32-bit words, and a pending normal draw if there is one. */
  random: { state: number[]; spare: number | null };
  models: {
    /** Rewards learned per model. */
    counts: number[];
    /** A = λI + Σ xxᵀ per model, row-major. */
    a: string;
    /** A⁻¹ per model. */
    ainv: string;
    /** b = Σ r·x per model. */
    b: string;
    /** θ̂ = A⁻¹b per model. */
    theta: string;
    /** Lower Cholesky factor of A per model; only Thompson sampling over a shared model keeps it. */
    factor: string | null;
  };
}
