import { describe, expect, it } from 'vitest';
import { cupedAdjusted, fitCuped } from './cuped.js';
import { meanVariance } from './summary.js';

const control = {
  value: Float64Array.from([14.2, 9.8, 0.0, 22.5, 7.1, 11.0, 3.3, 18.4]),
  pre: Float64Array.from([12.0, 8.5, 0.0, 19.0, 9.2, 10.1, 0.0, 15.5]),
};
const treatment = {
  value: Float64Array.from([16.0, 12.3, 4.4, 25.1, 9.9, 0.0, 13.8, 20.2, 6.6]),
  pre: Float64Array.from([11.5, 9.0, 3.1, 21.7, 8.8, 0.0, 12.2, 16.0, 7.4]),
};

describe('CUPED', () => {
  it('fits one theta on all users pooled (numpy)', () => {
    // v, p = all values, all pre-values; theta = np.cov(v, p, ddof=1)[0, 1] / p.var(ddof=1)
    const fit = fitCuped([control, treatment]);
    const expected: Record<string, number> = {
      n: 17,
      pre_mean: 9.647058823529413,
      value_mean: 11.447058823529412,
      var_pre: 40.80139705882353,
      var_value: 55.868897058823535,
      cov_value_pre: 46.62702205882353,
      theta: 1.1427800374482562,
      corr: 0.9765963872371397,
      variance_reduction: 0.04625949643536664,
    };
    for (const [name, value] of Object.entries(expected)) {
      const got = (fit as unknown as Record<string, number>)[name]!;
      expect(Math.abs(got - value), name).toBeLessThanOrEqual(1e-13 * Math.abs(value));
    }
  });

  it('adjusts each user by theta · (pre − pooled pre mean), shrinking the variance', () => {
    const fit = fitCuped([control, treatment]);
    const adjusted = meanVariance(cupedAdjusted(control, fit));
    // ac = cv - theta * (cp - p.mean()); ac.mean(), ac.var(ddof=1)
    expect(adjusted.mean).toBeCloseTo(11.198396645817795, 12);
    expect(adjusted.variance).toBeCloseTo(3.4185873866558985, 12);
    expect(adjusted.variance).toBeLessThan(meanVariance(control.value).variance);
  });

  it('adjusts nothing when the pre-period does not vary', () => {
    const flat = { value: Float64Array.from([1, 5, 3]), pre: Float64Array.from([2, 2, 2]) };
    const fit = fitCuped([flat, flat]);
    expect(fit.theta).toBe(0);
    expect(fit.corr).toBe(0);
    expect(fit.variance_reduction).toBe(1);
    expect([...cupedAdjusted(flat, fit)]).toEqual([1, 5, 3]);
  });
});
