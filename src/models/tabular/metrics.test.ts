import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../random.js';
import { brierScore, logLoss, rocAuc } from './metrics.js';

/** Every positive–negative pair: 1 if the positive scores higher, ½ on a tie. */
function pairwiseAuc(labels: readonly number[], scores: readonly number[]): number {
  let wins = 0;
  let pairs = 0;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] !== 1) continue;
    for (let j = 0; j < labels.length; j++) {
      if (labels[j] !== 0) continue;
      pairs++;
      if (scores[i]! > scores[j]!) wins++;
      else if (scores[i] === scores[j]) wins += 0.5;
    }
  }
  return wins / pairs;
}

describe('rocAuc', () => {
  it("matches scikit-learn's documented example", () => {
    expect(rocAuc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])).toBeCloseTo(0.75, 12);
  });

  it('counts a tie between a positive and a negative as one half', () => {
    expect(rocAuc([0, 1], [0.5, 0.5])).toBe(0.5);
    expect(rocAuc([0, 0, 1, 1], [0.1, 0.5, 0.5, 0.9])).toBeCloseTo(0.875, 12);
  });

  it('equals the pairwise count on random data with many ties', () => {
    const random = mulberry32(7);
    for (let trial = 0; trial < 20; trial++) {
      const n = 5 + Math.floor(random() * 60);
      const labels = Array.from({ length: n }, (_, i) => (i < 2 ? i : random() < 0.3 ? 1 : 0));
      const scores = Array.from({ length: n }, () => Math.floor(random() * 6) / 5);
      expect(rocAuc(labels, scores)).toBeCloseTo(pairwiseAuc(labels, scores), 12);
    }
  });

  it('is 1 for a perfect ranking and 0 for a reversed one', () => {
    expect(rocAuc([0, 0, 1], [1, 2, 3])).toBe(1);
    expect(rocAuc([1, 0, 0], [1, 2, 3])).toBe(0);
  });

  it('needs both classes', () => {
    expect(() => rocAuc([1, 1], [0.2, 0.3])).toThrow(/both classes/);
    expect(() => rocAuc([0, 1], [0.2])).toThrow(/1 scores/);
  });
});

describe('logLoss', () => {
  it("matches scikit-learn's documented example", () => {
    const expected = -(Math.log(0.9) + Math.log(0.9) + Math.log(0.8) + Math.log(0.65)) / 4;
    expect(logLoss([1, 0, 0, 1], [0.9, 0.1, 0.2, 0.65])).toBeCloseTo(expected, 12);
    expect(expected).toBeCloseTo(0.21616, 5);
  });

  it('clips certain wrong answers to a finite cost', () => {
    // 1 − 1e-15 is not exact in binary, so the two clipped costs differ in the fourth decimal.
    expect(logLoss([1, 0], [0, 1])).toBeCloseTo(-Math.log(1e-15), 3);
    expect(logLoss([1, 0], [1, 0])).toBeLessThan(1e-14);
  });
});

describe('brierScore', () => {
  it('is the mean squared error of the probabilities', () => {
    expect(brierScore([0, 1, 1, 0], [0.1, 0.9, 0.8, 0.3])).toBeCloseTo(0.0375, 12);
  });
});
