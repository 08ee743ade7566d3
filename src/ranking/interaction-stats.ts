import type { TrainingInput } from '../models/types.js';

/**
 * What the ranking features read of the interactions a candidate generator was fitted on, summarised
 * once: per item and per user counts and first/last times, every item's interaction times in order (for
 * window counts by binary search), each user's history in time order, and short-range sequence
 * co-occurrence (which items others took next, or just before). Built from a `TrainingInput` and nothing
 * else, so a feature can never see an interaction the generator did not: the held-out part of a split is
 * simply not an argument.
 */
export interface InteractionStats {
  readonly nUsers: number;
  readonly nItems: number;
  /** The reference time: `input.now`, else the latest interaction time (NaN without times). */
  readonly now: number;
  readonly hasTimes: boolean;
  readonly itemCount: Float64Array;
  readonly itemFirst: Float64Array;
  readonly itemLast: Float64Array;
  /** Item i's interaction times ascending: `itemTimes[itemPtr[i] .. itemPtr[i + 1]]`. */
  readonly itemPtr: Int32Array;
  readonly itemTimes: Float64Array;
  /** Every interaction time ascending (activity of the whole log, to normalise item windows). */
  readonly allTimes: Float64Array;
  readonly userCount: Float64Array;
  readonly userFirst: Float64Array;
  readonly userLast: Float64Array;
  /** Mean log(1 + item count) of the user's items: how mainstream the user's taste is. */
  readonly userMeanLogPop: Float64Array;
  /** User u's items oldest first (ties by item index): `userSequence[sequencePtr[u] .. sequencePtr[u + 1]]`. */
  readonly userSequence: Int32Array;
  readonly sequencePtr: Int32Array;
  /** `next[j]`: items others took within `sequenceWindow` interactions after j, with counts (CSR). */
  readonly next: SparseCounts;
  /** `previous[j]`: items others took within `sequenceWindow` interactions before j (CSR). */
  readonly previous: SparseCounts;
  readonly sequenceWindow: number;
}

/** Rows of counts: row r's columns `cols[ptr[r] .. ptr[r + 1]]` ascending, with `counts`. */
export interface SparseCounts {
  readonly ptr: Int32Array;
  readonly cols: Int32Array;
  readonly counts: Float64Array;
}

export interface StatsOptions {
  /** Interactions after (and before) an item that count as taken next to it (default 5). */
  readonly sequenceWindow?: number;
  /**
   * Most sequence pairs kept in memory (default 20 million, 160 MB of keys while building): on larger logs
   * the window shrinks to fit rather than the build running out of memory.
   */
  readonly maxSequencePairs?: number;
}

export function interactionStats(input: TrainingInput, options: StatsOptions = {}): InteractionStats {
  const { matrix, times } = input;
  const { rows: nUsers, cols: nItems, indptr, indices } = matrix;
  const nnz = indptr[nUsers]!;
  const hasTimes = times !== undefined && nnz > 0;
  const timeAt = (k: number): number => (times === undefined ? 0 : times[k]!);

  const itemCount = new Float64Array(nItems);
  const itemFirst = new Float64Array(nItems).fill(NaN);
  const itemLast = new Float64Array(nItems).fill(NaN);
  for (let k = 0; k < nnz; k++) {
    const item = indices[k]!;
    itemCount[item]! += 1;
    if (!hasTimes) continue;
    const t = timeAt(k);
    if (!(itemFirst[item]! <= t)) itemFirst[item] = t;
    if (!(itemLast[item]! >= t)) itemLast[item] = t;
  }

  // Item-major times (CSC by item), each item's run sorted.
  const itemPtr = new Int32Array(nItems + 1);
  for (let i = 0; i < nItems; i++) itemPtr[i + 1] = itemPtr[i]! + itemCount[i]!;
  const itemTimes = new Float64Array(nnz);
  const fill = itemPtr.slice(0, nItems);
  for (let k = 0; k < nnz; k++) itemTimes[fill[indices[k]!]!++] = timeAt(k);
  for (let i = 0; i < nItems; i++) itemTimes.subarray(itemPtr[i]!, itemPtr[i + 1]!).sort();
  const allTimes = hasTimes ? Float64Array.from(times.subarray(0, nnz)).sort() : new Float64Array(0);
  const now = hasTimes ? (input.now ?? allTimes[nnz - 1]!) : NaN;

  const userCount = new Float64Array(nUsers);
  const userFirst = new Float64Array(nUsers).fill(NaN);
  const userLast = new Float64Array(nUsers).fill(NaN);
  const userMeanLogPop = new Float64Array(nUsers).fill(NaN);
  const userSequence = new Int32Array(nnz);
  let order = new Int32Array(0);
  for (let u = 0; u < nUsers; u++) {
    const start = indptr[u]!;
    const size = indptr[u + 1]! - start;
    userCount[u] = size;
    if (size === 0) continue;
    if (order.length < size) order = new Int32Array(size);
    const view = order.subarray(0, size);
    for (let j = 0; j < size; j++) view[j] = start + j;
    // Oldest first; equal times by item index, as the protocol orders a user's history.
    view.sort((a, b) => timeAt(a) - timeAt(b) || indices[a]! - indices[b]!);
    let logPop = 0;
    for (let j = 0; j < size; j++) {
      const item = indices[view[j]!]!;
      userSequence[start + j] = item;
      logPop += Math.log1p(itemCount[item]!);
    }
    userMeanLogPop[u] = logPop / size;
    if (hasTimes) {
      userFirst[u] = timeAt(view[0]!);
      userLast[u] = timeAt(view[size - 1]!);
    }
  }

  const maxPairs = options.maxSequencePairs ?? 20_000_000;
  const wanted = options.sequenceWindow ?? 5;
  const sequenceWindow = Math.max(0, Math.min(wanted, Math.floor(maxPairs / Math.max(1, nnz))));
  const { next, previous } = sequencePairs(indptr, userSequence, nItems, sequenceWindow);
  return {
    nUsers,
    nItems,
    now,
    hasTimes,
    itemCount,
    itemFirst,
    itemLast,
    itemPtr,
    itemTimes,
    allTimes,
    userCount,
    userFirst,
    userLast,
    userMeanLogPop,
    userSequence,
    sequencePtr: indptr.slice(),
    next,
    previous,
    sequenceWindow,
  };
}

/**
 * Counts of (j, i) where i came within `window` interactions after j in some user's history, as rows by
 * j (`next`) and by i (`previous`). Pairs are encoded as `row * nItems + col` in a Float64Array (exact
 * up to 2^53) and sorted, so equal pairs are runs: no hash map, no per-pair objects.
 */
function sequencePairs(
  indptr: Int32Array,
  sequence: Int32Array,
  nItems: number,
  window: number,
): { next: SparseCounts; previous: SparseCounts } {
  const nUsers = indptr.length - 1;
  let total = 0;
  for (let u = 0; u < nUsers; u++) {
    const size = indptr[u + 1]! - indptr[u]!;
    for (let p = 0; p < size; p++) total += Math.min(window, size - 1 - p);
  }
  const forward = new Float64Array(total);
  const backward = new Float64Array(total);
  let at = 0;
  for (let u = 0; u < nUsers; u++) {
    const start = indptr[u]!;
    const end = indptr[u + 1]!;
    for (let p = start; p < end; p++) {
      const j = sequence[p]!;
      for (let q = p + 1; q < Math.min(end, p + 1 + window); q++) {
        const i = sequence[q]!;
        forward[at] = j * nItems + i;
        backward[at++] = i * nItems + j;
      }
    }
  }
  return { next: countRuns(forward.sort(), nItems), previous: countRuns(backward.sort(), nItems) };
}

function countRuns(keys: Float64Array, nItems: number): SparseCounts {
  const ptr = new Int32Array(nItems + 1);
  const cols: number[] = [];
  const counts: number[] = [];
  for (let k = 0; k < keys.length;) {
    const key = keys[k]!;
    let end = k + 1;
    while (end < keys.length && keys[end] === key) end++;
    const row = Math.floor(key / nItems);
    ptr[row + 1]! += 1;
    cols.push(key - row * nItems);
    counts.push(end - k);
    k = end;
  }
  for (let r = 0; r < nItems; r++) ptr[r + 1]! += ptr[r]!;
  return { ptr, cols: Int32Array.from(cols), counts: Float64Array.from(counts) };
}

/** Entries of the ascending `sorted[from .. to)` in the time window (lo, hi]. */
export function countInWindow(
  sorted: Float64Array,
  from: number,
  to: number,
  lo: number,
  hi: number,
): number {
  return upperBound(sorted, from, to, hi) - upperBound(sorted, from, to, lo);
}

/** First index in `sorted[from .. to)` whose value is > `value`. */
function upperBound(sorted: Float64Array, from: number, to: number, value: number): number {
  let a = from;
  let b = to;
  while (a < b) {
    const mid = (a + b) >>> 1;
    if (sorted[mid]! <= value) a = mid + 1;
    else b = mid;
  }
  return a;
}
