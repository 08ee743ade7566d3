import { describe, expect, it } from 'vitest';
import { ModelBundle } from '../training/bundle.js';
import { popularityBundle } from '../training/bundle-fixture.js';
import { rerankingRecord } from '../training/rerank.js';
import { DAY, plantedLog } from './fixtures.js';
import { positionBias } from './position-bias.js';
import { trainFromLoggedLists } from './train-reranker.js';

/** Mean of `values` over the rows where `pick` holds. */
const meanWhere = (values: Float64Array, pick: (j: number) => boolean): number => {
  let sum = 0;
  let n = 0;
  values.forEach((v, j) => {
    if (!pick(j)) return;
    sum += v;
    n++;
  });
  return sum / n;
};

describe('re-ranker trained on logged lists', () => {
  // Clicks follow the user's favourite category, which the generator's (random) scores know nothing of.
  const planted = plantedLog(300, 6, 0.85, (fav) => (fav ? 0.5 : 0.05));

  it('learns a planted preference the generator lacks and is chosen by its later lists', () => {
    const result = trainFromLoggedLists(planted.lists, planted.input, planted.categories);
    expect(result.skipped).toBeNull();
    const info = result.info!;
    expect(info.source).toBe('impressions');
    // Served lists of ten: serving re-orders the generator's top ten, as deep as the trees learnt.
    expect(info.depth).toBe(10);
    expect(result.reranker!.depth).toBe(10);
    // Measured: 0.664 against 0.557 (± 0.020).
    expect(info.ndcg).toBeGreaterThan(info.generatorNdcg * 1.1);
    expect(info.ndcg - info.generatorNdcg).toBeGreaterThan(2 * info.gainStandardError);
    expect(info.importances[0]!.feature).toMatch(/^category_/);
    // On a fresh user's candidates: items in their favourite category come first.
    const ranker = result.reranker!;
    const user = 7;
    const items = Int32Array.from({ length: 30 }, (_, i) => i);
    const scores = ranker.score(
      historyOf(planted, user),
      items,
      Float64Array.from(items, (i) => 1 - i / 30),
      21 * DAY,
    );
    const fav = planted.favourite[user]!;
    expect(meanWhere(scores, (j) => j % 3 === fav)).toBeGreaterThan(meanWhere(scores, (j) => j % 3 !== fav));
  });

  it('does not learn position: a log where position alone drives clicks gives no lift to what was shown first', () => {
    const positional = plantedLog(300, 6, 0.8, () => 0.5, 2);
    const bias = positionBias(
      {
        item: Int32Array.from(positional.lists.flatMap((l) => Array.from(l.items))),
        position: Int32Array.from(positional.lists.flatMap((l) => Array.from(l.positions))),
        clicked: Uint8Array.from(positional.lists.flatMap((l) => Array.from(l.grades))),
      },
      60,
    );
    // The examination curve is recovered: position 5 is examined 0.8^5 ≈ 0.33 as often as the top.
    expect(bias.relative[5]).toBeGreaterThan(0.25);
    expect(bias.relative[5]).toBeLessThan(0.42);
    const result = trainFromLoggedLists(positional.lists, positional.input, positional.categories, {
      keepUnchosen: true,
    });
    expect(result.info!.ndcg - result.info!.generatorNdcg).toBeLessThan(
      2 * result.info!.gainStandardError + 0.02,
    );
    expect(result.skipped).not.toBeNull();
    // No objective orders these lists better than the unbiased one: it stays.
    expect(result.info!.objective).toBe('regression');
    // Scored on lists laid out as served: the top three and the bottom three score alike.
    const ranker = result.reranker!;
    const tops: number[] = [];
    const bottoms: number[] = [];
    for (const list of positional.lists.slice(-300)) {
      const s = ranker.score(historyOf(positional, list.user), list.items, list.scores, list.at);
      for (let k = 0; k < 3; k++) tops.push(s[k]!);
      for (let k = 7; k < 10; k++) bottoms.push(s[k]!);
    }
    const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
    // Unweighted, the target falls from 0.5 at the top to 0.5 · 0.8^8 ≈ 0.08 at the bottom.
    expect(Math.abs(mean(tops) - mean(bottoms))).toBeLessThan(0.1);
  });

  it("keeps the generator order where the trees only add noise: tree count by the stop lists' ndcg", () => {
    // The generator already ranks the favourite category first, and clicks follow it: nothing is left to
    // learn about the order, and a tree the loss keeps can only reshuffle it.
    const informed = plantedLog(400, 8, 0.85, (fav) => (fav ? 0.45 : 0.05), 3, 1);
    const result = trainFromLoggedLists(informed.lists, informed.input, informed.categories, {
      keepUnchosen: true,
    });
    const info = result.info!;
    expect(result.skipped).not.toBeNull();
    // Measured: 0.6083 against 0.6083 with 0 of 1 trees; serving the loss-stopped tree gave 0.5862.
    expect(info.ndcg).toBeGreaterThanOrEqual(info.generatorNdcg - 0.002);
    expect(info.trees).toBeLessThan(5);
  });

  it('weighted log loss learns position where the IPS regression does not (why regression stays unless validation says otherwise)', () => {
    const positional = plantedLog(300, 6, 0.8, () => 0.5, 2);
    const gap = (objective: 'binary' | 'regression') => {
      const { reranker } = trainFromLoggedLists(positional.lists, positional.input, positional.categories, {
        keepUnchosen: true,
        objective,
      });
      let top = 0;
      let bottom = 0;
      const recent = positional.lists.slice(-300);
      for (const list of recent) {
        const s = reranker!.score(historyOf(positional, list.user), list.items, list.scores, list.at);
        top += s[0]!;
        bottom += s[9]!;
      }
      return (top - bottom) / recent.length;
    };
    // Measured: binary ≈ 1.3 logits between the first and the last shown (the examination curve).
    expect(gap('binary')).toBeGreaterThan(0.5);
    expect(Math.abs(gap('regression'))).toBeLessThan(0.1);
  });

  it('learns what the user passed over from earlier lists, counted before each list (never from it)', () => {
    // Clicks a fifth as likely per earlier list that showed the item; the generator knows nothing of it.
    const tired = plantedLog(300, 8, 0.85, () => 0.4, 3, 0, 0.2);
    const result = trainFromLoggedLists(tired.lists, tired.input, tired.categories);
    expect(result.skipped).toBeNull();
    expect(result.info!.importances[0]!.feature).toBe('user_item_shown');
    const ranker = result.reranker!;
    const items = Int32Array.from({ length: 30 }, (_, i) => i);
    const scores = Float64Array.from(items, (i) => 1 - i / 30);
    const scoreShown = (times: number) =>
      meanWhere(
        ranker.score({ ...historyOf(tired, 7), shown: () => times }, items, scores, 21 * DAY),
        () => true,
      );
    // Never shown must be a value training saw: were a list's own items counted for it, every training
    // row would have been shown at least once and 0 would score as 1 does.
    expect(scoreShown(0)).toBeGreaterThan(scoreShown(1) + 0.01);
    expect(scoreShown(1)).toBeGreaterThan(scoreShown(3));
  });

  it('leaves the IPS regression where its targets are too noisy and the validation lists say so', () => {
    // Rare clicks under steep examination: a click at position 9 is a target of ~25.
    const noisy = plantedLog(300, 8, 0.7, (fav) => (fav ? 0.2 : 0.02), 3);
    const lines: string[] = [];
    const result = trainFromLoggedLists(noisy.lists, noisy.input, noisy.categories, {
      log: (line) => lines.push(line),
    });
    // Measured: regression 0.5965, binary 0.7740, rank 0.7494, generator 0.6541.
    expect(lines.some((l) => /not chosen.*\(regression\)/.test(l))).toBe(true);
    expect(result.skipped).toBeNull();
    expect(result.info!.objective).toBe('binary');
    expect(result.info!.ndcg).toBeGreaterThan(
      result.info!.generatorNdcg + 2 * result.info!.gainStandardError,
    );
  });

  it('serves trees refitted on every list with the tree count validation chose', () => {
    const fitOnly = trainFromLoggedLists(planted.lists, planted.input, planted.categories, {
      refitOnAll: false,
    });
    const refitted = trainFromLoggedLists(planted.lists, planted.input, planted.categories);
    expect(refitted.info!.trees).toBe(fitOnly.info!.trees);
    expect(refitted.reranker!.model.treeCount).toBe(fitOnly.reranker!.model.treeCount);
    // Same count, more lists: other trees.
    const list = planted.lists[planted.lists.length - 1]!;
    const user = historyOf(planted, list.user);
    const a = fitOnly.reranker!.score(user, list.items, list.scores, list.at);
    const b = refitted.reranker!.score(user, list.items, list.scores, list.at);
    expect(Array.from(a)).not.toEqual(Array.from(b));
  });

  it('round-trips through a bundle with bit-identical scores; older bundles read without one', async () => {
    const { reranker } = trainFromLoggedLists(planted.lists, planted.input, planted.categories);
    const bundle = await popularityBundle(planted.input, reranker, 0);
    const decoded = ModelBundle.decode(bundle.encode(), 3);
    expect(decoded.reranker).not.toBeNull();
    for (const list of planted.lists.slice(0, 50)) {
      const user = historyOf(planted, list.user);
      const a = reranker!.score(user, list.items, list.scores, list.at);
      const b = decoded.reranker!.score(user, list.items, list.scores, list.at);
      expect(Array.from(b)).toEqual(Array.from(a));
    }
    const plain = ModelBundle.decode((await popularityBundle(planted.input, null, 0)).encode());
    expect(plain.reranker).toBeNull();
  });

  it('serves without it when switched off at serving, and still stores it, through an erasure too', async () => {
    const training = trainFromLoggedLists(planted.lists, planted.input, planted.categories);
    const trained = await popularityBundle(planted.input, training.reranker, 0);
    const record = rerankingRecord(training);
    const bundle = new ModelBundle(
      { ...trained.info, reranking: record },
      trained.userIds,
      trained.itemIds,
      trained.models,
      trained.reranker,
    );
    const off = bundle.withoutServingReranker('switched off');
    expect(off.reranker).toBeNull();
    expect(off.info.reranking).toEqual({ chosen: false, skipped: 'switched off', info: record.info });
    expect(off.withoutServingReranker('again')).toBe(off);

    expect(off.eraseUser('u3')).toBe(true);
    const stored = ModelBundle.decode(off.encode(), 5);
    expect(stored.info.reranking).toEqual(record);
    expect(stored.userIndex.has('u3')).toBe(false);
    const list = planted.lists[0]!;
    const user = historyOf(planted, list.user);
    expect(Array.from(stored.reranker!.score(user, list.items, list.scores, list.at))).toEqual(
      Array.from(training.reranker!.score(user, list.items, list.scores, list.at)),
    );
  });
});

/** User u's interactions in the planted input, as serving's profile holds them. */
function historyOf(planted: ReturnType<typeof plantedLog>, user: number) {
  const { matrix, times } = planted.input;
  const from = matrix.indptr[user]!;
  const to = matrix.indptr[user + 1]!;
  return { items: matrix.indices.subarray(from, to), times: times!.subarray(from, to) };
}
