import { afterAll, describe, expect, it } from 'vitest';
import { closeAlsWorkers } from './als-pool.js';
import { planAlsLayout, splitByWork } from './als-plan.js';
import { trainAls } from './als-train.js';
import { AlsRecommender, choleskySolveUpper, fitAls } from './als.js';
import { transpose } from './csr.js';
import { newUserProfile, plantedClusters, rowProfile } from './fixtures.js';
import type { AlsParams, CsrMatrix } from './types.js';

afterAll(() => closeAlsWorkers());

// λ = 5 suits the small planted data: with λ ≲ 1, 40 users × 20 items are few enough for the factors to
// memorise each user's random half of the cluster, and unseen own-cluster items then score like the rest.
const params: AlsParams = { factors: 8, iterations: 10, regularization: 5, alpha: 1, cgSteps: 3, seed: 3 };

/** ‖A x - b‖ / ‖b‖ for the ALS normal equations of one row: A = FᵀF + λI + Σ c1 f fᵀ, b = Σ (1 + c1) f. */
function normalResidual(
  x: ArrayLike<number>,
  other: Float32Array,
  nOther: number,
  f: number,
  items: ArrayLike<number>,
  weights: ArrayLike<number>,
  p: AlsParams,
): number {
  const ax = new Float64Array(f);
  const b = new Float64Array(f);
  for (let j = 0; j < nOther; j++) {
    let d = 0;
    for (let a = 0; a < f; a++) d += other[j * f + a]! * x[a]!;
    for (let a = 0; a < f; a++) ax[a]! += d * other[j * f + a]!;
  }
  for (let a = 0; a < f; a++) ax[a]! += p.regularization * x[a]!;
  for (let k = 0; k < items.length; k++) {
    const j = items[k]!;
    const c1 = p.alpha * weights[k]!;
    let d = 0;
    for (let a = 0; a < f; a++) d += other[j * f + a]! * x[a]!;
    for (let a = 0; a < f; a++) {
      ax[a]! += c1 * d * other[j * f + a]!;
      b[a]! += (1 + c1) * other[j * f + a]!;
    }
  }
  let num = 0;
  let den = 0;
  for (let a = 0; a < f; a++) {
    num += (ax[a]! - b[a]!) ** 2;
    den += b[a]! ** 2;
  }
  return Math.sqrt(num / den);
}

function assertClusterRanking(model: AlsRecommender, matrix: CsrMatrix, u: number): void {
  const out = new Float32Array(matrix.cols);
  const profile = rowProfile(matrix, u);
  model.score(profile, out);
  const half = matrix.cols / 2;
  const ownStart = u < matrix.rows / 2 ? 0 : half;
  const seen = new Set(profile.items);
  let minOwn = Infinity;
  let maxOther = -Infinity;
  for (let i = 0; i < matrix.cols; i++) {
    if (seen.has(i)) continue;
    if (i >= ownStart && i < ownStart + half) minOwn = Math.min(minOwn, out[i]!);
    else maxOther = Math.max(maxOther, out[i]!);
  }
  expect(minOwn).toBeGreaterThan(maxOther);
}

describe('ALS training kernel', () => {
  it('solves each row’s normal equations when given enough CG steps', async () => {
    const matrix = plantedClusters(30, 16, 0.4);
    // Weighted entries exercise confidence = 1 + alpha · weight.
    const weighted: CsrMatrix = { ...matrix, data: matrix.data.map((_, k) => 1 + (k % 3)) };
    const p: AlsParams = { ...params, factors: 6, iterations: 3, cgSteps: 40, regularization: 0.5, alpha: 5 };
    const { userFactors, itemFactors } = await trainAls(weighted, p);
    // Items were solved last, from the final user factors: each must satisfy its equations.
    const items = transpose(weighted);
    for (let i = 0; i < items.rows; i++) {
      const s = items.indptr[i]!;
      const e = items.indptr[i + 1]!;
      const y = itemFactors.subarray(i * 6, i * 6 + 6);
      const r = normalResidual(
        y,
        userFactors,
        weighted.rows,
        6,
        items.indices.subarray(s, e),
        items.data.subarray(s, e),
        p,
      );
      expect(r).toBeLessThan(1e-3);
    }
  });

  it('is deterministic for a seed and independent of the thread count', async () => {
    const matrix = plantedClusters(50, 24);
    const p: AlsParams = { ...params, factors: 20 };
    const one = await trainAls(matrix, p, { threads: 1 });
    const again = await trainAls(matrix, p, { threads: 1 });
    const two = await trainAls(matrix, p, { threads: 2 }, { minWorkPerExtraThread: 0 });
    const twoAgain = await trainAls(matrix, p, { threads: 2 }, { minWorkPerExtraThread: 0 });
    expect(again.userFactors).toEqual(one.userFactors);
    expect(two.userFactors).toEqual(one.userFactors);
    expect(two.itemFactors).toEqual(one.itemFactors);
    expect(twoAgain.itemFactors).toEqual(one.itemFactors);
    const other = await trainAls(matrix, { ...p, seed: 4 });
    expect(other.userFactors).not.toEqual(one.userFactors);
  });

  it('reports progress once per sweep', async () => {
    const seen: [number, number][] = [];
    await fitAls(
      { matrix: plantedClusters() },
      { ...params, iterations: 4 },
      { onProgress: (d, t) => seen.push([d, t]) },
    );
    expect(seen).toEqual([
      [1, 4],
      [2, 4],
      [3, 4],
      [4, 4],
    ]);
  });

  it('rejects invalid params', async () => {
    await expect(fitAls({ matrix: plantedClusters() }, { ...params, factors: 0 })).rejects.toThrow(/factors/);
    await expect(fitAls({ matrix: plantedClusters() }, { ...params, cgSteps: 0 })).rejects.toThrow(/cgSteps/);
  });
});

describe('ALS recommendations', () => {
  const matrix = plantedClusters(40, 20);

  it('ranks known users’ unseen own-cluster items first (any factor count, padded or not)', async () => {
    for (const factors of [5, 16, 24]) {
      const model = await fitAls({ matrix }, { ...params, factors });
      for (const u of [0, 7, 20, 39]) assertClusterRanking(model, matrix, u);
    }
  });

  it('folds in a new user from a few items', async () => {
    const model = await fitAls({ matrix }, params);
    const out = new Float32Array(20);
    model.score(newUserProfile([1, 4, 6]), out);
    const ranked = Array.from(out.keys()).sort((a, b) => out[b]! - out[a]!);
    expect(ranked.slice(0, 10).every((i) => i < 10)).toBe(true);
    model.score(newUserProfile([12, 15]), out);
    const rankedB = Array.from(out.keys()).sort((a, b) => out[b]! - out[a]!);
    expect(rankedB.slice(0, 10).every((i) => i >= 10)).toBe(true);
  });

  it('fold-in solves the exact normal equations', async () => {
    for (const factors of [5, 8]) {
      const p = { ...params, factors, alpha: 3 };
      const model = await fitAls({ matrix }, p);
      const { itemFactors } = model.toArtifact().arrays as { itemFactors: Float32Array };
      const items = [1, 4, 6, 13, 2];
      const weights = [1, 2, 0.5, 1, 3];
      const x = new Float64Array(factors);
      model.foldIn(Int32Array.from(items), Float32Array.from(weights), x);
      expect(normalResidual(x, itemFactors, 20, factors, items, weights, p)).toBeLessThan(1e-9);
    }
  });

  it('uses stored factors for a known user unless the profile is fresh', async () => {
    const model = await fitAls({ matrix }, params);
    const stored = new Float32Array(20);
    const fresh = new Float32Array(20);
    const empty = new Float32Array(20);
    model.score(rowProfile(matrix, 3), stored);
    model.score(rowProfile(matrix, 3, true), fresh);
    model.score({ userIndex: 3, fresh: true, items: new Int32Array(0), weights: new Float32Array(0) }, empty);
    expect(fresh).not.toEqual(stored);
    expect(empty).toEqual(stored);
    // The fold-in of the user's own row lands close to what training stored.
    for (let i = 0; i < 20; i++) expect(fresh[i]).toBeCloseTo(stored[i]!, 1);
  });

  it('finds similar items in its cluster and explains with history items', async () => {
    const model = await fitAls({ matrix }, params);
    expect(model.similar(2, 5).every((e) => e.index < 10 && e.index !== 2)).toBe(true);
    expect(model.similar(2, 5)[0]!.score).toBeLessThanOrEqual(1 + 1e-6);
    const evidence = model.evidence(newUserProfile([1, 12, 4]), 3);
    expect(evidence.kind).toBe('item');
    expect(evidence.kind === 'item' && [1, 4].includes(evidence.item)).toBe(true);
    const out = new Float32Array(20);
    model.score(rowProfile(matrix, 0), out);
    expect(
      model.evidence({ ...rowProfile(matrix, 0), items: new Int32Array(0), weights: new Float32Array(0) }, 5),
    ).toEqual({
      kind: 'taste',
      score: expect.closeTo(out[5]!, 5),
    });
  });
});

describe('choleskySolveUpper', () => {
  it('solves a symmetric positive-definite system from its upper triangle', () => {
    // S = [[4, 2, 0], [2, 5, 1], [0, 1, 3]], x = [1, -1, 2] → b = S x.
    const s = Float64Array.of(4, 2, 0, NaN, 5, 1, NaN, NaN, 3);
    const b = Float64Array.of(2, -1, 5);
    const x = new Float64Array(3);
    choleskySolveUpper(s, b, 3, x);
    expect(Array.from(x).map((v) => Number(v.toFixed(12)))).toEqual([1, -1, 2]);
  });
});

describe('ALS thread plan', () => {
  it('splits rows into contiguous ranges of similar work', () => {
    // Row i has i entries: later rows are heavier, so the first range must hold more rows.
    const indptr = Int32Array.from({ length: 101 }, (_, i) => (i * (i - 1)) / 2);
    const ranges = splitByWork(indptr, 16, 3);
    expect(ranges[0]).toBe(0);
    expect(ranges.at(-1)).toBe(100);
    for (let t = 1; t < 3; t++) expect(ranges[2 * t]).toBe(ranges[2 * t - 1]);
    const work = [0, 1, 2].map((t) => {
      let w = 0;
      for (let r = ranges[2 * t]!; r < ranges[2 * t + 1]!; r++) w += 16 + 2 * (indptr[r + 1]! - indptr[r]!);
      return w;
    });
    expect(Math.max(...work) / Math.min(...work)).toBeLessThan(1.1);
    expect(ranges[1]! - ranges[0]!).toBeGreaterThan(ranges[5]! - ranges[4]!);
  });

  it('pads factors to whole 64-byte vectors and aligns every section', () => {
    const layout = planAlsLayout(Int32Array.of(0, 2, 3), Int32Array.of(0, 1, 3), 20, 3, 2);
    expect(layout.padded).toBe(32);
    expect(layout.stride).toBe(128);
    for (const offset of [
      layout.userFactors,
      layout.itemFactors,
      layout.gram,
      ...layout.partials,
      ...layout.scratch,
    ]) {
      expect(offset % 64).toBe(0);
    }
  });
});
