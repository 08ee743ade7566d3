import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalCriticalValue } from './distributions.js';
import { confidenceSequence, DEFAULT_SEQUENTIAL_TUNING_N, sequentialRho } from './sequential.js';

// Expected values: GrowthBook's formulas evaluated in mpmath (30 digits):
//   rho = sqrt((-2 ln a + ln(-2 ln a + 1)) / N*); hw = se·sqrt(n)·sqrt(2(nρ²+1)/(nρ)²·ln(sqrt(nρ²+1)/a));
//   p = min(1, 1/e), e = exp(ρ²·(est²·n/se²) / (2(nρ²+1))) / sqrt(nρ²+1)
describe('confidence sequences', () => {
  it("follow GrowthBook's formulas", () => {
    expect(sequentialRho(0.05, DEFAULT_SEQUENTIAL_TUNING_N)).toBeCloseTo(0.03984006677137368, 15);
    const cs = confidenceSequence({ estimate: 1.786, se: 0.5, n: 8174, alpha: 0.05, tuningN: 5000 });
    expect(cs.half_width).toBeCloseTo(1.524281562064079, 13);
    expect(cs.ci_low).toBeCloseTo(0.26171843793592103, 13);
    expect(cs.ci_high).toBeCloseTo(3.310281562064079, 13);
    expect(cs.p_value).toBeCloseTo(0.010007107377995482, 14);
    expect(cs.tuning_n).toBe(5000);
    // A strong effect at α = 1%: the e-value is 1e47, its inverse still exact (computed in logs).
    const strong = confidenceSequence({ estimate: 3, se: 0.2, n: 40000, alpha: 0.01, tuningN: 10000 });
    expect(strong.half_width).toBeCloseTo(0.7306575302978738, 13);
    expect(Math.abs(strong.p_value / 1.0353816467461411e-47 - 1)).toBeLessThan(1e-12);
  });

  it('is wider than the fixed-horizon interval, and caps the p-value at 1', () => {
    const cs = confidenceSequence({ estimate: 0.00165, se: 0.00097, n: 17497, alpha: 0.05, tuningN: 5000 });
    expect(cs.half_width).toBeGreaterThan(normalCriticalValue(0.95) * 0.00097);
    expect(cs.p_value).toBe(1);
  });

  it('excludes 0 exactly when its p-value is below α', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -5, max: 5, noNaN: true }),
        fc.double({ min: 0.05, max: 2, noNaN: true }),
        fc.integer({ min: 100, max: 1_000_000 }),
        (estimate, se, n) => {
          const cs = confidenceSequence({ estimate, se, n, alpha: 0.05, tuningN: 5000 });
          const excludesZero = cs.ci_low > 0 || cs.ci_high < 0;
          // Away from the boundary itself, where rounding may decide either way.
          if (Math.abs(Math.abs(estimate) - cs.half_width) > 1e-9 * cs.half_width) {
            expect(excludesZero).toBe(cs.p_value < 0.05);
          }
        },
      ),
    );
  });

  it('rejects an α or a tuning size that make no sense', () => {
    expect(() => sequentialRho(0, 5000)).toThrow(RangeError);
    expect(() => sequentialRho(0.05, 0)).toThrow(RangeError);
  });
});
