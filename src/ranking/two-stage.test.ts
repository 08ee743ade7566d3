import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../models/random.js';
import { fakeGenerator, heldOutOf, inputOf, type Row } from './fixtures.js';
import { rerankTopK, validateTwoStage } from './two-stage.js';

/**
 * 160 "early" users took 10 of 40 old items in days 0–18; 160 "late" users took 5 old items (days 35–43),
 * 2 of the new items 40–45 (days 31, 33) and 3 of the new items 46–59 (days 52–56). What each early user
 * took next (held out) is 3 of items 40–45: nothing in their own history points there, but the fitted log
 * does — those items are the ones that appeared first after the user's last day, and have been around
 * longest by the log's end.
 */
function plantedLog() {
  const random = mulberry32(9);
  const nUsers = 320;
  const nItems = 60;
  const fit: Row[] = [];
  const held: Row[] = [];
  const pick = (from: number, count: number, n: number): number[] => {
    const set = new Set<number>();
    while (set.size < n) set.add(from + Math.floor(random() * count));
    return [...set];
  };
  for (let u = 0; u < nUsers; u++) {
    if (u < 160) {
      pick(0, 40, 10).forEach((item, j) => fit.push([u, item, 2 * j]));
      pick(40, 6, 3).forEach((item) => held.push([u, item, 40]));
    } else {
      pick(40, 6, 2).forEach((item, j) => fit.push([u, item, 31 + 2 * j]));
      pick(0, 40, 5).forEach((item, j) => fit.push([u, item, 35 + 2 * j]));
      pick(46, 14, 3).forEach((item, j) => fit.push([u, item, 52 + 2 * j]));
    }
  }
  return { input: inputOf(fit, nUsers, nItems), heldOut: heldOutOf(held, nUsers), nUsers, nItems };
}

/** A generator whose scores are a fixed hash of (user, item): any order, no knowledge. */
const hashed = (user: number, item: number) => ((user * 7919 + item * 104_729) % 1_000) / 1_000;

describe('validateTwoStage', () => {
  it('chooses the re-ranker when it validates better: the planted time signal beats a blind generator', () => {
    const { input, heldOut, nUsers, nItems } = plantedLog();
    const generator = fakeGenerator(nUsers, nItems, hashed);
    const result = validateTwoStage(generator, input, heldOut, { k: 10, candidates: 50, folds: 2 });
    expect(result.users).toBe(160);
    expect(result.generatorNdcg).toBeLessThan(0.3);
    expect(result.ndcg).toBeGreaterThan(result.generatorNdcg + 0.3);
    expect(result.chosen).toBe(true);
    expect(result.tried.map((t) => t.objective)).toEqual(['pointwise', 'lambdarank']);
    // The final ranker, trained on every validation list, ranks new items first for an early user.
    const ranked = rerankTopK(generator, input, Int32Array.from([0]), result.ranker, 10, 50);
    expect([...ranked.items.subarray(0, 3)].every((item) => item >= 40)).toBe(true);
  });

  it('refuses the re-ranker when it validates worse than the generator', () => {
    const { input, heldOut, nUsers, nItems } = plantedLog();
    const relevant = new Set<string>();
    for (let u = 0; u < nUsers; u++) {
      for (let j = heldOut.indptr[u]!; j < heldOut.indptr[u + 1]!; j++)
        relevant.add(`${u}:${heldOut.items[j]}`);
    }
    // A good generator: held-out items mostly on top (noise puts a few below).
    const generator = fakeGenerator(
      nUsers,
      nItems,
      (u, i) => (relevant.has(`${u}:${i}`) ? 0.9 : 0) + hashed(u, i),
    );
    // Trees that may read only the item's count can tell new items from old but not which new items
    // this user takes, which the generator knows: re-ordering by the count loses that.
    const result = validateTwoStage(generator, input, heldOut, {
      k: 10,
      candidates: 50,
      folds: 2,
      features: ['item_count'],
    });
    expect(result.generatorNdcg).toBeGreaterThan(0.9);
    expect(result.ndcg).toBeLessThan(result.generatorNdcg - 0.1);
    expect(result.chosen).toBe(false);
  });
});
