import type { TrainingInput } from '../models/types.js';
import { DAY_MS, type ItemSnapshot } from './rerank-features.js';

/**
 * The per-item values the re-ranker reads, from a training input's interactions: each item's interaction
 * times sorted, so the values "as of time t" (count, 7- and 30-day counts, last time, all before t) come by
 * binary search — for the served snapshot at the run's `now`, and for each logged list at its own time,
 * which keeps a training row from seeing interactions that came after the list was served.
 */
export interface ItemTimes {
  readonly nItems: number;
  /** Item i's times ascending: `times[ptr[i] .. ptr[i + 1]]`. */
  readonly ptr: Int32Array;
  readonly times: Float64Array;
}

export function itemTimesOf(input: TrainingInput): ItemTimes {
  const { matrix, times } = input;
  const nItems = matrix.cols;
  const nnz = matrix.indptr[matrix.rows]!;
  const ptr = new Int32Array(nItems + 1);
  for (let k = 0; k < nnz; k++) ptr[matrix.indices[k]! + 1]! += 1;
  for (let i = 0; i < nItems; i++) ptr[i + 1]! += ptr[i]!;
  const out = new Float64Array(nnz);
  const fill = ptr.slice(0, nItems);
  // Without times every interaction counts as old (time −∞): counts only, windows empty.
  for (let k = 0; k < nnz; k++)
    out[fill[matrix.indices[k]!]!++] = times === undefined ? -Infinity : times[k]!;
  for (let i = 0; i < nItems; i++) out.subarray(ptr[i]!, ptr[i + 1]!).sort();
  return { nItems, ptr, times: out };
}

/** First index in `times[from .. to)` whose value is ≥ `value` (entries strictly before it are < value). */
function lowerBound(times: Float64Array, from: number, to: number, value: number): number {
  let a = from;
  let b = to;
  while (a < b) {
    const mid = (a + b) >>> 1;
    if (times[mid]! < value) a = mid + 1;
    else b = mid;
  }
  return a;
}

/** A mutable snapshot whose item values `setItemAt` fills; outcome and category arrays are the caller's. */
export interface MutableSnapshot extends ItemSnapshot {
  now: number;
}

export function emptySnapshot(
  nItems: number,
  itemCategory: Int32Array,
  categories: readonly string[],
  itemShown: Float64Array = new Float64Array(nItems),
  itemOutcomes: Float64Array = new Float64Array(nItems),
): MutableSnapshot {
  return {
    now: 0,
    itemCount: new Float64Array(nItems),
    itemCount7d: new Float64Array(nItems),
    itemCount30d: new Float64Array(nItems),
    itemLast: new Float64Array(nItems).fill(NaN),
    itemShown,
    itemOutcomes,
    itemCategory,
    categories,
  };
}

/** Sets item `item`'s interaction values in `snapshot` to those strictly before time `t`. */
export function setItemAt(snapshot: MutableSnapshot, times: ItemTimes, item: number, t: number): void {
  if (item >= times.nItems) return;
  const from = times.ptr[item]!;
  const end = lowerBound(times.times, from, times.ptr[item + 1]!, t);
  snapshot.itemCount[item] = end - from;
  snapshot.itemCount7d[item] = end - lowerBound(times.times, from, end, t - 7 * DAY_MS);
  snapshot.itemCount30d[item] = end - lowerBound(times.times, from, end, t - 30 * DAY_MS);
  const last = end > from ? times.times[end - 1]! : NaN;
  snapshot.itemLast[item] = Number.isFinite(last) ? last : NaN;
}

/** Every item's values as of `now` (inclusive: the served snapshot knows everything the run read). */
export function snapshotAt(snapshot: MutableSnapshot, times: ItemTimes, now: number): MutableSnapshot {
  // Just after `now`, so interactions at exactly `now` count.
  const t = now + 1;
  for (let item = 0; item < times.nItems; item++) setItemAt(snapshot, times, item, t);
  snapshot.now = now;
  return snapshot;
}
