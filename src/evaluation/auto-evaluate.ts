import { MODEL_NAMES } from '../models/index.js';
import type { BlendableName } from '../models/blend.js';
import type { FitOptions, ModelParamsByName } from '../models/types.js';
import type { JsonValue } from '../shared/types.js';
import { centerOut, selectModel, selectionSetFromTrain, type Selection, type Trial } from './auto.js';
import { protocolParams, RECENCY_GRID, tuningGrids, type ParamGrids } from './grids.js';
import type { HarnessDeps } from './harness.js';
import { trainingInput, type PreparedDataset, type TrainSplit } from './protocol.js';
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
  const selection = await selectOnTrain(dataset.train, deps, options, fitOptions);
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
  const metrics = rankHeldOut(model, input.matrix, dataset.test, k, input.times);
  options.onLog?.(
    `auto: ${chosen.model} ndcg@${k}=${metrics.ndcg.toFixed(6)} recall@${k}=${metrics.recall.toFixed(6)}`,
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
  };
}
