import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { csrFromCoo } from './csr.js';
import { newUserProfile, plantedClusters, rowProfile } from './fixtures.js';
import { fitItemKnn } from './itemknn.js';
import type { CsrMatrix } from './types.js';

/**
 * users × items:      item 0  1  2  3
 *   u0                     1  1  .  .
 *   u1                     w  1  1  .
 *   u2                     .  1  1  .
 *   u3                     .  .  .  2
 */
function small(w = 1): CsrMatrix {
  return csrFromCoo({
    rows: 4,
    cols: 4,
    rowIdx: [0, 0, 1, 1, 1, 2, 2, 3],
    colIdx: [0, 1, 0, 1, 2, 1, 2, 3],
    values: [1, 1, w, 1, 1, 1, 1, 2],
  }).matrix;
}

function scores(model: ReturnType<typeof fitItemKnn>, items: number[], weights?: number[]): number[] {
  const out = new Float32Array(model.nItems);
  model.score(newUserProfile(items, weights), out);
  return Array.from(out);
}

describe('item-kNN similarities', () => {
  it('are cosines of co-occurrence counts on binary data', () => {
    const model = fitItemKnn({ matrix: small() }, { neighbors: 100, shrinkage: 0 });
    // c01 = 2, c02 = 1, c12 = 2; n0 = 2, n1 = 3, n2 = 2.
    const [s0, s1, s2, s3] = scores(model, [0]);
    expect(s0).toBe(0);
    expect(s1).toBeCloseTo(2 / Math.sqrt(6), 6);
    expect(s2).toBeCloseTo(1 / 2, 6);
    expect(s3).toBe(0);
    expect(model.similar(1, 5).map((e) => e.index)).toEqual([0, 2]);
    expect(model.similar(1, 5)[0]!.score).toBeCloseTo(2 / Math.sqrt(6), 6);
  });

  it('use the weights and damp with shrinkage', () => {
    const weighted = fitItemKnn({ matrix: small(3) }, { neighbors: 100, shrinkage: 0 });
    expect(scores(weighted, [0])[1]).toBeCloseTo(4 / Math.sqrt(30), 6);
    const shrunk = fitItemKnn({ matrix: small() }, { neighbors: 100, shrinkage: 1 });
    expect(scores(shrunk, [0])[1]).toBeCloseTo(2 / (Math.sqrt(6) + 1), 6);
  });

  it('score a candidate from its own neighbour list, ties kept for the lower index', () => {
    // neighbours: N(0) = {1}; N(1) = {0, 2} tie, keeps 0; N(2) = {1}.
    const model = fitItemKnn({ matrix: small() }, { neighbors: 1, shrinkage: 0 });
    expect(model.similar(1, 5).map((e) => e.index)).toEqual([0]);
    const fromZero = scores(model, [0]);
    expect(fromZero[1]).toBeCloseTo(2 / Math.sqrt(6), 6);
    expect(fromZero[2]).toBe(0);
    const fromTwo = scores(model, [2]);
    expect(fromTwo[1]).toBe(0);
    expect(fromTwo[0]).toBe(0);
  });

  it('match a brute-force dense computation on random data', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(7), fc.nat(9), fc.integer({ min: 1, max: 4 })), {
          minLength: 1,
          maxLength: 50,
        }),
        fc.integer({ min: 1, max: 4 }),
        fc.constantFrom(0, 0.5),
        (entries, k, shrinkage) => {
          const { matrix } = csrFromCoo({
            rows: 8,
            cols: 10,
            rowIdx: entries.map((e) => e[0]),
            colIdx: entries.map((e) => e[1]),
            values: entries.map((e) => e[2]),
          });
          const w = Array.from({ length: 8 }, () => new Array<number>(10).fill(0));
          for (let u = 0; u < 8; u++) {
            for (let q = matrix.indptr[u]!; q < matrix.indptr[u + 1]!; q++)
              w[u]![matrix.indices[q]!] = matrix.data[q]!;
          }
          const norm = (i: number): number => Math.sqrt(w.reduce((s, row) => s + row[i]! ** 2, 0));
          const model = fitItemKnn({ matrix }, { neighbors: k, shrinkage });
          for (let j = 0; j < 10; j++) {
            const expected: { index: number; score: number }[] = [];
            for (let i = 0; i < 10; i++) {
              const dot = w.reduce((s, row) => s + row[i]! * row[j]!, 0);
              if (i !== j && dot > 0)
                expected.push({ index: i, score: dot / (norm(i) * norm(j) + shrinkage) });
            }
            // Neighbours are chosen in double precision, then listed by their stored float32 value.
            expected.sort((a, b) => b.score - a.score || a.index - b.index);
            const kept = expected
              .slice(0, k)
              .sort((a, b) => Math.fround(b.score) - Math.fround(a.score) || a.index - b.index);
            const got = model.similar(j, 100);
            expect(got.map((e) => e.index)).toEqual(kept.map((e) => e.index));
            got.forEach((e, r) => expect(e.score).toBeCloseTo(kept[r]!.score, 5));
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('item-kNN recommendations', () => {
  it('rank a user’s unseen own-cluster items above the other cluster', () => {
    const matrix = plantedClusters(40, 20);
    const model = fitItemKnn({ matrix }, { neighbors: 100, shrinkage: 0 });
    const out = new Float32Array(20);
    for (const u of [0, 5, 25, 39]) {
      const profile = rowProfile(matrix, u);
      model.score(profile, out);
      const own = u < 20 ? [0, 10] : [10, 20];
      const seen = new Set(profile.items);
      let minOwn = Infinity;
      let maxOther = -Infinity;
      for (let i = 0; i < 20; i++) {
        if (seen.has(i)) continue;
        if (i >= own[0]! && i < own[1]!) minOwn = Math.min(minOwn, out[i]!);
        else maxOther = Math.max(maxOther, out[i]!);
      }
      expect(minOwn).toBeGreaterThan(maxOther);
    }
    expect(model.similar(3, 9).every((e) => e.index < 10)).toBe(true);
  });

  it('explain with the history item contributing most, else popularity', () => {
    const model = fitItemKnn({ matrix: small() }, { neighbors: 100, shrinkage: 0 });
    expect(model.evidence(newUserProfile([2, 0]), 1)).toEqual({
      kind: 'item',
      item: 0,
      similarity: expect.closeTo(0.8165, 4),
    });
    expect(model.evidence(newUserProfile([0, 2], [1, 2]), 1)).toMatchObject({ kind: 'item', item: 2 });
    expect(model.evidence(newUserProfile([0]), 3)).toEqual({ kind: 'popular', popularity: 2 });
  });

  it('ignore profile items outside the catalog', () => {
    const model = fitItemKnn({ matrix: small() }, { neighbors: 100, shrinkage: 0 });
    expect(scores(model, [0, 99, -1])).toEqual(scores(model, [0]));
  });
});
