import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concatenate, covariance, mean, meanVariance, sum, variance } from './summary.js';

describe('sample summaries', () => {
  it('keeps the variance of values near 1e9 that sum(x²) − n·mean² would lose', () => {
    // numpy: x = np.array([1e9 + 0.5, 1e9 + 1.5, 1e9 + 3.25, 1e9 - 2.0, 1e9 + 7.75]); x.mean(); x.var(ddof=1)
    const x = Float64Array.from([1e9 + 0.5, 1e9 + 1.5, 1e9 + 3.25, 1e9 - 2.0, 1e9 + 7.75]);
    expect(mean(x)).toBe(1000000002.2);
    expect(variance(x)).toBeCloseTo(13.231250000000003, 12);
    const naive = (x.reduce((a, v) => a + v * v, 0) - x.length * mean(x) ** 2) / (x.length - 1);
    expect(Math.abs(naive - 13.23125)).toBeGreaterThan(1); // what the one-pass formula would give
  });

  it('matches numpy on a revenue-like sample of mostly zeros', () => {
    // rev = np.array([0, 0, 0, 181.89, 0, 0, 12.5, 0, 0, 0, 0, 2400.0, 0, 48.1, 0]); rev.mean(); rev.var(ddof=1)
    const revenue = Float64Array.from([0, 0, 0, 181.89, 0, 0, 12.5, 0, 0, 0, 0, 2400, 0, 48.1, 0]);
    const stats = meanVariance(revenue);
    expect(stats.n).toBe(15);
    expect(stats.mean).toBeCloseTo(176.166, 12);
    expect(Math.abs(stats.variance - 380716.9241971429)).toBeLessThan(1e-9);
  });

  it('computes the covariance of paired values', () => {
    // np.cov(x, y, ddof=1)[0, 1] with x as above, y = [3, 0, 1, 4, 2.5]
    const x = Float64Array.from([1e9 + 0.5, 1e9 + 1.5, 1e9 + 3.25, 1e9 - 2.0, 1e9 + 7.75]);
    const y = Float64Array.from([3, 0, 1, 4, 2.5]);
    expect(covariance(x, y)).toBeCloseTo(-1.74375, 12);
    expect(covariance(y, y)).toBeCloseTo(variance(y), 14);
    expect(() => covariance(x, y.subarray(1))).toThrow(RangeError);
  });

  it('gives NaN where a summary is undefined', () => {
    expect(mean(new Float64Array(0))).toBeNaN();
    expect(meanVariance(Float64Array.from([4])).variance).toBeNaN();
    expect(covariance(Float64Array.from([1]), Float64Array.from([2]))).toBeNaN();
  });

  it('sums independently of order (compensated) and concatenates in order', () => {
    expect(sum(Float64Array.from([1e16, 1, -1e16, 1]))).toBe(2);
    expect([
      ...concatenate([Float64Array.from([1, 2]), new Float64Array(0), Float64Array.from([3])]),
    ]).toEqual([1, 2, 3]);
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 2, maxLength: 50 }),
        (values) => {
          const forward = meanVariance(Float64Array.from(values));
          const backward = meanVariance(Float64Array.from(values.slice().reverse()));
          expect(Math.abs(forward.variance - backward.variance)).toBeLessThanOrEqual(
            1e-9 * (1 + forward.variance),
          );
          expect(forward.variance).toBeGreaterThanOrEqual(0);
        },
      ),
    );
  });
});
