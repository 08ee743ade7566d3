import { describe, expect, it } from 'vitest';
import { encodeContext, type EncodedContext } from './features.js';
import type { DecisionLog } from './log.js';
import { fitRewardModel, randomFolds } from './reward-model.js';

function base(rows: number): Pick<DecisionLog, 'rows' | 'positions' | 'position'> {
  return { rows, positions: null, position: null };
}

describe('encodeContext', () => {
  it('standardizes numbers with a missing indicator, one-hots text, and drops constants', () => {
    const encoded = encodeContext(
      {
        ...base(4),
        context: [
          { kind: 'numeric', name: 'age', values: Float64Array.of(1, 2, 3, Number.NaN) },
          { kind: 'numeric', name: 'flat', values: Float64Array.of(5, 5, 5, 5) },
          { kind: 'text', name: 'c', codes: Int32Array.of(0, 1, 1, -1), levels: ['a', 'b'] },
          { kind: 'text', name: 'one', codes: Int32Array.of(0, 0, 0, 0), levels: ['z'] },
        ],
      },
      { maxLevels: 1 },
    );
    // age: mean 2, population sd √(2/3); the missing row sits at the mean. c keeps its most frequent level.
    expect(encoded.names).toEqual(['age', 'age (missing)', 'c=b']);
    const sd = Math.sqrt(2 / 3);
    const rows = [0, 1, 2, 3].map((i) => [...encoded.values.subarray(i * 3, i * 3 + 3)]);
    expect(rows[0]![0]).toBeCloseTo(-1 / sd, 12);
    expect(rows.map((r) => r[0])).toEqual([rows[0]![0], 0, -rows[0]![0]!, 0]);
    expect(rows.map((r) => r[1])).toEqual([0, 0, 0, 1]);
    expect(rows.map((r) => r[2])).toEqual([0, 1, 1, 0]);
  });

  it('one-hots the position when the log has several', () => {
    const encoded = encodeContext({
      rows: 3,
      positions: ['1', '2'],
      position: Int32Array.of(0, 1, 0),
      context: [],
    });
    expect(encoded.names).toEqual(['position=1', 'position=2']);
    expect([...encoded.values]).toEqual([1, 0, 0, 1, 1, 0]);
  });
});

/** A log of two actions on one feature x, with rewards from `reward(action, x)`. */
function linearLog(rows: number, reward: (action: number, x: number) => number) {
  const x = Float64Array.from({ length: rows }, (_, i) => ((i * 7919) % 101) / 50 - 1);
  const action = Int32Array.from({ length: rows }, (_, i) => i % 2);
  const log = {
    rows,
    actions: ['a', 'b'],
    action,
    reward: Float64Array.from({ length: rows }, (_, i) => reward(action[i]!, x[i]!)),
  };
  const features: EncodedContext = { rows, dimension: 1, values: x, names: ['x'] };
  return { log, features, x };
}

describe('fitRewardModel', () => {
  it('recovers noise-free linear rewards per action', () => {
    const { log, features, x } = linearLog(200, (a, v) => (a === 0 ? 2 + 3 * v : -1 + 0.5 * v));
    const model = fitRewardModel(log, features, { seed: 7 });
    for (const i of [0, 17, 99, 150]) {
      expect(model.predict(i, 0)).toBeCloseTo(2 + 3 * x[i]!, 2);
      expect(model.predict(i, 1)).toBeCloseTo(-1 + 0.5 * x[i]!, 2);
      const pi = Float64Array.of(0.25, 0.75);
      expect(model.expected(i, pi)).toBeCloseTo(0.25 * model.predict(i, 0) + 0.75 * model.predict(i, 1), 12);
      expect(model.expectedAveraged(i, model.averaged(pi))).toBeCloseTo(model.expected(i, pi), 12);
    }
  });

  it('shares slopes across actions when asked, each action keeping its intercept', () => {
    const { log, features, x } = linearLog(200, (a, v) => (a === 0 ? 2 + 3 * v : -1 + 3 * v));
    const model = fitRewardModel(log, features, { sharedSlopes: true });
    expect(model.predict(5, 0)).toBeCloseTo(2 + 3 * x[5]!, 2);
    expect(model.predict(5, 1)).toBeCloseTo(-1 + 3 * x[5]!, 2);
  });

  it('never scores a row with a model that saw its reward (cross-fitting)', () => {
    const { log, features } = linearLog(40, (a, v) => a + v);
    const fold = randomFolds(40, 2, 3);
    const before = fitRewardModel(log, features, { foldOf: fold });
    const changed = { ...log, reward: log.reward.slice() };
    changed.reward[0] = 100;
    const after = fitRewardModel(changed, features, { foldOf: fold });
    const sameFold = [...fold.keys()].filter((i) => fold[i] === fold[0]);
    const otherFold = [...fold.keys()].filter((i) => fold[i] !== fold[0]);
    for (const i of sameFold) expect(after.predict(i, 0)).toBe(before.predict(i, 0));
    expect(after.predict(otherFold[0]!, 0)).not.toBe(before.predict(otherFold[0]!, 0));
  });

  it('splits rows into balanced folds, deterministic by seed', () => {
    const fold = randomFolds(11, 3, 5);
    const sizes = [0, 1, 2].map((f) => fold.filter((v) => v === f).length);
    expect(sizes.sort()).toEqual([3, 4, 4]);
    expect(randomFolds(11, 3, 5)).toEqual(fold);
  });

  it('predicts the training mean for an action the training folds lack, and stays finite with few rows', () => {
    // Action b appears only in fold 0; rows of fold 0 are scored by fold 1, which has only a's rewards 1, 3.
    const log = {
      rows: 4,
      actions: ['a', 'b'],
      action: Int32Array.of(0, 1, 0, 0),
      reward: Float64Array.of(1, 5, 1, 3),
    };
    const features: EncodedContext = {
      rows: 4,
      dimension: 2,
      values: Float64Array.of(1, 0, 0, 1, 1, 1, -1, 2),
      names: ['u', 'v'],
    };
    const model = fitRewardModel(log, features, { foldOf: Uint8Array.of(0, 0, 1, 1) });
    expect(model.predict(0, 1)).toBe(2);
    // Out-of-range action indices (a fixed policy's unlogged actions) get that mean too.
    expect(model.predict(0, 2)).toBe(2);
    // Two training rows for a: no slopes (too few rows), their mean.
    expect(model.predict(1, 0)).toBeCloseTo(2, 12);
    // Rows of fold 1 are scored by fold 0: a's one reward 1 and b's 5.
    expect(model.predict(2, 0)).toBe(1);
    expect(model.predict(3, 1)).toBe(5);
  });
});
