import { afterAll, describe, expect, it } from 'vitest';
import { decodeArtifacts, encodeArtifacts, loadRecommender } from './artifact.js';
import { csrFromCoo } from './csr.js';
import { fitEase } from './ease.js';
import { closeEaseWorkers, fitEaseWeights, invertSpd } from './ease-fit.js';
import { newUserProfile, plantedClusters, rowProfile, scoresByUser } from './fixtures.js';
import { defaultParams, fitRecommender } from './index.js';
import { ParamsError } from './params.js';
import { mulberry32 } from './random.js';
import { rowSumsLimits } from './row-sums.js';
import type { CsrMatrix, Recommender } from './types.js';

afterAll(() => closeEaseWorkers());

const params = (lambda: number): typeof defaultParams.ease => ({ ...defaultParams.ease, lambda });

/**
 * users × items:   item 0  1  2
 *   u0                  1  1  .
 *   u1                  .  1  1
 *   u2                  1  1  1
 * XᵀX + I = [[3, 2, 1], [2, 4, 2], [1, 2, 3]], whose inverse is P = [[8, −4, 0], [−4, 8, −4], [0, −4, 8]] / 16
 * (determinant 16, by cofactors); B_ij = −P_ij / P_jj gives B = [[0, ½, 0], [½, 0, ½], [0, ½, 0]].
 */
function small(): CsrMatrix {
  return csrFromCoo({
    rows: 3,
    cols: 3,
    rowIdx: [0, 0, 1, 1, 2, 2, 2],
    colIdx: [0, 1, 1, 2, 0, 1, 2],
    values: [1, 1, 1, 1, 1, 1, 1],
  }).matrix;
}

function scores(model: Recommender, items: number[], weights?: number[]): number[] {
  const out = new Float32Array(model.nItems);
  model.score(newUserProfile(items, weights), out);
  return Array.from(out);
}

/** Random sparse feedback with integer weights 1..3. */
function randomMatrix(users: number, items: number, perUser: number, seed: number): CsrMatrix {
  const random = mulberry32(seed);
  const rowIdx: number[] = [];
  const colIdx: number[] = [];
  const values: number[] = [];
  for (let u = 0; u < users; u++) {
    for (let k = 0; k < perUser; k++) {
      rowIdx.push(u);
      // Squared uniform: a popularity skew, so some items are shared by many users.
      colIdx.push(Math.floor(random() ** 2 * items));
      values.push(1 + Math.floor(random() * 3));
    }
  }
  return csrFromCoo({ rows: users, cols: items, rowIdx, colIdx, values }).matrix;
}

/** Dense XᵀX + λI in double precision. */
function gram(m: CsrMatrix, lambda: number): Float64Array {
  const n = m.cols;
  const g = new Float64Array(n * n);
  for (let u = 0; u < m.rows; u++) {
    for (let x = m.indptr[u]!; x < m.indptr[u + 1]!; x++) {
      for (let y = m.indptr[u]!; y < m.indptr[u + 1]!; y++) {
        g[m.indices[x]! * n + m.indices[y]!]! += m.data[x]! * m.data[y]!;
      }
    }
  }
  for (let i = 0; i < n; i++) g[i * n + i]! += lambda;
  return g;
}

describe('EASE weights', () => {
  it('match the hand-computed 3 × 3 case to 1e-5', async () => {
    const b = await fitEaseWeights(small(), 1);
    const want = [0, 0.5, 0, 0.5, 0, 0.5, 0, 0.5, 0];
    want.forEach((v, k) => expect(Math.abs(b[k]! - v)).toBeLessThan(1e-5));
    const model = await fitEase({ matrix: small() }, params(1));
    const s = scores(model, [0, 2], [2, 1]);
    [0, 1.5, 0].forEach((v, k) => expect(Math.abs(s[k]! - v)).toBeLessThan(1e-5));
  });

  it('invert a small SPD block exactly', () => {
    const m = Float64Array.from([3, 2, 1, 2, 4, 2, 1, 2, 3]);
    invertSpd(m, 3);
    [8, -4, 0, -4, 8, -4, 0, -4, 8].forEach((v, k) => expect(m[k]).toBeCloseTo(v / 16, 12));
  });

  it('solve the EASE system on a larger catalog, with one thread or two', async () => {
    // 1,040 items pad to 1,040 and split between two threads; (XᵀX + λI)(I − B) must be diagonal.
    const m = randomMatrix(3000, 1040, 6, 11);
    const n = m.cols;
    const lambda = 5;
    const g = gram(m, lambda);
    for (const threads of [1, 2]) {
      const b = await fitEaseWeights(m, lambda, { threads });
      expect(b.length).toBe(n * n);
      let worst = 0;
      // Rows of (XᵀX + λI)(I − B); sample rows to keep the check cheap (n² per row).
      for (let i = 0; i < n; i += 37) {
        const row = new Float64Array(n);
        for (let k = 0; k < n; k++) {
          const gik = g[i * n + k]!;
          if (gik === 0) continue;
          for (let j = 0; j < n; j++) row[j]! += gik * ((k === j ? 1 : 0) - b[k * n + j]!);
        }
        const diag = Math.abs(row[i]!);
        for (let j = 0; j < n; j++) if (j !== i) worst = Math.max(worst, Math.abs(row[j]!) / diag);
        expect(b[i * n + i]).toBe(0);
      }
      expect(worst).toBeLessThan(1e-4);
    }
  });

  it('are bit-identical for any thread count (each entry is computed by one thread, in one order)', async () => {
    const m = randomMatrix(2000, 1100, 8, 5);
    const one = await fitEaseWeights(m, 50, { threads: 1 });
    const two = await fitEaseWeights(m, 50, { threads: 2 });
    let worst = 0;
    for (let k = 0; k < one.length; k++) worst = Math.max(worst, Math.abs(one[k]! - two[k]!));
    expect(worst).toBe(0);
  });
});

describe('EASE model', () => {
  it('recommends within the planted cluster', async () => {
    // λ = 50: at λ = 5 on 20 users per cluster the fit is close to interpolation and its negative
    // weights can push an unseen own-cluster item just below the other cluster's exact zeros.
    const m = plantedClusters(40, 20);
    const model = await fitRecommender('ease', { matrix: m }, params(50));
    for (const u of [0, 7, 25, 39]) {
      const profile = rowProfile(m, u);
      const out = new Float32Array(model.nItems);
      model.score(profile, out);
      const seen = new Set(profile.items);
      const own = u < 20 ? [0, 10] : [10, 20];
      let worstOwn = Infinity;
      let bestOther = -Infinity;
      for (let i = 0; i < 20; i++) {
        if (seen.has(i)) continue;
        if (i >= own[0]! && i < own[1]!) worstOwn = Math.min(worstOwn, out[i]!);
        else bestOther = Math.max(bestOther, out[i]!);
      }
      expect(worstOwn).toBeGreaterThan(bestOther);
    }
    expect(model.similar(3, 5).every((e) => e.index < 10 && e.index !== 3)).toBe(true);
  });

  it('scores the same on the SIMD kernel as with the plain loop it falls back to past its memory cap', async () => {
    const m = plantedClusters(40, 20);
    const onKernel = await fitRecommender('ease', { matrix: m }, params(50));
    // Scored before the cap is lowered: the kernel is made on a model's first score.
    const expected = scoresByUser(onKernel, m, [0, 7, 25, 39]);
    const limit = rowSumsLimits.denseBytes;
    rowSumsLimits.denseBytes = 0;
    try {
      const looped = await fitRecommender('ease', { matrix: m }, params(50));
      scoresByUser(looped, m, [0, 7, 25, 39]).forEach((scores, u) => {
        expect(scores.some((v) => v !== 0)).toBe(true);
        scores.forEach((v, j) => expect(v).toBeCloseTo(expected[u]![j]!, 5));
      });
    } finally {
      rowSumsLimits.denseBytes = limit;
    }
  });

  it('names the history item with the largest contribution as evidence', async () => {
    const model = await fitEase({ matrix: small() }, params(1));
    // B_01 = ½ and B_21 = ½; weight 2 on item 2 makes it the larger contribution.
    expect(model.evidence(newUserProfile([0, 2], [1, 2]), 1)).toEqual({
      kind: 'item',
      item: 2,
      similarity: 0.5,
    });
    // Nothing in the history supports item 0 (B_20 = 0): popularity instead.
    expect(model.evidence(newUserProfile([2]), 0)).toEqual({ kind: 'popular', popularity: 2 });
    expect(model.similar(1, 5)).toEqual([
      { index: 0, score: 0.5 },
      { index: 2, score: 0.5 },
    ]);
  });

  it("explains a score as the sum of the history items' contributions", async () => {
    const model = await fitEase({ matrix: small() }, params(1));
    const explanation = model.explain(newUserProfile([0, 2, 1], [1, 2, 5]), 1, 10);
    expect(explanation.kind).toBe('neighbors');
    if (explanation.kind !== 'neighbors') return;
    expect(explanation.score).toBeCloseTo(1.5, 5);
    expect(explanation.neighbors.map((n) => n.item)).toEqual([2, 0]);
    expect(explanation.neighbors[0]).toEqual({ item: 2, similarity: 0.5, weight: 2, contribution: 1 });
    expect(model.explain(newUserProfile([0, 2]), 1, 1).kind === 'neighbors').toBe(true);
  });

  it('refuses a catalog above maxItems, naming the limit and ALS', async () => {
    const m = plantedClusters(10, 20);
    await expect(fitRecommender('ease', { matrix: m }, { lambda: 10, maxItems: 19 })).rejects.toThrow(
      ParamsError,
    );
    await expect(fitRecommender('ease', { matrix: m }, { lambda: 10, maxItems: 19 })).rejects.toThrow(
      /20 items, above the limit of 19 \(maxItems\).*'als'/,
    );
    await expect(fitRecommender('ease', { matrix: m }, { lambda: 0, maxItems: 100 })).rejects.toThrow(
      /lambda/,
    );
  });

  it('round-trips through an artifact to identical scores, neighbours and evidence', async () => {
    const m = plantedClusters(30, 18);
    const model = await fitRecommender('ease', { matrix: m }, params(3));
    const [artifact] = decodeArtifacts(encodeArtifacts([model.toArtifact()])).artifacts;
    const loaded = loadRecommender(artifact!);
    expect(loaded.name).toBe('ease');
    expect(loaded.params).toEqual({ lambda: 3, maxItems: defaultParams.ease.maxItems });
    const profile = rowProfile(m, 4);
    const a = new Float32Array(18);
    const b = new Float32Array(18);
    model.score(profile, a);
    loaded.score(profile, b);
    expect(Array.from(b)).toEqual(Array.from(a));
    expect(loaded.similar(2, 4)).toEqual(model.similar(2, 4));
    expect(loaded.evidence(profile, 6)).toEqual(model.evidence(profile, 6));
  });
});
