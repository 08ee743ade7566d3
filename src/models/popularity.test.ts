import { describe, expect, it } from 'vitest';
import { csrFromCoo } from './csr.js';
import { newUserProfile, plantedClusters } from './fixtures.js';
import { fitPopularity } from './popularity.js';

const DAY = 86_400_000;

describe('popularity', () => {
  it('without decay scores each item by its interaction count', () => {
    const matrix = plantedClusters();
    const model = fitPopularity({ matrix }, { halfLifeDays: null });
    const counts = new Array<number>(matrix.cols).fill(0);
    for (const i of matrix.indices) counts[i]!++;
    const out = new Float32Array(matrix.cols);
    model.score(newUserProfile([]), out);
    expect(Array.from(out)).toEqual(counts);
  });

  it('decays each interaction by half per half-life before now', () => {
    // Item 0: two interactions 20 days old; item 1: one interaction now; item 2: one 10 days old.
    const now = 1_700_000_000_000;
    const { matrix, times } = csrFromCoo({
      rows: 3,
      cols: 3,
      rowIdx: [0, 1, 2, 0],
      colIdx: [0, 0, 1, 2],
      values: [1, 1, 1, 1],
      times: [now - 20 * DAY, now - 20 * DAY, now, now - 10 * DAY],
    });
    const model = fitPopularity({ matrix, times: times! }, { halfLifeDays: 10 });
    const out = new Float32Array(3);
    model.score(newUserProfile([]), out);
    expect(out[0]).toBeCloseTo(0.5, 6);
    expect(out[1]).toBeCloseTo(1, 6);
    expect(out[2]).toBeCloseTo(0.5, 6);
    // Without decay item 0 would lead; with it the fresh item does.
    expect(model.similar(2, 3).map((e) => e.index)).toEqual([1, 0]);
    // An explicit `now` ten days later halves everything again.
    const later = fitPopularity({ matrix, times: times!, now: now + 10 * DAY }, { halfLifeDays: 10 });
    later.score(newUserProfile([]), out);
    expect(out[1]).toBeCloseTo(0.5, 6);
    expect(out[0]).toBeCloseTo(0.25, 6);
  });

  it('counts fully when no times are given, and entries after now fully', () => {
    const { matrix, times } = csrFromCoo({
      rows: 1,
      cols: 2,
      rowIdx: [0, 0],
      colIdx: [0, 1],
      values: [2, 1],
      times: [5, 10],
    });
    const out = new Float32Array(2);
    fitPopularity({ matrix }, { halfLifeDays: 1 }).score(newUserProfile([]), out);
    expect(Array.from(out)).toEqual([2, 1]);
    fitPopularity({ matrix, times: times!, now: 0 }, { halfLifeDays: 1 }).score(newUserProfile([]), out);
    expect(Array.from(out)).toEqual([2, 1]);
  });

  it('similar lists the most popular other items; evidence is popularity', () => {
    const { matrix } = csrFromCoo({
      rows: 3,
      cols: 3,
      rowIdx: [0, 1, 2, 0],
      colIdx: [2, 2, 2, 0],
      values: [1, 1, 1, 1],
    });
    const model = fitPopularity({ matrix }, { halfLifeDays: null });
    expect(model.similar(2, 5)).toEqual([
      { index: 0, score: 1 },
      { index: 1, score: 0 },
    ]);
    expect(model.evidence(newUserProfile([0]), 2)).toEqual({ kind: 'popular', popularity: 3 });
  });

  it('rejects invalid params', () => {
    expect(() => fitPopularity({ matrix: plantedClusters() }, { halfLifeDays: 0 })).toThrow(/halfLifeDays/);
  });
});
