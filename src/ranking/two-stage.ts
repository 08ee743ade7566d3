import type { Recommender, TrainingInput } from '../models/types.js';
import { DEFAULT_CANDIDATES, generateCandidates, type CandidateLists } from './candidates.js';
import { addInteractionFeatures } from './features.js';
import { interactionStats } from './interaction-stats.js';
import { rankObjectives, type RankObjective, type RankObjectiveName } from './objective.js';
import {
  defaultRankerParams,
  gainImportances,
  labelLists,
  listNdcg,
  orderList,
  rowsOf,
  scoreRows,
  trainRanker,
  type HeldOutRows,
  type LabelledLists,
  type RankerParams,
  type TrainedRanker,
} from './ranker.js';

/**
 * The two-stage model as a selection candidate: candidates from a fitted generator, re-ranked by trees.
 * Validation is nested inside selection and honest: the generator was fitted on the selection set's fit
 * part, the features come from that same part, the labels are the validation items, and the ndcg@K that
 * decides is cross-fitted — each user's list is re-ranked by trees trained on other users' lists only —
 * and compared with the generator's own ndcg@K on the same users.
 */

export interface TwoStageOptions {
  readonly k?: number;
  /** Candidates per user (default `DEFAULT_CANDIDATES`). */
  readonly candidates?: number;
  /** Cross-fitting folds over validation users (default 3). */
  readonly folds?: number;
  /** Validation users whose lists train and judge the ranker, at most (default 3,000; a spread sample). */
  readonly maxUsers?: number;
  /** Objectives tried (default: every one this build offers, `rankObjectives()`). */
  readonly objectives?: readonly RankObjective[];
  /** Tree settings tried with each objective (default: `defaultRankerParams` alone). */
  readonly params?: readonly Partial<RankerParams>[];
  /**
   * The two-stage is chosen only when its mean paired gain over the generator is above this many standard
   * errors of that gain (default 1): a re-ranker that only matches the generator is not worth serving.
   */
  readonly minGainStandardErrors?: number;
  /** Feature columns the trees may read, by name (default: every column of the table). */
  readonly features?: readonly string[];
  readonly log?: (line: string) => void;
}

export interface TwoStageTrial {
  readonly objective: RankObjectiveName;
  readonly params: RankerParams;
  /** Cross-fitted ndcg@K on the validation users. */
  readonly ndcg: number;
  /** Trees kept by early stopping, averaged over the folds. */
  readonly trees: number;
  readonly seconds: number;
}

export interface TwoStageValidation {
  /** Cross-fitted validation ndcg@K of the best trial. */
  readonly ndcg: number;
  /** The generator's validation ndcg@K on the same users. */
  readonly generatorNdcg: number;
  /** Standard error of the paired per-user difference (best trial − generator). */
  readonly gainStandardError: number;
  readonly chosen: boolean;
  readonly objective: RankObjectiveName;
  readonly params: RankerParams;
  /** Trained on every validation user's list with the best trial's settings: what the test run uses. */
  readonly ranker: TrainedRanker;
  readonly importances: readonly { readonly feature: string; readonly gain: number }[];
  readonly tried: readonly TwoStageTrial[];
  readonly users: number;
  readonly candidates: number;
  /** Share of the users' held-out items inside their candidate lists: the most re-ranking can reach. */
  readonly candidateRecall: number;
  readonly seconds: number;
}

/** Candidate lists for `users` with every ranking feature, all computed from `input` alone. */
export function rankingLists(
  generator: Recommender,
  input: TrainingInput,
  users: Int32Array,
  candidates: number = DEFAULT_CANDIDATES,
): CandidateLists {
  const lists = generateCandidates(generator, input, users, candidates);
  addInteractionFeatures(lists, interactionStats(input));
  return lists;
}

/** Users with at least one held-out item, at most `max` of them spread evenly over the index range. */
function heldOutUsers(heldOut: HeldOutRows, max: number): Int32Array {
  const users: number[] = [];
  for (let u = 0; u + 1 < heldOut.indptr.length; u++)
    if (heldOut.indptr[u + 1]! > heldOut.indptr[u]!) users.push(u);
  if (users.length <= max) return Int32Array.from(users);
  const stride = users.length / max;
  return Int32Array.from({ length: max }, (_, j) => users[Math.floor(j * stride)]!);
}

const mean = (values: Float64Array): number => {
  let sum = 0;
  let n = 0;
  for (const v of values) {
    if (Number.isNaN(v)) continue;
    sum += v;
    n += 1;
  }
  return n === 0 ? 0 : sum / n;
};

/**
 * Cross-fitted ndcg@K of one objective and setting: lists are dealt into `folds` folds by position (list
 * q to fold q mod folds), each fold re-ranked by trees trained on the others.
 */
function crossFit(
  data: LabelledLists,
  features: readonly string[],
  objective: RankObjective,
  params: RankerParams,
  folds: number,
  k: number,
): { perList: Float64Array; trees: number } {
  const nLists = data.lists.users.length;
  const perList = new Float64Array(nLists).fill(NaN);
  let trees = 0;
  for (let f = 0; f < folds; f++) {
    const held = Int32Array.from({ length: nLists }, (_, q) => q).filter((q) => q % folds === f);
    const rest = Int32Array.from({ length: nLists }, (_, q) => q).filter((q) => q % folds !== f);
    const ranker = trainRanker(data, rest, features, objective, params);
    trees += ranker.model.treeCount;
    // Only the held-out fold's rows are scored, into their places in the whole table.
    const rows = rowsOf(data, features, held);
    const predicted = rows.nRows === 0 ? new Float64Array(0) : ranker.model.predictMargin(rows.features);
    const scores = new Float64Array(data.labels.length);
    let at = 0;
    for (const q of held) {
      for (let row = data.lists.offsets[q]!; row < data.lists.offsets[q + 1]!; row++)
        scores[row] = predicted[at++]!;
    }
    const ndcg = listNdcg(data, scores, k, held);
    for (const q of held) perList[q] = ndcg[q]!;
  }
  return { perList, trees: trees / folds };
}

export function validateTwoStage(
  generator: Recommender,
  input: TrainingInput,
  heldOut: HeldOutRows,
  options: TwoStageOptions = {},
): TwoStageValidation {
  const started = performance.now();
  const k = options.k ?? 20;
  const folds = options.folds ?? 3;
  const candidates = options.candidates ?? DEFAULT_CANDIDATES;
  const log = options.log ?? (() => {});
  if (!Number.isInteger(folds) || folds < 2)
    throw new RangeError(`two-stage: folds must be ≥ 2, got ${folds}`);
  const users = heldOutUsers(heldOut, options.maxUsers ?? 3_000);
  const lists = rankingLists(generator, input, users, candidates);
  const data = labelLists(lists, heldOut, input.matrix.cols);
  const features = options.features ?? lists.table.names;
  const base = listNdcg(data, null, k);
  const generatorNdcg = mean(base);
  let found = 0;
  let held = 0;
  for (const label of data.labels) found += label;
  for (const count of data.heldCounts) held += count;
  const candidateRecall = held === 0 ? 0 : found / held;
  log(
    `two-stage: ${users.length} users × ≤${candidates} candidates, ${features.length} features; ` +
      `generator val ndcg@${k}=${generatorNdcg.toFixed(6)}, candidate recall ${candidateRecall.toFixed(4)}`,
  );

  const tried: TwoStageTrial[] = [];
  let best: { trial: TwoStageTrial; perList: Float64Array } | null = null;
  for (const objective of options.objectives ?? rankObjectives()) {
    for (const variant of options.params ?? [{}]) {
      const params: RankerParams = { ...defaultRankerParams, evalAt: k, ...objective.defaults, ...variant };
      const trialStarted = performance.now();
      const { perList, trees } = crossFit(data, features, objective, params, folds, k);
      const trial: TwoStageTrial = {
        objective: objective.name,
        params,
        ndcg: mean(perList),
        trees,
        seconds: (performance.now() - trialStarted) / 1000,
      };
      tried.push(trial);
      log(
        `two-stage: ${objective.name} ${JSON.stringify(variant)} cross-fitted val ndcg@${k}=${trial.ndcg.toFixed(6)}` +
          ` (${trees.toFixed(0)} trees, ${trial.seconds.toFixed(1)} s)`,
      );
      if (best === null || trial.ndcg > best.trial.ndcg) best = { trial, perList };
    }
  }
  if (best === null) throw new RangeError('two-stage: no objective to try');

  // Paired over users: the same lists, re-ranked or not.
  const diffs = best.perList.map((v, q) => v - base[q]!).filter((v) => !Number.isNaN(v));
  const gain = mean(diffs);
  let squares = 0;
  for (const d of diffs) squares += (d - gain) ** 2;
  const gainStandardError =
    diffs.length > 1 ? Math.sqrt(squares / (diffs.length - 1) / diffs.length) : Infinity;
  const chosen = gain > 0 && gain > (options.minGainStandardErrors ?? 1) * gainStandardError;

  const objective = (options.objectives ?? rankObjectives()).find((o) => o.name === best.trial.objective)!;
  const all = Int32Array.from({ length: lists.users.length }, (_, q) => q);
  const ranker = trainRanker(data, all, features, objective, best.trial.params);
  log(
    `two-stage: best ${best.trial.objective} val ndcg@${k}=${best.trial.ndcg.toFixed(6)} vs generator ` +
      `${generatorNdcg.toFixed(6)} (gain ${gain.toFixed(6)} ± ${gainStandardError.toFixed(6)}): ` +
      `${chosen ? 'chosen' : 'not chosen'}; final ranker ${ranker.model.treeCount} trees`,
  );
  return {
    ndcg: best.trial.ndcg,
    generatorNdcg,
    gainStandardError,
    chosen,
    objective: best.trial.objective,
    params: best.trial.params,
    ranker,
    importances: gainImportances(ranker, 10),
    tried,
    users: users.length,
    candidates,
    candidateRecall,
    seconds: (performance.now() - started) / 1000,
  };
}

/** Each user's top K after re-ranking: list q is `items[offsets[q] .. offsets[q + 1]]`, best first. */
export interface RankedLists {
  readonly users: Int32Array;
  readonly offsets: Int32Array;
  readonly items: Int32Array;
}

/**
 * The two-stage ranking of `users`: candidates from `generator` (fitted on `input`), features from
 * `input`, re-ordered by `ranker`, cut to the top `k`.
 */
export function rerankTopK(
  generator: Recommender,
  input: TrainingInput,
  users: Int32Array,
  ranker: TrainedRanker,
  k: number,
  candidates: number = DEFAULT_CANDIDATES,
): RankedLists {
  const lists = rankingLists(generator, input, users, candidates);
  const scores = scoreRows(ranker, lists);
  const offsets = new Int32Array(users.length + 1);
  const items: number[] = [];
  const order = new Int32Array(candidates);
  for (let q = 0; q < users.length; q++) {
    const size = orderList(lists, q, scores, order);
    for (let r = 0; r < Math.min(k, size); r++) items.push(lists.items[order[r]!]!);
    offsets[q + 1] = items.length;
  }
  return { users: lists.users, offsets, items: Int32Array.from(items) };
}
