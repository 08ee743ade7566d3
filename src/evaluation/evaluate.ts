import { defaultParams, fitRecommender } from '../models/index.js';
import type { Interaction } from './datasets.js';
import { runEvaluation, type EvaluateOptions, type ResultLine } from './harness.js';
import type { PreparedDataset } from './protocol.js';

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
