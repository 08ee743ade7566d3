/** Averages of the protocol's metrics over the users added, plus catalog coverage of their lists. */
export interface RankingMetrics {
  readonly recall: number;
  readonly ndcg: number;
  readonly coverage: number;
  /** Users averaged over: those with at least one held-out item. */
  readonly users: number;
}

/**
 * Accumulates recall@K, ndcg@K (binary gains) and coverage@K user by user. Marks live in flat arrays
 * reused across users, so adding a user allocates nothing.
 */
export class MetricsAccumulator {
  private readonly held: Uint8Array;
  private readonly listed: Uint8Array;
  /** `discounts[r]` = 1 / log2(r + 2), the gain of a hit at 0-based rank r. */
  private readonly discounts: Float64Array;
  private listedCount = 0;
  private recallSum = 0;
  private ndcgSum = 0;
  private users = 0;

  constructor(
    private readonly nItems: number,
    readonly k: number,
  ) {
    this.held = new Uint8Array(nItems);
    this.listed = new Uint8Array(nItems);
    this.discounts = Float64Array.from({ length: k }, (_, r) => 1 / Math.log2(r + 2));
  }

  /**
   * Adds one user: `ranked` is the top-K list best first (only its first K entries count), `heldOut`
   * the user's held-out items (unique). Users with nothing held out are not evaluated and are skipped.
   */
  add(ranked: ArrayLike<number>, heldOut: ArrayLike<number>): void {
    if (heldOut.length === 0) return;
    const { held, listed, discounts } = this;
    for (let j = 0; j < heldOut.length; j++) held[heldOut[j]!] = 1;
    const depth = Math.min(this.k, ranked.length);
    let hits = 0;
    let dcg = 0;
    for (let r = 0; r < depth; r++) {
      const item = ranked[r]!;
      if (held[item] === 1) {
        hits += 1;
        dcg += discounts[r]!;
      }
      if (listed[item] === 0) {
        listed[item] = 1;
        this.listedCount += 1;
      }
    }
    let idcg = 0;
    for (let r = 0; r < Math.min(this.k, heldOut.length); r++) idcg += discounts[r]!;
    for (let j = 0; j < heldOut.length; j++) held[heldOut[j]!] = 0;
    this.recallSum += hits / heldOut.length;
    this.ndcgSum += dcg / idcg;
    this.users += 1;
  }

  result(): RankingMetrics {
    const { users } = this;
    return {
      recall: users === 0 ? 0 : this.recallSum / users,
      ndcg: users === 0 ? 0 : this.ndcgSum / users,
      coverage: this.nItems === 0 ? 0 : this.listedCount / this.nItems,
      users,
    };
  }
}
