import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BruteIndex, GridIndex, KdTree, radiusIndex, squaredDistanceInOrder } from './spatial.js';

/** Small matrices on a coarse lattice, so that pairs exactly eps apart (the edge case) are common. */
const matrices = fc
  .record({ n: fc.integer({ min: 1, max: 60 }), d: fc.integer({ min: 1, max: 4 }) })
  .chain(({ n, d }) =>
    fc.record({
      n: fc.constant(n),
      d: fc.constant(d),
      values: fc.array(fc.integer({ min: -4, max: 4 }), { minLength: n * d, maxLength: n * d }),
      scale: fc.constantFrom(1, 0.1, 0.3, 7.25),
      eps: fc.constantFrom(0.5, 1, 2, 3, Math.SQRT2, 0.1, 0.3),
    }),
  );

const sortedNeighbours = (size: number, out: Int32Array): number[] =>
  [...out.subarray(0, size)].sort((a, b) => a - b);

describe('radius indexes', () => {
  it('the grid and the k-d tree give exactly the brute-force neighbours and counts', () => {
    // Grids of 1, 2 and 3 cells per eps, where their table fits (not always in 4-D at small eps).
    let gridRuns = 0;
    fc.assert(
      fc.property(matrices, ({ n, d, values, scale, eps: unit }) => {
        const data = Float64Array.from(values, (v) => v * scale);
        const eps = unit * scale;
        const brute = new BruteIndex(data, n, d, eps);
        const grids = [1, 2, 3].map((reach) => GridIndex.build(data, n, d, eps, 1 << 20, reach));
        const indexes = [new KdTree(data, n, d, eps), ...grids.filter((grid) => grid !== undefined)];
        gridRuns += indexes.length - 1;
        const expected = new Int32Array(n);
        const got = new Int32Array(n);
        for (let row = 0; row < n; row++) {
          const want = sortedNeighbours(brute.neighbours(row, expected), expected);
          expect(want).toContain(row);
          for (const index of indexes) {
            expect(sortedNeighbours(index.neighbours(row, got), got)).toEqual(want);
            expect(index.count(row, 3)).toBe(Math.min(3, want.length));
            expect(index.count(row, Infinity)).toBe(want.length);
          }
        }
      }),
      { numRuns: 300 },
    );
    expect(gridRuns).toBeGreaterThan(500);
  });

  it('also on continuous coordinates, where pairs straddle cell borders at every offset', () => {
    const continuous = fc
      .record({ n: fc.integer({ min: 2, max: 120 }), d: fc.integer({ min: 1, max: 3 }) })
      .chain(({ n, d }) =>
        fc.record({
          n: fc.constant(n),
          d: fc.constant(d),
          values: fc.array(fc.double({ min: -3, max: 3, noNaN: true }), {
            minLength: n * d,
            maxLength: n * d,
          }),
          eps: fc.double({ min: 0.2, max: 2, noNaN: true }),
        }),
      );
    let built = 0;
    fc.assert(
      fc.property(continuous, ({ n, d, values, eps }) => {
        const data = Float64Array.from(values);
        const brute = new BruteIndex(data, n, d, eps);
        const expected = new Int32Array(n);
        const got = new Int32Array(n);
        for (const reach of [1, 2, 3]) {
          const grid = GridIndex.build(data, n, d, eps, 1 << 20, reach);
          if (grid === undefined) continue;
          built++;
          for (let row = 0; row < n; row++) {
            const want = sortedNeighbours(brute.neighbours(row, expected), expected);
            expect(sortedNeighbours(grid.neighbours(row, got), got)).toEqual(want);
          }
        }
      }),
      { numRuns: 200 },
    );
    expect(built).toBeGreaterThan(400);
  });

  it('keeps pairs a hair under eps apart at every position against the cell borders', () => {
    // Pair i: (x, 10 i) and (x + 0.9999999, 10 i), x sweeping [0, 3) in steps that are no multiple of a
    // cell; the pairs are 10 apart from each other. Cells narrower than eps / reach would split some.
    const pairs = 300;
    const data = new Float64Array(pairs * 4);
    for (let i = 0; i < pairs; i++) {
      const x = i * 0.01001;
      data.set([x, 10 * i, x + 0.9999999, 10 * i], i * 4);
    }
    const out = new Int32Array(2 * pairs);
    for (const reach of [1, 2, 3]) {
      const grid = GridIndex.build(data, 2 * pairs, 2, 1, 1 << 22, reach)!;
      for (let row = 0; row < 2 * pairs; row++) {
        expect(sortedNeighbours(grid.neighbours(row, out), out)).toEqual([row & ~1, row | 1]);
      }
    }
  });

  it('counts a pair exactly eps apart, and not one a hair beyond', () => {
    const data = Float64Array.from([0, 0, 3, 4, 3, 4.000001]);
    for (const kind of ['grid', 'kdtree', 'brute'] as const) {
      const index = radiusIndex(data, 3, 2, 5, kind);
      expect(index.kind).toBe(kind);
      expect(index.count(0, Infinity)).toBe(2);
    }
  });

  it('chooses a grid in two columns and a k-d tree in many, or when the grid would be too big', () => {
    const wide = Float64Array.from({ length: 40 }, (_, i) => i % 7);
    expect(radiusIndex(wide, 20, 2, 1).kind).toBe('grid');
    expect(radiusIndex(wide, 4, 10, 1).kind).toBe('kdtree');
    // 1e12 cells of 1e-6 over [0, 1]²: far beyond the dense grid's bound.
    expect(radiusIndex(Float64Array.from([0, 0, 1, 1]), 2, 2, 1e-6).kind).toBe('kdtree');
  });

  it("the k-d tree's k-th nearest distance is the brute-force one (the row itself first)", () => {
    fc.assert(
      fc.property(matrices, fc.integer({ min: 1, max: 6 }), ({ n, d, values, scale }, kRaw) => {
        const data = Float64Array.from(values, (v) => v * scale);
        const k = Math.min(kRaw, n);
        const tree = new KdTree(data, n, d);
        const heap = new Float64Array(k);
        for (let row = 0; row < n; row++) {
          const all = Array.from({ length: n }, (_, i) => squaredDistanceInOrder(data, row, data, i, d));
          all.sort((a, b) => a - b);
          expect(tree.kthNearestSquared(row, k, heap)).toBe(all[k - 1]);
        }
      }),
      { numRuns: 200 },
    );
  });
});
