import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../random.js';
import { trainGbdtInWorker } from './gbdt-worker.js';
import { binaryLogistic } from './gbdt-objective.js';
import { trainGbdt, type GbdtDataset } from './gbdt.js';

/**
 * Boosting from per-row starting margins (`GbdtDataset.baseMargin`, XGBoost's `base_margin`): rows whose
 * log-odds are a known offset plus a step in a second feature the offset does not know.
 */
function offsetRows(n: number, seed: number): { readonly data: GbdtDataset; readonly offset: Float64Array } {
  const rand = mulberry32(seed);
  const d = 2;
  const features = new Float64Array(n * d);
  const labels = new Float64Array(n);
  const offset = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const a = rand() * 4 - 2;
    const b = rand();
    features[i * d] = a;
    features[i * d + 1] = b;
    offset[i] = 1.5 * a;
    const margin = offset[i]! + (b > 0.5 ? 1 : -1);
    labels[i] = rand() < 1 / (1 + Math.exp(-margin)) ? 1 : 0;
  }
  return { data: { features, labels, nRows: n, nFeatures: d }, offset };
}

describe('trainGbdt from a base margin', () => {
  it('starts from the given margins: base score 0, and the loss before the first tree is the offset’s', () => {
    const { data, offset } = offsetRows(2000, 1);
    const { model, trainLoss } = trainGbdt(
      { ...data, baseMargin: offset },
      { objective: 'binary', nTrees: 30, learningRate: 0.1, maxDepth: 2 },
    );
    expect(model.baseScore).toBe(0);
    const offsetLoss = binaryLogistic.loss(data.labels, offset);
    // Each tree lowers the training loss from where the offset left it.
    expect(trainLoss[0]!).toBeLessThan(offsetLoss);
    expect(trainLoss[0]!).toBeGreaterThan(offsetLoss - 0.05);
    // The trees learn the step in b (the offset's part left alone): their margins differ by it.
    const margins = model.predictMargin(Float64Array.from([0, 0.9, 0, 0.1]));
    expect(margins[0]! - margins[1]!).toBeGreaterThan(1);
    // Replaying the kept trees over offset + trees reproduces the reported final loss.
    const total = model.predictMargin(data.features).map((m, i) => m + offset[i]!);
    expect(binaryLogistic.loss(data.labels, total)).toBeCloseTo(trainLoss[29]!, 10);
  });

  it('stops early on the validation set’s offset + trees, and needs the offset on both sets', () => {
    const { data, offset } = offsetRows(2000, 2);
    const valid = offsetRows(1000, 3);
    const params = {
      objective: 'binary' as const,
      nTrees: 500,
      learningRate: 0.1,
      maxDepth: 2,
      earlyStoppingRounds: 20,
    };
    const trained = trainGbdt({ ...data, baseMargin: offset }, params, {
      ...valid.data,
      baseMargin: valid.offset,
    });
    const total = trained.model.predictMargin(valid.data.features).map((m, i) => m + valid.offset[i]!);
    expect(binaryLogistic.loss(valid.data.labels, total)).toBeCloseTo(
      trained.validLoss![trained.bestTreeCount - 1]!,
      10,
    );
    expect(() => trainGbdt({ ...data, baseMargin: offset }, params, valid.data)).toThrow(/baseMargin/);
    expect(() => trainGbdt({ ...data, baseMargin: offset.subarray(1) }, params)).toThrow(/base margins/);
  });

  it('gives the same trees on a worker thread', async () => {
    const { data, offset } = offsetRows(500, 4);
    const params = { objective: 'binary' as const, nTrees: 10, learningRate: 0.1, maxDepth: 2 };
    const here = trainGbdt({ ...data, baseMargin: offset }, params).model;
    const there = (await trainGbdtInWorker({ ...data, baseMargin: offset }, params)).model;
    expect(Array.from(there.predictMargin(data.features))).toEqual(
      Array.from(here.predictMargin(data.features)),
    );
  });
});
