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

  /** The largest `k` it can keep. */
  get capacity(): number {
    return this.idx.length;
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
 *
 * Serving calls it on every computed list (the model's top 100 for the re-ranker of 1,682 items took
 * 46 µs a list in a server profile, 2026-12-07): one loop per kind of exclusion, so that each stays
 * monomorphic whatever the callers pass, and a heap kept between calls instead of two typed arrays made
 * per call. Halves the time (`src/models/csr.test.ts` holds it to a full sort).
 */
export function topK(scores: Float32Array | Float64Array, k: number, exclude?: Exclusion): ScoredIndex[] {
  const cap = Math.max(0, Math.min(Math.floor(k), scores.length));
  if (!(cap > 0)) return [];
  // Taken while in use, so a predicate that itself selects (re-entry) gets a heap of its own.
  const heap = spare !== null && spare.capacity >= cap ? spare : new TopKHeap(Math.max(cap, 128));
  spare = null;
  heap.reset(cap);
  if (exclude === undefined) selectAll(heap, scores, cap);
  else if (typeof exclude === 'function') selectWhere(heap, scores, cap, exclude);
  else selectMasked(heap, scores, cap, exclude);
  const out = heap.drainScored();
  spare = heap;
  return out;
}

/** The heap `topK` reuses between calls (null while a call holds it). */
let spare: TopKHeap | null = null;

function selectAll(heap: TopKHeap, scores: Float32Array | Float64Array, cap: number): void {
  let floor = Number.NaN;
  for (let i = 0; i < scores.length; i++) {
    const score = scores[i]!;
    if (floor === floor && !(score > floor)) continue;
    heap.push(i, score);
    if (heap.size === cap) floor = heap.floor;
  }
}

function selectMasked(
  heap: TopKHeap,
  scores: Float32Array | Float64Array,
  cap: number,
  mask: Uint8Array,
): void {
  let floor = Number.NaN;
  const masked = Math.min(mask.length, scores.length);
  for (let i = 0; i < scores.length; i++) {
    const score = scores[i]!;
    if (floor === floor && !(score > floor)) continue;
    if (i < masked && mask[i] !== 0) continue;
    heap.push(i, score);
    if (heap.size === cap) floor = heap.floor;
  }
}

function selectWhere(
  heap: TopKHeap,
  scores: Float32Array | Float64Array,
  cap: number,
  excluded: (index: number) => boolean,
): void {
  let floor = Number.NaN;
  for (let i = 0; i < scores.length; i++) {
    const score = scores[i]!;
    if (floor === floor && !(score > floor)) continue;
    if (excluded(i)) continue;
    heap.push(i, score);
    if (heap.size === cap) floor = heap.floor;
  }
}
