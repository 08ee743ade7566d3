/**
 * CUPED (Deng et al. 2013): the metric adjusted by a pre-exposure covariate, value − θ·(pre − pre_mean),
 * with one θ and one pre_mean estimated on all users of all variants pooled (the README's formula choice;
 * some engines fit θ per variant). Randomization makes the covariate independent of the variant, so the
 * adjustment removes variance without moving the expected difference.
 */
import { concatenate, covariance, meanVariance } from './summary.js';

/** The pooled fit, under the README's names (the `cuped` block). */
export interface CupedFit {
  /** All users of all variants. */
  readonly n: number;
  readonly pre_mean: number;
  readonly value_mean: number;
  readonly var_pre: number;
  readonly var_value: number;
  readonly cov_value_pre: number;
  /** cov_value_pre / var_pre: the regression slope of value on pre_value. */
  readonly theta: number;
  /** Pearson correlation of value and pre_value. */
  readonly corr: number;
  /** 1 − corr²: the factor by which CUPED is expected to multiply the variance. */
  readonly variance_reduction: number;
}

/** One variant's users: the metric and the same users' pre-exposure metric, row by row. */
export interface CupedSample {
  readonly value: Float64Array;
  readonly pre: Float64Array;
}

/**
 * Fits θ on every variant's users together. Without variation in the covariate (every pre_value equal)
 * there is nothing to adjust by: θ is 0 and so is the correlation, and the adjusted values are the values.
 */
export function fitCuped(samples: readonly CupedSample[]): CupedFit {
  const value = concatenate(samples.map((sample) => sample.value));
  const pre = concatenate(samples.map((sample) => sample.pre));
  const valueStats = meanVariance(value);
  const preStats = meanVariance(pre);
  const cov = covariance(value, pre);
  const informative = preStats.variance > 0;
  const corr = informative ? cov / Math.sqrt(preStats.variance * valueStats.variance) : 0;
  return {
    n: value.length,
    pre_mean: preStats.mean,
    value_mean: valueStats.mean,
    var_pre: preStats.variance,
    var_value: valueStats.variance,
    cov_value_pre: cov,
    theta: informative ? cov / preStats.variance : 0,
    corr,
    variance_reduction: 1 - corr * corr,
  };
}

/** Each user's adjusted value, value − θ·(pre_value − pre_mean), with the pooled θ and pre_mean. */
export function cupedAdjusted(sample: CupedSample, fit: CupedFit): Float64Array {
  const adjusted = new Float64Array(sample.value.length);
  for (let i = 0; i < adjusted.length; i++) {
    adjusted[i] = sample.value[i]! - fit.theta * (sample.pre[i]! - fit.pre_mean);
  }
  return adjusted;
}
