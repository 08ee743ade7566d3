import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  chiSquareUpperTail,
  normalCdf,
  normalCriticalValue,
  normalPdf,
  normalQuantile,
  normalTwoSidedTail,
  normalUpperTail,
  studentTCdf,
  studentTCriticalValue,
  studentTPdf,
  studentTQuantile,
  studentTTwoSidedTail,
  studentTUpperTail,
} from './distributions.js';

/** |actual − expected| ≤ tolerance · |expected|. */
function expectRelative(actual: number, expected: number, tolerance: number): void {
  expect(Math.abs(actual - expected), `${actual} vs ${expected}`).toBeLessThanOrEqual(
    tolerance * Math.abs(expected),
  );
}

// Reference values: mpmath 1.3 at 50 digits, arguments taken as the doubles written here (mpf(float(x))).

describe('standard normal', () => {
  it('gives upper tails to full relative precision down to 1e-300', () => {
    // float(ncdf(-mpf(float(z))))
    const table: [number, number][] = [
      [-3, 0.9986501019683699],
      [0, 0.5],
      [1.959963984540054, 0.025000000000000012],
      [5, 2.866515718791939e-7],
      [8.3, 5.205569744890254e-17],
      [20, 2.7536241186062337e-89],
      [37, 5.725571222524577e-300],
    ];
    for (const [z, expected] of table) {
      // z/√2 is rounded before erfc; uncorrected, that would cost z²·2⁻⁵³ (1.5e-13 at z = 37).
      expectRelative(normalUpperTail(z), expected, 1e-15);
      // The lower tail at −z is the same number, computed as a tail too.
      expectRelative(normalCdf(-z), expected, 1e-15);
      if (z >= 0) expectRelative(normalTwoSidedTail(z), 2 * expected, 1e-15);
    }
  });

  it('keeps a chance to win within 1e-14 of 1 exact: Φ(7.7) = 1 − 6.8e-15', () => {
    // float(1 - ncdf(mpf(7.7))) = 6.8033115407739e-15
    expectRelative(1 - normalCdf(7.7), 6.8033115407739e-15, 2e-2);
    expect(normalCdf(7.7)).toBeLessThan(1);
  });

  it('inverts Φ to within an ulp or two (AS 241 and one Newton step)', () => {
    // q = mpf(float(p)); findroot(lambda x: log(ncdf(x)) - log(min(q, 1 - q)), ...)
    const table: [number, number][] = [
      [1e-300, -37.0470962993612],
      [1e-16, -8.222082216130435],
      [0.001, -3.0902323061678136],
      [0.025, -1.9599639845400543],
      [0.3, -0.5244005127080408],
      [0.975, 1.9599639845400538],
      [0.9999, 3.7190164854557084],
    ];
    for (const [p, expected] of table) expectRelative(normalQuantile(p), expected, 5e-16);
    expect(normalQuantile(0.5)).toBe(0);
    expect(normalQuantile(0)).toBe(-Infinity);
    expect(normalQuantile(1)).toBe(Infinity);
    expect(normalQuantile(1.5)).toBeNaN();
  });

  it("has the README's z_crit at 95%, to within an ulp of scipy's 1.959963984540054", () => {
    expectRelative(normalCriticalValue(0.95), 1.959963984540054, 2.3e-16);
  });

  it('round-trips quantile and CDF on the lower tail', () => {
    fc.assert(
      fc.property(fc.double({ min: -37, max: 0, noNaN: true }), (z) => {
        expect(Math.abs(normalQuantile(normalCdf(z)) - z)).toBeLessThanOrEqual(1e-13 * Math.max(1, -z));
      }),
    );
  });

  it('has the right density', () => {
    expect(normalPdf(0)).toBe(0.3989422804014327);
    // float(npdf(mpf(8.3)))
    expectRelative(normalPdf(8.3), 4.3816394355093325e-16, 1e-15);
  });
});

describe("Student's t with real degrees of freedom", () => {
  it('gives upper tails to about 1e-14 relative, from df < 1 to df ≈ 12,000 and p ≈ 1e-84', () => {
    // betainc(df/2, 1/2, 0, df/(df + t^2), regularized=True) / 2 (t ≥ 0; 1 − that for t < 0)
    const table: [number, number, number][] = [
      [0.5, 3.3, 0.3242675381997792],
      [-0.5, 3.3, 0.6757324618002208],
      [2.7, 64.2, 0.004427337507072161],
      [8.3, 12216.26, 5.750461646606442e-17],
      [1.2, 15.1, 0.12431440152577163],
      [30, 7.5, 2.187366705051821e-9],
      [3, 0.7, 0.14168566965051294],
      [20, 3000, 6.158159070033997e-84],
    ];
    for (const [t, df, expected] of table) {
      expectRelative(studentTUpperTail(t, df), expected, 2e-14);
      expectRelative(studentTCdf(-t, df), expected, 2e-14);
      if (t > 0) expectRelative(studentTTwoSidedTail(t, df), 2 * expected, 2e-14);
    }
  });

  it('stays exact with millions of degrees of freedom (BGRAT, not the continued fraction)', () => {
    // The density integrated from t to ∞ with mpmath's quad (betainc does not converge there):
    // quad(pdf, [t + k for k in (0, .25, .5, 1, 2, 4, 8, 16)] + [inf]) with df = 3e6, t = 1.96 and 4.
    // The plain continued fraction is off by 7e-11 and 4e-11 here.
    expectRelative(studentTTwoSidedTail(1.96, 3e6), 0.049995882726026876, 1e-13);
    expectRelative(studentTTwoSidedTail(4, 3e6), 0.00006334400042170202, 1e-13);
  });

  it('has the right density', () => {
    // (1 + t^2/df)^(-(df + 1)/2) / (sqrt(df) * beta(df/2, 1/2))
    expectRelative(studentTPdf(0, 1), 0.3183098861837907, 1e-15);
    expectRelative(studentTPdf(1.5, 4.5), 0.12379977494961847, 2e-15);
    expectRelative(studentTPdf(8.3, 12216.26), 4.813134026699284e-16, 1e-14);
  });

  it('gives quantiles to a few ulps, where scipy is good to 5e-10', () => {
    // Bisection of tsf(t, df) = min(p, 1 − p) in mpmath, 200 halvings.
    const table: [number, number, number][] = [
      [0.975, 18.649278450830106, 2.0956913595960396],
      [0.975, 12216.258617267402, 1.9601581931243834],
      [0.975, 1, 12.706204736174694],
      [0.975, 2, 4.302652729749461],
      [0.995, 0.7, 364.935202981585],
      [0.025, 30, -2.042272456301238],
      [0.6, 10, 0.2601848294920802],
      [1e-10, 5, -156.8255927088943],
      [0.975, 3e5, 1.9599718921421827],
    ];
    // Near the centre (p = 0.6) the CDF's absolute precision limits t's relative one.
    for (const [p, df, expected] of table) expectRelative(studentTQuantile(p, df), expected, 3e-15);
    expect(studentTCriticalValue(0.95, 18.649278450830106)).toBe(studentTQuantile(0.975, 18.649278450830106));
  });

  it('is symmetric, and the quantile inverts the CDF on the lower tail', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -50, max: 0, noNaN: true }),
        fc.double({ min: 0.5, max: 1e5, noNaN: true }),
        (t, df) => {
          expect(Math.abs(studentTCdf(t, df) + studentTCdf(-t, df) - 1)).toBeLessThanOrEqual(1e-15);
          const p = studentTCdf(t, df);
          if (p > 1e-300) {
            const back = studentTQuantile(p, df);
            expect(Math.abs(back - t)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(t)));
            // 1 − p is rounded, which costs the mirrored quantile a relative 2⁻⁵³/p in its tail.
            if (p > 1e-3) {
              expect(Math.abs(studentTQuantile(1 - p, df) + back)).toBeLessThanOrEqual(
                1e-10 * Math.max(1, -back),
              );
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('tends to the normal as df grows, and handles the edges', () => {
    expect(studentTUpperTail(1.5, Infinity)).toBe(normalUpperTail(1.5));
    expect(Math.abs(studentTUpperTail(1.5, 1e12) - normalUpperTail(1.5))).toBeLessThan(1e-12);
    expect(studentTTwoSidedTail(Infinity, 10)).toBe(0);
    expect(studentTTwoSidedTail(0, 10)).toBe(1);
    expect(studentTTwoSidedTail(NaN, 10)).toBeNaN();
    expect(studentTTwoSidedTail(1, 0)).toBeNaN();
    expect(studentTQuantile(0.5, 7.3)).toBe(0);
  });
});

describe('chi-square', () => {
  it('gives upper tails directly, including 1e-17 (closed forms for df 1 and 2)', () => {
    // gammainc(df/2, x/2, inf, regularized=True)
    const table: [number, number, number][] = [
      [0.7280325014509577, 1, 0.39352167566722673],
      [70, 1, 5.930445850082487e-17],
      [0.04930612244897959, 2, 0.9756483435590705],
      [3.5, 3, 0.32076212080563904],
      [40, 3, 1.0655090334255861e-8],
      [100, 10, 5.4497019829205295e-17],
      [1e-3, 1, 0.9747728793699604],
      [0.5, 5, 0.9921232932326296],
    ];
    for (const [x, df, expected] of table) expectRelative(chiSquareUpperTail(x, df), expected, 5e-15);
    expect(chiSquareUpperTail(0, 3)).toBe(1);
    expect(chiSquareUpperTail(1, 0)).toBeNaN();
  });
});
