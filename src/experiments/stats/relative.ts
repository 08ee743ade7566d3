/**
 * Relative lift (treatment over control, minus one) by the first-order delta method, treating the two
 * estimates as independent: no Fieller interval, no bias correction (the README's formula choice).
 */
import { chanceToWin } from './bayes.js';

/** One arm's estimate and the variance of that estimate (var/n for a mean, var_ratio for a ratio). */
export interface Estimate {
  readonly value: number;
  readonly variance: number;
}

/** The relative-lift fields of every comparison, under the README's names. */
export interface RelativeLift {
  /** (treatment − control) / control, a fraction: 0.031 is +3.1%. */
  readonly rel_lift: number;
  /** Delta-method variance: v_t / c² + v_c · t² / c⁴. */
  readonly var_rel: number;
  readonly rel_se: number;
  /** rel_lift ∓ z_crit · rel_se (normal quantile, never the t quantile). */
  readonly rel_ci_low: number;
  readonly rel_ci_high: number;
  /** Φ(rel_lift / rel_se). */
  readonly chance_to_win: number;
}

/** The relative lift of `treatment` over `control`, with its normal-approximation interval. */
export function relativeLift(control: Estimate, treatment: Estimate, zCrit: number): RelativeLift {
  const c = control.value;
  const t = treatment.value;
  const relLift = (t - c) / c;
  const c2 = c * c;
  const varRel = treatment.variance / c2 + (control.variance * t * t) / (c2 * c2);
  const relSe = Math.sqrt(varRel);
  return {
    rel_lift: relLift,
    var_rel: varRel,
    rel_se: relSe,
    rel_ci_low: relLift - zCrit * relSe,
    rel_ci_high: relLift + zCrit * relSe,
    chance_to_win: chanceToWin(relLift, relSe),
  };
}
