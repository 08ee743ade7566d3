import { describe, expect, it } from 'vitest';
import { adjustedRandIndex } from './ari.js';

const labels = (values: readonly number[]): Int32Array => Int32Array.from(values);

describe('adjustedRandIndex', () => {
  it('is 1 for the same partition under other names, whatever the numbers (−1 included)', () => {
    expect(adjustedRandIndex(labels([0, 0, 1, 1, 2]), labels([5, 5, -1, -1, 7]))).toBe(1);
  });

  it("matches scikit-learn's documented values", () => {
    // sklearn.metrics.adjusted_rand_score docstring: 0.57 for one split cluster, 0.0 for all-in-one
    // against all-alone.
    expect(adjustedRandIndex(labels([0, 0, 1, 1]), labels([0, 0, 1, 2]))).toBeCloseTo(4 / 7, 12);
    expect(adjustedRandIndex(labels([0, 0, 0, 0]), labels([0, 1, 2, 3]))).toBe(0);
  });

  it('is below 1 when one row moves, and symmetric', () => {
    const a = labels([0, 0, 0, 1, 1, 1, 2, 2, 2]);
    const b = labels([0, 0, 1, 1, 1, 1, 2, 2, 2]);
    const ari = adjustedRandIndex(a, b);
    expect(ari).toBeLessThan(1);
    expect(ari).toBeGreaterThan(0.3);
    expect(adjustedRandIndex(b, a)).toBeCloseTo(ari, 15);
  });
});
