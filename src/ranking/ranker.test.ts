import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../models/random.js';
import { listsOf } from './fixtures.js';
import { lambdarank, pointwise } from './objective.js';
import { defaultRankerParams, labelLists, listNdcg, scoreRows, trainRanker } from './ranker.js';

/**
 * 300 users with 40 candidates each in the generator's order, which knows nothing: the relevant items
 * (5 per user) sit at random places. A planted feature says which they are, through noise.
 */
function plantedLists() {
  const random = mulberry32(3);
  const nUsers = 300;
  const size = 40;
  const users = Array.from({ length: nUsers }, (_, u) => u);
  const lists = listsOf(
    users,
    users.map(() => Array.from({ length: size }, (_, j) => j)),
  );
  const heldIndptr = new Int32Array(nUsers + 1);
  const heldItems: number[] = [];
  const planted = lists.table.add('planted');
  const noise = lists.table.add('noise');
  const genRank = lists.table.add('gen_rank');
  for (let u = 0; u < nUsers; u++) {
    const relevant = new Set<number>();
    while (relevant.size < 5) relevant.add(Math.floor(random() * size));
    heldItems.push(...[...relevant].sort((a, b) => a - b));
    heldIndptr[u + 1] = heldItems.length;
    for (let j = 0; j < size; j++) {
      const row = u * size + j;
      planted[row] = (relevant.has(j) ? 1 : 0) + 0.6 * (random() - 0.5);
      noise[row] = random();
      genRank[row] = j;
    }
  }
  return labelLists(lists, { indptr: heldIndptr, items: Int32Array.from(heldItems) }, size);
}

const mean = (values: Float64Array) => values.reduce((a, b) => a + b, 0) / values.length;

describe('the re-ranker', () => {
  for (const objective of [pointwise, lambdarank]) {
    it(`${objective.name}: re-ranking by a planted feature lifts ndcg on users it was not trained on`, () => {
      const data = plantedLists();
      const train = Int32Array.from({ length: 200 }, (_, q) => q);
      const test = Int32Array.from({ length: 100 }, (_, q) => 200 + q);
      const features = ['gen_rank', 'noise', 'planted'];
      const ranker = trainRanker(data, train, features, objective, { ...defaultRankerParams, evalAt: 10 });
      const before = mean(listNdcg(data, null, 10, test).subarray(200));
      const after = mean(listNdcg(data, scoreRows(ranker, data.lists), 10, test).subarray(200));
      // Random order gives about 5/40 of the ideal; the planted feature separates almost every item.
      expect(before).toBeLessThan(0.25);
      expect(after).toBeGreaterThan(0.9);
      const gains = ranker.model.gainImportance();
      expect(gains[2]).toBeGreaterThan(gains[0]! + gains[1]!);
    });
  }

  it('measures ndcg against every held-out item, found among the candidates or not', () => {
    // One user, held out {7, 9}; the list finds 7 at rank 1 only.
    const lists = listsOf([0], [[3, 7, 5]]);
    const data = labelLists(lists, { indptr: Int32Array.from([0, 2]), items: Int32Array.from([7, 9]) }, 10);
    const ndcg = listNdcg(data, null, 20)[0]!;
    expect(ndcg).toBeCloseTo(1 / Math.log2(3) / (1 + 1 / Math.log2(3)), 12);
    // Re-ordered so that 7 comes first.
    const lifted = listNdcg(data, Float64Array.from([0, 1, 0]), 20)[0]!;
    expect(lifted).toBeCloseTo(1 / (1 + 1 / Math.log2(3)), 12);
  });
});
