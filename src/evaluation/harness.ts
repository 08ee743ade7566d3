import type {
  FitOptions,
  ModelName,
  ModelParamsByName,
  Recommender,
  TrainingInput,
} from '../models/types.js';
import type { JsonValue } from '../shared/types.js';
import type { Interaction } from './datasets.js';
import { tuningGrids, untunedGrids, type ParamGrids } from './grids.js';
import {
  heldOutUsers,
  prepareDataset,
  trainingInput,
  validationSplit,
  type HeldOutSplit,
  type PreparedDataset,
  type TrainSplit,
} from './protocol.js';
import { rankHeldOut } from './scoring.js';

/** How a model is fitted; `fitRecommender` in production, a fake in tests. */
export type Fitter = <N extends ModelName>(
  name: N,
  input: TrainingInput,
  params: ModelParamsByName[N],
  options?: FitOptions,
) => Promise<Recommender>;

export interface EvaluateOptions {
  /** Model names as given on the command line; see `resolveModelName` for the accepted aliases. */
  readonly models: readonly string[];
  /** Cut-off of every metric (default 20); also names the output keys (`ndcg@20`). */
  readonly k?: number;
  /** Search hyper-parameters on the validation split (default true); otherwise use fixed settings. */
  readonly tune?: boolean;
  /** Dataset name written into every result line. */
  readonly dataset?: string;
  /** Worker threads the model kernels may use. */
  readonly threads?: number;
  readonly onLog?: (line: string) => void;
  /** Replaces the search spaces (e.g. a smaller grid for a quick run). */
  readonly grids?: Partial<ParamGrids>;
}

/** One JSON line of output, in the reference files' layout; metric keys carry K (`recall@20`). */
export type ResultLine = {
  readonly model: string;
  readonly train_s: number;
  readonly tune_s: number;
  readonly params: JsonValue;
  readonly dataset: string;
  readonly n_test_users: number;
} & { readonly [metric: `${'recall' | 'ndcg' | 'coverage'}@${number}`]: number } & {
  readonly [metric: `val_ndcg@${number}`]: number | null;
};

export interface HarnessDeps {
  readonly fit: Fitter;
  readonly defaults: ModelParamsByName;
}

const aliases: Readonly<Record<string, ModelName>> = {
  popularity: 'popularity',
  pop: 'popularity',
  itemknn: 'itemknn',
  als: 'als',
  ials: 'als',
  implicit_als: 'als',
  ease: 'ease',
  rp3beta: 'rp3beta',
  rp3b: 'rp3beta',
  hybrid: 'hybrid',
  lightfm: 'hybrid',
  lightfm_warp: 'hybrid',
};

export const modelNames: readonly string[] = Object.keys(aliases);

/** Attune's model behind a given name; the reference files' names are accepted as aliases. */
export function resolveModelName(given: string): ModelName {
  const name = aliases[given.trim().toLowerCase()];
  if (name === undefined) {
    throw new Error(`unknown model ${JSON.stringify(given)}; expected one of ${modelNames.join(', ')}`);
  }
  return name;
}

/**
 * What tuning sees: the train split cut once more into fit and validation parts. `tuningSet` is its only
 * maker and takes nothing but the train split, so no test interaction can reach tuning.
 */
interface TuningSet {
  readonly input: TrainingInput;
  readonly validation: HeldOutSplit;
}

function tuningSet(train: TrainSplit): TuningSet {
  const { fit, validation } = validationSplit(train);
  return { input: trainingInput(fit), validation };
}

interface Tuned<N extends ModelName> {
  readonly params: ModelParamsByName[N];
  readonly validationNdcg: number | null;
  readonly seconds: number;
}

interface RunContext {
  readonly deps: HarnessDeps;
  readonly k: number;
  readonly fitOptions: FitOptions;
  readonly log: (line: string) => void;
}

/**
 * Picks the candidate with the best validation ndcg@K (the first on ties). A single candidate is taken
 * as is, without fitting; the validation split is cut only when there is something to choose.
 */
async function tune<N extends ModelName>(
  name: N,
  candidates: readonly ModelParamsByName[N][],
  tuning: () => TuningSet,
  context: RunContext,
): Promise<Tuned<N>> {
  const first = candidates[0];
  if (first === undefined) throw new Error(`no parameters to evaluate ${name} with`);
  if (candidates.length === 1) return { params: first, validationNdcg: null, seconds: 0 };
  const started = performance.now();
  const { input, validation } = tuning();
  let best: { params: ModelParamsByName[N]; ndcg: number } | null = null;
  for (const params of candidates) {
    const model = await context.deps.fit(name, input, params, context.fitOptions);
    const { ndcg } = rankHeldOut(model, input.matrix, validation, context.k, input.times);
    context.log(`${name}: ${JSON.stringify(params)} val ndcg@${context.k}=${ndcg.toFixed(6)}`);
    if (best === null || ndcg > best.ndcg) best = { params, ndcg };
  }
  if (best === null) throw new Error('unreachable: no candidate was scored');
  return { params: best.params, validationNdcg: best.ndcg, seconds: (performance.now() - started) / 1000 };
}

function isPrepared(
  source: PreparedDataset | Iterable<Interaction> | AsyncIterable<Interaction>,
): source is PreparedDataset {
  return 'train' in source && 'test' in source;
}

const round = (value: number, digits: number): number => Number(value.toFixed(digits));

async function evaluateOne<N extends ModelName>(
  given: string,
  name: N,
  candidates: readonly ModelParamsByName[N][],
  dataset: PreparedDataset,
  tuning: () => TuningSet,
  label: string,
  context: RunContext,
): Promise<ResultLine> {
  const { k } = context;
  const tuned = await tune(name, candidates, tuning, context);
  const input = trainingInput(dataset.train);
  const started = performance.now();
  const model = await context.deps.fit(name, input, tuned.params, context.fitOptions);
  const trainSeconds = (performance.now() - started) / 1000;
  // The test split is read here, after the parameters are fixed, and nowhere else.
  const metrics = rankHeldOut(model, input.matrix, dataset.test, k, input.times);
  context.log(`${given}: ndcg@${k}=${metrics.ndcg.toFixed(6)} recall@${k}=${metrics.recall.toFixed(6)}`);
  const line: Record<string, JsonValue> = {
    model: given,
    [`recall@${k}`]: round(metrics.recall, 6),
    [`ndcg@${k}`]: round(metrics.ndcg, 6),
    [`coverage@${k}`]: round(metrics.coverage, 6),
    train_s: round(trainSeconds, 3),
    tune_s: round(tuned.seconds, 3),
    params: model.params,
    [`val_ndcg@${k}`]: tuned.validationNdcg === null ? null : round(tuned.validationNdcg, 6),
    dataset: label,
    n_test_users: metrics.users,
  };
  return line as ResultLine;
}

/**
 * Runs the protocol for each requested model: tune on the validation split cut from train, refit on
 * the whole train split (timed as `train_s`), score the test split. Yields one result line per model,
 * as each finishes.
 */
export async function* runEvaluation(
  source: PreparedDataset | Iterable<Interaction> | AsyncIterable<Interaction>,
  options: EvaluateOptions,
  deps: HarnessDeps,
): AsyncGenerator<ResultLine> {
  const k = options.k ?? 20;
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a positive integer, got ${k}`);
  // Unknown names fail before any work is done.
  const requested = options.models.map((given) => ({ given, name: resolveModelName(given) }));
  const log = options.onLog ?? (() => {});
  const dataset = isPrepared(source) ? source : await prepareDataset(source);
  const label = options.dataset ?? 'dataset';
  log(
    `${label}: ${dataset.userIds.length} users, ${dataset.itemIds.length} items, ` +
      `${dataset.train.rows.items.length} train / ${dataset.test.rows.items.length} test pairs, ` +
      `${heldOutUsers(dataset.test).length} evaluated users`,
  );
  const grids: ParamGrids = {
    ...(options.tune === false ? untunedGrids(deps.defaults) : tuningGrids(deps.defaults)),
    ...options.grids,
  };
  const context: RunContext = {
    deps,
    k,
    fitOptions: options.threads === undefined ? {} : { threads: options.threads },
    log,
  };
  let cached: TuningSet | null = null;
  const tuning = (): TuningSet => (cached ??= tuningSet(dataset.train));
  for (const { given, name } of requested) {
    switch (name) {
      case 'popularity':
        yield await evaluateOne(given, name, grids.popularity, dataset, tuning, label, context);
        break;
      case 'itemknn':
        yield await evaluateOne(given, name, grids.itemknn, dataset, tuning, label, context);
        break;
      case 'als':
        yield await evaluateOne(given, name, grids.als, dataset, tuning, label, context);
        break;
      case 'ease':
        yield await evaluateOne(given, name, grids.ease, dataset, tuning, label, context);
        break;
      case 'rp3beta':
        yield await evaluateOne(given, name, grids.rp3beta, dataset, tuning, label, context);
        break;
      case 'hybrid':
        yield await evaluateOne(given, name, grids.hybrid, dataset, tuning, label, context);
        break;
    }
  }
}
