import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { erf, erfc, lnBeta, lnGamma, regularizedBetaTails, regularizedGammaTails } from './special.js';

/** |actual − expected| ≤ tolerance · |expected|. */
function expectRelative(actual: number, expected: number, tolerance: number): void {
  expect(Math.abs(actual - expected), `${actual} vs ${expected}`).toBeLessThanOrEqual(
    tolerance * Math.abs(expected),
  );
}

// Reference values: mpmath 1.3 at 50 digits, arguments taken as the doubles written here, e.g.
//   from mpmath import mp, mpf, erfc; mp.dps = 50; float(erfc(mpf(float('3.99'))))

describe('erfc and erf (Cody)', () => {
  it('matches 50-digit values to full double precision, tails included', () => {
    // float(erfc(mpf(float(x))))
    const erfcTable: [number, number][] = [
      [-3, 1.9999779095030015],
      [-0.3, 1.3286267594591274],
      [0.2, 0.7772974107895215],
      [0.46875, 0.507386526782062],
      [0.5, 0.4795001221869535],
      [1.5, 0.033894853524689274],
      [3.99, 1.6739211364520814e-8],
      [4.5, 1.9661604415428876e-10],
      [8, 1.1224297172982926e-29],
      [12, 1.3562611692059042e-64],
      [26, 5.663192408856143e-296],
    ];
    for (const [x, expected] of erfcTable) expectRelative(erfc(x), expected, 2e-15);
    // float(erf(mpf(float(x))))
    const erfTable: [number, number][] = [
      [-2.5, -0.999593047982555],
      [1e-9, 1.1283791670955127e-9],
      [0.3, 0.3286267594591274],
      [0.7, 0.6778011938374184],
      [6, 1],
    ];
    for (const [x, expected] of erfTable) expectRelative(erf(x), expected, 2e-16);
  });

  it('underflows to 0 far out, and propagates NaN', () => {
    expect(erfc(27)).toBe(0);
    expect(erfc(-27)).toBe(2);
    expect(erfc(NaN)).toBeNaN();
    expect(erf(NaN)).toBeNaN();
  });

  it('is odd (erf) and reflects (erfc(−x) = 2 − erfc(x))', () => {
    fc.assert(
      fc.property(fc.double({ min: -30, max: 30, noNaN: true }), (x) => {
        expect(erf(-x)).toBe(-erf(x));
        expect(Math.abs(erfc(-x) - (2 - erfc(x)))).toBeLessThanOrEqual(4e-16);
        expect(Math.abs(erf(x) + erfc(x) - 1)).toBeLessThanOrEqual(4e-16);
      }),
    );
  });
});

describe('lnGamma and lnBeta', () => {
  it('match loggamma to about 1e-15 (absolute where the value is near 0)', () => {
    // float(loggamma(mpf(float(x))))
    const table: [number, number][] = [
      [1e-5, 11.512919692895826],
      [0.3, 1.0957979948180756],
      [2.5, 0.2846828704729192],
      [9.99, 12.779315214350193],
      [10.5, 13.940625219403763],
      [123.4, 469.3360974421906],
      [1e6, 12815504.569147611],
    ];
    for (const [x, expected] of table) {
      expect(Math.abs(lnGamma(x) - expected)).toBeLessThanOrEqual(2e-15 * Math.max(1, Math.abs(expected)));
    }
    expect(Math.abs(lnGamma(1))).toBeLessThanOrEqual(1e-15);
    expect(lnGamma(0)).toBeNaN();
    expect(lnGamma(-1)).toBeNaN();
  });

  it('keeps ln B(a, ½) exact for a = 15,000, where two log-gammas of 10⁴ would cancel to 1e-12', () => {
    // float(loggamma(mpf(a)) + loggamma(mpf(b)) - loggamma(mpf(a) + mpf(b)))
    const table: [number, number, number][] = [
      [0.5, 0.5, 1.1447298858494002],
      [2.5, 0.5, 0.16390063283767395],
      [3, 9.5, -6.351866910579232],
      [5000, 0.5, -3.6862066527834605],
      [15000.25, 0.5, -4.235537797186918],
      [12, 15, -18.568172732389435],
      [100, 300, -226.17296059614623],
    ];
    // Absolute where the value is small: it only ever enters as an exponent.
    const tolerance = (expected: number) => 2e-15 * Math.max(1, Math.abs(expected));
    for (const [a, b, expected] of table) {
      expect(Math.abs(lnBeta(a, b) - expected)).toBeLessThanOrEqual(tolerance(expected));
      expect(Math.abs(lnBeta(b, a) - expected)).toBeLessThanOrEqual(tolerance(expected));
    }
  });
});

describe('regularizedBetaTails', () => {
  it('matches I_x(a, b) and its complement on each of its branches', () => {
    // lower = betainc(a, b, 0, x, regularized=True), upper = betainc(b, a, 0, 1 - x, regularized=True)
    const table: [number, number, number, number, number][] = [
      [0.4, 2, 3, 0.5248, 0.47519999999999996], // continued fraction
      [0.9, 0.3, 0.8, 0.9441034434147407, 0.0558965565852593], // the complement's fraction
      [0.98, 50, 0.7, 0.23680418804223932, 0.7631958119577607], // BGRAT (a large, b < 1)
      [0.02, 0.7, 50, 0.7631958119577604, 0.23680418804223957], // BGRAT, mirrored
      [0.3, 40, 60, 0.017592508468930075, 0.9824074915310699], // both large
      [0.9995, 15000.25, 0.5, 0.00010729767619514798, 0.9998927023238049], // a t tail at df ≈ 30,000
    ];
    for (const [x, a, b, lower, upper] of table) {
      const tails = regularizedBetaTails(x, a, b);
      expectRelative(tails.lower, lower, 1e-14);
      expectRelative(tails.upper, upper, 1e-14);
    }
  });

  it('handles the ends of [0, 1] and rejects invalid parameters', () => {
    expect(regularizedBetaTails(0, 2, 3)).toEqual({ lower: 0, upper: 1 });
    expect(regularizedBetaTails(1, 2, 3)).toEqual({ lower: 1, upper: 0 });
    expect(regularizedBetaTails(0.5, 0, 3).lower).toBeNaN();
    expect(regularizedBetaTails(-0.1, 1, 3).lower).toBeNaN();
  });

  it('has parts that sum to 1 and satisfy I_x(a, b) = 1 − I_(1−x)(b, a)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.001, max: 0.999, noNaN: true }),
        fc.double({ min: 0.2, max: 2000, noNaN: true }),
        fc.double({ min: 0.2, max: 2000, noNaN: true }),
        (x, a, b) => {
          const tails = regularizedBetaTails(x, a, b);
          const mirrored = regularizedBetaTails(1 - x, b, a, x);
          expect(Math.abs(tails.lower + tails.upper - 1)).toBeLessThanOrEqual(1e-14);
          expect(Math.abs(tails.lower - mirrored.upper)).toBeLessThanOrEqual(1e-13);
        },
      ),
    );
  });
});

describe('regularizedGammaTails', () => {
  it('matches P(a, x) and Q(a, x), the small tail to full relative precision', () => {
    // lower = gammainc(a, 0, x, regularized=True), upper = gammainc(a, x, inf, regularized=True)
    const table: [number, number, number, number][] = [
      [2.5, 1, 0.15085496391539036, 0.8491450360846097],
      [0.5, 30, 0.9999999999999906, 9.485737571073848e-15],
      [7, 3, 0.03350853530884121, 0.9664914646911588],
      [1.5, 0.2, 0.05975750516063926, 0.9402424948393607],
      [3, 40, 0.9999999999999964, 3.572865928700226e-15],
    ];
    for (const [a, x, lower, upper] of table) {
      const tails = regularizedGammaTails(a, x);
      expectRelative(tails.lower, lower, 1e-14);
      expectRelative(tails.upper, upper, 1e-14);
    }
  });

  it('handles x = 0, x = ∞ and invalid a', () => {
    expect(regularizedGammaTails(2, 0)).toEqual({ lower: 0, upper: 1 });
    expect(regularizedGammaTails(2, Infinity)).toEqual({ lower: 1, upper: 0 });
    expect(regularizedGammaTails(0, 1).upper).toBeNaN();
  });
});
