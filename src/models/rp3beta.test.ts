import { describe, expect, it } from 'vitest';
import { decodeArtifacts, encodeArtifacts, loadRecommender } from './artifact.js';
import { csrFromCoo } from './csr.js';
import { newUserProfile, plantedClusters, rowProfile, scoresByUser } from './fixtures.js';
import { defaultParams, fitRecommender } from './index.js';
import { mulberry32 } from './random.js';
import { rowSumsLimits } from './row-sums.js';
import { fitRp3beta } from './rp3beta.js';
import type { CsrMatrix, Recommender } from './types.js';

/**
 * users × items:   item 0  1  2
 *   u0                  1  1  .
 *   u1                  .  1  w
 *   u2                  .  1  .
 * Item degrees 1, 3, 1. With α = 1, β = 0 (P(i→u) = 1/deg i, P(u→j) = w_uj / Σ_k w_uk):
 *   W_01 = 1 · ½ = ½;  W_10 = ⅓ · ½ = ⅙;  W_12 = ⅓ · ½ = ⅙;  W_21 = 1 · ½ = ½  (w = 1).
 */
function tiny(w = 1): CsrMatrix {
  return csrFromCoo({
    rows: 3,
    cols: 3,
    rowIdx: [0, 0, 1, 1, 2],
    colIdx: [0, 1, 1, 2, 1],
    values: [1, 1, 1, w, 1],
  }).matrix;
}

function scores(model: Recommender, items: number[], weights?: number[]): number[] {
  const out = new Float32Array(model.nItems);
  model.score(newUserProfile(items, weights), out);
  return Array.from(out);
}

describe('RP3beta weights', () => {
  it('are the two-step walk probabilities on a tiny graph', () => {
    const model = fitRp3beta({ matrix: tiny() }, { alpha: 1, beta: 0, neighbors: 10 });
    const row = (i: number): number[] => scores(model, [i]);
    [0, 1 / 2, 0].forEach((v, j) => expect(row(0)[j]).toBeCloseTo(v, 6));
    [1 / 6, 0, 1 / 6].forEach((v, j) => expect(row(1)[j]).toBeCloseTo(v, 6));
    [0, 1 / 2, 0].forEach((v, j) => expect(row(2)[j]).toBeCloseTo(v, 6));
    // A history sums its rows, weighted.
    expect(scores(model, [0, 2], [1, 3])[1]).toBeCloseTo(2, 6);
  });

  it('divide by popularity^β and raise the transitions to α', () => {
    const penalised = fitRp3beta({ matrix: tiny() }, { alpha: 1, beta: 1, neighbors: 10 });
    // W_01 = ½ / deg(1) = ⅙; W_10 = ⅙ / deg(0) = ⅙.
    expect(scores(penalised, [0])[1]).toBeCloseTo(1 / 6, 6);
    expect(scores(penalised, [1])[0]).toBeCloseTo(1 / 6, 6);
    const sharpened = fitRp3beta({ matrix: tiny() }, { alpha: 0.5, beta: 0, neighbors: 10 });
    expect(scores(sharpened, [0])[1]).toBeCloseTo(Math.sqrt(1 / 2), 6);
    expect(scores(sharpened, [1])[2]).toBeCloseTo(Math.sqrt(1 / 3) * Math.sqrt(1 / 2), 6);
  });

  it('use feedback weights in the user → item step', () => {
    // u1 = {1: 1, 2: 3}: P(u1→2) = ¾, so W_12 = ⅓ · ¾ = ¼ and W_21 = 1 · ¼.
    const model = fitRp3beta({ matrix: tiny(3) }, { alpha: 1, beta: 0, neighbors: 10 });
    expect(scores(model, [1])[2]).toBeCloseTo(1 / 4, 6);
    expect(scores(model, [2])[1]).toBeCloseTo(1 / 4, 6);
  });

  it('keep the top neighbours per item, ties to the lower index', () => {
    const model = fitRp3beta({ matrix: tiny() }, { alpha: 1, beta: 0, neighbors: 1 });
    expect(model.similar(1, 5)).toEqual([{ index: 0, score: expect.closeTo(1 / 6, 6) as number }]);
    expect(scores(model, [1])[2]).toBe(0);
  });
});

describe('RP3beta neighbour selection', () => {
  it('keeps exactly the top entries of each full row, ties to the lower index', () => {
    const random = mulberry32(9);
    const rowIdx: number[] = [];
    const colIdx: number[] = [];
    for (let u = 0; u < 60; u++) {
      for (let i = 0; i < 40; i++) {
        if (random() < 0.15) {
          rowIdx.push(u);
          colIdx.push(i);
        }
      }
    }
    const matrix = csrFromCoo({ rows: 60, cols: 40, rowIdx, colIdx, values: rowIdx.map(() => 1) }).matrix;
    // β = 0 and binary data make many exact ties, the case a selection gets wrong most easily.
    for (const beta of [0, 0.5]) {
      const full = fitRp3beta({ matrix }, { alpha: 1, beta, neighbors: 1000 });
      for (const neighbors of [1, 3, 7]) {
        const pruned = fitRp3beta({ matrix }, { alpha: 1, beta, neighbors });
        for (let i = 0; i < 40; i++) {
          const want = full.similar(i, 1000).slice(0, neighbors);
          expect(pruned.similar(i, 1000)).toEqual(want);
        }
      }
    }
  });
});

describe('RP3beta model', () => {
  it('recommends within the planted cluster', async () => {
    const m = plantedClusters(40, 20);
    const model = await fitRecommender('rp3beta', { matrix: m }, { alpha: 1, beta: 0.5, neighbors: 50 });
    for (const u of [0, 7, 25, 39]) {
      const profile = rowProfile(m, u);
      const out = new Float32Array(model.nItems);
      model.score(profile, out);
      const seen = new Set(profile.items);
      const own = (i: number): boolean => (u < 20 ? i < 10 : i >= 10);
      let worstOwn = Infinity;
      let bestOther = -Infinity;
      for (let i = 0; i < 20; i++) {
        if (seen.has(i)) continue;
        if (own(i)) worstOwn = Math.min(worstOwn, out[i]!);
        else bestOther = Math.max(bestOther, out[i]!);
      }
      expect(worstOwn).toBeGreaterThan(bestOther);
      expect(bestOther).toBe(0);
    }
  });

  it('names the history item passing the most weight as evidence', () => {
    const model = fitRp3beta({ matrix: tiny() }, { alpha: 1, beta: 0, neighbors: 10 });
    const evidence = model.evidence(newUserProfile([0, 2], [1, 3]), 1);
    expect(evidence).toEqual({ kind: 'item', item: 2, similarity: 0.5 });
    expect(model.evidence(newUserProfile([0]), 2)).toEqual({ kind: 'popular', popularity: 1 });
  });

  it('gives as evidence the first neighbour its explanation lists, for item-kNN and RP3beta alike', async () => {
    const matrix = plantedClusters(40, 20, 0.5, 3);
    const random = mulberry32(9);
    for (const name of ['itemknn', 'rp3beta'] as const) {
      const model = await fitRecommender(name, { matrix }, defaultParams[name]);
      for (let trial = 0; trial < 200; trial++) {
        const items = [
          ...new Set(Array.from({ length: 1 + Math.floor(random() * 8) }, () => (random() * 20) | 0)),
        ];
        // Weights from a small set, so equal contributions (ties to the lower item) occur too.
        const weights = items.map(() => 1 + Math.floor(random() * 3));
        const profile = newUserProfile(items, weights);
        const item = (random() * 20) | 0;
        const first = model.explain?.(profile, item, 1);
        expect(first?.kind).toBe('neighbors');
        const neighbor = first?.kind === 'neighbors' ? first.neighbors[0] : undefined;
        expect(model.evidence(profile, item)).toEqual(
          neighbor
            ? { kind: 'item', item: neighbor.item, similarity: neighbor.similarity }
            : { kind: 'popular', popularity: expect.any(Number) as number },
        );
      }
    }
  });

  it("explains a score as the sum of the history items' contributions", () => {
    const model = fitRp3beta({ matrix: tiny() }, { alpha: 1, beta: 0, neighbors: 10 });
    const explanation = model.explain(newUserProfile([0, 2], [1, 3]), 1, 1);
    expect(explanation).toEqual({
      kind: 'neighbors',
      score: expect.closeTo(2, 6) as number,
      neighbors: [{ item: 2, similarity: 0.5, weight: 3, contribution: 1.5 }],
    });
  });

  it('round-trips through an artifact', async () => {
    const m = plantedClusters(30, 18);
    const model = await fitRecommender('rp3beta', { matrix: m }, { alpha: 0.8, beta: 0.2, neighbors: 4 });
    const [artifact] = decodeArtifacts(encodeArtifacts([model.toArtifact()])).artifacts;
    const loaded = loadRecommender(artifact!);
    expect(loaded.params).toEqual({ alpha: 0.8, beta: 0.2, neighbors: 4 });
    const profile = rowProfile(m, 3);
    const a = new Float32Array(18);
    const b = new Float32Array(18);
    model.score(profile, a);
    loaded.score(profile, b);
    expect(Array.from(b)).toEqual(Array.from(a));
    expect(loaded.similar(5, 3)).toEqual(model.similar(5, 3));
    expect(loaded.evidence(profile, 7)).toEqual(model.evidence(profile, 7));
  });
});

describe('item graphs past the kernel memory cap', () => {
  it('score the same with the plain loop as on the kernel, for RP3beta and item-kNN', async () => {
    const m = plantedClusters(40, 20);
    for (const name of ['rp3beta', 'itemknn'] as const) {
      const onKernel = await fitRecommender(name, { matrix: m }, defaultParams[name]);
      const expected = scoresByUser(onKernel, m, [0, 7, 25, 39]);
      const limit = rowSumsLimits.sparseBytes;
      rowSumsLimits.sparseBytes = 0;
      try {
        const looped = await fitRecommender(name, { matrix: m }, defaultParams[name]);
        scoresByUser(looped, m, [0, 7, 25, 39]).forEach((scores, u) => {
          expect(scores.some((v) => v !== 0)).toBe(true);
          scores.forEach((v, j) => expect(v).toBeCloseTo(expected[u]![j]!, 5));
        });
        expect(looped.similar(3, 5)).toEqual(onKernel.similar(3, 5));
      } finally {
        rowSumsLimits.sparseBytes = limit;
      }
    }
  });
});
