import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../random.js';
import { encodeGbdtModel } from './gbdt-codec.js';
import { trainGbdtInWorker } from './gbdt-worker.js';
import { trainGbdt, type GbdtDataset, type GbdtModel, type GbdtParams } from './gbdt.js';
import { logLoss, rocAuc } from './metrics.js';

/**
 * Monotone constraints: a constrained model must be monotone along the feature on every input, not
 * only on the training rows, and must still learn a relation that is monotone.
 */

const D = 4;

/**
 * Labels that are not monotone in x0 or x1 (a wave in each, plus an interaction with x2, 10% missing
 * in x3), so an unconstrained model is not monotone in them by accident; binary or regression labels.
 */
function wavy(n: number, seed: number, objective: 'binary' | 'regression'): GbdtDataset {
  const rand = mulberry32(seed);
  const features = new Float64Array(n * D);
  const labels = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const x = features.subarray(i * D, (i + 1) * D);
    for (let f = 0; f < D; f++) x[f] = rand();
    if (rand() < 0.1) x[3] = NaN;
    const z =
      2 * Math.sin(9 * x[0]!) - 2 * Math.sin(7 * x[1]!) * (x[2]! - 0.3) + (Number.isNaN(x[3]!) ? 1 : x[3]!);
    labels[i] = objective === 'binary' ? (rand() < 1 / (1 + Math.exp(-z)) ? 1 : 0) : z + rand() - 0.5;
  }
  return { features, labels, nRows: n, nFeatures: D };
}

/**
 * The largest step against `direction` when feature f alone walks the given sorted values from each
 * base row (0 when monotone). Values include the training range and beyond, and base rows may hold NaN.
 */
function worstViolation(
  model: GbdtModel,
  bases: readonly (readonly number[])[],
  f: number,
  values: readonly number[],
  direction: 1 | -1,
): number {
  const sorted = [...values].sort((a, b) => a - b);
  const x = new Float64Array(bases.length * sorted.length * D);
  bases.forEach((base, b) =>
    sorted.forEach((v, k) => {
      const at = (b * sorted.length + k) * D;
      x.set(base, at);
      x[at + f] = v;
    }),
  );
  const margins = model.predictMargin(x);
  let worst = 0;
  for (let b = 0; b < bases.length; b++) {
    for (let k = 1; k < sorted.length; k++) {
      const step = margins[b * sorted.length + k]! - margins[b * sorted.length + k - 1]!;
      worst = Math.max(worst, -direction * step);
    }
  }
  return worst;
}

const value = fc.oneof(
  { weight: 8, arbitrary: fc.double({ min: -0.5, max: 1.5, noNaN: true }) },
  { weight: 1, arbitrary: fc.constant(Number.NaN) },
);
const row = fc.array(value, { minLength: D, maxLength: D });

describe('trainGbdt with monotone constraints', () => {
  const settings = fc.record({
    seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    maxDepth: fc.integer({ min: 1, max: 6 }),
    lambda: fc.constantFrom(0, 1, 10),
    minChildWeight: fc.constantFrom(0, 1, 5),
    objective: fc.constantFrom('binary' as const, 'regression' as const),
    monotone: fc.constantFrom([1, -1, 0, 0], [1, 0, 0, 0], [0, -1, 0, 1], [-1, 1, 1, -1]),
  });

  it('predicts monotonically along each constrained feature on random inputs', () => {
    fc.assert(
      fc.property(
        settings,
        fc.array(row, { minLength: 1, maxLength: 6 }),
        fc.array(fc.double({ min: -0.5, max: 1.5, noNaN: true }), { maxLength: 20 }),
        (s, bases, values) => {
          const model = trainGbdt(wavy(400, s.seed, s.objective), {
            objective: s.objective,
            nTrees: 25,
            learningRate: 0.3,
            maxDepth: s.maxDepth,
            lambda: s.lambda,
            minChildWeight: s.minChildWeight,
            monotone: Int8Array.from(s.monotone),
          }).model;
          // The random values with a fine grid over the training range, so every threshold is crossed.
          const walk = [...values, ...Array.from({ length: 201 }, (_, k) => k / 200)];
          s.monotone.forEach((c, f) => {
            if (c === 0) return;
            // Exact: leaf values are compared through sums of the same trees' bounded weights.
            expect(worstViolation(model, bases, f, walk, c === 1 ? 1 : -1)).toBe(0);
          });
        },
      ),
      { numRuns: 60, seed: 10 },
    );
  });

  it('is needed: without the constraint the same data gives a non-monotone model', () => {
    // Guards the property above against data that trees fit monotonically anyway.
    const model = trainGbdt(wavy(400, 1, 'binary'), { nTrees: 25, learningRate: 0.3, maxDepth: 3 }).model;
    const grid = Array.from({ length: 41 }, (_, k) => k / 40);
    expect(worstViolation(model, [[0.5, 0.5, 0.5, 0.5]], 0, grid, 1)).toBeGreaterThan(0.1);
    expect(worstViolation(model, [[0.5, 0.5, 0.5, 0.5]], 1, grid, -1)).toBeGreaterThan(0.1);
  });

  it('recovers a planted monotone relation and generalises at least as well under label noise', () => {
    // p = sigmoid(4 (x0 − 0.5) − 3 (x1 − 0.5)); x2 and x3 are noise the trees may overfit.
    const planted = (n: number, seed: number): GbdtDataset & { readonly p: Float64Array } => {
      const rand = mulberry32(seed);
      const features = new Float64Array(n * D);
      const labels = new Float64Array(n);
      const p = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        for (let f = 0; f < D; f++) features[i * D + f] = rand();
        p[i] = 1 / (1 + Math.exp(-(4 * (features[i * D]! - 0.5) - 3 * (features[i * D + 1]! - 0.5))));
        labels[i] = rand() < p[i]! ? 1 : 0;
      }
      return { features, labels, nRows: n, nFeatures: D, p };
    };
    const train = planted(3000, 3);
    const test = planted(20_000, 4);
    const params: Partial<GbdtParams> = { nTrees: 150, learningRate: 0.1, maxDepth: 4 };
    const free = trainGbdt(train, params).model;
    const tied = trainGbdt(train, { ...params, monotone: [1, -1, 0, 0] }).model;

    const grid = Array.from({ length: 101 }, (_, k) => k / 100);
    const middle = [[0.5, 0.5, 0.5, 0.5]];
    expect(worstViolation(tied, middle, 0, grid, 1)).toBe(0);
    expect(worstViolation(tied, middle, 1, grid, -1)).toBe(0);
    // It learned the relation, not a constant: the probability rises across x0 and falls across x1.
    const along = (model: GbdtModel, f: number, v: number) => {
      const x = Float64Array.of(0.5, 0.5, 0.5, 0.5);
      x[f] = v;
      return model.predict(x)[0]!;
    };
    expect(along(tied, 0, 0.95) - along(tied, 0, 0.05)).toBeGreaterThan(0.4);
    expect(along(tied, 1, 0.05) - along(tied, 1, 0.95)).toBeGreaterThan(0.3);

    const y = Uint8Array.from(test.labels);
    const pFree = free.predict(test.features);
    const pTied = tied.predict(test.features);
    // Ranking close to the truth's (the best any model can do) and no worse than the free model's.
    const bayes = rocAuc(y, test.p);
    expect(rocAuc(y, pTied)).toBeGreaterThan(bayes - 0.02);
    expect(rocAuc(y, pTied)).toBeGreaterThanOrEqual(rocAuc(y, pFree));
    expect(logLoss(y, pTied)).toBeLessThanOrEqual(logLoss(y, pFree));
  });

  it('leaves a model without constraints as it was (an all-zero list is no constraint)', () => {
    const data = wavy(600, 5, 'binary');
    const params: Partial<GbdtParams> = { nTrees: 20, maxDepth: 4 };
    const plain = encodeGbdtModel(trainGbdt(data, params).model);
    const zeros = encodeGbdtModel(trainGbdt(data, { ...params, monotone: [0, 0, 0, 0] }).model);
    expect(Buffer.from(zeros).equals(Buffer.from(plain))).toBe(true);
    const tied = encodeGbdtModel(trainGbdt(data, { ...params, monotone: [1, 0, 0, 0] }).model);
    expect(Buffer.from(tied).equals(Buffer.from(plain))).toBe(false);
  });

  it('trains the same constrained model on a worker thread', async () => {
    const data = wavy(800, 6, 'binary');
    const params = { nTrees: 30, maxDepth: 3, monotone: Int8Array.of(1, -1, 0, 0) };
    const here = encodeGbdtModel(trainGbdt(data, params).model);
    const there = encodeGbdtModel((await trainGbdtInWorker(data, params)).model);
    expect(Buffer.from(there).equals(Buffer.from(here))).toBe(true);
  });

  it('rejects constraints that do not fit the features', () => {
    const data = wavy(50, 7, 'binary');
    expect(() => trainGbdt(data, { monotone: [1, 0] })).toThrow(/2 entries for 4 features/);
    expect(() => trainGbdt(data, { monotone: [2, 0, 0, 0] })).toThrow(/monotone\[0\] must be -1, 0 or 1/);
    expect(() => trainGbdt(data, { monotone: [0, 0.5, 0, 0] })).toThrow(/monotone\[1\]/);
    const codes = { ...data, features: data.features.map((v, i) => (i % D === 2 ? i % 3 : v)) };
    expect(() => trainGbdt(codes, { monotone: [0, 0, 1, 0], categoricalFeatures: [2] })).toThrow(
      /feature 2 is categorical/,
    );
  });
});
