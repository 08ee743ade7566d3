import { describe, expect, it } from 'vitest';
import { compareRatios, summarizeRatio } from './ratio.js';

function expectFields(actual: object, expected: Record<string, number>, tolerance = 1e-12): void {
  const fields = actual as Record<string, unknown>;
  for (const [name, value] of Object.entries(expected)) {
    expect(Math.abs((fields[name] as number) - value), name).toBeLessThanOrEqual(tolerance * Math.abs(value));
  }
}

// Users with a zero denominator (and numerator) are users: they count in n and in every moment.
const control = summarizeRatio(
  Float64Array.from([0, 3, 1, 0, 0, 2, 5, 0, 1, 0]),
  Float64Array.from([0, 40, 12, 0, 7, 30, 51, 0, 9, 3]),
);
const treatment = summarizeRatio(
  Float64Array.from([2, 0, 4, 1, 0, 6, 0, 3, 1]),
  Float64Array.from([25, 0, 38, 10, 5, 44, 0, 29, 11]),
);

// numpy: the README's expanded delta method,
//   var_ratio = (vn/md**2 - 2*mn*c/md**3 + mn**2*vd/md**4) / n with ddof=1 moments.
describe('ratio metrics', () => {
  it("summarize a variant with the README's delta-method variance", () => {
    expectFields(control, {
      n: 10,
      sum_num: 12,
      sum_den: 152,
      ratio: 0.07894736842105263,
      mean_num: 1.2,
      mean_den: 15.2,
      var_num: 2.8444444444444446,
      var_den: 341.5111111111111,
      cov_num_den: 30.399999999999995,
      var_ratio: 7.486855107346116e-5,
    });
    expectFields(treatment, { n: 9, ratio: 0.10493827160493827, var_ratio: 0.00011163306724337952 });
  });

  it('compare by a z-test, with per-variant fields suffixed _c and _t', () => {
    const comparison = compareRatios(control, treatment);
    expectFields(comparison, {
      n_c: 10,
      n_t: 9,
      sum_num_c: 12,
      sum_den_t: 162,
      var_ratio_c: 7.486855107346116e-5,
      var_ratio_t: 0.00011163306724337952,
      abs_lift: 0.02599090318388564,
      se: 0.01365655953440839,
      z_stat: 1.9031808940165529,
      p_value: 0.05701694531251909,
      ci_low: -0.000775461656281895,
      ci_high: 0.05275726802405317,
      rel_lift: 0.3292181069958848,
      var_rel: 0.03913438610109253,
      rel_se: 0.19782412921858783,
      rel_ci_low: -0.05851006154554517,
      rel_ci_high: 0.7169462755373147,
      chance_to_win: 0.951963357545581,
    });
  });

  it('rejects columns of different lengths', () => {
    expect(() => summarizeRatio(Float64Array.from([1, 2]), Float64Array.from([1]))).toThrow(RangeError);
  });
});
