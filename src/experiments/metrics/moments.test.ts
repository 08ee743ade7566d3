import { describe, expect, it } from 'vitest';

import { momentsOf, productIndex, productOf } from './moments.js';

describe('moments', () => {
  it('hold n, the sums and every product of two columns', () => {
    const x = Float64Array.from([1, 2, 3]);
    const y = Float64Array.from([0, 1, 4]);
    const m = momentsOf([x, y]);
    expect(m.n).toBe(3);
    expect([...m.sums]).toEqual([6, 5]);
    expect([productOf(m, 0, 0), productOf(m, 0, 1), productOf(m, 1, 0), productOf(m, 1, 1)]).toEqual([
      14, 14, 14, 17,
    ]);
  });

  it('lay the products out as the upper triangle, row by row', () => {
    const indices: number[] = [];
    for (let i = 0; i < 4; i++) for (let j = i; j < 4; j++) indices.push(productIndex(4, i, j));
    expect(indices).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('of no users are zero', () => {
    const m = momentsOf([new Float64Array(0), new Float64Array(0)]);
    expect([m.n, ...m.sums, ...m.products]).toEqual([0, 0, 0, 0, 0, 0]);
  });
});
