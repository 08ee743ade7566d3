import { afterAll, describe, expect, it } from 'vitest';
import { closeAlsWorkers } from './als-pool.js';
import { planAlsLayout, splitByWork } from './als-plan.js';
import { trainAls } from './als-train.js';
import { AlsRecommender, choleskySolveUpper, fitAls, UPDATE_STEPS } from './als.js';
import { csrFromCoo, transpose } from './csr.js';
import { newUserProfile, plantedClusters, rowProfile } from './fixtures.js';
import { mulberry32 } from './random.js';
import { weighByRecency } from './recency.js';
import type { AlsParams, CsrMatrix, UserProfile } from './types.js';

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
    // The update from the user's own row lands close to what training stored.
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

/** The factors a model scores `profile` with, read back from `explain` (which lists every dimension). */
function userFactors(model: AlsRecommender, profile: UserProfile, f: number): Float64Array {
  const explanation = model.explain(profile, 0, f);
  if (explanation.kind !== 'factors') throw new Error('expected factors');
  const x = new Float64Array(f);
  for (const c of explanation.factors) x[c.dimension] = c.user;
  return x;
}

/** ‖a - b‖ / ‖b‖. */
function relativeDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let k = 0; k < b.length; k++) {
    num += (a[k]! - b[k]!) ** 2;
    den += b[k]! ** 2;
  }
  return Math.sqrt(num / den);
}

/** The exact solution of the profile's normal equations (the Cholesky fold-in). */
function exactFactors(model: AlsRecommender, profile: UserProfile, f: number): Float64Array {
  const x = new Float64Array(f);
  model.foldIn(profile.items, profile.weights, x);
  return x;
}

/** `profile` with `extra` items (and weights) merged in, items ascending as a training row. */
function withItems(profile: UserProfile, extra: readonly [number, number][]): UserProfile {
  const entries: [number, number][] = Array.from(profile.items, (i, k) => [i, profile.weights[k]!]);
  entries.push(...extra);
  entries.sort((a, b) => a[0] - b[0]);
  return {
    userIndex: profile.userIndex,
    fresh: true,
    items: Int32Array.from(entries, (e) => e[0]),
    weights: Float32Array.from(entries, (e) => e[1]),
  };
}

function topUnseen(model: AlsRecommender, profile: UserProfile, k: number): number[] {
  const out = new Float32Array(model.nItems);
  model.score(profile, out);
  const seen = new Set(profile.items);
  return Array.from(out.keys())
    .filter((i) => !seen.has(i))
    .sort((a, b) => out[b]! - out[a]! || a - b)
    .slice(0, k);
}

/**
 * Four taste clusters of 1,000 items; users 0..399 each like ~4% of cluster u % 4 (feedback weights 1-3).
 * User 400 has 500 items of cluster 0 (the even ones); user 401 has 2,000: 900 of cluster 0 and 900 of
 * cluster 1, then 200 of cluster 2 (their newest: a window of the last 200 would see only cluster 2).
 */
const CLUSTER = 1000;
function heavyUsers(): CsrMatrix {
  const random = mulberry32(21);
  const rowIdx: number[] = [];
  const colIdx: number[] = [];
  const values: number[] = [];
  const add = (u: number, i: number): void => {
    rowIdx.push(u);
    colIdx.push(i);
    values.push(1 + Math.floor(random() * 3));
  };
  for (let u = 0; u < 400; u++) {
    for (let i = 0; i < CLUSTER; i++) if (random() < 0.04) add(u, (u % 4) * CLUSTER + i);
  }
  for (let i = 0; i < 500; i++) add(400, 2 * i);
  for (let i = 0; i < 900; i++) add(401, i);
  for (let i = 0; i < 900; i++) add(401, CLUSTER + i);
  for (let i = 0; i < 200; i++) add(401, 2 * CLUSTER + i);
  return csrFromCoo({ rows: 402, cols: 4 * CLUSTER, rowIdx, colIdx, values }).matrix;
}

describe('ALS: a known user with a fresh profile', () => {
  it('is the warm-started CG update, which lands on the exact solution of the full profile', async () => {
    const matrix = plantedClusters(60, 40);
    const p: AlsParams = { ...params, factors: 16, alpha: 3 };
    const model = await fitAls({ matrix }, p);
    const { itemFactors } = model.toArtifact().arrays as { itemFactors: Float32Array };
    const row = rowProfile(matrix, 3);
    const unseen = [0, 1, 2, 3, 4].filter((i) => !row.items.includes(i));
    const grown = withItems(row, [
      [unseen[0]!, 2],
      [unseen[1]!, 0.5],
    ]);
    const times = Float64Array.from(grown.items, (_, k) => k);
    const weighted = weighByRecency({ ...grown, times }, 2);
    for (const profile of [grown, { ...row, fresh: true }, weighted]) {
      const x = userFactors(model, profile, 16);
      const exact = exactFactors(model, profile, 16);
      expect(relativeDistance(x, exact)).toBeLessThan(1e-4);
      expect(normalResidual(x, itemFactors, 40, 16, profile.items, profile.weights, p)).toBeLessThan(1e-4);
    }
    // The update starts from the stored factors: with fewer steps than factors it is not a fresh solve.
    expect(UPDATE_STEPS).toBeLessThan(16);
  });

  it('keeps the trained neighbourhood when the profile is the trained row (well-converged model)', async () => {
    const matrix = plantedClusters(40, 20);
    const model = await fitAls({ matrix }, { ...params, iterations: 100, cgSteps: 8 });
    for (let u = 0; u < 40; u++) {
      const stored = rowProfile(matrix, u);
      const fresh = rowProfile(matrix, u, true);
      // The user's unseen own-cluster items (other-cluster items all score ~0: their order is noise).
      const ownStart = u < 20 ? 0 : 10;
      const own = Array.from({ length: 10 }, (_, k) => ownStart + k).filter((i) => !stored.items.includes(i));
      const k = Math.min(5, own.length);
      expect(topUnseen(model, fresh, k)).toEqual(topUnseen(model, stored, k));
      expect(relativeDistance(userFactors(model, fresh, 8), userFactors(model, stored, 8))).toBeLessThan(
        1e-3,
      );
    }
  });

  describe('on heavy users', () => {
    const matrix = heavyUsers();
    const f = 16;
    const fitted = fitAls({ matrix }, { ...params, factors: f, iterations: 15, regularization: 10 });

    it('moves a 500-item user a little for one new item, to the exact solution of all 501', async () => {
      const model = await fitted;
      const row = rowProfile(matrix, 400);
      const trained = userFactors(model, row, f);
      // Item 1 is an odd cluster-0 item: like the user's, but unseen.
      const grown = withItems(row, [[1, 3]]);
      const x = userFactors(model, grown, f);
      expect(relativeDistance(x, exactFactors(model, grown, f))).toBeLessThan(1e-4);
      const moved = relativeDistance(x, trained);
      expect(moved).toBeGreaterThan(0);
      expect(moved).toBeLessThan(0.02);
    });

    it('scores the whole 2,000-item history, not its newest 200', async () => {
      const model = await fitted;
      const full = rowProfile(matrix, 401, true);
      expect(full.items).toHaveLength(2000);
      const newest: UserProfile = {
        ...full,
        items: full.items.slice(1800),
        weights: full.weights.slice(1800),
      };
      const x = userFactors(model, full, f);
      expect(relativeDistance(x, exactFactors(model, full, f))).toBeLessThan(1e-4);
      // A fold-in of the newest 200 alone (what a window of recent events gave) is another user entirely.
      expect(relativeDistance(x, exactFactors(model, newest, f))).toBeGreaterThan(1);
      const cluster = (i: number): number => Math.floor(i / CLUSTER);
      expect(topUnseen(model, full, 20).every((i) => cluster(i) === 0 || cluster(i) === 1)).toBe(true);
      expect(topUnseen(model, { ...newest, userIndex: -1 }, 20).every((i) => cluster(i) === 2)).toBe(true);
    });

    it('scores and explains from the same factors, the same every time', async () => {
      const model = await fitted;
      const profile = withItems(rowProfile(matrix, 400), [[1, 3]]);
      const first = new Float32Array(matrix.cols);
      const again = new Float32Array(matrix.cols);
      model.score(profile, first);
      // Other users in between (an update, a Cholesky fold-in, stored factors) share the scratch.
      model.score(rowProfile(matrix, 401, true), again);
      model.score(newUserProfile([5, 9, 12]), again);
      model.score(rowProfile(matrix, 7), again);
      model.score(profile, again);
      expect(again).toEqual(first);
      const explanation = model.explain(profile, 3, 4);
      expect(explanation.kind === 'factors' && explanation.score).toBeCloseTo(first[3]!, 5);
    });
  });

  it('handles a profile with more entries than the catalog has items (repeated items)', async () => {
    const model = await fitAls({ matrix: plantedClusters(40, 20) }, params);
    const items = Int32Array.from({ length: 50 }, (_, k) => k % 10);
    const weights = new Float32Array(50).fill(1);
    const profile: UserProfile = { userIndex: 2, fresh: true, items, weights };
    // Each entry counts, as in the fold-in's normal equations.
    expect(relativeDistance(userFactors(model, profile, 8), exactFactors(model, profile, 8))).toBeLessThan(
      1e-4,
    );
  });

  it('leaves users the model never saw to the exact fold-in', async () => {
    const model = await fitAls({ matrix: plantedClusters(40, 20) }, params);
    const profile = newUserProfile([1, 4, 6], [1, 2, 3]);
    expect(userFactors(model, profile, 8)).toEqual(exactFactors(model, profile, 8));
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
