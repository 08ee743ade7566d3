/**
 * Top-K selection with the protocol's order: score descending, ties by the lower item index. Kept here
 * rather than borrowed from the models so the tie rule the reference numbers depend on is pinned by this
 * folder's tests. NaN scores rank below every number.
 *
 * The heap is preallocated: evaluation ranks one user after another with the same selector.
 */
export class TopKSelector {
  private readonly heapItems: Int32Array;
  private readonly heapScores: Float64Array;
  private size = 0;

  constructor(readonly k: number) {
    if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a positive integer, got ${k}`);
    this.heapItems = new Int32Array(k);
    this.heapScores = new Float64Array(k);
  }

  /**
   * Writes the best `k` items of `scores` not flagged in `exclude` into `out`, best first, and returns how
   * many were written (fewer than `k` when fewer items are eligible).
   */
  select(scores: Float32Array, exclude: Uint8Array | null, out: Int32Array): number {
    this.size = 0;
    const { k, heapItems, heapScores } = this;
    for (let item = 0; item < scores.length; item++) {
      if (exclude !== null && exclude[item] !== 0) continue;
      const raw = scores[item]!;
      const score = raw === raw ? raw : -Infinity;
      if (this.size < k) {
        this.push(item, score);
      } else if (worse(heapScores[0]!, heapItems[0]!, score, item)) {
        // Items arrive in ascending index order, so an equal score never displaces the root.
        heapItems[0] = item;
        heapScores[0] = score;
        this.siftDown(0);
      }
    }
    // Pop the worst first and fill `out` from the back: the result is best first.
    const count = this.size;
    for (let at = count - 1; at >= 0; at--) {
      out[at] = heapItems[0]!;
      this.size -= 1;
      if (this.size > 0) {
        heapItems[0] = heapItems[this.size]!;
        heapScores[0] = heapScores[this.size]!;
        this.siftDown(0);
      }
    }
    return count;
  }

  private push(item: number, score: number): void {
    const { heapItems, heapScores } = this;
    let at = this.size++;
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (!worse(score, item, heapScores[parent]!, heapItems[parent]!)) break;
      heapItems[at] = heapItems[parent]!;
      heapScores[at] = heapScores[parent]!;
      at = parent;
    }
    heapItems[at] = item;
    heapScores[at] = score;
  }

  private siftDown(from: number): void {
    const { heapItems, heapScores, size } = this;
    const item = heapItems[from]!;
    const score = heapScores[from]!;
    let at = from;
    while (true) {
      let child = 2 * at + 1;
      if (child >= size) break;
      const right = child + 1;
      if (
        right < size &&
        worse(heapScores[right]!, heapItems[right]!, heapScores[child]!, heapItems[child]!)
      ) {
        child = right;
      }
      if (!worse(heapScores[child]!, heapItems[child]!, score, item)) break;
      heapItems[at] = heapItems[child]!;
      heapScores[at] = heapScores[child]!;
      at = child;
    }
    heapItems[at] = item;
    heapScores[at] = score;
  }
}

/** True when (scoreA, itemA) ranks below (scoreB, itemB): lower score, or same score and higher index. */
function worse(scoreA: number, itemA: number, scoreB: number, itemB: number): boolean {
  return scoreA < scoreB || (scoreA === scoreB && itemA > itemB);
}
