import { describe, expect, it } from 'vitest';
import type { CsrMatrix, Recommender, UserProfile } from '../models/types.js';
import type { HeldOutSplit } from './protocol.js';
import { rankHeldOut } from './scoring.js';

/** A model that gives every user the same scores and remembers the profiles it was asked about. */
function fixedScores(values: number[], seen: UserProfile[]): Recommender {
  return {
    name: 'popularity',
    params: {},
    nUsers: 2,
    nItems: values.length,
    score(profile, out) {
      seen.push({ ...profile, items: profile.items.slice(), weights: profile.weights.slice() });
      out.set(values);
    },
    similar: () => [],
    evidence: () => ({ kind: 'popular', popularity: 0 }),
    toArtifact: () => ({ name: 'popularity', params: {}, nUsers: 2, nItems: values.length, arrays: {} }),
  };
}

describe('rankHeldOut', () => {
  it('ranks items outside each user’s train row and averages over users with held-out items', () => {
    // Users × 5 items. User 0 trained on {0}; user 1 on {2, 3}; user 2 on {1}, nothing held out.
    const fitted: CsrMatrix = {
      rows: 3,
      cols: 5,
      indptr: Int32Array.from([0, 1, 3, 4]),
      indices: Int32Array.from([0, 2, 3, 1]),
      data: Float32Array.from([1, 1, 1, 1]),
    };
    const heldOut: HeldOutSplit = {
      part: 'test',
      rows: {
        indptr: Int32Array.from([0, 2, 3, 3]),
        items: Int32Array.from([4, 1, 0]),
        times: new Float64Array(3),
      },
    };
    const seen: UserProfile[] = [];
    const metrics = rankHeldOut(fixedScores([5, 4, 4, 3, 1], seen), fitted, heldOut, 2);
    // User 0: candidates 1 (4), 2 (4), 3 (3), 4 (1); the 4-4 tie goes to item 1: top-2 = [1, 2].
    //   Held {4, 1}: hit at rank 0. recall = 1/2; ndcg = 1 / (1 + 1/log2(3)) = 0.613147.
    // User 1: candidates 0 (5), 1 (4), 4 (1): top-2 = [0, 1]. Held {0}: recall 1, ndcg 1.
    // Coverage: {1, 2, 0} = 3 of 5.
    expect(metrics.users).toBe(2);
    expect(metrics.recall).toBeCloseTo(0.75, 12);
    expect(metrics.ndcg).toBeCloseTo((0.613147 + 1) / 2, 6);
    expect(metrics.coverage).toBeCloseTo(0.6, 12);
    // Users are scored from their train rows as the fitted model knows them; user 2 is not scored.
    expect(seen.map((profile) => [profile.userIndex, profile.fresh, Array.from(profile.items)])).toEqual([
      [0, false, [0]],
      [1, false, [2, 3]],
    ]);
  });
});
