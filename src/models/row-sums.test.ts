import { describe, expect, it } from 'vitest';
import { csrFromCoo } from './csr.js';
import { mulberry32 } from './random.js';
import { DenseRowSums, denseRowSums, rowSumsLimits, SparseRowSums, sparseRowSums } from './row-sums.js';

describe('DenseRowSums', () => {
  it('sums weighted rows as a double-precision loop does, for any width and history length', () => {
    const random = mulberry32(11);
    for (const cols of [1, 15, 16, 17, 100]) {
      const rows = 40;
      const matrix = Float32Array.from({ length: rows * cols }, () => random() * 2 - 1);
      const sums = new DenseRowSums(matrix, rows, cols);
      // 5,000 entries run in two calls into the kernel (its scratch holds 4,096).
      for (const length of [0, 1, 7, 5_000]) {
        const items = Int32Array.from({ length }, () => Math.floor(random() * rows));
        const weights = Float32Array.from({ length }, () => random());
        const out = new Float32Array(cols).fill(42);
        sums.sum(items, weights, out);
        for (let j = 0; j < cols; j++) {
          let expected = 0;
          for (let k = 0; k < length; k++) expected += weights[k]! * matrix[items[k]! * cols + j]!;
          expect(Math.abs(out[j]! - expected)).toBeLessThan(1e-6 * Math.max(1, length));
        }
      }
    }
  });

  it('adds nothing for indices outside the rows, negative ones included', () => {
    const sums = new DenseRowSums(Float32Array.from([1, 2, 3, 4]), 2, 2);
    const out = new Float32Array(2);
    sums.sum(Int32Array.from([-1, 1, 2, 0]), Float32Array.from([100, 1, 100, 0.5]), out);
    expect(Array.from(out)).toEqual([3.5, 5]);
  });

  it('refuses a matrix that is not rows × cols', () => {
    expect(() => new DenseRowSums(new Float32Array(5), 2, 3)).toThrow(/5 floats are not 2 rows of 3/);
  });
});

describe('SparseRowSums', () => {
  function randomGraph(rows: number, cols: number, perRow: number, seed: number) {
    const random = mulberry32(seed);
    const rowIdx: number[] = [];
    const colIdx: number[] = [];
    const values: number[] = [];
    for (let i = 0; i < rows; i++) {
      const taken = new Set<number>();
      for (let e = 0; e < perRow; e++) {
        const j = Math.floor(random() * cols);
        if (taken.has(j)) continue;
        taken.add(j);
        rowIdx.push(i);
        colIdx.push(j);
        values.push(random() * 2 - 1);
      }
    }
    return csrFromCoo({ rows, cols, rowIdx, colIdx, values }).matrix;
  }

  it('scatters weighted rows as a double-precision loop does, and keeps the matrix readable', () => {
    const random = mulberry32(3);
    const graph = randomGraph(60, 60, 12, 9);
    const sums = new SparseRowSums(graph);
    expect(Array.from(sums.matrix.indptr)).toEqual(Array.from(graph.indptr));
    expect(Array.from(sums.matrix.indices)).toEqual(Array.from(graph.indices));
    expect(Array.from(sums.matrix.data)).toEqual(Array.from(graph.data));
    for (const length of [0, 1, 30, 5_000]) {
      const items = Int32Array.from({ length }, () => Math.floor(random() * 60));
      const weights = Float32Array.from({ length }, () => random());
      const expected = new Float64Array(60);
      for (let k = 0; k < length; k++) {
        const i = items[k]!;
        for (let q = graph.indptr[i]!; q < graph.indptr[i + 1]!; q++) {
          expected[graph.indices[q]!]! += weights[k]! * graph.data[q]!;
        }
      }
      const out = new Float32Array(60).fill(7);
      sums.sum(items, weights, out);
      for (let j = 0; j < 60; j++) {
        expect(Math.abs(out[j]! - expected[j]!)).toBeLessThan(1e-6 * Math.max(1, length));
      }
    }
  });

  it('adds nothing for indices outside the rows, negative ones included', () => {
    // Row 0 points to column 1 with 2; row 1 to column 0 with 3.
    const graph = csrFromCoo({ rows: 2, cols: 2, rowIdx: [0, 1], colIdx: [1, 0], values: [2, 3] }).matrix;
    const out = new Float32Array(2);
    new SparseRowSums(graph).sum(Int32Array.from([-1, 0, 2, 1]), Float32Array.from([9, 1, 9, 0.5]), out);
    expect(Array.from(out)).toEqual([1.5, 2]);
  });
});

describe('row sums past the kernel memory limits', () => {
  it('come from the plain loops, which sum what the kernels sum', () => {
    const random = mulberry32(5);
    const dense = Float32Array.from({ length: 30 * 30 }, () => random() * 2 - 1);
    const graph = csrFromCoo({
      rows: 30,
      cols: 30,
      rowIdx: Array.from({ length: 30 * 5 }, (_, e) => Math.floor(e / 5)),
      colIdx: Array.from({ length: 30 * 5 }, (_, e) => (Math.floor(e / 5) * 7 + (e % 5) * 3) % 30),
      values: Array.from({ length: 30 * 5 }, () => random()),
    }).matrix;
    const items = Int32Array.from({ length: 40 }, (_, k) => (k === 3 ? -1 : Math.floor(random() * 30)));
    const weights = Float32Array.from({ length: 40 }, () => random());
    const onKernels = [denseRowSums(dense, 30, 30), sparseRowSums(graph)];
    const limits = { ...rowSumsLimits };
    rowSumsLimits.denseBytes = 0;
    rowSumsLimits.sparseBytes = 0;
    try {
      const looped = [denseRowSums(dense, 30, 30), sparseRowSums(graph)];
      expect(looped.some((sums) => sums instanceof DenseRowSums || sums instanceof SparseRowSums)).toBe(
        false,
      );
      expect(sparseRowSums(graph).matrix).toBe(graph);
      onKernels.forEach((kernel, m) => {
        const expected = new Float32Array(30);
        const got = new Float32Array(30).fill(9);
        kernel.sum(items, weights, expected);
        looped[m]!.sum(items, weights, got);
        expect(got.some((v) => v !== 0)).toBe(true);
        got.forEach((v, j) => expect(v).toBeCloseTo(expected[j]!, 5));
      });
    } finally {
      Object.assign(rowSumsLimits, limits);
    }
  });
});
