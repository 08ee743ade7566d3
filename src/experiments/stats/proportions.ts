/**
 * Two-proportion z-test (pooled standard error, no continuity correction; statsmodels `proportions_ztest`)
 * and the unpooled Wald interval of the difference (statsmodels `confint_proportions_2indep(method="wald")`).
 */
import { normalCriticalValue, normalTwoSidedTail } from './distributions.js';

/** Users and conversions (users with value 1) in one arm. */
export interface ProportionCounts {
  readonly n: number;
  readonly x: number;
}

/** The README's extra fields of a conversion comparison. */
export interface ProportionTest {
  readonly x_c: number;
  readonly x_t: number;
  readonly p_c: number;
  readonly p_t: number;
  /** (x_c + x_t) / (n_c + n_t): the common rate under the null hypothesis. */
  readonly pooled_p: number;
  readonly se_pooled: number;
  readonly z_stat: number;
  /** Two-sided: P(|Z| ≥ |z_stat|). */
  readonly z_p_value: number;
  /** Unpooled, divided by n (not n − 1, unlike Welch's `se`). */
  readonly wald_se: number;
  readonly wald_ci_low: number;
  readonly wald_ci_high: number;
}

/** The pooled z-test and Wald interval of treatment's rate minus control's. */
export function twoProportionTest(
  control: ProportionCounts,
  treatment: ProportionCounts,
  confidence = 0.95,
): ProportionTest {
  const pC = control.x / control.n;
  const pT = treatment.x / treatment.n;
  const pooled = (control.x + treatment.x) / (control.n + treatment.n);
  const sePooled = Math.sqrt(pooled * (1 - pooled) * (1 / control.n + 1 / treatment.n));
  const zStat = (pT - pC) / sePooled;
  const waldSe = Math.sqrt((pT * (1 - pT)) / treatment.n + (pC * (1 - pC)) / control.n);
  const zCrit = normalCriticalValue(confidence);
  return {
    x_c: control.x,
    x_t: treatment.x,
    p_c: pC,
    p_t: pT,
    pooled_p: pooled,
    se_pooled: sePooled,
    z_stat: zStat,
    z_p_value: normalTwoSidedTail(zStat),
    wald_se: waldSe,
    wald_ci_low: pT - pC - zCrit * waldSe,
    wald_ci_high: pT - pC + zCrit * waldSe,
  };
}
