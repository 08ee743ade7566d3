/**
 * Off-policy estimators of a target policy's value from logged decisions: inverse propensity scoring
 * (IPS), self-normalized IPS (SNIPS) and doubly robust (DR), each with a normal-approximation interval.
 *
 * Each estimator is the mean of per-row influence values φᵢ, and its interval is mean ± z·sd(φ)/√n. For
 * IPS and DR φᵢ is the row's own term; SNIPS, a ratio of two means, gets its φᵢ from the delta method.
 * Rows are taken as independent draws (rows of one decision filling several slots share a context, so
 * with positions the intervals are somewhat optimistic).
 */
import { normalCriticalValue } from '../../experiments/stats/index.js';

export const DEFAULT_CONFIDENCE = 0.95;

export interface EstimatorInput {
  readonly reward: Float64Array;
  /** The logging policy's probability of the logged action, > 0. */
  readonly propensity: Float64Array;
  /** The target policy's probability of the logged action. */
  readonly target: Float64Array;
}

export interface DoublyRobustInput extends EstimatorInput {
  /** Per row, the reward model's expectation under the target policy: Σₐ π(a|x) q̂(x, a). */
  readonly direct: Float64Array;
  /** Per row, the reward model's prediction for the logged action, q̂(x, aᵢ). */
  readonly predicted: Float64Array;
}

export interface Estimate {
  /** NaN when undefined (SNIPS when the target gives every logged action probability 0). */
  readonly estimate: number;
  readonly standardError: number;
  readonly ciLow: number;
  readonly ciHigh: number;
  /** Effective sample size of the importance weights, (Σw)² / Σw². */
  readonly ess: number;
}

/** wᵢ = π(aᵢ|xᵢ) / μ(aᵢ|xᵢ). */
export function importanceWeights(input: EstimatorInput): Float64Array {
  const n = input.reward.length;
  if (input.propensity.length !== n || input.target.length !== n) {
    throw new RangeError(
      `estimator columns differ in length: ${n}, ${input.propensity.length}, ${input.target.length}`,
    );
  }
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) w[i] = input.target[i]! / input.propensity[i]!;
  return w;
}

/**
 * Kish's effective sample size: how many equally weighted rows would give the same variance of a weighted
 * mean. n when the target is the logging policy; small when a few rows carry the estimate. 0 when every
 * weight is 0.
 */
export function effectiveSampleSize(weights: Float64Array): number {
  let sum = 0;
  let squares = 0;
  for (let i = 0; i < weights.length; i++) {
    sum += weights[i]!;
    squares += weights[i]! * weights[i]!;
  }
  return squares > 0 ? (sum * sum) / squares : 0;
}

/** The mean of the influence values with its normal-approximation interval (NaN bounds for n < 2). */
export function meanInterval(values: Float64Array, ess: number, confidence = DEFAULT_CONFIDENCE): Estimate {
  const n = values.length;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i]!;
  const mean = sum / n;
  let squares = 0;
  for (let i = 0; i < n; i++) squares += (values[i]! - mean) ** 2;
  const standardError = n > 1 ? Math.sqrt(squares / (n - 1) / n) : Number.NaN;
  const half = normalCriticalValue(confidence) * standardError;
  return { estimate: mean, standardError, ciLow: mean - half, ciHigh: mean + half, ess };
}

/** IPS: the mean of wᵢrᵢ. Unbiased whenever the logging policy gives every target action a chance. */
export function ips(input: EstimatorInput, confidence = DEFAULT_CONFIDENCE): Estimate {
  const w = importanceWeights(input);
  const phi = new Float64Array(w.length);
  for (let i = 0; i < w.length; i++) phi[i] = w[i]! * input.reward[i]!;
  return meanInterval(phi, effectiveSampleSize(w), confidence);
}

/**
 * SNIPS: Σwᵢrᵢ / Σwᵢ. Slightly biased, but bounded by the rewards and usually of lower variance than IPS.
 * Delta method for the ratio V = mean(wr) / mean(w): φᵢ = V + wᵢ(rᵢ − V) / mean(w), whose mean is V and
 * whose variance over n is the linearised variance of the ratio.
 */
export function snips(input: EstimatorInput, confidence = DEFAULT_CONFIDENCE): Estimate {
  const w = importanceWeights(input);
  const n = w.length;
  let weighted = 0;
  let total = 0;
  for (let i = 0; i < n; i++) {
    weighted += w[i]! * input.reward[i]!;
    total += w[i]!;
  }
  const ess = effectiveSampleSize(w);
  if (!(total > 0)) {
    const nan = Number.NaN;
    return { estimate: nan, standardError: nan, ciLow: nan, ciHigh: nan, ess };
  }
  const value = weighted / total;
  const meanWeight = total / n;
  const phi = new Float64Array(n);
  for (let i = 0; i < n; i++) phi[i] = value + (w[i]! * (input.reward[i]! - value)) / meanWeight;
  const result = meanInterval(phi, ess, confidence);
  // The influence values average to V up to rounding; report the ratio itself.
  const shift = value - result.estimate;
  return { ...result, estimate: value, ciLow: result.ciLow + shift, ciHigh: result.ciHigh + shift };
}

/**
 * DR: φᵢ = Σₐ π(a|xᵢ) q̂(xᵢ, a) + wᵢ (rᵢ − q̂(xᵢ, aᵢ)). Unbiased when the propensities are right, whatever
 * q̂ is, as long as q̂ was not fitted on row i (cross-fitting); the better q̂, the smaller the variance.
 */
export function doublyRobust(input: DoublyRobustInput, confidence = DEFAULT_CONFIDENCE): Estimate {
  const w = importanceWeights(input);
  const n = w.length;
  if (input.direct.length !== n || input.predicted.length !== n) {
    throw new RangeError('doubly robust: the reward model columns differ in length from the log');
  }
  const phi = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    phi[i] = input.direct[i]! + w[i]! * (input.reward[i]! - input.predicted[i]!);
  }
  return meanInterval(phi, effectiveSampleSize(w), confidence);
}
