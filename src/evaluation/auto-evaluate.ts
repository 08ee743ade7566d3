import { MODEL_NAMES } from '../models/index.js';
import type { BlendableName } from '../models/blend.js';
import type { FitOptions, ModelParamsByName, Recommender, TrainingInput } from '../models/types.js';
import {
  rerankTopK,
  TooFewListsError,
  validateTwoStage,
  type TwoStageOptions,
  type TwoStageValidation,
} from '../ranking/index.js';
import type { JsonValue } from '../shared/types.js';
import { centerOut, selectModel, selectionSetFromTrain, type Selection, type Trial } from './auto.js';
import { protocolParams, RECENCY_GRID, tuningGrids, type ParamGrids } from './grids.js';
import type { HarnessDeps } from './harness.js';
import { MetricsAccumulator, type RankingMetrics } from './metrics.js';
import {
  heldOutUsers,
  trainingInput,
  type HeldOutSplit,
  type PreparedDataset,
  type TrainSplit,
} from './protocol.js';
import { rankHeldOut } from './scoring.js';

export interface AutoOptions {
  readonly k?: number;
  readonly dataset?: string;
  readonly threads?: number;
  readonly onLog?: (line: string) => void;
  /** Models to choose from (default: every registered model, `MODEL_NAMES`, at run time). */
  readonly models?: readonly BlendableName[];
  /** Recency half-lives tried per fitted candidate (default `RECENCY_GRID`; `[null]` turns it off). */
  readonly recency?: readonly (number | null)[];
  /** Replaces search spaces, e.g. smaller grids for tests. */
  readonly grids?: Partial<ParamGrids>;
  readonly maxBlendComponents?: number;
  /**
   * Seconds one model's search may take before its remaining candidates are dropped (default 150): keeps
   * the whole run within minutes on catalogs where one fit of a model takes a minute.
   */
  readonly secondsPerModel?: number;
  /** Told when selection is over and the final fit and the one test scoring begin (for tests). */
  readonly onSelected?: (selection: Selection) => void;
  /**
   * Try the two-stage model (the chosen model's candidates re-ranked by gradient-boosted trees,
   * `ranking/`) as one more candidate, taken only if its cross-fitted validation ndcg says so (default on).
   */
  readonly rerank?: boolean;
  /** Settings of the two-stage validation (candidates, folds, objectives, tree settings). */
  readonly twoStage?: TwoStageOptions;
}

/** `attune evaluate --auto`'s one output line. */
export type AutoResultLine = { readonly [key: string]: JsonValue };

const round = (value: number, digits: number): number => Number(value.toFixed(digits));

/** Every registered model that can be tuned on its own (a blend is built from them, not tuned). */
export const selectableModels = (): BlendableName[] =>
  MODEL_NAMES.filter((name): name is BlendableName => name !== 'blend');

/**
 * The tuning stage: receives the train split only — its type has no room for test data — cuts the
 * protocol's validation split from it and selects a model or blend on validation ndcg@K.
 */
export function selectOnTrain(
  train: TrainSplit,
  deps: HarnessDeps,
  options: AutoOptions,
  fitOptions: FitOptions,
  keepChosenModel = false,
): Promise<Selection> {
  const k = options.k ?? 20;
  const full: ParamGrids = { ...tuningGrids(deps.defaults), ...options.grids };
  const preferred = protocolParams(deps.defaults);
  // Defaults first, then outwards: what a model's time budget cuts off is the far end of its grid.
  const grids = Object.fromEntries(
    Object.entries(full).map(([name, grid]) => [
      name,
      centerOut(grid as readonly unknown[], preferred[name as keyof ModelParamsByName]),
    ]),
  ) as unknown as ParamGrids;
  const fallbackName = 'als';
  return selectModel(selectionSetFromTrain(train), {
    fit: deps.fit,
    models: options.models ?? selectableModels(),
    grids,
    fallback: { model: fallbackName, params: grids[fallbackName][0] ?? deps.defaults[fallbackName] },
    k,
    fitOptions,
    secondsPerModel: options.secondsPerModel ?? 150,
    recency: options.recency ?? RECENCY_GRID,
    // Under the protocol every user with ≥ 5 train rows is in validation; any non-empty set is usable.
    minValidationUsers: 1,
    keepChosenModel,
    ...(options.maxBlendComponents === undefined ? {} : { maxBlendComponents: options.maxBlendComponents }),
    ...(options.onLog === undefined ? {} : { log: options.onLog }),
  });
}

function trialJson(trial: Trial, k: number): JsonValue {
  return {
    model: trial.model,
    params: trial.params,
    [`val_ndcg@${k}`]: trial.valNdcg === null ? null : round(trial.valNdcg, 6),
    seconds: round(trial.seconds, 3),
    ...(trial.msPerUser === undefined ? {} : { ms_per_user: round(trial.msPerUser, 4) }),
    ...(trial.skipped === undefined ? {} : { skipped: trial.skipped }),
  };
}

/**
 * `--auto`: select on the train split, refit the choice on the whole train split (timed as `train_s`),
 * then score the test split once. The test split is first touched after selection has returned.
 */
export async function runAuto(
  dataset: PreparedDataset,
  options: AutoOptions,
  deps: HarnessDeps,
): Promise<AutoResultLine> {
  const k = options.k ?? 20;
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a positive integer, got ${k}`);
  const started = performance.now();
  const fitOptions: FitOptions = options.threads === undefined ? {} : { threads: options.threads };
  const rerank = options.rerank ?? true;
  const selection = await selectOnTrain(dataset.train, deps, options, fitOptions, rerank);
  // The two-stage candidate, validated on the same selection set the chosen model was fitted on.
  const twoStageRun =
    rerank && selection.fitted !== undefined
      ? validateOnTrain(dataset.train, selection.fitted, k, options)
      : null;
  const twoStage = twoStageRun !== null && 'ranker' in twoStageRun ? twoStageRun : null;
  options.onSelected?.(selection);
  const input = trainingInput(dataset.train);
  const fitStarted = performance.now();
  const { chosen } = selection;
  const model = await deps.fit(
    chosen.model,
    input,
    chosen.params as ModelParamsByName[typeof chosen.model],
    fitOptions,
  );
  const trainSeconds = (performance.now() - fitStarted) / 1000;
  // The one read of the test split.
  const rankStarted = performance.now();
  const metrics =
    twoStage?.chosen === true
      ? rankTwoStage(model, input, dataset.test, twoStage, k)
      : rankHeldOut(model, input.matrix, dataset.test, k, input.times);
  const rankSeconds = (performance.now() - rankStarted) / 1000;
  const final = twoStage?.chosen === true ? 'two-stage' : chosen.model;
  options.onLog?.(
    `auto: ${final} ndcg@${k}=${metrics.ndcg.toFixed(6)} recall@${k}=${metrics.recall.toFixed(6)}`,
  );
  return {
    model: 'auto',
    chosen: { model: chosen.model, params: model.params },
    [`recall@${k}`]: round(metrics.recall, 6),
    [`ndcg@${k}`]: round(metrics.ndcg, 6),
    [`coverage@${k}`]: round(metrics.coverage, 6),
    train_s: round(trainSeconds, 3),
    tune_s: round(selection.seconds, 3),
    total_s: round((performance.now() - started) / 1000, 3),
    params: model.params,
    [`val_ndcg@${k}`]: selection.valNdcg === null ? null : round(selection.valNdcg, 6),
    tried: selection.tried.map((trial) => trialJson(trial, k)),
    dataset: options.dataset ?? 'dataset',
    n_test_users: metrics.users,
    n_validation_users: selection.validationUsers,
    final,
    ...(twoStageRun === null
      ? {}
      : {
          two_stage:
            'ranker' in twoStageRun
              ? twoStageJson(twoStageRun, k, rankSeconds)
              : { skipped: twoStageRun.skipped },
        }),
  };
}

/** The two-stage's validation on the train split only: the selection set's fit part and validation part. */
function validateOnTrain(
  train: TrainSplit,
  generator: Recommender,
  k: number,
  options: AutoOptions,
): TwoStageValidation | { readonly skipped: string } {
  const set = selectionSetFromTrain(train);
  try {
    return validateTwoStage(generator, set.input, set.validation.rows, {
      k,
      ...(options.onLog === undefined ? {} : { log: options.onLog }),
      ...options.twoStage,
    });
  } catch (error) {
    // Too few validation users to train and judge a ranker: the chosen model stands on its own.
    if (!(error instanceof TooFewListsError)) throw error;
    options.onLog?.(`two-stage: skipped: ${error.message}`);
    return { skipped: error.message };
  }
}

/** The test users' top K by the two-stage: the refitted generator's candidates, re-ranked. */
function rankTwoStage(
  generator: Recommender,
  input: TrainingInput,
  test: HeldOutSplit,
  twoStage: TwoStageValidation,
  k: number,
): RankingMetrics {
  const users = heldOutUsers(test);
  const ranked = rerankTopK(generator, input, users, twoStage.ranker, k, twoStage.candidates);
  const metrics = new MetricsAccumulator(input.matrix.cols, k);
  const { indptr, items } = test.rows;
  ranked.users.forEach((user, q) => {
    metrics.add(
      ranked.items.subarray(ranked.offsets[q]!, ranked.offsets[q + 1]!),
      items.subarray(indptr[user]!, indptr[user + 1]!),
    );
  });
  return metrics.result();
}

function twoStageJson(twoStage: TwoStageValidation, k: number, rankSeconds: number): JsonValue {
  const { params } = twoStage;
  return {
    [`val_ndcg@${k}`]: round(twoStage.ndcg, 6),
    [`generator_val_ndcg@${k}`]: round(twoStage.generatorNdcg, 6),
    gain_standard_error: round(twoStage.gainStandardError, 6),
    chosen: twoStage.chosen,
    objective: twoStage.objective,
    trees: twoStage.ranker.model.treeCount,
    params: {
      learningRate: params.learningRate,
      maxDepth: params.maxDepth,
      minChildWeight: params.minChildWeight,
      lambda: params.lambda,
      earlyStoppingRounds: params.earlyStoppingRounds,
    },
    importances: twoStage.importances.map((i) => ({ feature: i.feature, gain: round(i.gain, 4) })),
    tried: twoStage.tried.map((t) => ({
      objective: t.objective,
      learningRate: t.params.learningRate,
      maxDepth: t.params.maxDepth,
      minChildWeight: t.params.minChildWeight,
      [`val_ndcg@${k}`]: round(t.ndcg, 6),
      trees: round(t.trees, 1),
      seconds: round(t.seconds, 2),
    })),
    candidates: twoStage.candidates,
    candidate_recall: round(twoStage.candidateRecall, 4),
    features: twoStage.ranker.features.length,
    validation_users: twoStage.users,
    seconds: round(twoStage.seconds, 3),
    test_rank_s: round(rankSeconds, 3),
  };
}
