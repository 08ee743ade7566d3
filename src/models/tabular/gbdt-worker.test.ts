import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../random.js';
import { decodeGbdtModel, encodeGbdtModel } from './gbdt-codec.js';
import { trainGbdtInWorker } from './gbdt-worker.js';
import { GBDT_FORMAT_VERSION, GbdtModel, trainGbdt, type GbdtDataset } from './gbdt.js';

/** x0 > 0.5 decides, x1 a category code 0..5 with codes 2 and 5 flipping the label; 5% noise. */
function data(n: number, seed: number): GbdtDataset {
  const rand = mulberry32(seed);
  const features = new Float64Array(n * 3);
  const labels = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    features[i * 3] = rand();
    features[i * 3 + 1] = Math.floor(rand() * 6);
    features[i * 3 + 2] = rand() < 0.1 ? NaN : rand();
    const c = features[i * 3 + 1]!;
    const y = (features[i * 3]! > 0.5 ? 1 : 0) ^ (c === 2 || c === 5 ? 1 : 0);
    labels[i] = rand() < 0.05 ? 1 - y : y;
  }
  return { features, labels, nRows: n, nFeatures: 3 };
}

const bits = (a: Float64Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

describe('trainGbdtInWorker', () => {
  const params = { nTrees: 40, maxDepth: 3, categoricalFeatures: [1], minDataPerCategory: 20 } as const;

  it('trains on a worker the same model as on this thread, early stopping included', async () => {
    const train = data(2000, 1);
    const valid = data(500, 2);
    const here = trainGbdt(
      train,
      { ...params, earlyStoppingRounds: 5, nTrees: 300, learningRate: 0.3 },
      valid,
    );
    const there = await trainGbdtInWorker(
      train,
      { ...params, earlyStoppingRounds: 5, nTrees: 300, learningRate: 0.3 },
      valid,
    );
    expect(there.bestTreeCount).toBe(here.bestTreeCount);
    expect(there.bestTreeCount).toBeLessThan(300);
    expect(Array.from(there.validLoss!)).toEqual(Array.from(here.validLoss!));
    expect(JSON.stringify(there.model)).toBe(JSON.stringify(here.model));
    expect(
      bits(there.model.predictMargin(valid.features)).equals(bits(here.model.predictMargin(valid.features))),
    ).toBe(true);
    // The caller's data was copied, not taken.
    expect(train.features.length).toBe(6000);
  });

  it('transfers the data instead of copying it when asked', async () => {
    const train = data(1000, 3);
    const copy = { ...train, features: train.features.slice(), labels: train.labels.slice() };
    const { model } = await trainGbdtInWorker(train, params, undefined, { transfer: true });
    expect(train.features.length).toBe(0); // detached: the worker owns the buffer now
    expect(JSON.stringify(model)).toBe(JSON.stringify(trainGbdt(copy, params).model));
  });

  it('rejects bad input before starting a thread', async () => {
    const train = data(100, 4);
    await expect(trainGbdtInWorker(train, { maxDepth: 0 })).rejects.toThrow(RangeError);
    await expect(trainGbdtInWorker({ ...train, labels: train.labels.subarray(1) })).rejects.toThrow(
      RangeError,
    );
    // A rank objective without query groups.
    await expect(trainGbdtInWorker(train, { objective: 'rank' })).rejects.toThrow(/group/);
  });
});

describe('the byte form', () => {
  const { model } = trainGbdt(data(1500, 5), {
    nTrees: 15,
    maxDepth: 4,
    categoricalFeatures: [1],
    minDataPerCategory: 20,
  });
  const rows = data(300, 6).features;

  it('carries the format version and decodes to the same nodes and bit-identical predictions', () => {
    const bytes = encodeGbdtModel(model);
    expect(new DataView(bytes.buffer).getUint32(4, true)).toBe(GBDT_FORMAT_VERSION);
    // Decoding from an unaligned view of a larger buffer works too (sections are copied out).
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 3);
    const decoded = decodeGbdtModel(shifted.subarray(3));
    expect(decoded.nodes).toEqual(model.nodes);
    expect(decoded.objective.name).toBe('binary:logistic');
    expect(bits(decoded.predictMargin(rows)).equals(bits(model.predictMargin(rows)))).toBe(true);
  });

  it('rejects a wrong magic, another version, truncation and trailing bytes', () => {
    const bytes = encodeGbdtModel(model);
    const edit = (at: number, value: number): Uint8Array => {
      const copy = bytes.slice();
      new DataView(copy.buffer).setUint32(at, value, true);
      return copy;
    };
    expect(() => decodeGbdtModel(edit(0, 0))).toThrow(/not an attune GBDT model/);
    expect(() => decodeGbdtModel(edit(4, GBDT_FORMAT_VERSION + 1))).toThrow(/version/);
    expect(() => decodeGbdtModel(bytes.subarray(0, bytes.length - 8))).toThrow(/truncated/);
    const longer = new Uint8Array(bytes.length + 8);
    longer.set(bytes);
    expect(() => decodeGbdtModel(longer)).toThrow(RangeError);
    // A node count that no longer matches the arrays.
    expect(() => decodeGbdtModel(edit(28, 3))).toThrow(RangeError);
  });

  it('still reads a version 1 JSON model (numeric splits only)', () => {
    const numeric = trainGbdt(data(800, 7), { nTrees: 5, maxDepth: 2 }).model;
    const { catSplit: _s, catBoundaries: _b, catBits: _w, ...v1 } = numeric.toJSON();
    const old = GbdtModel.fromJSON({ ...v1, version: 1 });
    expect(bits(old.predictMargin(rows)).equals(bits(numeric.predictMargin(rows)))).toBe(true);
  });
});
