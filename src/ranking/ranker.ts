import type { GbdtModel } from '../models/tabular/index.js';
import type { CandidateLists } from './candidates.js';
import type { RankObjective, RankObjectiveName, RankerTreeParams, RankingRows } from './objective.js';

/**
 * The second stage: gradient-boosted trees over a list's feature rows, trained on lists whose relevance
 * is known, and the re-ordering of lists by their scores.
 */

/** Relevance of every row of some candidate lists, and how many items each list's user had held out. */
export interface LabelledLists {
  readonly lists: CandidateLists;
  /** 1 when the row's item is among its user's held-out items, else 0. */
  readonly labels: Float64Array;
  /** Held-out items per list (the ideal DCG counts them all, found by the generator or not). */
  readonly heldCounts: Int32Array;
}

/** A user's held-out items as rows by user (the layout of the protocol's `UserRows`). */
export interface HeldOutRows {
  readonly indptr: Int32Array;
  readonly items: Int32Array;
}

export function labelLists(lists: CandidateLists, heldOut: HeldOutRows, nItems: number): LabelledLists {
  const labels = new Float64Array(lists.items.length);
  const heldCounts = new Int32Array(lists.users.length);
  const mark = new Uint8Array(nItems);
  lists.users.forEach((user, q) => {
    const from = heldOut.indptr[user]!;
    const to = heldOut.indptr[user + 1]!;
    heldCounts[q] = to - from;
    for (let j = from; j < to; j++) mark[heldOut.items[j]!] = 1;
    for (let row = lists.offsets[q]!; row < lists.offsets[q + 1]!; row++)
      labels[row] = mark[lists.items[row]!]!;
    for (let j = from; j < to; j++) mark[heldOut.items[j]!] = 0;
  });
  return { lists, labels, heldCounts };
}

/** The data cannot train a ranker (too few users' lists): the two-stage is not a candidate on it. */
export class TooFewListsError extends RangeError {
  override readonly name = 'TooFewListsError';
}

export interface RankerParams extends RankerTreeParams {
  /** Every `validEvery`-th training list is held out for early stopping (default 5: a fifth). */
  readonly validEvery: number;
}

/**
 * Shallow trees, many of them: on MovieLens 100K's validation (cross-fitted, pointwise) depths 2–4 tie at
 * ndcg@20 ≈ 0.286 and depth 6 and 8 fall to 0.279 and 0.273 — the lists are noisy, so deep interactions
 * overfit. Depth 3 at rate 0.05 still improved at 300 trees, hence the higher cap (early stopping ends it).
 */
export const defaultRankerParams: RankerParams = {
  nTrees: 500,
  learningRate: 0.05,
  maxDepth: 3,
  minChildWeight: 1,
  lambda: 1,
  earlyStoppingRounds: 20,
  evalAt: 20,
  truncation: 30,
  validEvery: 5,
};

export interface TrainedRanker {
  readonly objective: RankObjectiveName;
  /** The feature columns the trees read, by name, in the trees' order. */
  readonly features: readonly string[];
  readonly model: GbdtModel;
}

/** The rows of lists `which` (in that order) as a learner's input. */
export function rowsOf(data: LabelledLists, features: readonly string[], which: Int32Array): RankingRows {
  const { offsets, table } = data.lists;
  const groups = new Int32Array(which.length);
  let total = 0;
  which.forEach((q, g) => {
    groups[g] = offsets[q + 1]! - offsets[q]!;
    total += groups[g]!;
  });
  const rows = new Int32Array(total);
  let at = 0;
  for (const q of which) for (let row = offsets[q]!; row < offsets[q + 1]!; row++) rows[at++] = row;
  return {
    features: table.rowMajor(features, rows),
    labels: Float64Array.from(rows, (row) => data.labels[row]!),
    groups,
    nRows: total,
    nFeatures: features.length,
  };
}

/**
 * Trains a re-ranker on lists `which` of `data` (non-empty lists only: a list of length 0 has nothing to
 * order), holding every `validEvery`-th of them out for early stopping.
 */
export function trainRanker(
  data: LabelledLists,
  which: Int32Array,
  features: readonly string[],
  objective: RankObjective,
  params: RankerParams = defaultRankerParams,
): TrainedRanker {
  const { offsets } = data.lists;
  const usable = which.filter((q) => offsets[q + 1]! > offsets[q]!);
  const fit = usable.filter((_, j) => j % params.validEvery !== params.validEvery - 1);
  const stop = usable.filter((_, j) => j % params.validEvery === params.validEvery - 1);
  if (fit.length === 0 || stop.length === 0) {
    throw new TooFewListsError(
      `ranker: ${usable.length} non-empty lists are too few to train and stop early`,
    );
  }
  const model = objective.fit(rowsOf(data, features, fit), rowsOf(data, features, stop), params);
  return { objective: objective.name, features, model };
}

/** The ranker's score for every row of `lists` (higher ranks first). */
export function scoreRows(ranker: TrainedRanker, lists: CandidateLists): Float64Array {
  if (lists.items.length === 0) return new Float64Array(0);
  return ranker.model.predictMargin(lists.table.rowMajor(ranker.features));
}

/**
 * List q's rows re-ordered by `scores` (descending; ties keep the generator's order), written into `out`
 * as row numbers; returns how many.
 */
export function orderList(lists: CandidateLists, q: number, scores: Float64Array, out: Int32Array): number {
  const start = lists.offsets[q]!;
  const size = lists.offsets[q + 1]! - start;
  const view = out.subarray(0, size);
  for (let j = 0; j < size; j++) view[j] = start + j;
  view.sort((a, b) => scores[b]! - scores[a]! || a - b);
  return size;
}

/**
 * ndcg@k of each list (binary gains; the ideal DCG over min(k, held-out count), as the protocol): by the
 * generator's order when `scores` is null, else re-ordered by `scores`. Lists not in `which` are NaN.
 */
export function listNdcg(
  data: LabelledLists,
  scores: Float64Array | null,
  k: number,
  which?: Int32Array,
): Float64Array {
  const { lists, labels, heldCounts } = data;
  const out = new Float64Array(lists.users.length).fill(NaN);
  let longest = 0;
  for (let q = 0; q < lists.users.length; q++)
    longest = Math.max(longest, lists.offsets[q + 1]! - lists.offsets[q]!);
  const order = new Int32Array(longest);
  const discount = (r: number): number => 1 / Math.log2(r + 2);
  const each = which ?? Int32Array.from({ length: lists.users.length }, (_, q) => q);
  for (const q of each) {
    const held = heldCounts[q]!;
    if (held === 0) continue;
    const size = scores === null ? copyOrder(lists, q, order) : orderList(lists, q, scores, order);
    let dcg = 0;
    for (let r = 0; r < Math.min(k, size); r++) if (labels[order[r]!] === 1) dcg += discount(r);
    let idcg = 0;
    for (let r = 0; r < Math.min(k, held); r++) idcg += discount(r);
    out[q] = dcg / idcg;
  }
  return out;
}

function copyOrder(lists: CandidateLists, q: number, out: Int32Array): number {
  const start = lists.offsets[q]!;
  const size = lists.offsets[q + 1]! - start;
  for (let j = 0; j < size; j++) out[j] = start + j;
  return size;
}

/** Total split gain per feature as shares of the whole, largest first. */
export function gainImportances(
  ranker: TrainedRanker,
  top: number,
): { readonly feature: string; readonly gain: number }[] {
  const gains = ranker.model.gainImportance();
  let total = 0;
  for (const g of gains) total += g;
  return ranker.features
    .map((feature, f) => ({ feature, gain: total > 0 ? gains[f]! / total : 0 }))
    .sort((a, b) => b.gain - a.gain)
    .slice(0, top);
}
