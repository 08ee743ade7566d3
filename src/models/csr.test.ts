import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assertCsr, csrFromCoo, csrGet, rowData, rowIndices, transpose, transposeAligned } from './csr.js';
import { TopKHeap, topK } from './topk.js';
import type { CsrMatrix } from './types.js';

/** Dense form of a CSR matrix, for comparisons. */
function dense(m: CsrMatrix): number[][] {
  const out = Array.from({ length: m.rows }, () => new Array<number>(m.cols).fill(0));
  for (let r = 0; r < m.rows; r++) {
    for (let k = m.indptr[r]!; k < m.indptr[r + 1]!; k++) out[r]![m.indices[k]!] = m.data[k]!;
  }
  return out;
}

describe('csrFromCoo', () => {
  it('sorts columns, sums duplicates and keeps the latest time', () => {
    const { matrix, times } = csrFromCoo({
      rows: 3,
      cols: 4,
      rowIdx: [2, 0, 0, 2, 0],
      colIdx: [1, 3, 0, 1, 3],
      values: [1, 2, 5, 4, 0.5],
      times: [10, 20, 30, 5, 25],
    });
    expect(Array.from(matrix.indptr)).toEqual([0, 2, 2, 3]);
    expect(Array.from(matrix.indices)).toEqual([0, 3, 1]);
    expect(Array.from(matrix.data)).toEqual([5, 2.5, 5]);
    expect(Array.from(times!)).toEqual([30, 25, 10]);
    assertCsr(matrix);
  });

  it('handles long rows (keyed sort path) like short ones', () => {
    const cols = Array.from({ length: 100 }, (_, k) => (k * 37) % 50);
    const { matrix } = csrFromCoo({
      rows: 1,
      cols: 50,
      rowIdx: cols.map(() => 0),
      colIdx: cols,
      values: cols.map(() => 1),
    });
    expect(Array.from(matrix.indices)).toEqual(Array.from({ length: 50 }, (_, k) => k));
    expect(Array.from(matrix.data)).toEqual(new Array<number>(50).fill(2));
  });

  it('rejects entries outside the shape', () => {
    expect(() => csrFromCoo({ rows: 2, cols: 2, rowIdx: [2], colIdx: [0], values: [1] })).toThrow(RangeError);
    expect(() => csrFromCoo({ rows: 2, cols: 2, rowIdx: [0], colIdx: [-1], values: [1] })).toThrow(
      RangeError,
    );
    expect(() => csrFromCoo({ rows: 2, cols: 2, rowIdx: [0, 1], colIdx: [0], values: [1] })).toThrow(
      RangeError,
    );
  });

  it('matches a dense accumulation on random triplets', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(5), fc.nat(6), fc.integer({ min: 1, max: 9 })), { maxLength: 60 }),
        (entries) => {
          const { matrix } = csrFromCoo({
            rows: 6,
            cols: 7,
            rowIdx: entries.map((e) => e[0]),
            colIdx: entries.map((e) => e[1]),
            values: entries.map((e) => e[2]),
          });
          const expected = Array.from({ length: 6 }, () => new Array<number>(7).fill(0));
          for (const [r, c, v] of entries) expected[r]![c]! += v;
          assertCsr(matrix);
          expect(dense(matrix)).toEqual(expected);
          expect(dense(transpose(transpose(matrix)))).toEqual(expected);
        },
      ),
    );
  });
});

describe('transpose and row helpers', () => {
  const { matrix, times } = csrFromCoo({
    rows: 2,
    cols: 3,
    rowIdx: [0, 0, 1, 1],
    colIdx: [0, 2, 1, 2],
    values: [1, 2, 3, 4],
    times: [100, 200, 300, 400],
  });

  it('transposes with sorted indices', () => {
    const t = transpose(matrix);
    expect(t.rows).toBe(3);
    expect(t.cols).toBe(2);
    expect(dense(t)).toEqual([
      [1, 0],
      [0, 3],
      [2, 4],
    ]);
    assertCsr(t);
  });

  it('carries per-entry values into the transpose order', () => {
    expect(Array.from(transposeAligned(matrix, times!))).toEqual([100, 300, 200, 400]);
  });

  it('exposes rows as views and single values', () => {
    expect(Array.from(rowIndices(matrix, 1))).toEqual([1, 2]);
    expect(Array.from(rowData(matrix, 1))).toEqual([3, 4]);
    expect(rowIndices(matrix, 1).buffer).toBe(matrix.indices.buffer);
    expect(csrGet(matrix, 1, 2)).toBe(4);
    expect(csrGet(matrix, 1, 0)).toBe(0);
  });

  it('assertCsr rejects unsorted or out-of-range columns', () => {
    const bad: CsrMatrix = {
      rows: 1,
      cols: 3,
      indptr: Int32Array.of(0, 2),
      indices: Int32Array.of(2, 1),
      data: Float32Array.of(1, 1),
    };
    expect(() => assertCsr(bad)).toThrow(/unsorted/);
    const wide: CsrMatrix = { ...bad, indices: Int32Array.of(1, 3) };
    expect(() => assertCsr(wide)).toThrow(/out-of-range/);
  });
});

describe('topK', () => {
  it('returns the best scores first, ties to the lower index', () => {
    const scores = Float32Array.of(1, 5, 3, 5, 2, 5);
    expect(topK(scores, 4)).toEqual([
      { index: 1, score: 5 },
      { index: 3, score: 5 },
      { index: 5, score: 5 },
      { index: 2, score: 3 },
    ]);
  });

  it('keeps the lower index when a tie straddles the cut', () => {
    expect(topK(Float32Array.of(2, 7, 7, 7), 2).map((e) => e.index)).toEqual([1, 2]);
    expect(topK(Float32Array.of(7, 1, 7, 7), 1).map((e) => e.index)).toEqual([0]);
  });

  it('honours a mask and a predicate, skips NaN, clamps k', () => {
    const scores = Float32Array.of(9, 8, Number.NaN, 7, 6);
    expect(topK(scores, 2, Uint8Array.of(1, 0, 0, 0, 0)).map((e) => e.index)).toEqual([1, 3]);
    expect(topK(scores, 2, (i) => i === 1).map((e) => e.index)).toEqual([0, 3]);
    expect(topK(scores, 10).map((e) => e.index)).toEqual([0, 1, 3, 4]);
    expect(topK(scores, 0)).toEqual([]);
    expect(topK(new Float32Array(0), 3)).toEqual([]);
  });

  it('agrees with a full stable sort, with NaN, -Infinity and excluded indices among the scores', () => {
    const value = fc.oneof(
      fc.integer({ min: -5, max: 5 }),
      fc.constant(Number.NaN),
      fc.constant(Number.NEGATIVE_INFINITY),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(value, fc.boolean()), { maxLength: 80 }), fc.nat(90), (entries, k) => {
        const scores = Float64Array.from(entries, ([score]) => score);
        const mask = Uint8Array.from(entries, ([, excluded]) => (excluded ? 1 : 0));
        const sorted = (keep: (index: number) => boolean) =>
          entries
            .map(([score], index) => ({ index, score }))
            .filter(({ index, score }) => !Number.isNaN(score) && keep(index))
            .sort((a, b) => (a.score === b.score ? a.index - b.index : b.score > a.score ? 1 : -1))
            .slice(0, k);
        expect(topK(scores, k)).toEqual(sorted(() => true));
        expect(topK(scores, k, mask)).toEqual(sorted((index) => mask[index] === 0));
        expect(topK(scores, k, (index) => mask[index] === 1)).toEqual(sorted((index) => mask[index] === 0));
      }),
    );
  });

  it('answers alike when a predicate selects too (re-entry), and with the heap reused across sizes', () => {
    const scores = Float64Array.from({ length: 300 }, (_, i) => (i * 37) % 101);
    const alone = topK(scores, 150, (i) => i % 3 === 0);
    const nested = topK(scores, 150, (i) => topK(scores, 2).length !== 2 || i % 3 === 0);
    expect(nested).toEqual(alone);
    expect(topK(scores, 3)).toEqual(topK(Float64Array.from(scores), 3));
    expect(topK(scores, 250).length).toBe(250);
  });

  it('TopKHeap accepts candidates in any order and can be reused', () => {
    const heap = new TopKHeap(3);
    heap.reset(2);
    for (const [i, s] of [
      [9, 1],
      [4, 3],
      [7, 3],
      [2, 3],
    ] as const) {
      heap.push(i, s);
    }
    const idx = new Int32Array(2);
    const val = new Float64Array(2);
    expect(heap.drain(idx, val)).toBe(2);
    expect(Array.from(idx)).toEqual([2, 4]);
    heap.reset(3);
    heap.push(5, 1);
    expect(heap.drainScored()).toEqual([{ index: 5, score: 1 }]);
    expect(() => heap.reset(4)).toThrow(RangeError);
  });
});
