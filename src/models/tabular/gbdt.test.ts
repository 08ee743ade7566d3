import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../random.js';
import { binFeatures } from './gbdt-binning.js';
import { shapContributions } from './gbdt-shap.js';
import { binaryLogistic, GbdtModel, squaredError, trainGbdt, type GbdtDataset } from './gbdt.js';

/** n × d uniform [0, 1) features with labels from `label(row)`, seeded. */
function synthetic(
  n: number,
  d: number,
  seed: number,
  label: (x: Float64Array, rand: () => number) => number,
): GbdtDataset {
  const rand = mulberry32(seed);
  const features = new Float64Array(n * d);
  const labels = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const row = features.subarray(i * d, (i + 1) * d);
    for (let f = 0; f < d; f++) row[f] = rand();
    labels[i] = label(row, rand);
  }
  return { features, labels, nRows: n, nFeatures: d };
}

/** label = x3 > 0.5, flipped for 5% of rows. */
const planted = (n: number, seed: number): GbdtDataset =>
  synthetic(n, 8, seed, (x, rand) => {
    const y = x[3]! > 0.5 ? 1 : 0;
    return rand() < 0.05 ? 1 - y : y;
  });

function accuracy(model: GbdtModel, data: GbdtDataset, truth: (x: Float64Array) => number): number {
  const p = model.predict(data.features);
  let right = 0;
  for (let i = 0; i < data.nRows; i++) {
    const x = data.features.subarray(i * data.nFeatures, (i + 1) * data.nFeatures);
    if ((p[i]! > 0.5 ? 1 : 0) === truth(x)) right++;
  }
  return right / data.nRows;
}

describe('binFeatures', () => {
  it('cuts between distinct values when there are few, with a separate missing code', () => {
    // Two features, column 0 = [3, 1, NaN, 2, 1], column 1 constant.
    const x = Float64Array.from([3, 7, 1, 7, NaN, 7, 2, 7, 1, 7]);
    const bins = binFeatures(x, 5, 2);
    expect(Array.from(bins.cuts.subarray(bins.cutStart[0]!, bins.cutStart[1]!))).toEqual([1.5, 2.5]);
    expect(bins.binCount[0]).toBe(3);
    expect(Array.from(bins.codes.subarray(0, 5))).toEqual([2, 0, 3, 1, 0]);
    // A constant feature has one value bin and nothing to split.
    expect(bins.binCount[1]).toBe(1);
    expect(Array.from(bins.codes.subarray(5, 10))).toEqual([0, 0, 0, 0, 0]);
    expect(bins.histStart[2]).toBe(3 + 1 + 1 + 1);
  });

  it('uses at most maxBins quantile bins of similar size for many distinct values', () => {
    const n = 10_000;
    const rand = mulberry32(3);
    const x = Float64Array.from({ length: n }, () => rand());
    const bins = binFeatures(x, n, 1);
    expect(bins.binCount[0]).toBe(255);
    const counts = new Int32Array(256);
    for (const c of bins.codes) counts[c]!++;
    expect(counts[255]).toBe(0);
    const perBin = n / 255;
    for (let b = 0; b < 255; b++) {
      expect(counts[b]!).toBeGreaterThan(perBin * 0.5);
      expect(counts[b]!).toBeLessThan(perBin * 1.5);
    }
  });

  it('rejects infinite training values', () => {
    expect(() => binFeatures(Float64Array.of(1, Infinity), 2, 1)).toThrow(RangeError);
  });
});

describe('trainGbdt', () => {
  const train = planted(3000, 1);
  const test = planted(2000, 2);
  const result = trainGbdt(train, { nTrees: 30, maxDepth: 3 });
  const { model } = result;

  it('recovers a planted split rule: the first split is feature 3 near 0.5', () => {
    const { feature, threshold } = model.nodes;
    expect(feature[0]).toBe(3);
    expect(Math.abs(threshold[0]! - 0.5)).toBeLessThan(0.01);
    expect(accuracy(model, test, (x) => (x[3]! > 0.5 ? 1 : 0))).toBeGreaterThan(0.98);
  });

  it('ranks the planted feature first by gain importance', () => {
    const importance = model.gainImportance();
    const ranked = Array.from(importance.keys()).sort((a, b) => importance[b]! - importance[a]!);
    expect(ranked[0]).toBe(3);
    expect(importance[3]!).toBeGreaterThan(10 * importance[ranked[1]!]!);
  });

  it('starts from the log-odds of the mean label', () => {
    let mean = 0;
    for (const y of train.labels) mean += y / train.nRows;
    expect(model.baseScore).toBeCloseTo(Math.log(mean / (1 - mean)), 12);
  });

  it('predicts raw features exactly as it trained on bins', () => {
    // The final training loss was computed from margins updated through the binned partitions.
    const margins = model.predictMargin(train.features);
    expect(binaryLogistic.loss(train.labels, margins)).toBeCloseTo(result.trainLoss[29]!, 12);
  });

  it('fits a step plus smooth regression with a training loss that falls every tree', () => {
    const f = (x: Float64Array): number => (x[0]! > 0.3 ? 2 : 0) + Math.sin(3 * x[1]!);
    const data = synthetic(2000, 4, 5, (x) => f(x));
    const { model: reg, trainLoss } = trainGbdt(data, {
      objective: 'regression',
      nTrees: 80,
      learningRate: 0.2,
    });
    for (let t = 1; t < trainLoss.length; t++) expect(trainLoss[t]!).toBeLessThan(trainLoss[t - 1]!);
    expect(trainLoss[trainLoss.length - 1]!).toBeLessThan(0.005);
    const fresh = synthetic(1000, 4, 6, (x) => f(x));
    expect(squaredError.loss(fresh.labels, reg.predict(fresh.features))).toBeLessThan(0.02);
  });

  it.each([
    [1, true],
    [0, false],
  ])('learns where missing values go (missing → label %d)', (missingLabel, defaultLeft) => {
    // x0 decides (x0 > 0.5 → 1); a quarter of the rows miss x0 and carry `missingLabel`.
    const data = synthetic(2000, 3, 7, (x, rand) => {
      if (rand() < 0.25) {
        x[0] = NaN;
        return missingLabel;
      }
      return x[0]! > 0.5 ? 1 : 0;
    });
    const { model: m } = trainGbdt(data, { nTrees: 20, maxDepth: 2 });
    expect(m.nodes.feature[0]).toBe(0);
    // Missing joins the side whose labels it shares: above 0.5 is the right child.
    expect(m.nodes.defaultLeft[0] === 1).toBe(!defaultLeft);
    const p = m.predict(Float64Array.of(NaN, 0.5, 0.5, 0.2, 0.5, 0.5, 0.8, 0.5, 0.5));
    expect(p[0]! > 0.5).toBe(missingLabel === 1);
    expect(p[1]!).toBeLessThan(0.1);
    expect(p[2]!).toBeGreaterThan(0.9);
  });

  it('stops early on noise and keeps the best iteration', () => {
    const noise = (seed: number): GbdtDataset =>
      synthetic(600, 10, seed, (_x, rand) => (rand() < 0.5 ? 1 : 0));
    const rounds = 5;
    const run = trainGbdt(
      noise(8),
      { nTrees: 200, earlyStoppingRounds: rounds, learningRate: 0.3 },
      noise(9),
    );
    const valid = run.validLoss!;
    expect(valid.length).toBeLessThan(200);
    expect(valid.length).toBe(run.bestTreeCount + rounds);
    expect(run.model.treeCount).toBe(run.bestTreeCount);
    expect(Math.min(...valid)).toBe(valid[run.bestTreeCount - 1]);
    // The kept model's validation loss is the best one recorded.
    const v = noise(9);
    expect(binaryLogistic.loss(v.labels, run.model.predictMargin(v.features))).toBeCloseTo(
      valid[run.bestTreeCount - 1]!,
      12,
    );
  });

  it('round-trips through JSON with identical predictions', () => {
    const withMissing = test.features.slice();
    for (let i = 0; i < withMissing.length; i += 7) withMissing[i] = NaN;
    const copy = GbdtModel.fromJSON(JSON.parse(JSON.stringify(model)));
    expect(copy.treeCount).toBe(model.treeCount);
    expect(copy.predictMargin(withMissing)).toEqual(model.predictMargin(withMissing));
    expect(copy.gainImportance()).toEqual(model.gainImportance());
  });

  it('rejects a corrupt serialised model', () => {
    const json = model.toJSON();
    expect(() => GbdtModel.fromJSON({ ...json, left: json.left.map(() => 0) })).toThrow(RangeError);
    expect(() => GbdtModel.fromJSON({ ...json, value: json.value.slice(1) })).toThrow(RangeError);
    expect(() => GbdtModel.fromJSON({ ...json, nFeatures: 2 })).toThrow(RangeError);
  });

  it('honours maxDepth, minChildWeight and gamma', () => {
    const depthOf = (m: GbdtModel, base: number, node: number): number =>
      m.nodes.feature[base + node]! < 0
        ? 0
        : 1 +
          Math.max(
            depthOf(m, base, m.nodes.left[base + node]!),
            depthOf(m, base, m.nodes.right[base + node]!),
          );
    // Squared error has unit hessians, so a node's cover is its row count.
    const smooth = synthetic(1000, 3, 12, (x) => Math.sin(4 * x[0]!) + x[1]!);
    const { model: shallow } = trainGbdt(smooth, {
      objective: 'regression',
      nTrees: 5,
      maxDepth: 2,
      minChildWeight: 150,
    });
    for (let t = 0; t < shallow.treeCount; t++) {
      expect(depthOf(shallow, shallow.nodes.treeStart[t]!, 0)).toBe(2);
    }
    for (let i = 0; i < shallow.nodes.feature.length; i++) {
      expect(shallow.nodes.cover[i]!).toBeGreaterThanOrEqual(150);
    }
    // No split can reduce the loss by 10⁶: every tree is a single leaf.
    const { model: stumps } = trainGbdt(train, { nTrees: 3, gamma: 1e6 });
    expect(Array.from(stumps.nodes.treeStart)).toEqual([0, 1, 2, 3]);
  });

  it('is deterministic', () => {
    const again = trainGbdt(train, { nTrees: 30, maxDepth: 3 });
    expect(JSON.stringify(again.model)).toBe(JSON.stringify(model));
  });

  it('validates its inputs', () => {
    expect(() => trainGbdt({ ...train, labels: train.labels.subarray(1) })).toThrow(RangeError);
    expect(() => trainGbdt(train, { maxDepth: 0 })).toThrow(RangeError);
    const bad = { ...train, labels: train.labels.map((y) => y * 2) };
    expect(() => trainGbdt(bad)).toThrow(RangeError);
  });
});

describe('shapContributions', () => {
  /** The tree-path-dependent value of a coalition: features in `known` follow x, others split by cover. */
  function coalitionValue(model: GbdtModel, x: Float64Array, known: Set<number>): number {
    const { treeStart, feature, threshold, defaultLeft, left, right, value, cover } = model.nodes;
    const walk = (base: number, node: number): number => {
      const at = base + node;
      const f = feature[at]!;
      if (f < 0) return value[at]!;
      const l = left[at]!;
      const r = right[at]!;
      if (known.has(f)) {
        const v = x[f]!;
        const goLeft = Number.isNaN(v) ? defaultLeft[at] === 1 : v <= threshold[at]!;
        return walk(base, goLeft ? l : r);
      }
      const cl = cover[base + l]!;
      const cr = cover[base + r]!;
      return (cl * walk(base, l) + cr * walk(base, r)) / (cl + cr);
    };
    let sum = model.baseScore;
    for (let t = 0; t < model.treeCount; t++) sum += walk(treeStart[t]!, 0);
    return sum;
  }

  /** Exact Shapley values by enumerating every coalition (small d only). */
  function bruteShapley(model: GbdtModel, x: Float64Array): number[] {
    const d = model.nFeatures;
    const fact = (k: number): number => (k <= 1 ? 1 : k * fact(k - 1));
    const phi = new Array<number>(d).fill(0);
    for (let mask = 0; mask < 1 << d; mask++) {
      const known = new Set<number>();
      for (let f = 0; f < d; f++) if (mask & (1 << f)) known.add(f);
      const base = coalitionValue(model, x, known);
      for (let f = 0; f < d; f++) {
        if (known.has(f)) continue;
        const weight = (fact(known.size) * fact(d - known.size - 1)) / fact(d);
        phi[f]! += weight * (coalitionValue(model, x, new Set([...known, f])) - base);
      }
    }
    return phi;
  }

  // Interactions and a reused feature along paths exercise the unwinding of repeated splits.
  const data = synthetic(1500, 4, 11, (x, rand) => {
    if (rand() < 0.1) x[2] = NaN;
    const z = (x[0]! > 0.5 ? 1 : -1) * (x[1]! - 0.4) * 4 + (x[2]! > 0.7 ? 1 : 0);
    return rand() < 1 / (1 + Math.exp(-z)) ? 1 : 0;
  });
  const { model } = trainGbdt(data, { nTrees: 10, maxDepth: 4, learningRate: 0.3 });
  const rows = data.features.subarray(0, 20 * 4);

  it('sums with the bias to the raw margin', () => {
    const contributions = shapContributions(model, rows);
    const margins = model.predictMargin(rows);
    for (let i = 0; i < 20; i++) {
      let sum = 0;
      for (let f = 0; f <= 4; f++) sum += contributions[i * 5 + f]!;
      expect(sum).toBeCloseTo(margins[i]!, 10);
    }
  });

  it('matches brute-force Shapley values of the tree-path-dependent value function', () => {
    const contributions = shapContributions(model, rows);
    const expected = coalitionValue(model, rows.subarray(0, 4), new Set());
    for (let i = 0; i < 20; i++) {
      const x = rows.subarray(i * 4, (i + 1) * 4);
      const brute = bruteShapley(model, x);
      for (let f = 0; f < 4; f++) expect(contributions[i * 5 + f]!).toBeCloseTo(brute[f]!, 10);
      expect(contributions[i * 5 + 4]!).toBeCloseTo(expected, 10);
    }
  });
});
