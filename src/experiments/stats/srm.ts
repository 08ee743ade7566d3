/**
 * Sample-ratio-mismatch check: Pearson's chi-square goodness-of-fit of users per variant against the
 * intended split (scipy `stats.chisquare(observed, f_exp=expected)`), no continuity correction. A broken
 * split (users lost to a redirect, a bot filter on one arm) biases every comparison, so this is read first.
 */
import { chiSquareUpperTail } from './distributions.js';

/** Below this p-value the split is called broken (the usual alarm). */
export const SRM_ALARM_P_VALUE = 0.001;

export interface SampleRatioTest {
  /** N · w_v / Σw per variant, in the order of the weights. */
  readonly expected: readonly number[];
  readonly chi2: number;
  /** Number of variants − 1. */
  readonly df: number;
  /** Upper tail of χ²(df) at chi2. */
  readonly p_value: number;
}

/** Tests the observed users per variant against weights (normalized here, so they need not sum to 1). */
export function sampleRatioTest(observed: readonly number[], weights: readonly number[]): SampleRatioTest {
  if (observed.length !== weights.length) {
    throw new RangeError(`srm: ${observed.length} counts but ${weights.length} weights`);
  }
  if (weights.some((weight) => !(weight > 0 && Number.isFinite(weight)))) {
    throw new RangeError('srm: every weight must be a positive number');
  }
  const total = observed.reduce((acc, count) => acc + count, 0);
  const weightSum = weights.reduce((acc, weight) => acc + weight, 0);
  const expected = weights.map((weight) => (total * weight) / weightSum);
  let chi2 = 0;
  for (let i = 0; i < observed.length; i++) chi2 += (observed[i]! - expected[i]!) ** 2 / expected[i]!;
  const df = observed.length - 1;
  return { expected, chi2, df, p_value: chiSquareUpperTail(chi2, df) };
}
