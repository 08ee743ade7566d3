import { addZScored, blendOf, type BlendableName, type BlendComponent } from '../models/blend.js';
import { withRecency } from '../models/recency.js';
import type {
  CsrMatrix,
  FitOptions,
  ModelName,
  ModelParamsByName,
  Recommender,
  TrainingInput,
} from '../models/types.js';
import type { JsonValue } from '../shared/types.js';
import type { ParamGrids } from './grids.js';
import type { Fitter } from './harness.js';
import {
  heldOutUsers,
  trainingInput,
  validationHoldout,
  validationSplit,
  type HeldOutSplit,
  type TrainSplit,
} from './protocol.js';
import { HeldOutRanker, rankHeldOut, trainProfile } from './scoring.js';

/**
 * Model selection without leakage: tune every model on a validation split cut from training data, try
 * blends of the best, pick by validation ndcg@K. Everything here takes a `SelectionSet` — a fit matrix
 * plus the validation part held out of it — and nothing else, so no test interaction can reach it.
 */

/** What selection sees: the part of the training data models are fitted on, and what was held out of it. */
export interface SelectionSet {
  readonly input: TrainingInput;
  readonly validation: HeldOutSplit & { readonly part: 'validation' };
}

/** A model and its parameters: everything needed to fit the chosen thing again on more data. */
export type Choice = {
  readonly [N in ModelName]: { readonly model: N; readonly params: ModelParamsByName[N] };
}[ModelName];

/** One candidate tried on validation, or a model that refused the data (`skipped` says why). */
export interface Trial {
  readonly model: ModelName;
  readonly params: JsonValue;
  readonly valNdcg: number | null;
  readonly seconds: number;
  readonly skipped?: string;
  /** Milliseconds per validation user to score and rank the catalog. */
  readonly msPerUser?: number;
  /** True when `msPerUser` was over the scoring budget, so the candidate could not be chosen. */
  readonly overBudget?: boolean;
}

export interface Selection {
  readonly chosen: Choice;
  /** Validation ndcg@K of the choice; `null` when selection fell back without measuring. */
  readonly valNdcg: number | null;
  readonly tried: readonly Trial[];
  /** Each tuned model's best candidate, best first: what a run that keeps several models should fit. */
  readonly best: readonly Choice[];
  readonly seconds: number;
  /** Why the fallback was taken instead of measuring (validation too small), or `null`. */
  readonly fallback: string | null;
  readonly validationUsers: number;
  readonly validationPairs: number;
  /**
   * The chosen model or blend as fitted on the selection set's fit part, when `keepChosenModel` asked for
   * it: what a later stage validated on the same split (the two-stage re-ranker) builds on without a refit.
   */
  readonly fitted?: Recommender;
}

export interface SelectOptions {
  readonly fit: Fitter;
  /** Models to tune, in order; a blend is never among them (it is built from them). */
  readonly models: readonly BlendableName[];
  readonly grids: ParamGrids;
  /** What to serve when validation is too small to choose by. */
  readonly fallback: Choice;
  readonly k?: number;
  readonly fitOptions?: FitOptions;
  /** Fewer validation users than this and selection takes the fallback (default 50). */
  readonly minValidationUsers?: number;
  /**
   * Seconds one model's search may take: once spent, its remaining candidates are not tried (the grid's
   * first candidate always is). Keeps slow models from eating the run on large data. Default: no limit.
   */
  readonly secondsPerModel?: number;
  /**
   * Recency half-lives (in interactions; null = off) tried on every fitted candidate of every model that
   * reads the user's history (`models/recency.ts`). Default: off only.
   */
  readonly recency?: readonly (number | null)[];
  /**
   * Most milliseconds per user the chosen model or blend may spend scoring and ranking the catalog, as
   * measured on validation (a blend costs the sum of its components). Serving pays this on every request,
   * so a retrain that serves what it chooses sets it; offline evaluation leaves it unlimited.
   */
  readonly scoringBudgetMs?: number;
  /** Validation users that score each candidate, at most (default `MAX_VALIDATION_USERS`). */
  readonly maxValidationUsers?: number;
  /** Most models a blend combines (default 5; 1 turns blending off). */
  readonly maxBlendComponents?: number;
  readonly log?: (line: string) => void;
  /**
   * Milliseconds that scoring costs and `secondsPerModel` are measured in (default `performance.now`).
   * Tests pass a clock that only their fake models advance, so each cost is known exactly.
   */
  readonly clock?: () => number;
  /** Keep the chosen model, fitted on the selection set, in `Selection.fitted` (default false). */
  readonly keepChosenModel?: boolean;
}

const DEFAULT_K = 20;

/**
 * Validation users that score each candidate, at most. Candidates are compared on the same users, so a
 * few thousand tell them apart (the standard error of a difference in ndcg@20 is well under 0.005), while
 * scoring every user of a sparse 30,000-user log for each of the ~100 candidate readings would take most
 * of an hour.
 */
export const MAX_VALIDATION_USERS = 5_000;

/**
 * The selection set with validation held out as before but scored for every stride-th user only (a
 * deterministic sample spread over the id range); the set itself when it has at most `max` users.
 */
export function sampleValidation(set: SelectionSet, max: number): SelectionSet {
  const users = heldOutUsers(set.validation);
  if (users.length <= max) return set;
  const { indptr, items, times } = set.validation.rows;
  const keep = new Uint8Array(indptr.length - 1);
  const stride = users.length / max;
  for (let j = 0; j < max; j++) keep[users[Math.floor(j * stride)]!] = 1;
  const nextIndptr = new Int32Array(indptr.length);
  const kept: number[] = [];
  for (let u = 0; u + 1 < indptr.length; u++) {
    if (keep[u] === 1) for (let j = indptr[u]!; j < indptr[u + 1]!; j++) kept.push(j);
    nextIndptr[u + 1] = kept.length;
  }
  return {
    input: set.input,
    validation: {
      part: 'validation',
      rows: {
        indptr: nextIndptr,
        items: Int32Array.from(kept, (j) => items[j]!),
        times: Float64Array.from(kept, (j) => times[j]!),
      },
    },
  };
}

/** The ndcg@K of `model` on validation; the validation rows are scored against the fit matrix. */
function validationNdcg(
  model: Recommender,
  set: SelectionSet,
  k: number,
  clock: () => number,
): { ndcg: number; ms: number } {
  const started = clock();
  const { ndcg, users } = rankHeldOut(model, set.input.matrix, set.validation, k, set.input.times);
  return { ndcg, ms: (clock() - started) / Math.max(1, users) };
}

interface Best {
  readonly choice: Choice;
  readonly model: Recommender;
  readonly ndcg: number;
  /** Milliseconds per validation user to score and rank the whole catalog: what serving will pay. */
  readonly ms: number;
}

/** Message of a thrown value, one line. */
const reason = (error: unknown): string =>
  (error instanceof Error ? error.message : String(error)).split('\n')[0]!;

/**
 * Tunes each model on its grid, then blends the best of them. The fitted model behind each model's best
 * candidate is kept, so blending re-uses it instead of fitting again.
 */
export async function selectModel(whole: SelectionSet, options: SelectOptions): Promise<Selection> {
  const started = performance.now();
  const k = options.k ?? DEFAULT_K;
  const log = options.log ?? (() => {});
  const validationUsers = heldOutUsers(whole.validation).length;
  const validationPairs = whole.validation.rows.items.length;
  const set = sampleValidation(whole, options.maxValidationUsers ?? MAX_VALIDATION_USERS);
  if (set !== whole) {
    log(`selection: scoring ${heldOutUsers(set.validation).length} of ${validationUsers} validation users`);
  }
  const minUsers = options.minValidationUsers ?? 50;
  const base = { validationUsers, validationPairs };
  if (validationUsers < minUsers) {
    const fallback = `validation has ${validationUsers} users (< ${minUsers}): too few to choose by`;
    log(`selection: ${fallback}; taking ${options.fallback.model}`);
    return { chosen: options.fallback, valNdcg: null, tried: [], best: [], seconds: 0, fallback, ...base };
  }
  const tried: Trial[] = [];
  const bests: Best[] = [];
  const overBudget: Best[] = [];
  for (const name of options.models) {
    const { best, cheapest } = await tuneOne(name, options.grids[name], set, k, options, tried);
    if (best !== null) bests.push(best);
    if (cheapest !== null) overBudget.push(cheapest);
  }
  if (bests.length === 0 && overBudget.length > 0) {
    // Nothing scores within the budget: serve the fastest thing measured rather than nothing.
    const fastest = overBudget.reduce((a, b) => (b.ms < a.ms ? b : a));
    log(`selection: no candidate within the scoring budget; taking the fastest, ${fastest.choice.model}`);
    bests.push(fastest);
  }
  bests.sort((a, b) => b.ndcg - a.ndcg);
  const top = bests[0];
  if (top === undefined) {
    const fallback = 'every model refused the data';
    return {
      chosen: options.fallback,
      valNdcg: null,
      tried,
      best: [],
      seconds: elapsed(started),
      fallback,
      ...base,
    };
  }
  let chosen: Choice = top.choice;
  let chosenNdcg = top.ndcg;
  let fitted: Recommender = top.model;
  const blend = searchBlend(bests, set, k, {
    maxComponents: options.maxBlendComponents ?? 5,
    budgetMs: options.scoringBudgetMs ?? Infinity,
    log,
  });
  if (blend !== null) {
    tried.push({
      model: 'blend',
      params: blendJson(blend.components),
      valNdcg: blend.ndcg,
      seconds: blend.seconds,
    });
    // Compared on the users the search scored (all of them unless the catalog forced a sample).
    if (blend.ndcg > blend.baseline + 1e-6) {
      chosen = { model: 'blend', params: { components: blend.components } };
      chosenNdcg = blend.ndcg;
      fitted = blendOf(blend.parts);
    }
  }
  log(`selection: chose ${chosen.model} (val ndcg@${k}=${chosenNdcg.toFixed(6)})`);
  return {
    chosen,
    valNdcg: chosenNdcg,
    tried,
    best: bests.map((b) => b.choice),
    seconds: elapsed(started),
    fallback: null,
    ...base,
    ...(options.keepChosenModel === true ? { fitted } : {}),
  };
}

const elapsed = (started: number): number => (performance.now() - started) / 1000;

async function tuneOne<N extends BlendableName>(
  name: N,
  candidates: readonly ModelParamsByName[N][],
  set: SelectionSet,
  k: number,
  options: SelectOptions,
  tried: Trial[],
): Promise<{ best: Best | null; cheapest: Best | null }> {
  const log = options.log ?? (() => {});
  const clock = options.clock ?? (() => performance.now());
  const budget = options.scoringBudgetMs ?? Infinity;
  let best: Best | null = null;
  /** The fastest candidate over the budget: taken only when no candidate of any model is within it. */
  let cheapest: Best | null = null;
  const choiceOf = (params: ModelParamsByName[N], recency: number | null): Choice =>
    ({ model: name, params: recency === null ? params : { ...params, recency } }) as Choice;
  const modelStarted = clock();
  const secondsPerModel = options.secondsPerModel ?? Infinity;
  for (const [done, params] of candidates.entries()) {
    if ((best ?? cheapest) !== null && (clock() - modelStarted) / 1000 > secondsPerModel) {
      log(`${name}: time budget spent; ${candidates.length - done} candidates not tried`);
      break;
    }
    const started = performance.now();
    let model: Recommender;
    try {
      model = await options.fit(name, set.input, params, options.fitOptions);
    } catch (error) {
      // A model that refuses the data (e.g. EASE above its item limit) refuses it for every candidate.
      const skipped = reason(error);
      log(`${name}: skipped: ${skipped}`);
      tried.push({ model: name, params: jsonOf(params), valNdcg: null, seconds: elapsed(started), skipped });
      break;
    }
    // Recency re-reads the same fit: each half-life costs a scoring pass, not a fit.
    for (const recency of name === 'popularity' ? [null] : (options.recency ?? [null])) {
      const scored = withRecency(model, recency);
      const { ndcg, ms } = validationNdcg(scored, set, k, clock);
      const overBudget = ms > budget;
      log(
        `${name}: ${JSON.stringify(scored.params)} val ndcg@${k}=${ndcg.toFixed(6)} ${ms.toFixed(3)} ms/user` +
          (overBudget ? ' (over the scoring budget)' : ''),
      );
      tried.push({
        model: name,
        params: scored.params,
        valNdcg: ndcg,
        seconds: elapsed(started),
        msPerUser: ms,
        ...(overBudget ? { overBudget } : {}),
      });
      if (overBudget) {
        cheapest =
          cheapest === null || ms < cheapest.ms
            ? { choice: choiceOf(params, recency), model: scored, ndcg, ms }
            : cheapest;
        continue;
      }
      if (best === null || ndcg > best.ndcg) {
        best = { choice: choiceOf(params, recency), model: scored, ndcg, ms };
      }
    }
  }
  return { best, cheapest };
}

const jsonOf = (value: unknown): JsonValue => JSON.parse(JSON.stringify(value)) as JsonValue;

function blendJson(components: readonly BlendComponent[]): JsonValue {
  return {
    components: components.map((c) => ({ model: c.model, weight: c.weight, params: jsonOf(c.params) })),
  };
}

interface BlendResult {
  readonly components: readonly BlendComponent[];
  /** The fitted models behind `components`, with the same weights. */
  readonly parts: readonly { readonly model: Recommender; readonly weight: number }[];
  readonly ndcg: number;
  /** The best single model's ndcg on the same users, for a like-for-like comparison. */
  readonly baseline: number;
  readonly sampled: boolean;
  readonly seconds: number;
}

/** Score cells (users × items × components) the blend search may hold in memory: 256 MB of floats. */
const MAX_CELLS = 64_000_000;
const WEIGHTS = [0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.7, 1, 1.5, 2, 3];

/** At most this many models anchor a blend search (see `searchBlend`). */
const MAX_ANCHORS = 3;

/**
 * Weights for the best models by coordinate ascent on validation ndcg@K, one model's weight fixed at 1
 * (z-scored sums are scale-free, so only ratios matter). Each component's z-scored scores for every
 * validation user are computed once; a weight vector then costs one pass of adds and a top-K per user.
 * Models far below the best (< 60% of its ndcg) are left out: they rarely help and cost a score pass each.
 *
 * The search is anchored on the best model first. Under a scoring budget the best model may leave no room
 * for a partner (ALS on a 9,000-item catalog costs most of 0.5 ms per user), while cheaper models together
 * could beat it; so the next best models anchor searches of their own, and the best blend of all wins. It
 * is compared with the best single model on the same users.
 */
function searchBlend(
  bests: readonly Best[],
  set: SelectionSet,
  k: number,
  { maxComponents, budgetMs, log }: { maxComponents: number; budgetMs: number; log: (line: string) => void },
): BlendResult | null {
  const top = bests[0];
  if (top === undefined) return null;
  const parts = bests
    .filter((b) => b === top || (b.ndcg >= 0.6 * top.ndcg && b.ms <= budgetMs))
    .slice(0, Math.max(1, maxComponents));
  /** What serving would pay for a weighting: every component with a positive weight scores. */
  const cost = (weights: readonly number[]): number =>
    parts.reduce((sum, part, j) => sum + (weights[j]! > 0 ? part.ms : 0), 0);
  // When the budget allows every part at once, the best model's search can reach any blend: it is the
  // only anchor (offline evaluation, unlimited budget). Otherwise an anchor is worth a search only if
  // some partner fits beside it.
  const anchors =
    cost(parts.map(() => 1)) <= budgetMs
      ? [0]
      : parts
          .map((_, j) => j)
          .filter((j) => parts.some((part, c) => c !== j && part.ms + parts[j]!.ms <= budgetMs))
          .slice(0, MAX_ANCHORS);
  if (parts.length < 2 || anchors.length === 0) return null;
  const started = performance.now();
  const { matrix } = set.input;
  const nItems = matrix.cols;
  let users = heldOutUsers(set.validation);
  const cap = Math.max(1, Math.floor(MAX_CELLS / (nItems * parts.length)));
  const sampled = users.length > cap;
  if (sampled) {
    // Every stride-th user: deterministic, and spread over the id range.
    const stride = users.length / cap;
    users = Int32Array.from({ length: cap }, (_, j) => users[Math.floor(j * stride)]!);
  }
  const zs = parts.map((part) => zScores(part.model, set.input, users));
  const evaluate = (weights: readonly number[]) =>
    blendMetrics(zs, weights, matrix, users, set.validation, k);
  const only = (j: number): number[] => parts.map((_, c) => (c === j ? 1 : 0));
  const single = evaluate(only(0));
  const baseline = single.ndcg;
  let chosen = { weights: only(0), ...single };
  for (const anchor of anchors) {
    const weights = only(anchor);
    let best = anchor === 0 ? baseline : evaluate(weights).ndcg;
    for (let round = 0; round < 3; round++) {
      let improved = false;
      for (let j = 0; j < parts.length; j++) {
        if (j === anchor) continue;
        for (const w of WEIGHTS) {
          if (w === weights[j]) continue;
          const trial = weights.slice();
          trial[j] = w;
          if (cost(trial) > budgetMs) continue;
          const { ndcg, coverage } = evaluate(trial);
          if (ndcg > best + 1e-9) {
            best = ndcg;
            weights[j] = w;
            improved = true;
            if (ndcg > chosen.ndcg + 1e-9) chosen = { weights: weights.slice(), ndcg, coverage };
          }
        }
      }
      if (!improved) break;
    }
  }
  const components = parts
    .map((part, j): BlendComponent => ({ ...part.choice, weight: chosen.weights[j]! }) as BlendComponent)
    .filter((c) => c.weight > 0);
  const fittedParts = parts
    .map((part, j) => ({ model: part.model, weight: chosen.weights[j]! }))
    .filter((p) => p.weight > 0);
  log(
    `blend: ${components.map((c) => `${c.model}×${c.weight}`).join(' + ')} val ndcg@${k}=${chosen.ndcg.toFixed(6)}` +
      ` coverage@${k}=${chosen.coverage.toFixed(4)}` +
      ` (best single ${baseline.toFixed(6)}; ${anchors.length} anchor${anchors.length === 1 ? '' : 's'}` +
      `${sampled ? `, ${users.length} sampled users` : ''})`,
  );
  return {
    components,
    parts: fittedParts,
    ndcg: chosen.ndcg,
    baseline,
    sampled,
    seconds: elapsed(started),
  };
}

/** One model's scores for each user, z-scored over the items the user has not interacted with. */
function zScores(model: Recommender, input: TrainingInput, users: Int32Array): Float32Array {
  const { matrix, times } = input;
  const nItems = matrix.cols;
  const out = new Float32Array(users.length * nItems);
  const scores = new Float32Array(nItems);
  const seen = new Uint8Array(nItems);
  users.forEach((user, row) => {
    const profile = trainProfile(matrix, user, times);
    model.score(profile, scores);
    for (const item of profile.items) seen[item] = 1;
    addZScored(scores, seen, 1, out.subarray(row * nItems, (row + 1) * nItems));
    for (const item of profile.items) seen[item] = 0;
  });
  return out;
}

function blendMetrics(
  zs: readonly Float32Array[],
  weights: readonly number[],
  matrix: CsrMatrix,
  users: Int32Array,
  validation: HeldOutSplit,
  k: number,
): { ndcg: number; coverage: number } {
  const nItems = matrix.cols;
  const combined = new Float32Array(nItems);
  const ranker = new HeldOutRanker(matrix, validation, k);
  users.forEach((user, row) => {
    combined.fill(0);
    const offset = row * nItems;
    zs.forEach((z, c) => {
      const w = weights[c]!;
      if (w === 0) return;
      for (let i = 0; i < nItems; i++) combined[i]! += w * z[offset + i]!;
    });
    ranker.add(user, combined);
  });
  const { ndcg, coverage } = ranker.result();
  return { ndcg, coverage };
}

/**
 * The protocol's validation split of a train split, as a selection set. Takes the train split and
 * nothing else: the one door from evaluation data into selection.
 */
export function selectionSetFromTrain(train: TrainSplit): SelectionSet {
  const { fit, validation } = validationSplit(train);
  return { input: trainingInput(fit), validation: { part: 'validation', rows: validation.rows } };
}

/**
 * A validation split of live training data: per user with ≥ 5 entries, the last `floor(n / 5)` items by
 * latest interaction time (ties by item index) are held out; the rest, with their weights, is the fit
 * matrix. Without entry times there is no "last", and the set is empty (selection then falls back).
 */
export function temporalSelectionSet(input: TrainingInput): SelectionSet {
  const { matrix, times } = input;
  const nnz = matrix.indptr[matrix.rows]!;
  const fitPtr = new Int32Array(matrix.rows + 1);
  const fitIndices = new Int32Array(nnz);
  const fitData = new Float32Array(nnz);
  const fitTimes = new Float64Array(nnz);
  const heldPtr = new Int32Array(matrix.rows + 1);
  const heldItems = new Int32Array(nnz);
  const heldTimes = new Float64Array(nnz);
  const holdOut = new Uint8Array(nnz);
  let f = 0;
  let h = 0;
  for (let u = 0; u < matrix.rows; u++) {
    const start = matrix.indptr[u]!;
    const end = matrix.indptr[u + 1]!;
    const take = times === undefined ? 0 : validationHoldout(end - start);
    if (take > 0 && times !== undefined) {
      const order = Array.from({ length: end - start }, (_, j) => start + j);
      order.sort((a, b) => times[a]! - times[b]! || matrix.indices[a]! - matrix.indices[b]!);
      for (const at of order.slice(order.length - take)) holdOut[at] = 1;
      for (const at of order.slice(order.length - take)) {
        heldItems[h] = matrix.indices[at]!;
        heldTimes[h++] = times[at]!;
      }
    }
    // Column order is kept, so the fit matrix stays a valid CSR.
    for (let at = start; at < end; at++) {
      if (holdOut[at] === 1) continue;
      fitIndices[f] = matrix.indices[at]!;
      fitData[f] = matrix.data[at]!;
      fitTimes[f++] = times?.[at] ?? 0;
    }
    fitPtr[u + 1] = f;
    heldPtr[u + 1] = h;
  }
  const fitMatrix: CsrMatrix = {
    rows: matrix.rows,
    cols: matrix.cols,
    indptr: fitPtr,
    indices: fitIndices.slice(0, f),
    data: fitData.slice(0, f),
  };
  const { now: _now, times: _times, matrix: _matrix, ...rest } = input;
  return {
    input: {
      ...rest,
      matrix: fitMatrix,
      ...(times === undefined ? {} : { times: fitTimes.slice(0, f) }),
      ...(input.now === undefined ? {} : { now: input.now }),
    },
    validation: {
      part: 'validation',
      rows: { indptr: heldPtr, items: heldItems.slice(0, h), times: heldTimes.slice(0, h) },
    },
  };
}

/**
 * At most `max` candidates of a grid, evenly spread over it, always keeping `preferred` (the defaults)
 * when the grid holds it: a small search for runs that must stay short (the scheduled retrain).
 */
export function trimGrid<T>(grid: readonly T[], max: number, preferred?: T): T[] {
  if (grid.length <= max) return grid.slice();
  const key = (value: T): string => JSON.stringify(value);
  const picked = new Map<string, T>();
  if (preferred !== undefined && grid.some((g) => key(g) === key(preferred))) {
    picked.set(key(preferred), preferred);
  }
  for (let j = 0; picked.size < max && j < max; j++) {
    const value = grid[Math.round((j * (grid.length - 1)) / Math.max(1, max - 1))]!;
    picked.set(key(value), value);
  }
  return [...picked.values()];
}

/**
 * The grid reordered to start at `preferred` (the defaults; the middle when absent) and move outwards by
 * grid position, so a search cut short by its time budget has tried the likeliest settings first.
 */
export function centerOut<T>(grid: readonly T[], preferred?: T): T[] {
  const key = (value: T): string => JSON.stringify(value);
  const found = preferred === undefined ? -1 : grid.findIndex((g) => key(g) === key(preferred));
  const center = found >= 0 ? found : Math.floor((grid.length - 1) / 2);
  const order = grid.map((_, j) => j);
  order.sort((a, b) => Math.abs(a - center) - Math.abs(b - center) || a - b);
  return order.map((j) => grid[j]!);
}
