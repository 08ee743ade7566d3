/**
 * Ratio metrics (total clicks / total impressions, revenue / orders): per-variant delta-method variance and
 * a z-test of the difference. Every user counts, including those with a zero denominator: the unit of
 * randomization is the user, so dropping users would bias both the ratio and its variance.
 */
import { normalCriticalValue, normalTwoSidedTail } from './distributions.js';
import { relativeLift, type RelativeLift } from './relative.js';
import { covariance, meanVariance, sum } from './summary.js';

/** One variant's ratio metric, under the README's names. */
export interface RatioSummary {
  readonly n: number;
  readonly sum_num: number;
  readonly sum_den: number;
  /** sum_num / sum_den. */
  readonly ratio: number;
  readonly mean_num: number;
  readonly mean_den: number;
  readonly var_num: number;
  readonly var_den: number;
  readonly cov_num_den: number;
  /** Delta-method variance of `ratio`. */
  readonly var_ratio: number;
}

/**
 * Summarizes one variant's per-user numerators and denominators. var_ratio is computed as
 * var(num − ratio·den) / (n · mean_den²), which equals the README's expanded form
 * (var_num/mean_den² − 2·mean_num·cov/mean_den³ + mean_num²·var_den/mean_den⁴) / n exactly, but sums
 * residuals instead of subtracting three large terms.
 */
export function summarizeRatio(numerator: Float64Array, denominator: Float64Array): RatioSummary {
  const n = numerator.length;
  if (denominator.length !== n) {
    throw new RangeError(`ratio: ${n} numerators but ${denominator.length} denominators`);
  }
  const num = meanVariance(numerator);
  const den = meanVariance(denominator);
  const sumNum = sum(numerator);
  const sumDen = sum(denominator);
  const ratio = sumNum / sumDen;
  const residual = new Float64Array(n);
  for (let i = 0; i < n; i++) residual[i] = numerator[i]! - ratio * denominator[i]!;
  return {
    n,
    sum_num: sumNum,
    sum_den: sumDen,
    ratio,
    mean_num: sumNum / n,
    mean_den: sumDen / n,
    var_num: num.variance,
    var_den: den.variance,
    cov_num_den: covariance(numerator, denominator),
    var_ratio: meanVariance(residual).variance / (n * den.mean * den.mean),
  };
}

/** Suffixes the per-variant fields with `_c` / `_t`, as the README's comparison fields are named. */
type Suffixed<T, S extends string> = { readonly [K in keyof T as `${K & string}_${S}`]: T[K] };

/** A ratio metric's comparison, under the README's names. */
export type RatioComparison = Suffixed<RatioSummary, 'c'> &
  Suffixed<RatioSummary, 't'> &
  RelativeLift & {
    /** ratio_t − ratio_c. */
    readonly abs_lift: number;
    /** √(var_ratio_t + var_ratio_c). */
    readonly se: number;
    readonly z_stat: number;
    /** Two-sided z-test (normal, not t). */
    readonly p_value: number;
    readonly ci_low: number;
    readonly ci_high: number;
  };

function suffixed<S extends string>(summary: RatioSummary, suffix: S): Suffixed<RatioSummary, S> {
  return Object.fromEntries(
    Object.entries(summary).map(([key, value]) => [`${key}_${suffix}`, value]),
  ) as Suffixed<RatioSummary, S>;
}

/** Treatment's ratio against control's: z-test and normal intervals, absolute and relative. */
export function compareRatios(
  control: RatioSummary,
  treatment: RatioSummary,
  confidence = 0.95,
): RatioComparison {
  const zCrit = normalCriticalValue(confidence);
  const absLift = treatment.ratio - control.ratio;
  const se = Math.sqrt(treatment.var_ratio + control.var_ratio);
  const zStat = absLift / se;
  return {
    ...suffixed(control, 'c'),
    ...suffixed(treatment, 't'),
    abs_lift: absLift,
    se,
    z_stat: zStat,
    p_value: normalTwoSidedTail(zStat),
    ci_low: absLift - zCrit * se,
    ci_high: absLift + zCrit * se,
    ...relativeLift(
      { value: control.ratio, variance: control.var_ratio },
      { value: treatment.ratio, variance: treatment.var_ratio },
      zCrit,
    ),
  };
}
