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
 * The protocol's ranking of one user at a time: the top K of a score vector over the items outside the
 * user's rows of `fitted` (ties to the lower index), measured against the user's held-out items. One
 * exclusion mask, one top-K heap and one accumulator serve every user.
 */
export class HeldOutRanker {
  private readonly exclude: Uint8Array;
  private readonly ranked: Int32Array;
  private readonly selector: TopKSelector;
  private readonly metrics: MetricsAccumulator;

  constructor(
    private readonly fitted: CsrMatrix,
    private readonly heldOut: HeldOutSplit,
    k: number,
  ) {
    this.exclude = new Uint8Array(fitted.cols);
    this.ranked = new Int32Array(k);
    this.selector = new TopKSelector(k);
    this.metrics = new MetricsAccumulator(fitted.cols, k);
  }

  /** The user's held-out items (empty: the user is not evaluated). */
  heldItems(user: number): Int32Array {
    const { indptr, items } = this.heldOut.rows;
    return items.subarray(indptr[user]!, indptr[user + 1]!);
  }

  /**
   * The protocol's top K of `scores` for `user`: items outside the user's fitted rows, best first, ties to
   * the lower index. The returned view is reused by the next call.
   */
  rank(user: number, scores: Float32Array): Int32Array {
    const { fitted, exclude, ranked } = this;
    const start = fitted.indptr[user]!;
    const end = fitted.indptr[user + 1]!;
    for (let j = start; j < end; j++) exclude[fitted.indices[j]!] = 1;
    const count = this.selector.select(scores, exclude, ranked);
    for (let j = start; j < end; j++) exclude[fitted.indices[j]!] = 0;
    return ranked.subarray(0, count);
  }

  /** Ranks `scores` for `user` and adds the result to the metrics. */
  add(user: number, scores: Float32Array): void {
    this.metrics.add(this.rank(user, scores), this.heldItems(user));
  }

  result(): RankingMetrics {
    return this.metrics.result();
  }
}

/**
 * Ranks every catalog item not in each user's rows of `fitted` (the matrix the model was fitted on) and
 * measures the top K against the user's held-out items. `times` (aligned with `fitted.data`) are the fit
 * rows' interaction times.
 */
export function rankHeldOut(
  model: Recommender,
  fitted: CsrMatrix,
  heldOut: HeldOutSplit,
  k: number,
  times?: Float64Array,
): RankingMetrics {
  const ranker = new HeldOutRanker(fitted, heldOut, k);
  const scores = new Float32Array(fitted.cols);
  for (let user = 0; user < fitted.rows; user++) {
    if (ranker.heldItems(user).length === 0) continue;
    model.score(trainProfile(fitted, user, times), scores);
    ranker.add(user, scores);
  }
  return ranker.result();
}
