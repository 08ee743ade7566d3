import { describe, expect, it } from 'vitest';
import { Rng } from '../demo/random.js';
import { chooseK, kmeans, silhouetteScore } from './kmeans.js';
import { leaveChunksToHelpers, startKmeansHelpers } from './kmeans-threads.js';

/** `clusters` Gaussian blobs (sd 1) around centres 30 apart on a grid: separated beyond any doubt. */
function plantedBlobs(clusters: number, perCluster: number, d: number, seed: number) {
  const rng = new Rng(seed);
  const n = clusters * perCluster;
  const data = new Float64Array(n * d);
  const truth = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const cluster = i % clusters;
    truth[i] = cluster;
    for (let j = 0; j < d; j++) {
      const centre = j === cluster % d ? 30 * (1 + Math.floor(cluster / d)) : 0;
      data[i * d + j] = centre + rng.normal();
    }
  }
  return { data, truth, n, d };
}

/** True when `labels` is `truth` up to renaming the clusters (a bijection between the two label sets). */
function samePartition(labels: Int32Array, truth: Int32Array): boolean {
  const forward = new Map<number, number>();
  const backward = new Map<number, number>();
  for (let i = 0; i < labels.length; i++) {
    const a = labels[i]!;
    const b = truth[i]!;
    if ((forward.get(a) ?? b) !== b || (backward.get(b) ?? a) !== a) return false;
    forward.set(a, b);
    backward.set(b, a);
  }
  return true;
}

describe('kmeans', () => {
  it('recovers planted well-separated clusters exactly', () => {
    const { data, truth, n, d } = plantedBlobs(5, 60, 3, 11);
    const result = kmeans(data, n, d, { k: 5, nInit: 4, seed: 3 });
    expect(samePartition(result.labels, truth)).toBe(true);
    expect(result.centers).toHaveLength(5 * d);
    expect(result.iterations).toBeGreaterThanOrEqual(1);
  });

  it('computes the inertia of a tiny example by hand', () => {
    // Two pairs: centres (0, 1) and (10, 1), each point 1 away from its centre: inertia 4 × 1² = 4.
    const data = Float64Array.from([0, 0, 0, 2, 10, 0, 10, 2]);
    const result = kmeans(data, 4, 2, { k: 2, nInit: 3 });
    expect(result.inertia).toBeCloseTo(4, 12);
    expect(result.labels[0]).toBe(result.labels[1]);
    expect(result.labels[2]).toBe(result.labels[3]);
    expect(result.labels[0]).not.toBe(result.labels[2]);
    const centres = [...result.centers].map((x) => Math.round(x * 1e9) / 1e9);
    expect([centres.slice(0, 2), centres.slice(2)].sort((a, b) => a[0]! - b[0]!)).toEqual([
      [0, 1],
      [10, 1],
    ]);
  });

  it('gives the same clustering for the same seed, and k = n puts every row alone', () => {
    const { data, n, d } = plantedBlobs(4, 50, 2, 5);
    const first = kmeans(data, n, d, { k: 6, seed: 9, nInit: 2 });
    const again = kmeans(data, n, d, { k: 6, seed: 9, nInit: 2 });
    expect(again.labels).toEqual(first.labels);
    expect(again.centers).toEqual(first.centers);
    expect(again.inertia).toBe(first.inertia);
    const alone = kmeans(Float64Array.from([1, 2, 3, 4]), 4, 1, { k: 4 });
    expect(alone.inertia).toBe(0);
    expect(new Set(alone.labels).size).toBe(4);
  });

  it('ends with every row at its nearest final centre (the bounds skip scans, never change the answer)', () => {
    const rng = new Rng(13);
    const n = 500;
    const d = 5;
    const data = Float64Array.from({ length: n * d }, () => rng.normal());
    const result = kmeans(data, n, d, { k: 7, seed: 4 });
    let inertia = 0;
    for (let i = 0; i < n; i++) {
      const distances = Array.from({ length: 7 }, (_, c) => {
        let sum = 0;
        for (let j = 0; j < d; j++) sum += (data[i * d + j]! - result.centers[c * d + j]!) ** 2;
        return sum;
      });
      const nearest = Math.min(...distances);
      expect(distances[result.labels[i]!]).toBeCloseTo(nearest, 9);
      inertia += nearest;
    }
    expect(result.inertia).toBeCloseTo(inertia, 6);
  });

  it('gives the same clustering with one bound per row (Hamerly) as with one per centre (Elkan)', () => {
    const rng = new Rng(17);
    const n = 800;
    const d = 4;
    const data = Float64Array.from({ length: n * d }, () => rng.normal());
    const elkan = kmeans(data, n, d, { k: 9, seed: 5, nInit: 2 });
    const hamerly = kmeans(data, n, d, { k: 9, seed: 5, nInit: 2, maxPerCentreBounds: 0 });
    expect(hamerly.labels).toEqual(elkan.labels);
    expect(hamerly.iterations).toBe(elkan.iterations);
    expect(hamerly.inertia).toBeCloseTo(elkan.inertia, 9);
  });

  it('ends with each centre the mean of its rows (the sums follow the rows that move)', () => {
    // Tolerance 0: Lloyd runs until no label changes, so the final labels are those of the last update.
    const { data, n, d } = plantedBlobs(6, 400, 5, 31);
    const k = 20;
    const result = kmeans(data, n, d, { k, seed: 6, tolerance: 0 });
    expect(result.iterations).toBeGreaterThan(3);
    const sums = new Float64Array(k * d);
    const counts = new Int32Array(k);
    for (let i = 0; i < n; i++) {
      const c = result.labels[i]!;
      counts[c]!++;
      for (let j = 0; j < d; j++) sums[c * d + j]! += data[i * d + j]!;
    }
    for (let c = 0; c < k; c++) {
      expect(counts[c]).toBeGreaterThan(0);
      for (let j = 0; j < d; j++)
        expect(result.centers[c * d + j]).toBeCloseTo(sums[c * d + j]! / counts[c]!, 9);
    }
  });

  it('scans the centres nearest first and stops early without missing a nearer one (k = 40)', () => {
    const { data, n, d } = plantedBlobs(8, 250, 3, 12);
    const k = 40;
    const elkan = kmeans(data, n, d, { k, seed: 3 });
    const brute = kmeans(data, n, d, { k, seed: 3, maxPerCentreBounds: 0 });
    expect(elkan.labels).toEqual(brute.labels);
    expect(elkan.iterations).toBe(brute.iterations);
    for (let i = 0; i < n; i++) {
      let nearest = Infinity;
      for (let c = 0; c < k; c++) {
        let sum = 0;
        for (let j = 0; j < d; j++) sum += (data[i * d + j]! - elkan.centers[c * d + j]!) ** 2;
        nearest = Math.min(nearest, sum);
      }
      let own = 0;
      for (let j = 0; j < d; j++) own += (data[i * d + j]! - elkan.centers[elkan.labels[i]! * d + j]!) ** 2;
      expect(own).toBeCloseTo(nearest, 9);
    }
  });

  it('re-seeds an empty cluster instead of leaving a centre without rows', () => {
    // Four copies of 0 and one 5: k-means++ runs out of distinct points, two centres start equal.
    const result = kmeans(Float64Array.from([0, 0, 0, 0, 5]), 5, 1, { k: 3 });
    expect(result.inertia).toBe(0);
    expect([...result.centers].every(Number.isFinite)).toBe(true);
    expect(new Set(result.labels).size).toBe(3);
  });

  it('keeps the best of several initialisations', () => {
    const { data, n, d } = plantedBlobs(6, 30, 3, 8);
    const one = kmeans(data, n, d, { k: 6, seed: 2, nInit: 1 });
    const ten = kmeans(data, n, d, { k: 6, seed: 2, nInit: 10 });
    // Initialisation 0 of the ten is the single one, so the best of ten cannot be worse.
    expect(ten.inertia).toBeLessThanOrEqual(one.inertia);
  });

  it('throws a RangeError naming the parameter on bad input', () => {
    const data = Float64Array.from([0, 1, 2, 3]);
    expect(() => kmeans(data, 2, 2, { k: 3 })).toThrow(RangeError);
    expect(() => kmeans(data, 2, 2, { k: 3 })).toThrow(/^k /);
    expect(() => kmeans(data, 2, 2, { k: 0 })).toThrow(/^k /);
    expect(() => kmeans(new Float64Array(0), 4, 0, { k: 1 })).toThrow(/^d /);
    expect(() => kmeans(Float64Array.from([0, NaN, 2, 3]), 2, 2, { k: 1 })).toThrow(
      /^data .*row 0, column 1/,
    );
    expect(() => kmeans(data, 3, 2, { k: 1 })).toThrow(/^data must hold/);
    expect(() => kmeans(data, 2, 2, { k: 1, nInit: 0 })).toThrow(/^nInit /);
    expect(() => kmeans(data, 2, 2, { k: 1, tolerance: -1 })).toThrow(/^tolerance /);
  });
});

describe('silhouetteScore', () => {
  it('matches a hand computation', () => {
    // Clusters {0, 1} and {4}, on a line. Row 0: a = 1, b = 4, s = 3/4; row 1: a = 1, b = 3, s = 2/3;
    // row 4 is alone: s = 0. Mean (3/4 + 2/3) / 3 = 17/36.
    const score = silhouetteScore(Float64Array.from([0, 1, 4]), 3, 1, Int32Array.from([0, 0, 1]), 2);
    expect(score).toBeCloseTo(17 / 36, 12);
  });

  it('is near 1 for separated clusters, deterministic when sampled', () => {
    const { data, truth, n, d } = plantedBlobs(3, 100, 2, 4);
    expect(silhouetteScore(data, n, d, truth, 3)).toBeGreaterThan(0.9);
    const sampled = silhouetteScore(data, n, d, truth, 3, 50, 7);
    expect(sampled).toBe(silhouetteScore(data, n, d, truth, 3, 50, 7));
    expect(sampled).toBeGreaterThan(0.9);
  });

  it('rejects labels outside [0, k) and a single cluster', () => {
    const data = Float64Array.from([0, 1, 4]);
    expect(() => silhouetteScore(data, 3, 1, Int32Array.from([0, 0, 2]), 2)).toThrow(/^labels /);
    expect(() => silhouetteScore(data, 3, 1, Int32Array.from([0, 0, 0]), 2)).toThrow(/^labels /);
  });
});

describe('chooseK', () => {
  it('finds the planted number of clusters', () => {
    const { data, n, d } = plantedBlobs(4, 50, 3, 21);
    const choice = chooseK(data, n, d, [2, 3, 4, 5, 6, 7], 1, { nInit: 3 });
    expect(choice.k).toBe(4);
    expect(choice.scores.map((s) => s.k)).toEqual([2, 3, 4, 5, 6, 7]);
    expect(choice.result.labels).toHaveLength(n);
  });

  it('rejects a k the silhouette cannot score', () => {
    const data = Float64Array.from([0, 1, 4]);
    expect(() => chooseK(data, 3, 1, [1], 1)).toThrow(/^kRange /);
    expect(() => chooseK(data, 3, 1, [], 1)).toThrow(/^kRange /);
  });
});

describe('kmeans on helper threads', () => {
  it('gives the same centres, labels and inertia, bit for bit, on one thread and on two', async () => {
    expect(await startKmeansHelpers(2)).toBe(1);
    const { data, n, d } = plantedBlobs(6, 700, 5, 23);
    for (const maxPerCentreBounds of [1 << 24, 0]) {
      const options = { k: 12, seed: 8, nInit: 2, maxPerCentreBounds };
      const one = kmeans(data, n, d, { ...options, threads: 1 });
      expect(one.threads).toBe(1);
      // First with every chunk left to the helper, then shared as it comes.
      const before = leaveChunksToHelpers(true);
      const helperOnly = kmeans(data, n, d, { ...options, threads: 2 });
      expect(leaveChunksToHelpers(false) - before).toBeGreaterThanOrEqual(8 * (one.iterations + 1));
      const shared = kmeans(data, n, d, { ...options, threads: 2 });
      for (const two of [helperOnly, shared]) {
        expect(two.iterations).toBe(one.iterations);
        expect(two.labels).toEqual(one.labels);
        expect([...two.centers]).toEqual([...one.centers]);
        expect(two.inertia).toBe(one.inertia);
      }
    }
  });
});
