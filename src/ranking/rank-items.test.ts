import { describe, expect, it } from 'vitest';
import { popularityBundle } from '../training/bundle-fixture.js';
import { DAY, plantedLog } from './fixtures.js';
import { rankItems } from './rank-items.js';
import { trainFromLoggedLists } from './train-reranker.js';

describe('rankItems (POST /v1/rank)', async () => {
  const planted = plantedLog(300, 6, 0.85, (fav) => (fav ? 0.5 : 0.05));
  const { reranker } = trainFromLoggedLists(planted.lists, planted.input, planted.categories);
  const withReranker = await popularityBundle(planted.input, reranker);
  const withoutReranker = await popularityBundle(planted.input);
  const user = 11;
  const { matrix, times } = planted.input;
  const profile = {
    userIndex: user,
    fresh: false,
    items: matrix.indices.subarray(matrix.indptr[user]!, matrix.indptr[user + 1]!),
    weights: matrix.data.subarray(matrix.indptr[user]!, matrix.indptr[user + 1]!),
    times: times!.subarray(matrix.indptr[user]!, matrix.indptr[user + 1]!),
  };
  const asked = ['i1', 'i2', 'i3', 'i4', 'i5', 'i6', 'nope', 'i7'];

  it('ranks by the re-ranker, with reasons whose contributions and base sum to the score', () => {
    const result = rankItems(withReranker, profile, asked, 21 * DAY);
    expect(result.rankedBy).toBe('reranker');
    expect(result.unknown).toEqual(['nope']);
    expect(result.items).toHaveLength(7);
    for (let k = 1; k < result.items.length; k++)
      expect(result.items[k - 1]!.score).toBeGreaterThanOrEqual(result.items[k]!.score);
    for (const item of result.items) {
      const sum = item.contributions.reduce((s, c) => s + c.contribution, result.base);
      expect(sum).toBeCloseTo(item.score, 9);
      expect(item.reason).toMatch(/^Ranked by the re-ranker: (raised|lowered) by /);
    }
    // The planted taste: the user's favourite category comes first.
    const fav = planted.favourite[user]!;
    expect(Number(result.items[0]!.itemId.slice(1)) % 3).toBe(fav);
  });

  it('without a re-ranker ranks by the model and says so', () => {
    const result = rankItems(withoutReranker, profile, asked, 21 * DAY);
    expect(result.rankedBy).toBe('popularity');
    expect(result.note).toMatch(/no re-ranker/);
    expect(result.unknown).toEqual(['nope']);
    const all = new Float32Array(60);
    withoutReranker.models.get('popularity')!.score(profile, all);
    expect(result.items.map((i) => i.score)).toEqual(
      asked
        .filter((id) => id !== 'nope')
        .map((id) => all[Number(id.slice(1))]!)
        .sort((a, b) => b - a),
    );
    expect(result.items[0]!.reason).toMatch(/no re-ranker is trained/);
  });
});
