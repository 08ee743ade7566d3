import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TopKSelector } from './topk.js';

function top(scores: number[], k: number, excluded: number[] = []): number[] {
  const exclude = new Uint8Array(scores.length);
  for (const item of excluded) exclude[item] = 1;
  const out = new Int32Array(k);
  const count = new TopKSelector(k).select(Float32Array.from(scores), exclude, out);
  return Array.from(out.subarray(0, count));
}

describe('TopKSelector', () => {
  it('orders by score descending, ties by the lower index', () => {
    expect(top([1, 3, 3, 2, 3], 3)).toEqual([1, 2, 4]);
    expect(top([0, 0, 0, 0], 2)).toEqual([0, 1]);
  });

  it('skips excluded items and returns fewer when fewer are eligible', () => {
    expect(top([5, 4, 3, 2], 3, [0, 2])).toEqual([1, 3]);
    expect(top([5, 4], 3, [0, 1])).toEqual([]);
  });

  it('ranks NaN as -Infinity', () => {
    expect(top([Number.NaN, -Infinity, 1], 3)).toEqual([2, 0, 1]);
  });

  it('agrees with a full sort', () => {
    const scores = fc.array(fc.integer({ min: -3, max: 3 }), { minLength: 0, maxLength: 60 });
    fc.assert(
      fc.property(scores, fc.integer({ min: 1, max: 10 }), fc.array(fc.nat(59)), (values, k, excluded) => {
        const skip = new Set(excluded.filter((item) => item < values.length));
        const expected = values
          .map((score, item) => ({ score, item }))
          .filter(({ item }) => !skip.has(item))
          .sort((a, b) => b.score - a.score || a.item - b.item)
          .slice(0, k)
          .map(({ item }) => item);
        expect(top(values, k, [...skip])).toEqual(expected);
      }),
    );
  });

  it('reuses its heap across calls', () => {
    const selector = new TopKSelector(2);
    const out = new Int32Array(2);
    expect(selector.select(Float32Array.from([1, 2, 3]), null, out)).toBe(2);
    expect(Array.from(out)).toEqual([2, 1]);
    expect(selector.select(Float32Array.from([3, 2, 1]), null, out)).toBe(2);
    expect(Array.from(out)).toEqual([0, 1]);
  });

  it('rejects a k that is not a positive integer', () => {
    expect(() => new TopKSelector(0)).toThrow(RangeError);
  });
});
