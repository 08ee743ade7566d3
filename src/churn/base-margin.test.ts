import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../models/random.js';
import { rocAuc } from '../models/tabular/index.js';
import { decodeChurnArtifact, encodeChurnArtifact, type ChurnArtifactData } from './artifact.js';
import {
  churnContributions,
  churnMargins,
  churnProbabilities,
  fitGbdtChurn,
  fitLogisticChurn,
  tunedGbdt,
  type LabelledRows,
} from './event-models.js';

/**
 * Trees boosted from logistic regression's margin (`GbdtChurnModel.base`), on planted rows: the risk rises
 * linearly in `days` (the feature that grows with the calendar) and steps up with a second feature the line
 * cannot bend to. Training rows have days in [0, 1]; the later cut's run to [1, 2], beyond every value the
 * trees saw.
 */
function plantedRows(n: number, seed: number, days: readonly [number, number]): LabelledRows {
  const rand = mulberry32(seed);
  const x = new Float64Array(n * 2);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const d = days[0] + (days[1] - days[0]) * rand();
    const other = rand();
    x[i * 2] = d;
    x[i * 2 + 1] = other;
    const margin = 3 * d - 2 + (other > 0.7 ? 1 : 0);
    y[i] = rand() < 1 / (1 + Math.exp(-margin)) ? 1 : 0;
  }
  return { x, y, cols: 2 };
}

const ids = (n: number) => Array.from({ length: n }, (_, i) => `u${i}`);

describe('churn trees from a logistic base', () => {
  const train = plantedRows(4000, 1, [0, 1]);
  const later = plantedRows(4000, 2, [1, 2]);

  it('scores as the logistic model exactly with zero trees, and sums its drivers to the margin', () => {
    const base = fitLogisticChurn(train, 1);
    const { fit } = fitGbdtChurn(train, { maxDepth: 2, nTrees: 40 }, undefined, base);
    const none = { ...fit, model: fit.model.truncated(0) };
    expect(none.model.treeCount).toBe(0);
    expect(Array.from(churnMargins(none, later.x))).toEqual(Array.from(churnMargins(base, later.x)));
    expect(Array.from(churnProbabilities(none, later.x))).toEqual(
      Array.from(churnProbabilities(base, later.x)),
    );
    // With trees: the margin is the base's plus the trees', and the contributions still sum to it.
    const margins = churnMargins(fit, later.x);
    const trees = fit.model.predictMargin(later.x);
    const linear = churnMargins(base, later.x);
    for (let i = 0; i < 20; i++) {
      expect(margins[i]!).toBeCloseTo(trees[i]! + linear[i]!, 12);
      const contributions = churnContributions(fit, later.x.subarray(i * 2, i * 2 + 2));
      expect(contributions.reduce((s, v) => s + v, 0)).toBeCloseTo(margins[i]!, 9);
    }
  });

  it('keeps ranking by the trend beyond the training range, where plain trees are flat', () => {
    const plain = tunedGbdt(ids(4000), train, Int8Array.from([1, 0]), ['none']);
    const boosted = tunedGbdt(ids(4000), train, Int8Array.from([1, 0]), ['logistic']);
    expect(plain.base).toBe('none');
    expect(boosted.base).toBe('logistic');
    expect(boosted.fit.base).toBeDefined();
    const auc = (p: Float64Array) => rocAuc(later.y, p);
    expect(auc(churnProbabilities(boosted.fit, later.x))).toBeGreaterThan(
      auc(churnProbabilities(plain.fit, later.x)) + 0.05,
    );
  });

  it('travels in the artifact with its base and scores the same after decoding', () => {
    const { fit } = fitGbdtChurn(train, { maxDepth: 2, nTrees: 20 }, undefined, fitLogisticChurn(train, 1));
    const data = { format: 3, columns: [], model: fit } as unknown as ChurnArtifactData;
    const back = decodeChurnArtifact(encodeChurnArtifact(data));
    expect(back.model.kind === 'gbdt' && back.model.base !== undefined).toBe(true);
    expect(Array.from(churnMargins(back.model, later.x))).toEqual(Array.from(churnMargins(fit, later.x)));
  });
});
