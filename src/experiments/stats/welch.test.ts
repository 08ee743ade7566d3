import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { meanVariance } from './summary.js';
import { welchTest, type MeanComparison } from './welch.js';

/** Every expected field within `tolerance`, relatively (integers exactly). */
function expectFields(actual: object, expected: Record<string, number>, tolerance = 1e-12): void {
  const fields = actual as Record<string, unknown>;
  for (const [name, value] of Object.entries(expected)) {
    const got = fields[name];
    expect(typeof got, name).toBe('number');
    expect(Math.abs((got as number) - value), `${name}: ${String(got)} vs ${value}`).toBeLessThanOrEqual(
      tolerance * Math.abs(value),
    );
  }
}

const control = Float64Array.from([12.5, 7, 0, 3.25, 9, 14, 6.5, 8, 11, 2]);
const treatment = Float64Array.from([15, 9.5, 4, 12, 7.25, 18, 10, 13.5, 6, 11, 16.5]);

describe('welchTest', () => {
  it('matches scipy on a small sample (non-integer df, t quantile, delta-method relative lift)', () => {
    // r = stats.ttest_ind(t, c, equal_var=False); stats.t.ppf(0.975, df); stats.norm.cdf(rel / rel_se)
    // (the t quantile checked against 50-digit mpmath too: 2.0956913595960396)
    expectFields(welchTest(meanVariance(control), meanVariance(treatment)), {
      n_c: 10,
      n_t: 11,
      mean_c: 7.325,
      mean_t: 11.159090909090908,
      var_c: 20.83402777777778,
      var_t: 19.35340909090909,
      abs_lift: 3.834090909090908,
      se: 1.9603070178479847,
      t_stat: 1.955862461432166,
      df: 18.649278450830106,
      p_value: 0.06563059733095175,
      t_crit: 2.09569135959604,
      ci_low: -0.274107570368594,
      ci_high: 7.94228938855041,
      rel_lift: 0.5234253800806701,
      var_rel: 0.12290629074296233,
      rel_se: 0.35057993488356165,
      rel_ci_low: -0.16369866599350813,
      rel_ci_high: 1.2105494261548482,
      chance_to_win: 0.9322849670230158,
    });
  });

  it('widens its intervals with the confidence level', () => {
    const at95 = welchTest(meanVariance(control), meanVariance(treatment));
    const at99 = welchTest(meanVariance(control), meanVariance(treatment), 0.99);
    expect(at99.ci_high - at99.ci_low).toBeGreaterThan(at95.ci_high - at95.ci_low);
    expect(at99.p_value).toBe(at95.p_value);
  });

  it('flips the sign of the lift, its statistic and its interval when the arms swap', () => {
    const sample = fc.array(fc.double({ min: 1, max: 1000, noNaN: true }), { minLength: 3, maxLength: 30 });
    fc.assert(
      fc.property(sample, sample, (a, b) => {
        const forward: MeanComparison = welchTest(
          meanVariance(Float64Array.from(a)),
          meanVariance(Float64Array.from(b)),
        );
        const backward = welchTest(meanVariance(Float64Array.from(b)), meanVariance(Float64Array.from(a)));
        if (!(forward.se > 0)) return;
        expect(backward.abs_lift).toBe(-forward.abs_lift);
        expect(backward.t_stat).toBe(-forward.t_stat);
        expect(backward.df).toBeCloseTo(forward.df, 9);
        expect(backward.p_value).toBeCloseTo(forward.p_value, 12);
        expect(backward.ci_low).toBeCloseTo(-forward.ci_high, 9);
        // The relative lift is relative to a different base, so only its direction is mirrored.
        expect((backward.chance_to_win - 0.5) * (forward.chance_to_win - 0.5)).toBeLessThanOrEqual(0);
      }),
    );
  });
});
