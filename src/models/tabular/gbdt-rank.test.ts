import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../random.js';
import { groupsFromQueryIds, lambdaRank } from './gbdt-rank.js';
import { trainGbdt, type GbdtDataset } from './gbdt.js';
import { ndcgAt } from './metrics.js';

describe('ndcgAt', () => {
  it('matches a hand computation with gains 2^rel − 1 and ties in row order', () => {
    // Query 1: ranked [r2 (rel 0), r0 (rel 2), r1 (rel 1)]; ideal [2, 1, 0].
    // DCG@3 = 0 + 3/log2(3) + 1/2; IDCG@3 = 3 + 1/log2(3). Query 2: nothing relevant → 1.
    const scores = [0.5, 0.1, 0.9, 0, 0];
    const labels = [2, 1, 0, 0, 0];
    const q1 = (3 / Math.log2(3) + 0.5) / (3 + 1 / Math.log2(3));
    expect(ndcgAt(scores, labels, [3, 2], 3)).toBeCloseTo((q1 + 1) / 2, 14);
    // @1: query 1's top row has rel 0.
    expect(ndcgAt(scores, labels, [3, 2], 1)).toBeCloseTo((0 + 1) / 2, 14);
    // Equal scores keep row order: r0 (rel 2) first is already ideal at @1.
    expect(ndcgAt([0, 0, 0], [2, 1, 0], [3], 1)).toBe(1);
  });

  it('rejects groups that do not cover the rows', () => {
    expect(() => ndcgAt([1, 2], [1, 0], [3], 1)).toThrow(RangeError);
    expect(() => ndcgAt([1, 2], [1, 0], [2], 0)).toThrow(RangeError);
  });
});

describe('lambdaRank gradients', () => {
  it('gives the RankNet gradient weighted by |ΔNDCG| for one pair', () => {
    // Two rows, labels [1, 0], equal margins: ρ = ½, |ΔNDCG| = 1 − 1/log2(3) (max DCG 1).
    const grad = new Float64Array(2);
    const hess = new Float64Array(2);
    lambdaRank().gradients(Float64Array.of(1, 0), Float64Array.of(0, 0), grad, hess, Int32Array.of(2));
    const delta = 1 - 1 / Math.log2(3);
    expect(grad[0]).toBeCloseTo(-0.5 * delta, 15);
    expect(grad[1]).toBeCloseTo(0.5 * delta, 15);
    expect(hess[0]).toBeCloseTo(0.25 * delta, 15);
    expect(hess[1]).toBeCloseTo(0.25 * delta, 15);
  });

  it('only counts pairs whose better-placed row is within the truncation', () => {
    // Current order [r0, r1, r2] by margin; truncation 1 keeps pairs (r0, ·) only, so r1 and r2
    // (labels 1 and 0, a pair of their own) get nothing from each other.
    const grad = new Float64Array(3);
    const hess = new Float64Array(3);
    const labels = Float64Array.of(1, 1, 0);
    lambdaRank({ truncation: 1 }).gradients(labels, Float64Array.of(3, 2, 1), grad, hess, Int32Array.of(3));
    expect(grad[1]).toBe(0);
    expect(grad[0]).toBeLessThan(0);
    expect(grad[2]).toBeGreaterThan(0);
  });

  it('turns query ids into sizes and rejects a query that comes back', () => {
    expect(Array.from(groupsFromQueryIds([7, 7, 3, 3, 3, 9]))).toEqual([2, 3, 1]);
    expect(() => groupsFromQueryIds([1, 2, 1])).toThrow(RangeError);
  });
});

/**
 * Queries of 20 items with two features that matter. "Long shots" (x0 > 0.7) are excellent (rel 3)
 * 30% of the time and useless otherwise: expected relevance 0.9, expected gain 2.1. "Safe" items
 * (x0 ≤ 0.7, x1 > 0.5) are always somewhat relevant (rel 1): expected relevance 1, gain 1.
 * A pointwise model of relevance puts the safe items first; NDCG (gain 2^rel − 1) wants the long
 * shots first, and LambdaRank, which optimises NDCG, should learn that.
 */
function rankingTask(queries: number, seed: number): GbdtDataset {
  const size = 20;
  const d = 4;
  const rand = mulberry32(seed);
  const n = queries * size;
  const features = new Float64Array(n * d);
  const labels = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let f = 0; f < d; f++) features[i * d + f] = rand();
    const x0 = features[i * d]!;
    const x1 = features[i * d + 1]!;
    labels[i] = x0 > 0.7 ? (rand() < 0.3 ? 3 : 0) : x1 > 0.5 ? 1 : 0;
  }
  return { features, labels, nRows: n, nFeatures: d, group: new Int32Array(queries).fill(size) };
}

describe('trainGbdt with the rank objective', () => {
  const train = rankingTask(400, 1);
  const test = rankingTask(400, 2);
  const k = 10;
  const ndcgOf = (scores: Float64Array): number => ndcgAt(scores, test.labels, test.group!, k);
  const params = { nTrees: 60, maxDepth: 3, learningRate: 0.1 } as const;

  it('orders a planted task better than the given order and than a pointwise log-loss model', () => {
    const { model: ranker } = trainGbdt(train, { ...params, objective: 'rank', rankEvalAt: k });
    // The pointwise baseline: log loss on relevance scaled to [0, 1] (soft labels).
    const soft = { ...train, labels: train.labels.map((y) => y / 3) };
    const { model: pointwise } = trainGbdt(soft, { ...params, objective: 'binary' });

    const unranked = ndcgOf(new Float64Array(test.nRows));
    const pointwiseNdcg = ndcgOf(pointwise.predict(test.features));
    const rankerNdcg = ndcgOf(ranker.predict(test.features));
    // Measured: given order 0.364, pointwise 0.567, LambdaRank 0.599 (the oracle orders: long shots
    // first 0.611, safe items first 0.525).
    expect(pointwiseNdcg).toBeGreaterThan(unranked + 0.1);
    expect(rankerNdcg).toBeGreaterThan(pointwiseNdcg + 0.02);

    // It learned why: a long shot outranks a safe item, which the pointwise model has the other way.
    const longShot = Float64Array.of(0.9, 0.9, 0.5, 0.5);
    const safe = Float64Array.of(0.3, 0.9, 0.5, 0.5);
    const both = Float64Array.of(...longShot, ...safe);
    const r = ranker.predict(both);
    const p = pointwise.predict(both);
    expect(r[0]!).toBeGreaterThan(r[1]!);
    expect(p[0]!).toBeLessThan(p[1]!);
  });

  it('stops early on validation NDCG@k and keeps the best iteration', () => {
    const valid = rankingTask(100, 3);
    const run = trainGbdt(
      train,
      {
        ...params,
        objective: 'rank',
        rankEvalAt: k,
        nTrees: 400,
        learningRate: 0.3,
        earlyStoppingRounds: 10,
      },
      valid,
    );
    const losses = run.validLoss!;
    expect(losses.length).toBe(run.bestTreeCount + 10);
    expect(losses.length).toBeLessThan(400);
    // The loss is 1 − NDCG@k of the kept model on the validation queries.
    const kept = ndcgAt(run.model.predict(valid.features), valid.labels, valid.group!, k);
    expect(1 - kept).toBeCloseTo(losses[run.bestTreeCount - 1]!, 12);
    expect(Math.min(...losses)).toBe(losses[run.bestTreeCount - 1]);
  });

  it('needs query groups and integer relevance labels', () => {
    const { group: _dropped, ...noGroup } = train;
    expect(() => trainGbdt(noGroup, { objective: 'rank' })).toThrow(/group/);
    expect(() => trainGbdt({ ...train, group: Int32Array.of(5) }, { objective: 'rank' })).toThrow(RangeError);
    const fractional = { ...train, labels: train.labels.map((y) => y / 2) };
    expect(() => trainGbdt(fractional, { objective: 'rank' })).toThrow(RangeError);
  });
});
