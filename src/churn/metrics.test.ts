import { describe, expect, it } from 'vitest';
import { averagePrecision, expectedCalibrationError } from '../models/tabular/index.js';

/** The two metrics churn added to `models/tabular/metrics.ts`, against hand-worked values. */
describe('average precision', () => {
  it("matches scikit-learn's documented example", () => {
    // average_precision_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) = 0.8333…
    expect(averagePrecision([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])).toBeCloseTo(5 / 6, 12);
  });

  it('takes tied scores as one threshold', () => {
    // One threshold holding everything: precision 1/2 at recall 1.
    expect(averagePrecision([1, 0], [0.5, 0.5])).toBe(0.5);
  });
});

describe('expected calibration error', () => {
  it('weighs each equal-width bin’s gap by its rows', () => {
    // Bin [0.2, 0.3): predicted 0.2 twice, one positive → gap 0.3 over 2 rows; bin [0.9, 1]: 0.9 and 1,
    // both positive → gap 0.05 over 2 rows. (2·0.3 + 2·0.05) / 4 = 0.175.
    expect(expectedCalibrationError([0, 1, 1, 1], [0.2, 0.2, 0.9, 1])).toBeCloseTo(0.175, 12);
    expect(expectedCalibrationError([0, 1], [0, 1])).toBe(0);
  });
});
