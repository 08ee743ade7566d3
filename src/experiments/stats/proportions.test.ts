import { describe, expect, it } from 'vitest';
import { twoProportionTest } from './proportions.js';

// statsmodels 0.15: proportions_ztest([x_t, x_c], [n_t, n_c]) (no continuity correction) and
// confint_proportions_2indep(x_t, n_t, x_c, n_c, method="wald", compare="diff").
describe('twoProportionTest', () => {
  it('matches statsmodels: pooled z-test and the Wald interval', () => {
    const test = twoProportionTest({ n: 40, x: 6 }, { n: 45, x: 13 });
    const expected: Record<string, number> = {
      x_c: 6,
      x_t: 13,
      p_c: 0.15,
      p_t: 0.28888888888888886,
      pooled_p: 0.2235294117647059,
      se_pooled: 0.09053219555148627,
      z_stat: 1.53413808251123,
      z_p_value: 0.12499568623412499,
      wald_se: 0.08804917802196074,
      wald_ci_low: -0.033684328902509914,
      wald_ci_high: 0.3114621066802876,
    };
    for (const [name, value] of Object.entries(expected)) {
      const got = (test as unknown as Record<string, number>)[name]!;
      expect(Math.abs(got - value), name).toBeLessThanOrEqual(1e-13 * Math.abs(value));
    }
  });

  it('is symmetric in the arms', () => {
    const forward = twoProportionTest({ n: 40, x: 6 }, { n: 38, x: 5 });
    const backward = twoProportionTest({ n: 38, x: 5 }, { n: 40, x: 6 });
    expect(backward.z_stat).toBeCloseTo(-forward.z_stat, 14);
    expect(backward.z_p_value).toBeCloseTo(forward.z_p_value, 14);
    expect(backward.wald_ci_low).toBeCloseTo(-forward.wald_ci_high, 14);
    // statsmodels: z = -0.23364139724502103, p = 0.8152633867084855
    expect(forward.z_stat).toBeCloseTo(-0.23364139724502103, 14);
    expect(forward.z_p_value).toBeCloseTo(0.8152633867084855, 14);
  });
});
