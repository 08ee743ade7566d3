import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../random.js';
import { lambdaRank } from './gbdt-rank.js';
import { trainGbdt, type GbdtDataset } from './gbdt.js';

/**
 * Rows with integer features 0..9 (fewer distinct values than bins, so duplicating rows cannot move a
 * bin boundary) and labels from a planted rule with noise.
 */
function integerRows(n: number, seed: number, binary: boolean): GbdtDataset {
  const rand = mulberry32(seed);
  const d = 3;
  const features = new Float64Array(n * d);
  const labels = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let f = 0; f < d; f++) features[i * d + f] = Math.floor(rand() * 10);
    const signal = features[i * d]! + 0.5 * features[i * d + 1]! + 3 * rand();
    labels[i] = binary ? (signal > 7 ? 1 : 0) : signal;
  }
  return { features, labels, nRows: n, nFeatures: d };
}

/** `data` with the rows where `twice(i)` holds written out twice (in place, so order barely moves). */
function duplicated(data: GbdtDataset, twice: (i: number) => boolean): GbdtDataset {
  const features: number[] = [];
  const labels: number[] = [];
  const d = data.nFeatures;
  for (let i = 0; i < data.nRows; i++) {
    for (let c = 0; c < (twice(i) ? 2 : 1); c++) {
      features.push(...data.features.subarray(i * d, (i + 1) * d));
      labels.push(data.labels[i]!);
    }
  }
  return {
    features: Float64Array.from(features),
    labels: Float64Array.from(labels),
    nRows: labels.length,
    nFeatures: d,
  };
}

describe('GBDT sample weights', () => {
  const twice = (i: number) => i % 3 === 0;
  for (const objective of ['binary', 'regression'] as const) {
    it(`${objective}: a row of weight 2 trains as two equal rows`, () => {
      const data = integerRows(600, 11, objective === 'binary');
      const weight = Float64Array.from({ length: data.nRows }, (_, i) => (twice(i) ? 2 : 1));
      const params = { objective, nTrees: 30, maxDepth: 3, learningRate: 0.2, minChildWeight: 3 };
      const weighted = trainGbdt({ ...data, weight }, params).model;
      const copies = trainGbdt(duplicated(data, twice), params).model;
      expect(weighted.treeCount).toBe(copies.treeCount);
      const a = weighted.predictMargin(data.features);
      const b = copies.predictMargin(data.features);
      // Sums of the same terms in another order: equal to rounding, not bit for bit.
      for (let i = 0; i < data.nRows; i++) expect(a[i]).toBeCloseTo(b[i]!, 9);
      // And the weights matter: unweighted trees differ.
      const plain = trainGbdt(data, params).model.predictMargin(data.features);
      expect(plain.some((v, i) => Math.abs(v - a[i]!) > 1e-6)).toBe(true);
    });
  }

  it('weights of 1 give the unweighted model bit for bit, with early stopping on a weighted validation', () => {
    const data = integerRows(400, 5, true);
    const valid = integerRows(200, 6, true);
    const ones = (n: number) => new Float64Array(n).fill(1);
    const params = { objective: 'binary' as const, nTrees: 40, earlyStoppingRounds: 5 };
    const plain = trainGbdt(data, params, valid);
    const weighted = trainGbdt({ ...data, weight: ones(400) }, params, { ...valid, weight: ones(200) });
    expect(weighted.bestTreeCount).toBe(plain.bestTreeCount);
    expect(Array.from(weighted.validLoss!)).toEqual(Array.from(plain.validLoss!));
    expect(Array.from(weighted.model.predictMargin(data.features))).toEqual(
      Array.from(plain.model.predictMargin(data.features)),
    );
  });

  it('rank: a weight scales the pairs its row wins, and 1s change nothing', () => {
    const labels = Float64Array.of(1, 0, 0);
    const margins = Float64Array.of(0, 0.5, -0.5);
    const groups = Int32Array.of(3);
    const gradOf = (weights?: Float64Array) => {
      const grad = new Float64Array(3);
      const hess = new Float64Array(3);
      lambdaRank().gradients(labels, margins, grad, hess, groups, weights);
      return { grad, hess };
    };
    const plain = gradOf();
    expect(gradOf(Float64Array.of(1, 1, 1))).toEqual(plain);
    // Row 0 is the better row of both pairs: weight 3 triples every gradient and hessian; the weights
    // of the rows it beats do not enter.
    const tripled = gradOf(Float64Array.of(3, 7, 0.5));
    for (let i = 0; i < 3; i++) {
      expect(tripled.grad[i]).toBeCloseTo(3 * plain.grad[i]!, 14);
      expect(tripled.hess[i]).toBeCloseTo(3 * plain.hess[i]!, 14);
    }
  });

  it('rank: the weighted loss is 1 − NDCG with gains times weights', () => {
    const objective = lambdaRank({ evalAt: 2 });
    // Scores put row 1 (label 1, weight 4) second behind row 0 (label 1, weight 1): DCG = 1 + 4/log2(3),
    // ideal 4 + 1/log2(3).
    const loss = objective.loss(
      Float64Array.of(1, 1, 0),
      Float64Array.of(2, 1, 0),
      Int32Array.of(3),
      Float64Array.of(1, 4, 1),
    );
    expect(1 - loss).toBeCloseTo((1 + 4 / Math.log2(3)) / (4 + 1 / Math.log2(3)), 14);
  });

  it('rejects weights that are negative, not finite or of the wrong length', () => {
    const data = integerRows(50, 1, true);
    const bad = (weight: Float64Array) => () => trainGbdt({ ...data, weight }, { nTrees: 2 });
    expect(bad(new Float64Array(50).fill(-1))).toThrow(RangeError);
    expect(bad(new Float64Array(50).fill(NaN))).toThrow(RangeError);
    expect(bad(new Float64Array(49).fill(1))).toThrow(RangeError);
  });
});
