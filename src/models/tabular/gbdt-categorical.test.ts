import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../random.js';
import { binFeatures } from './gbdt-binning.js';
import { decodeGbdtModel, encodeGbdtModel } from './gbdt-codec.js';
import { goesLeft, type GbdtModel } from './gbdt-model.js';
import { shapContributions } from './gbdt-shap.js';
import { binaryLogistic, GbdtModel as Model, trainGbdt, type GbdtDataset } from './gbdt.js';

/**
 * Feature 0 is a category code 0..categories−1 (NaN for a share of rows), features 1..3 noise in
 * [0, 1). The label is 1 exactly for the categories in `positive` (missing counts as `missingLabel`),
 * flipped for 5% of rows.
 */
function categoricalTask(
  n: number,
  seed: number,
  categories: number,
  positive: readonly number[],
  missingShare = 0,
): GbdtDataset {
  const rand = mulberry32(seed);
  const d = 4;
  const features = new Float64Array(n * d);
  const labels = new Float64Array(n);
  const hot = new Set(positive);
  for (let i = 0; i < n; i++) {
    const missing = rand() < missingShare;
    const c = Math.floor(rand() * categories);
    features[i * d] = missing ? NaN : c;
    for (let f = 1; f < d; f++) features[i * d + f] = rand();
    const y = missing ? 1 : hot.has(c) ? 1 : 0;
    labels[i] = rand() < 0.05 ? 1 - y : y;
  }
  return { features, labels, nRows: n, nFeatures: d };
}

function accuracy(model: GbdtModel, data: GbdtDataset, truth: (row: number) => number): number {
  const p = model.predict(data.features);
  let right = 0;
  for (let i = 0; i < data.nRows; i++) if ((p[i]! > 0.5 ? 1 : 0) === truth(i)) right++;
  return right / data.nRows;
}

/** The categories of the root split's left set, from its bitset. */
function rootSet(model: GbdtModel): number[] {
  const { catSplit, catBoundaries, catBits } = model.nodes;
  const k = catSplit[0]!;
  const out: number[] = [];
  for (let w = catBoundaries[k]!; w < catBoundaries[k + 1]!; w++) {
    for (let bit = 0; bit < 32; bit++)
      if ((catBits[w]! >>> bit) & 1) out.push(32 * (w - catBoundaries[k]!) + bit);
  }
  return out;
}

describe('categorical features', () => {
  const positive = [1, 4, 6, 9];
  const train = categoricalTask(4000, 1, 12, positive);
  const test = categoricalTask(2000, 2, 12, positive);
  const truth = (data: GbdtDataset) => (i: number) => (positive.includes(data.features[i * 4]!) ? 1 : 0);
  // One split, full step: what a single split can express.
  const oneSplit = { nTrees: 1, maxDepth: 1, learningRate: 1, lambda: 0 } as const;

  it('recovers a planted category set in one split, which a threshold on the codes cannot', () => {
    const { model } = trainGbdt(train, { ...oneSplit, categoricalFeatures: [0] });
    expect(model.nodes.feature[0]).toBe(0);
    expect(model.nodes.catSplit[0]).toBe(0);
    const set = rootSet(model);
    // The left set is the planted set or its complement (sorted by gradient ratio, either end).
    const complement = [...Array(12).keys()].filter((c) => !positive.includes(c));
    expect([positive, complement]).toContainEqual(set);
    expect(accuracy(model, test, truth(test))).toBeGreaterThan(0.93);

    // The same codes as a number: the best single threshold leaves most of the rule unexpressed.
    const { model: numeric } = trainGbdt(train, oneSplit);
    expect(numeric.nodes.catSplit[0]).toBe(-1);
    expect(accuracy(numeric, test, truth(test))).toBeLessThan(0.75);
  });

  it('tries each category against the rest when there are few', () => {
    const few = categoricalTask(3000, 3, 3, [2]);
    const { model } = trainGbdt(few, { ...oneSplit, categoricalFeatures: [0] });
    // Category 2 alone is separated (one-vs-rest; a sorted scan could also find it, so check the set).
    expect([[2], [0, 1]]).toContainEqual(rootSet(model));
    expect(accuracy(model, few, (i) => (few.features[i * 4] === 2 ? 1 : 0))).toBeGreaterThan(0.93);
  });

  it('keeps rare categories out of a sorted split and sends unseen ones right', () => {
    const counts = new Array<number>(12).fill(0);
    for (let i = 0; i < train.nRows; i++) counts[train.features[i * 4]!]!++;
    // A threshold with planted categories on both sides of it.
    const threshold = [...counts].sort((a, b) => a - b)[6]!;
    const rare = positive.filter((c) => counts[c]! < threshold);
    expect(rare.length).toBeGreaterThan(0);
    expect(rare.length).toBeLessThan(positive.length);
    const { model } = trainGbdt(train, {
      ...oneSplit,
      categoricalFeatures: [0],
      minDataPerCategory: threshold,
    });
    expect(model.nodes.catSplit[0]).toBe(0);
    const set = rootSet(model);
    for (const c of set) expect(counts[c]!).toBeGreaterThanOrEqual(threshold);
    // The frequent planted categories went together, on whichever side.
    const frequent = positive.filter((c) => counts[c]! >= threshold);
    expect(frequent.every((c) => set.includes(c)) || frequent.every((c) => !set.includes(c))).toBe(true);

    const nodes = model.nodes;
    // An unseen code, a non-integer and a negative value all go right; NaN follows the default.
    expect(goesLeft(nodes, 0, 500)).toBe(false);
    expect(goesLeft(nodes, 0, set[0]! + 0.5)).toBe(false);
    expect(goesLeft(nodes, 0, -1)).toBe(false);
    expect(goesLeft(nodes, 0, set[0]!)).toBe(true);
    expect(goesLeft(nodes, 0, NaN)).toBe(nodes.defaultLeft[0] === 1);
  });

  it('predicts raw codes exactly as it trained on bins, with an "other" bin and missing values', () => {
    // 12 categories into 8 bins: the 5 rarest share the "other" bin, which must never go left.
    const data = categoricalTask(3000, 4, 12, positive, 0.1);
    const bins = binFeatures(data.features, data.nRows, 4, 8, [0]);
    expect(bins.binCount[0]).toBe(8);
    const run = trainGbdt(data, { nTrees: 20, maxDepth: 3, maxBins: 8, categoricalFeatures: [0] });
    const margins = run.model.predictMargin(data.features);
    expect(binaryLogistic.loss(data.labels, margins)).toBeCloseTo(run.trainLoss[19]!, 12);
  });

  it('rejects codes that are not small non-negative integers', () => {
    const bad = { ...train, features: train.features.map((v, i) => (i === 0 ? 2.5 : v)) };
    expect(() => trainGbdt(bad, { categoricalFeatures: [0] })).toThrow(RangeError);
    expect(() => trainGbdt(train, { categoricalFeatures: [4] })).toThrow(RangeError);
  });

  describe('TreeSHAP and serialisation of categorical splits', () => {
    const data = categoricalTask(2000, 5, 12, positive, 0.1);
    const { model } = trainGbdt(data, {
      nTrees: 8,
      maxDepth: 3,
      learningRate: 0.3,
      categoricalFeatures: [0],
    });
    const rows = Float64Array.of(
      ...data.features.subarray(0, 40),
      // Unseen category, a missing one.
      50,
      0.2,
      0.4,
      0.6,
      NaN,
      0.9,
      0.1,
      0.5,
    );

    it('has categorical splits to explain', () => {
      let count = 0;
      for (const k of model.nodes.catSplit) if (k >= 0) count++;
      expect(count).toBeGreaterThan(3);
    });

    it('gives contributions that sum to the margin and match brute-force Shapley values', () => {
      const contributions = shapContributions(model, rows);
      const margins = model.predictMargin(rows);
      const n = rows.length / 4;
      for (let i = 0; i < n; i++) {
        const x = rows.subarray(i * 4, (i + 1) * 4);
        const brute = bruteShapley(model, x);
        let sum = 0;
        for (let f = 0; f < 4; f++) {
          expect(contributions[i * 5 + f]!).toBeCloseTo(brute[f]!, 10);
          sum += contributions[i * 5 + f]!;
        }
        expect(sum + contributions[i * 5 + 4]!).toBeCloseTo(margins[i]!, 10);
      }
    });

    it('round-trips through JSON and bytes with bit-identical predictions', () => {
      const expected = model.predictMargin(rows);
      const bits = (a: Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
      const fromJson = Model.fromJSON(JSON.parse(JSON.stringify(model)));
      expect(bits(fromJson.predictMargin(rows)).equals(bits(expected))).toBe(true);
      const fromBytes = decodeGbdtModel(encodeGbdtModel(model));
      expect(bits(fromBytes.predictMargin(rows)).equals(bits(expected))).toBe(true);
      expect(fromBytes.nodes).toEqual(model.nodes);
      expect(fromBytes.baseScore).toBe(model.baseScore);
    });

    it('rejects a categorical split index out of range', () => {
      const json = model.toJSON();
      const catSplit = json.catSplit!.map((k) => (k >= 0 ? k + 1000 : k));
      expect(() => Model.fromJSON({ ...json, catSplit })).toThrow(RangeError);
    });
  });
});

/** The tree-path-dependent value of a coalition: known features follow x, the others split by cover. */
function coalitionValue(model: GbdtModel, x: Float64Array, known: Set<number>): number {
  const { treeStart, feature, left, right, value, cover } = model.nodes;
  const walk = (base: number, node: number): number => {
    const at = base + node;
    const f = feature[at]!;
    if (f < 0) return value[at]!;
    const l = left[at]!;
    const r = right[at]!;
    if (known.has(f)) return walk(base, goesLeft(model.nodes, at, x[f]!) ? l : r);
    const cl = cover[base + l]!;
    const cr = cover[base + r]!;
    return (cl * walk(base, l) + cr * walk(base, r)) / (cl + cr);
  };
  let sum = model.baseScore;
  for (let t = 0; t < model.treeCount; t++) sum += walk(treeStart[t]!, 0);
  return sum;
}

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
