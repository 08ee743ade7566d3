import {
  defaultParams,
  fitRecommender,
  MODEL_NAMES,
  paramsFromJson,
  type ModelName,
} from '../models/index.js';
import type { JsonValue } from '../shared/types.js';
import type { Interaction } from './datasets.js';
import { runEvaluation, type EvaluateOptions, type Fitter, type ResultLine } from './harness.js';
import { trainingInput, type PreparedDataset } from './protocol.js';
import { rankHeldOut } from './scoring.js';

/**
 * Evaluates Attune's models under the offline protocol (`runEvaluation` with the real model fitting):
 * one result line per requested model, yielded as each finishes.
 */
export function evaluateModels(
  source: PreparedDataset | Iterable<Interaction> | AsyncIterable<Interaction>,
  options: EvaluateOptions,
): AsyncGenerator<ResultLine> {
  return runEvaluation(source, options, { fit: fitRecommender, defaults: defaultParams });
}

/** One model or blend with its parameters, as a bundle records what serves (`GET /v1/models`). */
export interface ModelChoice {
  readonly model: string;
  readonly params: JsonValue;
}

/** Every model a choice may name: the registered models and a blend of them. */
const CHOOSABLE: readonly ModelName[] = [...MODEL_NAMES, 'blend'];

/**
 * `attune evaluate --choice`: exactly one given model or blend, with exactly these parameters (recency
 * included), fitted on the train split and scored on the test split, untuned — what the protocol says of
 * a choice a training run made, so that served lists can be held against it. Throws naming the field
 * when the choice is not a model Attune has or its parameters do not fit it.
 */
export async function evaluateChoice(
  dataset: PreparedDataset,
  choice: ModelChoice,
  options: { readonly k?: number; readonly dataset?: string; readonly threads?: number } = {},
  fit: Fitter = fitRecommender,
): Promise<ResultLine> {
  const k = options.k ?? 20;
  const name = CHOOSABLE.find((model) => model === choice.model);
  if (name === undefined) {
    throw new RangeError(
      `choice.model: unknown model ${JSON.stringify(choice.model)} (one of ${CHOOSABLE.join(', ')})`,
    );
  }
  const params = paramsFromJson(name, choice.params);
  const input = trainingInput(dataset.train);
  const started = performance.now();
  const model = await fit(
    name,
    input,
    params,
    options.threads === undefined ? {} : { threads: options.threads },
  );
  const trainSeconds = (performance.now() - started) / 1000;
  const metrics = rankHeldOut(model, input.matrix, dataset.test, k, input.times);
  const round = (value: number) => Number(value.toFixed(6));
  const line: Record<string, JsonValue> = {
    model: name,
    [`recall@${k}`]: round(metrics.recall),
    [`ndcg@${k}`]: round(metrics.ndcg),
    [`coverage@${k}`]: round(metrics.coverage),
    train_s: Number(trainSeconds.toFixed(3)),
    tune_s: 0,
    params: model.params,
    [`val_ndcg@${k}`]: null,
    dataset: options.dataset ?? 'dataset',
    n_test_users: metrics.users,
  };
  return line as ResultLine;
}
