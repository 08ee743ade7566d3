import type { ScoredIndex } from './types.js';

/** Excluded indices: a predicate, or a mask where a non-zero byte excludes the index. */
export type Exclusion = ((index: number) => boolean) | Uint8Array;

/**
 * A bounded selection heap over (index, score) pairs: keeps the `k` best, where higher scores win and
 * equal scores go to the lower index. The root holds the worst kept pair, so a candidate that cannot
 * enter costs one comparison and one that can costs O(log k). Storage is two typed arrays allocated once;
 * `reset` reuses them, so kernels can select per row without allocating.
 */
export class TopKHeap {
  private readonly idx: Int32Array;
  private readonly val: Float64Array;
  private k = 0;
  private n = 0;

  constructor(capacity: number) {
    this.idx = new Int32Array(Math.max(0, capacity));
    this.val = new Float64Array(Math.max(0, capacity));
  }

  get size(): number {
    return this.n;
  }

  /** The worst kept score, once `k` pairs are kept (NaN before): what a newcomer must beat. */
  get floor(): number {
    return this.n === this.k && this.k > 0 ? this.val[0]! : Number.NaN;
  }

  reset(k: number): void {
    if (k > this.idx.length) throw new RangeError(`TopKHeap: k ${k} exceeds capacity ${this.idx.length}`);
    this.k = Math.max(0, k);
    this.n = 0;
  }

  /** Offers a candidate; NaN scores are ignored. */
  push(index: number, score: number): void {
    if (score !== score || this.k === 0) return;
    const { idx, val } = this;
    if (this.n < this.k) {
      // Sift up: the new pair rises while it is worse than its parent.
      let pos = this.n++;
      while (pos > 0) {
        const parent = (pos - 1) >> 1;
        if (!worse(score, index, val[parent]!, idx[parent]!)) break;
        idx[pos] = idx[parent]!;
        val[pos] = val[parent]!;
        pos = parent;
      }
      idx[pos] = index;
      val[pos] = score;
    } else if (worse(val[0]!, idx[0]!, score, index)) {
      this.siftDown(this.n, index, score);
    }
  }

  /**
   * Empties the heap into `outIdx`/`outScore` (best first) and returns the count. Either output may be
   * omitted.
   */
  drain(outIdx?: Int32Array, outScore?: Float32Array | Float64Array): number {
    const count = this.n;
    for (let end = count - 1; end >= 0; end--) {
      if (outIdx) outIdx[end] = this.idx[0]!;
      if (outScore) outScore[end] = this.val[0]!;
      if (end > 0) this.siftDown(end, this.idx[end]!, this.val[end]!);
    }
    this.n = 0;
    return count;
  }

  /** Empties the heap into scored pairs, best first. */
  drainScored(): ScoredIndex[] {
    const count = this.n;
    const out = new Array<ScoredIndex>(count);
    for (let end = count - 1; end >= 0; end--) {
      out[end] = { index: this.idx[0]!, score: this.val[0]! };
      if (end > 0) this.siftDown(end, this.idx[end]!, this.val[end]!);
    }
    this.n = 0;
    return out;
  }

  /** Places (index, score) at the root of the first `size` entries and restores heap order. */
  private siftDown(size: number, index: number, score: number): void {
    const { idx, val } = this;
    let pos = 0;
    while (true) {
      const left = 2 * pos + 1;
      if (left >= size) break;
      let child = left;
      const right = left + 1;
      if (right < size && worse(val[right]!, idx[right]!, val[left]!, idx[left]!)) child = right;
      if (!worse(val[child]!, idx[child]!, score, index)) break;
      idx[pos] = idx[child]!;
      val[pos] = val[child]!;
      pos = child;
    }
    idx[pos] = index;
    val[pos] = score;
  }
}

/** True when (sa, ia) ranks below (sb, ib): lower score, or equal score and higher index. */
function worse(sa: number, ia: number, sb: number, ib: number): boolean {
  return sa < sb || (sa === sb && ia > ib);
}

/**
 * The `k` highest scores, best first; ties go to the lower index, NaN scores are skipped, excluded
 * indices never appear. O(n log k), and once `k` are kept an index that cannot enter costs one comparison
 * before any exclusion is looked up: indices come in increasing order, so a score equal to the worst kept
 * one loses its tie, and only a higher score can enter (NaN never does).
 */
export function topK(scores: Float32Array | Float64Array, k: number, exclude?: Exclusion): ScoredIndex[] {
  const n = scores.length;
  const cap = Math.max(0, Math.min(Math.floor(k), n));
  if (!(cap > 0)) return [];
  const heap = new TopKHeap(cap);
  heap.reset(cap);
  const mask = exclude instanceof Uint8Array ? exclude : undefined;
  const pred = typeof exclude === 'function' ? exclude : undefined;
  let floor = Number.NaN;
  for (let i = 0; i < n; i++) {
    const score = scores[i]!;
    if (floor === floor && !(score > floor)) continue;
    if (mask !== undefined && i < mask.length && mask[i] !== 0) continue;
    if (pred !== undefined && pred(i)) continue;
    heap.push(i, score);
    if (heap.size === cap) floor = heap.floor;
  }
  return heap.drainScored();
}
