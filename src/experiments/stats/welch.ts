/**
 * Comparison of two means by Welch's unequal-variance t-test, with the relative lift by the delta method:
 * the fields of the README's `mean` kind (also used for conversion, srm and CUPED-adjusted values).
 */
import { normalCriticalValue, studentTCriticalValue, studentTTwoSidedTail } from './distributions.js';
import { relativeLift, type RelativeLift } from './relative.js';
import type { MeanVariance } from './summary.js';

/** Welch's test of treatment against control, under the README's field names. */
export interface MeanComparison extends RelativeLift {
  readonly n_c: number;
  readonly n_t: number;
  readonly mean_c: number;
  readonly mean_t: number;
  readonly var_c: number;
  readonly var_t: number;
  /** mean_t − mean_c. */
  readonly abs_lift: number;
  /** √(var_t/n_t + var_c/n_c). */
  readonly se: number;
  /** abs_lift / se: positive when the treatment is higher. */
  readonly t_stat: number;
  /** Welch–Satterthwaite degrees of freedom, not rounded. */
  readonly df: number;
  /** Two-sided: P(|T_df| ≥ |t_stat|). */
  readonly p_value: number;
  /** The t quantile at the confidence level, with the real df. */
  readonly t_crit: number;
  readonly ci_low: number;
  readonly ci_high: number;
}

/**
 * Welch–Satterthwaite degrees of freedom: (v_t + v_c)² / (v_t²/(n_t − 1) + v_c²/(n_c − 1)) with v = var/n.
 * A real number; rounding it (as some tools do) would move the p-value of a small sample.
 */
export function welchDegreesOfFreedom(control: MeanVariance, treatment: MeanVariance): number {
  const vC = control.variance / control.n;
  const vT = treatment.variance / treatment.n;
  return (vT + vC) ** 2 / ((vT * vT) / (treatment.n - 1) + (vC * vC) / (control.n - 1));
}

/** Welch's two-sample t-test of `treatment` against `control` at the given confidence (0.95). */
export function welchTest(control: MeanVariance, treatment: MeanVariance, confidence = 0.95): MeanComparison {
  const vC = control.variance / control.n;
  const vT = treatment.variance / treatment.n;
  const absLift = treatment.mean - control.mean;
  const se = Math.sqrt(vT + vC);
  const tStat = absLift / se;
  const df = welchDegreesOfFreedom(control, treatment);
  const tCrit = studentTCriticalValue(confidence, df);
  return {
    n_c: control.n,
    n_t: treatment.n,
    mean_c: control.mean,
    mean_t: treatment.mean,
    var_c: control.variance,
    var_t: treatment.variance,
    abs_lift: absLift,
    se,
    t_stat: tStat,
    df,
    p_value: studentTTwoSidedTail(tStat, df),
    t_crit: tCrit,
    ci_low: absLift - tCrit * se,
    ci_high: absLift + tCrit * se,
    ...relativeLift(
      { value: control.mean, variance: vC },
      { value: treatment.mean, variance: vT },
      normalCriticalValue(confidence),
    ),
  };
}
