import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../random.js';
import { compileGbdt, MAX_COMPILED_LEAVES } from './gbdt-compiled.js';
import { trainGbdt, type GbdtDataset } from './gbdt.js';

/** n × d features, a tenth missing, and a noisy non-linear label; seeded. */
function data(n: number, d: number, seed: number): GbdtDataset {
  const rand = mulberry32(seed);
  const features = new Float64Array(n * d);
  const labels = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let f = 0; f < d; f++) features[i * d + f] = rand() < 0.1 ? NaN : rand();
    const x0 = features[i * d]!;
    const x1 = features[i * d + 1]!;
    labels[i] = (x0 > 0.3 ? 1 : 0) + (Number.isNaN(x1) ? 0.5 : x1 * x1) + 0.2 * rand();
  }
  return { features, labels, nRows: n, nFeatures: d };
}

const bits = (a: Float64Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

describe('compileGbdt', () => {
  it('gives the linked walk’s margins bit for bit, missing values and uneven trees included', () => {
    for (const maxDepth of [1, 3, 5]) {
      const train = data(2_000, 5, maxDepth);
      // minChildWeight makes leaves stop at different depths within a tree.
      const { model } = trainGbdt(train, {
        objective: 'regression',
        nTrees: 40,
        maxDepth,
        minChildWeight: 30,
      });
      const compiled = compileGbdt(model);
      expect(compiled).not.toBeNull();
      const rows = data(500, 5, 100 + maxDepth).features;
      // Values exactly at thresholds and infinities go where the linked walk sends them.
      rows[model.nodes.feature[0]!] = model.nodes.threshold[0]!;
      rows[5] = Infinity;
      rows[10] = -Infinity;
      const out = new Float64Array(500);
      compiled!.predictMarginInto(rows, out);
      expect(bits(out).equals(bits(model.predictMargin(rows)))).toBe(true);
      // One user's candidates: features with one value in every row (here one present, one missing).
      for (let i = 0; i < 500; i++) {
        rows[i * 5 + 1] = 0.4;
        rows[i * 5 + 4] = NaN;
      }
      compiled!.predictMarginInto(rows, out);
      expect(bits(out).equals(bits(model.predictMargin(rows)))).toBe(true);
    }
  });

  it('declines categorical splits and trees with more leaves than a word holds', () => {
    const rand = mulberry32(7);
    const n = 3_000;
    const features = new Float64Array(n * 2);
    const labels = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      features[2 * i] = Math.floor(rand() * 6);
      features[2 * i + 1] = rand();
      labels[i] = [0, 3].includes(features[2 * i]!) ? 1 : 0;
    }
    const categorical = trainGbdt(
      { features, labels, nRows: n, nFeatures: 2 },
      { objective: 'binary', nTrees: 5, categoricalFeatures: [0] },
    ).model;
    expect(categorical.nodes.catSplit.some((k) => k >= 0)).toBe(true);
    expect(compileGbdt(categorical)).toBeNull();

    const deep = trainGbdt(data(4_000, 3, 9), {
      objective: 'regression',
      nTrees: 2,
      maxDepth: 8,
      minChildWeight: 1,
    }).model;
    const leaves = deep.nodes.feature.filter((f) => f < 0).length;
    expect(leaves).toBeGreaterThan(2 * MAX_COMPILED_LEAVES);
    expect(compileGbdt(deep)).toBeNull();
  });

  it('names the mismatch when rows and outputs disagree', () => {
    const { model } = trainGbdt(data(300, 4, 3), { objective: 'regression', nTrees: 3 });
    expect(() => compileGbdt(model)!.predictMarginInto(new Float64Array(9), new Float64Array(2))).toThrow(
      /9 values for 2 rows of 4 features/,
    );
  });
});
