import { trainGbdt, type GbdtDataset, type GbdtModel, type GbdtParams } from '../models/tabular/index.js';
import type { Recommender, TrainingInput } from '../models/types.js';
import { generateCandidates, rowProfile } from './candidates.js';
import { emptySnapshot, itemTimesOf, setItemAt, snapshotAt, type ItemTimes } from './item-snapshot.js';
import { positionBias, type PositionBias } from './position-bias.js';
import {
  countShown,
  meanOutcomeRate,
  N_RERANK_FEATURES,
  RERANK_FEATURES,
  rerankFeatures,
  type ItemSnapshot,
  type ShownList,
} from './rerank-features.js';
import { CANDIDATE_LIST_DEPTH, Reranker, type RerankerInfo } from './reranker.js';

/**
 * Training the servable re-ranker, from what the engine served (logged lists with positions and what
 * followed) or, before anything was served, from the recommender's candidate lists against each user's
 * next interactions. Either way the lists are cut in time order into a part the trees fit, a part that
 * stops them early and a later part that judges them against the generator's own order: the re-ranker is
 * kept only when it wins there by more than one standard error of the paired gain.
 */

/** One served list as training reads it: bundle indices, positions, logged scores, graded outcomes. */
export interface LoggedList {
  /** The user's bundle index (−1: a user the run's matrix does not hold). */
  readonly user: number;
  readonly at: number;
  /** Bundle item indices of the shown items the bundle knows, in served order. */
  readonly items: Int32Array;
  /** Each item's served position (0 = top); gaps where an item the bundle lacks was shown. */
  readonly positions: Int32Array;
  /** The score each item was served with: the generator's, as serving reports it. */
  readonly scores: Float64Array;
  /** What followed: 0 nothing, 1 click, 2 add to cart, 3 purchase (the best outcome of the item). */
  readonly grades: Float64Array;
}

/** The items' categories, in the bundle's item index order. */
export interface ItemCategories {
  readonly itemCategory: Int32Array;
  readonly categories: readonly string[];
}

export interface RerankTrainingOptions {
  /** The k of the ndcg@k that judges (default 10). */
  readonly k?: number;
  /** Fewer usable lists (with an outcome) than this and no re-ranker is trained (default 200). */
  readonly minLists?: number;
  /** A list's outcomes count toward items' click rates only this long after it was served (default 1 h). */
  readonly outcomeDelayMs?: number;
  readonly trees?: number;
  /**
   * What the trees fit (default: chosen on the validation lists, `objectiveByValidation`; for candidate
   * lists 'regression'). 'regression': squared error on the IPS-scaled grade,
   * unbiased for relevance (Joachims et al. 2017) but noisy (a click at position 9 is a target of 4.5).
   * 'binary': log loss on "any outcome", each row weighted by its inverse propensity; 'rank': LambdaRank
   * on the grades, each row's weight on the pairs it wins. Both score better on the (debiased) validation
   * lists but neither is unbiased: a weight on every row rescales positions without removing the
   * examination curve from the labels, and LambdaRank's pairs only form against unclicked rows, which
   * sit lower more often; on a log where position alone drives clicks both learn position through
   * `gen_rank` (reranker.test.ts), which on the re-ranked candidates would prop up the generator's order.
   */
  readonly objective?: RerankObjective;
  /**
   * After validation chose the tree count, refit on every list (the validation lists are the newest,
   * the ones most like what serving will see) with that many trees (default true).
   */
  readonly refitOnAll?: boolean;
  /** Return the trained re-ranker even when validation did not choose it (tests and benches look at it). */
  readonly keepUnchosen?: boolean;
  readonly log?: (line: string) => void;
}

export type RerankObjective = 'rank' | 'binary' | 'regression';

/** What a training attempt found, chosen or not (the bundle records it either way). */
export interface RerankTraining {
  readonly reranker: Reranker | null;
  readonly info: RerankerInfo | null;
  /** Why no re-ranker was trained or kept, or `null` when one was. */
  readonly skipped: string | null;
}

/** Rows of lists laid out for the trees: list q's rows are `offsets[q] .. offsets[q + 1]`. */
interface ListRows {
  readonly offsets: Int32Array;
  readonly rows: Float64Array;
  /** The regression target (graded outcome, inverse-propensity weighted for logged lists). */
  readonly target: Float64Array;
  /** The graded outcome as logged (0..3) and its inverse-propensity weight (1 for candidate lists). */
  readonly grades: Float64Array;
  readonly weights: Float64Array;
  /** The gain ndcg counts for the row: 2^grade − 1, weighted like the target. */
  readonly gain: Float64Array;
}

const NOT_CHOSEN = 'validation did not beat the generator';

const skipped = (why: string): RerankTraining => ({ reranker: null, info: null, skipped: why });

/** From the log's served lists; `input` is the run's training input (bundle index space, with times). */
export function trainFromLoggedLists(
  lists: readonly LoggedList[],
  input: TrainingInput,
  categories: ItemCategories,
  options: RerankTrainingOptions = {},
): RerankTraining {
  const log = options.log ?? (() => {});
  const nItems = input.matrix.cols;
  const sorted = lists.filter((l) => l.items.length >= 2).sort((a, b) => a.at - b.at);
  const withOutcome = sorted.filter((l) => l.grades.some((g) => g > 0)).length;
  if (withOutcome < (options.minLists ?? 200)) {
    return skipped(`${withOutcome} logged lists with an outcome, fewer than ${options.minLists ?? 200}`);
  }
  const bias = positionBias(positionRows(sorted), nItems);
  log(`re-ranker: position weights ${Array.from(bias.weights.slice(0, 10), (w) => w.toFixed(2)).join(' ')}`);
  const times = itemTimesOf(input);
  const data = loggedRows(sorted, input, times, categories, bias, options.outcomeDelayMs ?? 3_600_000);
  const result = objectiveByValidation(data, options, log);
  if (result.skipped !== null) return skipped(result.skipped);

  // The served snapshot: every interaction and every logged list the run read.
  const shown = new Float64Array(nItems);
  const outcomes = new Float64Array(nItems);
  for (const list of sorted) addOutcomes(list, bias, shown, outcomes);
  const snapshot = snapshotAt(
    emptySnapshot(nItems, categories.itemCategory, categories.categories, shown, outcomes),
    times,
    input.now ?? 0,
  );
  const info: RerankerInfo = {
    ...result.info,
    source: 'impressions',
    positionWeights: Array.from(bias.weights),
    depth: longestList(data.offsets),
  };
  return result.chosen || options.keepUnchosen === true
    ? {
        reranker: new Reranker(result.model, snapshot, info),
        info,
        skipped: result.chosen ? null : NOT_CHOSEN,
      }
    : { reranker: null, info, skipped: NOT_CHOSEN };
}

/**
 * From candidate lists: `generator` fitted on `fit` (the temporal cut's earlier part), `next` each user's
 * held-out next items (rows by user), features from `fit` alone; the served snapshot from `full`.
 */
export function trainFromCandidateLists(
  generator: Recommender,
  fit: TrainingInput,
  next: { readonly indptr: Int32Array; readonly items: Int32Array },
  full: TrainingInput,
  categories: ItemCategories,
  options: RerankTrainingOptions & { readonly candidates?: number; readonly maxUsers?: number } = {},
): RerankTraining {
  const log = options.log ?? (() => {});
  const users: number[] = [];
  for (let u = 0; u + 1 < next.indptr.length; u++) if (next.indptr[u + 1]! > next.indptr[u]!) users.push(u);
  const max = options.maxUsers ?? 2_000;
  const picked =
    users.length <= max
      ? users
      : Array.from({ length: max }, (_, j) => users[Math.floor((j * users.length) / max)]!);
  if (picked.length < (options.minLists ?? 200)) {
    return skipped(`${picked.length} users with next interactions, fewer than ${options.minLists ?? 200}`);
  }
  const lists = generateCandidates(
    generator,
    fit,
    Int32Array.from(picked),
    options.candidates ?? CANDIDATE_LIST_DEPTH,
  );
  const nItems = full.matrix.cols;
  const snapshot = snapshotAt(
    emptySnapshot(nItems, categories.itemCategory, categories.categories),
    itemTimesOf(fit),
    fit.now ?? 0,
  );
  const d = N_RERANK_FEATURES;
  const total = lists.items.length;
  const rows = new Float64Array(total * d);
  const target = new Float64Array(total);
  const scores = lists.table.column('gen_score');
  const mark = new Uint8Array(nItems);
  for (let q = 0; q < lists.users.length; q++) {
    const user = lists.users[q]!;
    const from = lists.offsets[q]!;
    const to = lists.offsets[q + 1]!;
    const profile = rowProfile(fit, user);
    rerankFeatures(
      snapshot,
      { items: profile.items, times: profile.times },
      lists.items.subarray(from, to),
      scores.subarray(from, to),
      snapshot.now,
      0,
      rows.subarray(from * d, to * d),
    );
    for (let j = next.indptr[user]!; j < next.indptr[user + 1]!; j++) mark[next.items[j]!] = 1;
    for (let r = from; r < to; r++) target[r] = mark[lists.items[r]!]!;
    for (let j = next.indptr[user]!; j < next.indptr[user + 1]!; j++) mark[next.items[j]!] = 0;
  }
  const result = fitAndJudge(
    {
      offsets: lists.offsets,
      rows,
      target,
      gain: target,
      grades: target,
      weights: new Float64Array(total).fill(1),
    },
    options,
    log,
  );
  if (result.skipped !== null) return skipped(result.skipped);
  const served = snapshotAt(
    emptySnapshot(nItems, categories.itemCategory, categories.categories),
    itemTimesOf(full),
    full.now ?? 0,
  );
  const info: RerankerInfo = { ...result.info, source: 'candidates', depth: longestList(lists.offsets) };
  return result.chosen || options.keepUnchosen === true
    ? { reranker: new Reranker(result.model, served, info), info, skipped: result.chosen ? null : NOT_CHOSEN }
    : { reranker: null, info, skipped: NOT_CHOSEN };
}

/** The most rows any list of `offsets` has: the depth serving re-orders (`RerankerInfo.depth`). */
function longestList(offsets: Int32Array): number {
  let longest = 0;
  for (let q = 0; q + 1 < offsets.length; q++) longest = Math.max(longest, offsets[q + 1]! - offsets[q]!);
  return longest;
}

function positionRows(lists: readonly LoggedList[]) {
  let n = 0;
  for (const l of lists) n += l.items.length;
  const item = new Int32Array(n);
  const position = new Int32Array(n);
  const clicked = new Uint8Array(n);
  let at = 0;
  for (const l of lists) {
    for (let j = 0; j < l.items.length; j++, at++) {
      item[at] = l.items[j]!;
      position[at] = l.positions[j]!;
      clicked[at] = l.grades[j]! > 0 ? 1 : 0;
    }
  }
  return { item, position, clicked };
}

const weightAt = (bias: PositionBias, position: number): number =>
  bias.weights[Math.min(position, bias.weights.length - 1)]!;

/** A list's debiased clicks into the items' shown/outcome counts (the `item_ctr` feature's inputs). */
function addOutcomes(
  list: LoggedList,
  bias: PositionBias,
  shown: Float64Array,
  outcomes: Float64Array,
): void {
  for (let j = 0; j < list.items.length; j++) {
    const item = list.items[j]!;
    shown[item]! += 1;
    if (list.grades[j]! > 0) outcomes[item]! += weightAt(bias, list.positions[j]!);
  }
}

/**
 * Each logged list's rows, point in time: item values from interactions before the list was served, the
 * user's history before it, click rates from lists whose outcomes were in before it.
 */
function loggedRows(
  lists: readonly LoggedList[],
  input: TrainingInput,
  times: ItemTimes,
  categories: ItemCategories,
  bias: PositionBias,
  outcomeDelayMs: number,
): ListRows {
  const nItems = input.matrix.cols;
  const d = N_RERANK_FEATURES;
  const offsets = new Int32Array(lists.length + 1);
  lists.forEach((l, q) => (offsets[q + 1] = offsets[q]! + l.items.length));
  const total = offsets[lists.length]!;
  const rows = new Float64Array(total * d);
  const target = new Float64Array(total);
  const gain = new Float64Array(total);
  const grades = new Float64Array(total);
  const weights = new Float64Array(total);
  const shown = new Float64Array(nItems);
  const outcomes = new Float64Array(nItems);
  const view = emptySnapshot(nItems, categories.itemCategory, categories.categories, shown, outcomes);
  const { matrix } = input;
  const userItems: number[] = [];
  const userTimes: number[] = [];
  // Per user, the lists served to them so far (oldest first): `user_item_shown` as serving counts it.
  const servedTo = new Map<number, ShownList<number>[]>();
  let released = 0;
  lists.forEach((list, q) => {
    // Lists whose outcomes were complete before this one was served feed the click rates.
    while (released < q && lists[released]!.at + outcomeDelayMs <= list.at) {
      addOutcomes(lists[released]!, bias, shown, outcomes);
      released++;
    }
    for (const item of list.items) setItemAt(view, times, item, list.at);
    view.now = list.at;
    userItems.length = 0;
    userTimes.length = 0;
    if (list.user >= 0 && list.user < matrix.rows && input.times !== undefined) {
      for (let k = matrix.indptr[list.user]!; k < matrix.indptr[list.user + 1]!; k++) {
        if (input.times[k]! >= list.at) continue;
        userItems.push(matrix.indices[k]!);
        userTimes.push(input.times[k]!);
      }
    }
    const from = offsets[q]!;
    const to = offsets[q + 1]!;
    let served = servedTo.get(list.user);
    if (served === undefined) servedTo.set(list.user, (served = []));
    const shownToUser = countShown(served, list.at);
    served.push(list);
    rerankFeatures(
      view,
      {
        items: Int32Array.from(userItems),
        times: Float64Array.from(userTimes),
        shown: (item) => shownToUser.get(item) ?? 0,
      },
      list.items,
      list.scores,
      list.at,
      meanOutcomeRate(view),
      rows.subarray(from * d, to * d),
    );
    for (let j = 0; j < list.items.length; j++) {
      const w = weightAt(bias, list.positions[j]!);
      target[from + j] = list.grades[j]! * w;
      gain[from + j] = (2 ** list.grades[j]! - 1) * w;
      grades[from + j] = list.grades[j]!;
      weights[from + j] = w;
    }
  });
  return { offsets, rows, target, gain, grades, weights };
}

type Judged =
  | { readonly skipped: string }
  | {
      readonly skipped: null;
      readonly chosen: boolean;
      readonly model: GbdtModel;
      readonly info: Omit<RerankerInfo, 'source'>;
      /** ndcg@k of each judged list, re-ranked: the same lists for every objective, in order. */
      readonly judged: readonly number[];
    };

/** The trees' data set for lists `from .. to` under `objective` (labels, weights, query groups). */
function partOf(data: ListRows, objective: RerankObjective, from: number, to: number): GbdtDataset {
  const a = data.offsets[from]!;
  const b = data.offsets[to]!;
  const grades = data.grades.subarray(a, b);
  const base = {
    features: data.rows.subarray(a * N_RERANK_FEATURES, b * N_RERANK_FEATURES),
    nRows: b - a,
    nFeatures: N_RERANK_FEATURES,
  };
  if (objective === 'regression') return { ...base, labels: data.target.subarray(a, b) };
  const weight = data.weights.subarray(a, b);
  if (objective === 'binary') return { ...base, labels: grades.map((g) => (g > 0 ? 1 : 0)), weight };
  const group = new Int32Array(to - from);
  for (let q = from; q < to; q++) group[q - from] = data.offsets[q + 1]! - data.offsets[q]!;
  return { ...base, labels: grades, weight, group };
}

function paramsFor(objective: RerankObjective, trees: number): Partial<GbdtParams> {
  const shared = { nTrees: trees, learningRate: 0.05, maxDepth: 3, lambda: 1, earlyStoppingRounds: 30 };
  switch (objective) {
    // Squared error's hessian is 1 per row: leaves of at least 20 rows.
    case 'regression':
      return { ...shared, objective: 'regression', minChildWeight: 20 };
    // Log loss's hessian is p(1 − p) ≈ 0.1 per row at a 10% outcome rate: leaves of some 50 rows.
    case 'binary':
      return { ...shared, objective: 'binary', minChildWeight: 5 };
    // LambdaRank's hessians are small pair sums; lists of 10 with one or two outcomes.
    case 'rank':
      return { ...shared, objective: 'rank', minChildWeight: 1, rankEvalAt: 10, rankTruncation: 10 };
  }
}

/**
 * The trees for logged lists: with `options.objective`, that one; otherwise 'regression' (unbiased, see
 * `RerankTrainingOptions.objective`) unless another objective orders the same validation lists better by
 * more than twice the standard error of the paired difference. Where position alone drives clicks every
 * objective ties the generator and the unbiased one stays; where the IPS targets are too noisy to learn
 * from, the validation lists say so.
 */
function objectiveByValidation(
  data: ListRows,
  options: RerankTrainingOptions,
  log: (line: string) => void,
): Judged {
  if (options.objective !== undefined) return fitAndJudge(data, options, log);
  let best = fitAndJudge(data, { ...options, objective: 'regression' }, log);
  if (best.skipped !== null) return best;
  const unbiased = best;
  for (const objective of ['binary', 'rank'] as const) {
    const other = fitAndJudge(data, { ...options, objective }, log);
    if (other.skipped !== null) continue;
    const diffs = other.judged.map((ndcg, q) => ndcg - unbiased.judged[q]!);
    const mean = diffs.reduce((sum, d) => sum + d, 0) / Math.max(1, diffs.length);
    const better = mean > 2 * standardErrorOfMean(diffs, mean);
    if (better && other.info.ndcg > best.info.ndcg) best = other;
  }
  log(`re-ranker: objective ${best.info.objective ?? 'regression'} by the validation lists`);
  return best;
}

/** Standard error of the mean of `values` (whose mean is `mean`). */
function standardErrorOfMean(values: readonly number[], mean: number): number {
  if (values.length < 2) return Infinity;
  let squares = 0;
  for (const x of values) squares += (x - mean) ** 2;
  return Math.sqrt(squares / (values.length - 1) / values.length);
}

/** Lists in time order: the first 60% fit, the next 20% stop early, the last 20% judge. */
function fitAndJudge(data: ListRows, options: RerankTrainingOptions, log: (line: string) => void): Judged {
  const nLists = data.offsets.length - 1;
  const fitEnd = Math.floor(nLists * 0.6);
  const stopEnd = Math.floor(nLists * 0.8);
  const objective = options.objective ?? 'regression';
  const fit = partOf(data, objective, 0, fitEnd);
  const stop = partOf(data, objective, fitEnd, stopEnd);
  if (fit.nRows === 0 || stop.nRows === 0) return { skipped: 'too few lists to fit and stop early' };
  const params = paramsFor(objective, options.trees ?? 300);
  const k = options.k ?? 10;
  const trained = trainGbdt(fit, params, stop).model;
  const model = trained.truncated(bestTreeCount(trained, data, fitEnd, stopEnd, k));
  const judged = partOf(data, objective, stopEnd, nLists);
  const predicted = judged.nRows === 0 ? new Float64Array(0) : model.predictMargin(judged.features);
  const base = data.offsets[stopEnd]!;
  const diffs: number[] = [];
  const reranked: number[] = [];
  let sumModel = 0;
  let sumGen = 0;
  for (let q = stopEnd; q < nLists; q++) {
    const from = data.offsets[q]!;
    const to = data.offsets[q + 1]!;
    const gen = ndcgOf(data.gain, from, to, k, byGenerator(data.rows));
    if (Number.isNaN(gen)) continue;
    const re = ndcgOf(data.gain, from, to, k, byMargin(data.rows, predicted, base));
    sumModel += re;
    sumGen += gen;
    diffs.push(re - gen);
    reranked.push(re);
  }
  if (diffs.length < 2) return { skipped: 'no judged list has an outcome' };
  const ndcg = sumModel / diffs.length;
  const generatorNdcg = sumGen / diffs.length;
  const gain = ndcg - generatorNdcg;
  const gainStandardError = standardErrorOfMean(diffs, gain);
  const chosen = gain > 0 && gain > gainStandardError;
  // The judged lists are the newest: once they have measured the model, the served one learns from them
  // too, with the tree count early stopping chose (a refit's own early stopping would need lists it then
  // could not learn from).
  const served =
    options.refitOnAll === false || model.treeCount === 0
      ? model
      : trainGbdt(partOf(data, objective, 0, nLists), {
          ...params,
          nTrees: model.treeCount,
          earlyStoppingRounds: 0,
        }).model;
  const gains = served.gainImportance();
  let totalGain = 0;
  for (const g of gains) totalGain += g;
  const importances = RERANK_FEATURES.map((feature, f) => ({
    feature,
    gain: totalGain > 0 ? gains[f]! / totalGain : 0,
  }))
    .sort((a, b) => b.gain - a.gain)
    .slice(0, 5);
  log(
    `re-ranker: ${fitEnd} lists fit, ${stopEnd - fitEnd} stop, ${diffs.length} judged; ndcg@${k} ` +
      `${ndcg.toFixed(4)} vs generator ${generatorNdcg.toFixed(4)} (± ${gainStandardError.toFixed(4)}): ` +
      `${chosen ? 'chosen' : 'not chosen'}, ${model.treeCount} of ${trained.treeCount} trees (${objective})`,
  );
  return {
    skipped: null,
    chosen,
    model: served,
    judged: reranked,
    info: {
      objective,
      trainLists: fitEnd,
      validationLists: diffs.length,
      k,
      ndcg,
      generatorNdcg,
      gainStandardError,
      trees: model.treeCount,
      importances,
    },
  };
}

/**
 * How many of `model`'s trees order the stop lists (`from .. to`) best by the ndcg@k the re-ranker is
 * judged on, the generator's order breaking ties; 0 keeps the generator's order. The objective's own early
 * stopping watches its loss, which rewards what differs between lists (a busy user clicks more) as much as
 * the order within them: on a log where the generator already orders by what clicks follow, the trees
 * it kept re-ordered the lists worse than the generator (demo shop, 4,000 shoppers × 28 days: −6.5%
 * debiased ndcg@10 on the later week at 145 trees; −1.0% at the 2 of 133 this keeps). Ties go to fewer
 * trees.
 */
function bestTreeCount(model: GbdtModel, data: ListRows, from: number, to: number, k: number): number {
  const a = data.offsets[from]!;
  const b = data.offsets[to]!;
  const n = b - a;
  if (n === 0 || model.treeCount === 0) return 0;
  const features = data.rows.subarray(a * N_RERANK_FEATURES, b * N_RERANK_FEATURES);
  const margin = new Float64Array(n);
  const order = byMargin(data.rows, margin, a);
  const meanNdcg = (): number => {
    let sum = 0;
    let lists = 0;
    for (let q = from; q < to; q++) {
      const value = ndcgOf(data.gain, data.offsets[q]!, data.offsets[q + 1]!, k, order);
      if (Number.isNaN(value)) continue;
      sum += value;
      lists++;
    }
    return lists === 0 ? 0 : sum / lists;
  };
  let best = 0;
  let bestNdcg = meanNdcg();
  for (let t = 0; t < model.treeCount; t++) {
    model.addTree(t, features, n, N_RERANK_FEATURES, margin);
    const value = meanNdcg();
    if (value > bestNdcg) {
      bestNdcg = value;
      best = t + 1;
    }
  }
  return best;
}

/** Rows in the generator's order: by the `gen_rank` feature. */
function byGenerator(rows: Float64Array): (a: number, b: number) => number {
  return (a, b) => rows[a * N_RERANK_FEATURES + 1]! - rows[b * N_RERANK_FEATURES + 1]!;
}

/** Rows by `margin` (row r's at `margin[r − base]`), highest first, the generator's order breaking ties. */
function byMargin(rows: Float64Array, margin: Float64Array, base: number): (a: number, b: number) => number {
  const generator = byGenerator(rows);
  return (a, b) => {
    const x = margin[a - base]!;
    const y = margin[b - base]!;
    return y > x ? 1 : y < x ? -1 : generator(a, b);
  };
}

/** ndcg@k of rows `from .. to` in the order `compare` gives (NaN when the list has no gain). */
export function ndcgOf(
  gain: Float64Array,
  from: number,
  to: number,
  k: number,
  compare: (a: number, b: number) => number,
): number {
  const order = Array.from({ length: to - from }, (_, j) => from + j).sort(compare);
  const ideal = Array.from(gain.subarray(from, to)).sort((a, b) => b - a);
  let dcg = 0;
  let idcg = 0;
  for (let r = 0; r < Math.min(k, order.length); r++) {
    dcg += gain[order[r]!]! / Math.log2(r + 2);
    idcg += ideal[r]! / Math.log2(r + 2);
  }
  return idcg > 0 ? dcg / idcg : NaN;
}

export type { ItemSnapshot };

/** A re-ranker trained on earlier logged lists, judged on later ones (`bench/rerank.ts`). */
export interface WindowJudgement {
  readonly training: RerankTraining;
  readonly lists: number;
  /** Mean ndcg@k over the later lists with an outcome: re-ranked and in the generator's (score) order. */
  readonly ndcg: number;
  readonly generatorNdcg: number;
  /** The same with gains weighted by inverse examination propensity (what an unbiased log would show). */
  readonly ipsNdcg: number;
  readonly ipsGeneratorNdcg: number;
}

/**
 * Trains on `earlier` and ranks each of `later` by the result. Rows are point in time for both (each list's
 * features from what came before it), so the later window is judged on features as fresh as a retrain at
 * each list would give: an upper bound on a re-ranker whose snapshot is only as fresh as its bundle.
 */
export function judgeLaterWindow(
  earlier: readonly LoggedList[],
  later: readonly LoggedList[],
  input: TrainingInput,
  categories: ItemCategories,
  options: RerankTrainingOptions = {},
): WindowJudgement {
  const training = trainFromLoggedLists(earlier, input, categories, { ...options, keepUnchosen: true });
  const reranker = training.reranker;
  const all = [...earlier, ...later].filter((l) => l.items.length >= 2).sort((a, b) => a.at - b.at);
  const weights = training.info?.positionWeights ?? [1];
  const bias: PositionBias = {
    weights: Float64Array.from(weights),
    relative: Float64Array.from(weights, (w) => 1 / w),
  };
  const rows = loggedRows(
    all,
    input,
    itemTimesOf(input),
    categories,
    bias,
    options.outcomeDelayMs ?? 3_600_000,
  );
  const laterFrom = later.length === 0 ? Infinity : Math.min(...later.map((l) => l.at));
  const k = options.k ?? 10;
  const sums = { ndcg: 0, gen: 0, ips: 0, ipsGen: 0, n: 0 };
  all.forEach((list, q) => {
    if (list.at < laterFrom || reranker === null) return;
    const from = rows.offsets[q]!;
    const to = rows.offsets[q + 1]!;
    const predicted = reranker.model.predictMargin(
      rows.rows.subarray(from * N_RERANK_FEATURES, to * N_RERANK_FEATURES),
    );
    const rawGain = Float64Array.from(list.grades, (g) => 2 ** g - 1);
    const byGen = byGenerator(rows.rows);
    const byModel = byMargin(rows.rows, predicted, from);
    const shifted = new Float64Array(to);
    shifted.set(rawGain, from);
    const gen = ndcgOf(shifted, from, to, k, byGen);
    if (Number.isNaN(gen)) return;
    sums.ndcg += ndcgOf(shifted, from, to, k, byModel);
    sums.gen += gen;
    sums.ips += ndcgOf(rows.gain, from, to, k, byModel);
    sums.ipsGen += ndcgOf(rows.gain, from, to, k, byGen);
    sums.n++;
  });
  const n = Math.max(1, sums.n);
  return {
    training,
    lists: sums.n,
    ndcg: sums.ndcg / n,
    generatorNdcg: sums.gen / n,
    ipsNdcg: sums.ips / n,
    ipsGeneratorNdcg: sums.ipsGen / n,
  };
}
