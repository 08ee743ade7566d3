import { describe, expect, it } from 'vitest';
import {
  analyzeExperiment,
  StatsInputError,
  type ConversionComparison,
  type CupedVariantSummary,
  type ExperimentAnalysis,
} from './analyze.js';
import type { ExperimentData, MetricKind } from './kinds.js';
import type { RatioSummary } from './ratio.js';

/** |actual − expected| ≤ tolerance · |expected|. */
function expectRelative(actual: number, expected: number, tolerance = 1e-12): void {
  expect(Math.abs(actual - expected), `${actual} vs ${expected}`).toBeLessThanOrEqual(
    tolerance * Math.abs(expected),
  );
}

function data(kind: MetricKind, variants: Record<string, number[][]>): ExperimentData {
  return {
    kind,
    variants: new Map(
      Object.entries(variants).map(([name, columns]) => [name, columns.map((c) => Float64Array.from(c))]),
    ),
  };
}

const weights = (entries: Record<string, number>) => new Map(Object.entries(entries));
const ones = (x: number, n: number) => Array.from({ length: n }, (_, i) => (i < x ? 1 : 0));

describe('analyzeExperiment', () => {
  it('analyses a mean metric: README fields, control first, extras, no corrections for one treatment', () => {
    const result = analyzeExperiment(
      data('mean', {
        treatment: [[15, 9.5, 4, 12, 7.25, 18, 10, 13.5, 6, 11, 16.5]],
        control: [[12.5, 7, 0, 3.25, 9, 14, 6.5, 8, 11, 2]],
      }),
      { weights: weights({ control: 0.5, treatment: 0.5 }) },
    );
    expect(Object.keys(result.variants)).toEqual(['control', 'treatment']);
    expect(result).toMatchObject({ kind: 'mean', control: 'control', treatments: ['treatment'], rows: 21 });
    expect(result.confidence).toBe(0.95);
    expectRelative(result.z_crit, 1.959963984540054, 2.3e-16);
    expect(result.variants['control']).toEqual({
      n: 10,
      mean: 7.325,
      var: expect.closeTo(20.83402777777778, 12),
    });
    // scipy.stats.ttest_ind(t, c, equal_var=False) and t.ppf(0.975, df), as in welch.test.ts.
    const comparison = result.comparisons['treatment']!;
    expectRelative(comparison.p_value, 0.06563059733095175);
    expectRelative(comparison.ci_low, -0.274107570368594);
    expect(comparison.expected_loss.control - comparison.expected_loss.treatment).toBeCloseTo(
      comparison.rel_lift,
      12,
    );
    expect(comparison.sequential.ci_low).toBeLessThan(comparison.ci_low);
    expect(result.corrections).toBeUndefined();
    expect(result.cuped).toBeUndefined();
    // stats.chisquare([10, 11], [10.5, 10.5])
    expect(result.srm).toMatchObject({ observed: { control: 10, treatment: 11 }, df: 1, mismatch: false });
    expectRelative(result.srm.chi2, 0.047619047619047616);
    expectRelative(result.srm.p_value, 0.8272593465627113);
  });

  it('analyses conversions with two treatments: z-test fields and both families of corrections', () => {
    const result = analyzeExperiment(
      data('conversion', { control: [ones(6, 40)], b: [ones(13, 45)], c: [ones(5, 38)] }),
      { weights: weights({ control: 0.4, b: 0.3, c: 0.3 }) },
    );
    const b = result.comparisons['b'] as ConversionComparison;
    // statsmodels proportions_ztest / confint_proportions_2indep (see proportions.test.ts), scipy Welch.
    expect(b).toMatchObject({ x_c: 6, x_t: 13, n_c: 40, n_t: 45 });
    expectRelative(b.z_p_value, 0.12499568623412499);
    expectRelative(b.wald_ci_high, 0.3114621066802876);
    expectRelative(b.p_value, 0.12288511239249875);
    expectRelative(b.df, 81.89246811574577);
    // statsmodels multipletests([p_b, p_c], method="holm" / "fdr_bh")
    const corrections = result.corrections!;
    expect(Object.keys(corrections)).toEqual(['p_value', 'z_p_value']);
    expectRelative(corrections['p_value']!.raw['c']!, 0.8179111299006282);
    expectRelative(corrections['p_value']!.holm['b']!, 0.2457702247849975);
    expectRelative(corrections['p_value']!.bh['c']!, 0.8179111299006282);
    expectRelative(corrections['z_p_value']!.holm['b']!, 0.24999137246824998);
    // stats.chisquare([40, 45, 38], [49.2, 36.9, 36.9])
    expectRelative(result.srm.chi2, 3.5311653116531185);
    expectRelative(result.srm.p_value, 0.1710870725586366);
    expect(Object.keys(result.srm.observed)).toEqual(['control', 'b', 'c']);
  });

  it('reports srm observed in the order of the weights, variants control first', () => {
    const result = analyzeExperiment(
      data('srm', { b: [[1, 2, 3]], control: [[2, 3, 4, 5]], a: [[4, 4, 5]] }),
      { weights: weights({ b: 1, a: 1, control: 2 }) },
    );
    expect(result.treatments).toEqual(['b', 'a']);
    expect(Object.keys(result.variants)).toEqual(['control', 'b', 'a']);
    expect(Object.keys(result.comparisons)).toEqual(['b', 'a']);
    expect(Object.keys(result.srm.observed)).toEqual(['b', 'a', 'control']);
    expect(result.srm.expected).toEqual({ b: 2.5, a: 2.5, control: 5 });
    expect(Object.keys(result.corrections!)).toEqual(['p_value']);
  });

  it('analyses CUPED: pooled fit, adjusted comparisons, raw ones beside them', () => {
    const result = analyzeExperiment(
      data('cuped', {
        control: [
          [14.2, 9.8, 0.0, 22.5, 7.1, 11.0, 3.3, 18.4],
          [12.0, 8.5, 0.0, 19.0, 9.2, 10.1, 0.0, 15.5],
        ],
        treatment: [
          [16.0, 12.3, 4.4, 25.1, 9.9, 0.0, 13.8, 20.2, 6.6],
          [11.5, 9.0, 3.1, 21.7, 8.8, 0.0, 12.2, 16.0, 7.4],
        ],
      }),
      { weights: weights({ control: 0.5, treatment: 0.5 }) },
    );
    // numpy / scipy on the adjusted values (see cuped.test.ts for the fit)
    expectRelative(result.cuped!.theta, 1.1427800374482562);
    const control = result.variants['control'] as CupedVariantSummary;
    expectRelative(control.mean, 11.198396645817795);
    expectRelative(control.var_value, 56.261250000000004);
    expectRelative(control.mean_pre, 9.2875);
    const adjusted = result.comparisons['treatment']!;
    expectRelative(adjusted.p_value, 0.5718305154327663);
    expectRelative(adjusted.ci_high, 2.2172286109654964, 1e-11);
    const raw = result.unadjusted_comparisons!['treatment']!;
    expectRelative(raw.p_value, 0.7427980341204781);
    expectRelative(raw.df, 14.90532683990929);
    expect(adjusted.ci_high - adjusted.ci_low).toBeLessThan(raw.ci_high - raw.ci_low);
  });

  it('analyses a ratio metric, zero denominators included', () => {
    const result = analyzeExperiment(
      data('ratio', {
        control: [
          [0, 3, 1, 0, 0, 2, 5, 0, 1, 0],
          [0, 40, 12, 0, 7, 30, 51, 0, 9, 3],
        ],
        treatment: [
          [2, 0, 4, 1, 0, 6, 0, 3, 1],
          [25, 0, 38, 10, 5, 44, 0, 29, 11],
        ],
      }),
      { weights: weights({ control: 1, treatment: 1 }) },
    );
    expect((result.variants['control'] as RatioSummary).n).toBe(10);
    const comparison = result.comparisons['treatment']!;
    // numpy, the README's delta method (see ratio.test.ts)
    expectRelative(comparison.p_value, 0.05701694531251909);
    expectRelative(comparison.chance_to_win, 0.951963357545581);
    expect(result.rows).toBe(19);
  });

  it('refuses what it cannot analyse, saying what is wrong', () => {
    const twoArms = data('mean', { control: [[1, 2, 3]], b: [[2, 3, 4]] });
    const fails = (input: ExperimentData, w: Record<string, number>, confidence?: number) => () =>
      analyzeExperiment(input, { weights: weights(w), ...(confidence === undefined ? {} : { confidence }) });
    expect(fails(twoArms, { a: 1, b: 1 })).toThrow('the weights must include the control variant "control"');
    expect(fails(twoArms, { control: 1 })).toThrow(/at least one treatment/);
    expect(fails(twoArms, { control: 1, c: 1, b: 1 })).toThrow(
      'variant "c" has a weight but no users in the data',
    );
    expect(
      fails(data('mean', { control: [[1, 2]], b: [[1, 2]], x: [[1, 2]] }), { control: 1, b: 1 }),
    ).toThrow('the data has variant "x" without a weight (weights: control, b)');
    expect(fails(data('mean', { control: [[1, 2]], b: [[1]] }), { control: 1, b: 1 })).toThrow(
      'variant "b" has 1 user; a variance needs at least 2',
    );
    expect(fails(twoArms, { control: 1, b: -1 })).toThrow(/positive/);
    expect(fails(twoArms, { control: 1, b: 1 }, 1.5)).toThrow(StatsInputError);
  });

  it('serializes to JSON with the README names at the top level', () => {
    const result: ExperimentAnalysis = analyzeExperiment(
      data('mean', { control: [[1, 2, 3]], b: [[2, 3, 5]] }),
      {
        weights: weights({ control: 1, b: 1 }),
      },
    );
    const json = JSON.parse(JSON.stringify(result)) as Record<string, unknown>;
    for (const field of ['variants', 'comparisons', 'srm', 'z_crit', 'confidence'])
      expect(json).toHaveProperty(field);
  });
});
