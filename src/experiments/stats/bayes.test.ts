import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chanceToWin, expectedLoss } from './bayes.js';

/** |actual − expected| ≤ tolerance · |expected|. */
function expectRelative(actual: number, expected: number, tolerance: number): void {
  expect(Math.abs(actual - expected), `${actual} vs ${expected}`).toBeLessThanOrEqual(
    tolerance * Math.abs(expected),
  );
}

// Expected values: mpmath 1.3 at 30 digits, the losses by integration:
//   quad(lambda v: -v * npdf(v, mu, s), [-inf, 0]) and quad(lambda v: v * npdf(v, mu, s), [0, inf]);
//   the chance to win ncdf(mu / s).
describe('chance to win and expected loss', () => {
  it('match the normal model by integration', () => {
    const table: [number, number, number, number, number][] = [
      [0.03, 0.02, 0.0005861358752520927, 0.03058613587525209, 0.9331927987311419],
      [-0.05, 0.03, 0.05059479655014173, 0.0005947965501417248, 0.047790352272814696],
    ];
    for (const [mean, se, treatment, control, chance] of table) {
      const loss = expectedLoss(mean, se);
      expectRelative(loss.treatment, treatment, 1e-13);
      expectRelative(loss.control, control, 1e-13);
      expectRelative(chanceToWin(mean, se), chance, 1e-15);
    }
  });

  it('keeps the tiny loss of a clear winner (z = 10) instead of cancelling it away', () => {
    // Both se·φ(10) and 0.2·Φ(−10) are about 1.5e-24; their difference is 1.4949120509178603e-26.
    expectRelative(expectedLoss(0.2, 0.02).treatment, 1.4949120509178603e-26, 1e-12);
    expect(expectedLoss(0.2, 0.02).control).toBeCloseTo(0.2, 15);
  });

  it('is the lost lift itself when there is no uncertainty', () => {
    expect(expectedLoss(0.1, 0)).toEqual({ treatment: 0, control: 0.1 });
    expect(expectedLoss(-0.1, 0)).toEqual({ treatment: 0.1, control: 0 });
    expect(chanceToWin(0.1, 0)).toBe(1);
  });

  it('satisfies loss(keep) − loss(ship) = mean and is never negative', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -1, max: 1, noNaN: true }),
        fc.double({ min: 1e-4, max: 1, noNaN: true }),
        (mean, se) => {
          const loss = expectedLoss(mean, se);
          expect(loss.treatment).toBeGreaterThanOrEqual(0);
          expect(loss.control).toBeGreaterThanOrEqual(0);
          expect(Math.abs(loss.control - loss.treatment - mean)).toBeLessThanOrEqual(
            1e-12 * (1 + Math.abs(mean)),
          );
          expect(Math.abs(chanceToWin(mean, se) + chanceToWin(-mean, se) - 1)).toBeLessThanOrEqual(1e-15);
        },
      ),
    );
  });
});
