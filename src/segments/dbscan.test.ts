import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Rng } from '../demo/random.js';
import { adjustedRandIndex } from './ari.js';
import { dbscan, kDistances, kneeIndex, suggestEps } from './dbscan.js';
import { BruteIndex } from './spatial.js';

/**
 * scikit-learn's `dbscan_inner` transcribed as it is (every neighbourhood stored, labels set when a row
 * is popped, a row pushed as often as it is seen): the reference our labels must equal number for number.
 */
function sklearnDbscan(data: Float64Array, n: number, d: number, eps: number, minSamples: number) {
  const index = new BruteIndex(data, n, d, eps);
  const buffer = new Int32Array(n);
  const neighbourhoods = Array.from({ length: n }, (_, i) => [
    ...buffer.subarray(0, index.neighbours(i, buffer)),
  ]);
  const core = neighbourhoods.map((hood) => hood.length >= minSamples);
  const labels = new Int32Array(n).fill(-1);
  let label = 0;
  for (let start = 0; start < n; start++) {
    if (labels[start] !== -1 || !core[start]) continue;
    const stack: number[] = [];
    let i = start;
    for (;;) {
      if (labels[i] === -1) {
        labels[i] = label;
        if (core[i]) for (const v of neighbourhoods[i]!) if (labels[v] === -1) stack.push(v);
      }
      if (stack.length === 0) break;
      i = stack.pop()!;
    }
    label++;
  }
  return { labels, core: Uint8Array.from(core, Number) };
}

/** Gaussian blobs (sd 0.3) around well-separated centres in 2-D, then uniform noise over [-20, 20]². */
function blobsWithNoise(perBlob: number, noise: number, seed: number) {
  const rng = new Rng(seed);
  const centres = [
    [-10, -10],
    [10, -5],
    [0, 12],
  ] as const;
  const n = centres.length * perBlob + noise;
  const data = new Float64Array(n * 2);
  const truth = new Int32Array(n).fill(-1);
  for (let i = 0; i < centres.length * perBlob; i++) {
    const c = i % centres.length;
    truth[i] = c;
    data[i * 2] = centres[c]![0] + 0.3 * rng.normal();
    data[i * 2 + 1] = centres[c]![1] + 0.3 * rng.normal();
  }
  for (let i = centres.length * perBlob; i < n; i++) {
    data[i * 2] = rng.uniform(-20, 20);
    data[i * 2 + 1] = rng.uniform(-20, 20);
  }
  return { data, truth, n };
}

describe('dbscan', () => {
  it('labels a hand-checked 1-D case: two clusters, their border rows and one noise row', () => {
    // eps 1, minSamples 3: 1 has {0, 1, 2} and 11 has {10, 11, 12} (core); 0, 2, 10, 12 see only one
    // core (border); 50 sees nobody (noise).
    const data = Float64Array.from([0, 1, 2, 10, 11, 12, 50]);
    const result = dbscan(data, 7, 1, { eps: 1, minSamples: 3 });
    expect([...result.labels]).toEqual([0, 0, 0, 1, 1, 1, -1]);
    expect([...result.core]).toEqual([0, 1, 0, 0, 1, 0, 0]);
    expect(result).toMatchObject({ clusters: 2, noise: 1, coreCount: 2 });
  });

  it('counts a neighbour exactly eps away, the row itself included', () => {
    const pair = Float64Array.from([0, 0, 3, 4]);
    expect([...dbscan(pair, 2, 2, { eps: 5, minSamples: 2 }).labels]).toEqual([0, 0]);
    expect([...dbscan(pair, 2, 2, { eps: 4.999, minSamples: 2 }).labels]).toEqual([-1, -1]);
    // minSamples 1: every row is core, alone if need be.
    expect([...dbscan(pair, 2, 2, { eps: 4.999, minSamples: 1 }).labels]).toEqual([0, 1]);
  });

  it('gives a border row between two clusters to the one grown first (its lowest core row first)', () => {
    // eps 1, minSamples 4. Left {-1.6 … -1.0} and right {1.0 … 1.6} are core; 0 is exactly 1 from both
    // -1.0 and 1.0 but has only 3 rows within eps, so it is a border row of both.
    const left = [-1.6, -1.4, -1.2, -1.0];
    const right = [1.0, 1.2, 1.4, 1.6];
    const rightFirst = dbscan(Float64Array.from([...right, ...left, 0]), 9, 1, { eps: 1, minSamples: 4 });
    expect([...rightFirst.labels]).toEqual([0, 0, 0, 0, 1, 1, 1, 1, 0]);
    expect(rightFirst.core[8]).toBe(0);
    const leftFirst = dbscan(Float64Array.from([0, ...left, ...right]), 9, 1, { eps: 1, minSamples: 4 });
    expect([...leftFirst.labels]).toEqual([0, 0, 0, 0, 0, 1, 1, 1, 1]);
  });

  it('finds planted blobs in uniform noise, the same with every index', () => {
    const { data, truth, n } = blobsWithNoise(400, 200, 7);
    const result = dbscan(data, n, 2, { eps: 0.5, minSamples: 5, index: 'grid' });
    expect(result.index).toBe('grid');
    expect(result.clusters).toBe(3);
    const planted = [...truth.keys()].filter((i) => truth[i]! >= 0 && result.labels[i]! >= 0);
    expect(planted.length).toBeGreaterThan(0.97 * 1200);
    const pick = (labels: Int32Array) => Int32Array.from(planted, (i) => labels[i]!);
    expect(adjustedRandIndex(pick(result.labels), pick(truth))).toBe(1);
    // 200 noise rows over 1,600 square units: almost none lands within 0.5 of four others.
    const noiseKept = [...truth.keys()].filter((i) => truth[i] === -1 && result.labels[i] === -1).length;
    expect(noiseKept).toBeGreaterThan(190);
    for (const index of ['kdtree', 'brute', 'auto'] as const) {
      const other = dbscan(data, n, 2, { eps: 0.5, minSamples: 5, index });
      if (index !== 'auto') expect(other.index).toBe(index);
      expect(other.labels).toEqual(result.labels);
      expect(other.core).toEqual(result.core);
    }
  });

  it("equals scikit-learn's algorithm number for number on random data with ties at eps", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 80 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 6 }),
        fc.constantFrom(1, 1.5, 2, Math.SQRT2),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        (n, d, minSamples, eps, seed) => {
          const rng = new Rng(seed);
          const data = Float64Array.from({ length: n * d }, () => rng.int(0, 6));
          const expected = sklearnDbscan(data, n, d, eps, minSamples);
          for (const index of ['grid', 'kdtree'] as const) {
            const got = dbscan(data, n, d, { eps, minSamples, index });
            expect(got.labels).toEqual(expected.labels);
            expect(got.core).toEqual(expected.core);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses a non-positive eps and a fractional minSamples', () => {
    const data = Float64Array.from([0, 1]);
    expect(() => dbscan(data, 2, 1, { eps: 0, minSamples: 2 })).toThrow(/eps/);
    expect(() => dbscan(data, 2, 1, { eps: 1, minSamples: 1.5 })).toThrow(/minSamples/);
  });
});

describe('eps from the k-distance curve', () => {
  it('k-distances are the distance to the k-th nearest row, the row itself first', () => {
    const data = Float64Array.from([0, 1, 3, 7]);
    expect([...kDistances(data, 4, 1, 1)]).toEqual([0, 0, 0, 0]);
    expect([...kDistances(data, 4, 1, 2)]).toEqual([1, 1, 2, 4]);
    expect([...kDistances(data, 4, 1, 3)]).toEqual([3, 2, 3, 6]);
  });

  it('the knee is the point farthest below the chord', () => {
    expect(kneeIndex(Float64Array.from([0, 0.1, 0.2, 0.3, 5, 10]))).toBe(3);
    expect(kneeIndex(Float64Array.from([1, 2, 3, 4]))).toBe(0);
  });

  it('suggests an eps between the blobs’ spread and their separation, at which DBSCAN finds them', () => {
    const { data, truth, n } = blobsWithNoise(400, 200, 11);
    const suggestion = suggestEps(data, n, 2, 5);
    expect(suggestion.eps).toBeGreaterThan(0.1);
    expect(suggestion.eps).toBeLessThan(3);
    // The knee sits near the share of rows in blobs (1,200 of 1,400), not in the noise's tail.
    expect(suggestion.quantile).toBeGreaterThan(0.75);
    expect(suggestion.quantile).toBeLessThan(0.95);
    const result = dbscan(data, n, 2, { eps: suggestion.eps, minSamples: 5 });
    expect(result.clusters).toBe(3);
    const clustered = [...truth.keys()].filter((i) => truth[i]! >= 0 && result.labels[i]! >= 0);
    expect(clustered.length).toBeGreaterThan(0.95 * 1200);
    const pick = (labels: Int32Array) => Int32Array.from(clustered, (i) => labels[i]!);
    expect(adjustedRandIndex(pick(result.labels), pick(truth))).toBe(1);
  });
});
