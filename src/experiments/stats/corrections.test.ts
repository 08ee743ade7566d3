import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { benjaminiHochberg, holm } from './corrections.js';

function expectAll(actual: number[], expected: number[]): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((value, i) => expect(value).toBeCloseTo(expected[i]!, 14));
}

// Expected values: statsmodels 0.15 multipletests(p, method="holm")[1] and method="fdr_bh".
describe('Holm and Benjamini–Hochberg', () => {
  it('carry the running maximum (Holm) and the running minimum (BH), in the input order', () => {
    const p = [0.01, 0.04, 0.03, 0.2];
    // Holm: 0.04·2 = 0.08 is raised to the 0.09 before it; BH: 0.03·4/2 = 0.06 is lowered to 0.0533.
    expectAll(holm(p), [0.04, 0.09, 0.09, 0.2]);
    expectAll(benjaminiHochberg(p), [0.04, 0.05333333333333334, 0.05333333333333334, 0.2]);
  });

  it('cap at 1', () => {
    expectAll(holm([0.4, 0.6, 0.9]), [1, 1, 1]);
    expectAll(benjaminiHochberg([0.4, 0.6, 0.9]), [0.9, 0.9, 0.9]);
    expectAll(benjaminiHochberg([0.7, 0.9]), [0.9, 0.9]);
  });

  it('give tied p-values the same result whatever their order', () => {
    expectAll(holm([0.02, 0.02, 0.2]), [0.06, 0.06, 0.2]);
    expectAll(holm([0.2, 0.02, 0.02]), [0.2, 0.06, 0.06]);
    expectAll(benjaminiHochberg([0.02, 0.2, 0.02]), [0.03, 0.2, 0.03]);
    expectAll(holm([0.03, 0.031, 0.5]), [0.09, 0.09, 0.5]);
    expectAll(benjaminiHochberg([0.03, 0.031, 0.5]), [0.0465, 0.0465, 0.5]);
  });

  it('leave a single test alone, make a NaN family NaN, and reject p outside [0, 1]', () => {
    expect(holm([0.3])).toEqual([0.3]);
    expect(benjaminiHochberg([0.3])).toEqual([0.3]);
    expect(holm([0.1, NaN])).toEqual([NaN, NaN]);
    expect(() => benjaminiHochberg([0.1, 1.5])).toThrow(RangeError);
  });

  it('are at least the raw p-value, at most 1, monotone in it, and BH ≤ Holm', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 12 }),
        (p) => {
          const h = holm(p);
          const bh = benjaminiHochberg(p);
          p.forEach((raw, i) => {
            expect(h[i]!).toBeGreaterThanOrEqual(raw);
            expect(bh[i]!).toBeGreaterThanOrEqual(raw * (1 - 1e-15));
            expect(h[i]!).toBeLessThanOrEqual(1);
            expect(bh[i]!).toBeLessThanOrEqual(h[i]! * (1 + 1e-15));
            p.forEach((other, j) => {
              if (raw <= other) {
                expect(h[i]!).toBeLessThanOrEqual(h[j]!);
                expect(bh[i]!).toBeLessThanOrEqual(bh[j]!);
              }
            });
          });
        },
      ),
    );
  });
});
