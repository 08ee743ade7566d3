import type { CsrMatrix, Recommender, UserProfile } from '../models/types.js';
import { MetricsAccumulator, type RankingMetrics } from './metrics.js';
import type { HeldOutSplit } from './protocol.js';
import { TopKSelector } from './topk.js';

/**
 * User `user`'s row of the fit matrix as a model profile, with its interaction times when the fit data has
 * them (recency-weighted models order the history by them).
 */
export function trainProfile(fitted: CsrMatrix, user: number, times?: Float64Array): UserProfile {
  const start = fitted.indptr[user]!;
  const end = fitted.indptr[user + 1]!;
  return {
    userIndex: user,
    fresh: false,
    items: fitted.indices.subarray(start, end),
    weights: fitted.data.subarray(start, end),
    ...(times === undefined ? {} : { times: times.subarray(start, end) }),
  };
}

/**
 * Ranks every catalog item not in each user's rows of `fitted` (the matrix the model was fitted on) and
 * measures the top K against the user's held-out items. One score buffer, one exclusion mask and one
 * top-K heap serve every user. `times` (aligned with `fitted.data`) are the fit rows' interaction times.
 */
export function rankHeldOut(
  model: Recommender,
  fitted: CsrMatrix,
  heldOut: HeldOutSplit,
  k: number,
  times?: Float64Array,
): RankingMetrics {
  const nItems = fitted.cols;
  const scores = new Float32Array(nItems);
  const exclude = new Uint8Array(nItems);
  const ranked = new Int32Array(k);
  const selector = new TopKSelector(k);
  const metrics = new MetricsAccumulator(nItems, k);
  const { indptr, items } = heldOut.rows;
  for (let user = 0; user < fitted.rows; user++) {
    const held = items.subarray(indptr[user]!, indptr[user + 1]!);
    if (held.length === 0) continue;
    const start = fitted.indptr[user]!;
    const end = fitted.indptr[user + 1]!;
    model.score(trainProfile(fitted, user, times), scores);
    for (let j = start; j < end; j++) exclude[fitted.indices[j]!] = 1;
    const count = selector.select(scores, exclude, ranked);
    for (let j = start; j < end; j++) exclude[fitted.indices[j]!] = 0;
    metrics.add(ranked.subarray(0, count), held);
  }
  return metrics.result();
}
