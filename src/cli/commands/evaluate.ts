import { availableParallelism } from 'node:os';
import { basename, dirname } from 'node:path';
import { defaultParams, fitRecommender } from '../../models/index.js';
import { runAuto, selectableModels } from '../../evaluation/auto-evaluate.js';
import { untunedGrids } from '../../evaluation/grids.js';
import type { BlendableName } from '../../models/blend.js';
import {
  evaluateChoice,
  evaluateModels,
  prepareDataset,
  readInteractions,
  summarize,
  type DatasetFormat,
  type ModelChoice,
} from '../../evaluation/index.js';

export interface EvaluateCommandOptions {
  readonly input: string;
  readonly format: DatasetFormat;
  /** Models to evaluate, or to choose among with `auto` (default: popularity, itemknn, als; all with auto). */
  readonly models?: readonly string[];
  readonly k: number;
  readonly tune: boolean;
  /** Select the model or blend on validation (one output line) instead of evaluating `models`. */
  readonly auto?: boolean;
  /** With `auto`: try the two-stage model (candidates re-ranked by trees) as one more candidate (default). */
  readonly rerank?: boolean;
  /** Evaluate exactly this model or blend with these parameters (one output line), untuned. */
  readonly choice?: string;
}

/**
 * Runs the offline protocol (`../shared/reference/PROTOCOL.md`): JSON lines on stdout, one per model;
 * the split's summary and fingerprint on stderr, so stdout stays machine-readable.
 */
export async function evaluate(options: EvaluateCommandOptions): Promise<void> {
  const dataset = await prepareDataset(readInteractions(options.input, options.format));
  process.stderr.write(`split: ${JSON.stringify(summarize(dataset))}\n`);
  const name = options.format === 'ml100k' ? basename(dirname(options.input)) : basename(options.input);
  if (options.choice !== undefined) {
    const threads = Math.min(2, availableParallelism());
    const line = await evaluateChoice(dataset, parseChoice(options.choice), {
      k: options.k,
      dataset: name,
      threads,
    });
    process.stdout.write(`${JSON.stringify(line)}\n`);
    return;
  }
  if (options.auto === true) {
    const line = await runAuto(
      dataset,
      {
        k: options.k,
        dataset: name,
        ...(options.models === undefined ? {} : { models: selectable(options.models) }),
        // Untuned: every model at its defaults, read without recency weighting.
        ...(options.tune ? {} : { grids: untunedGrids(defaultParams), recency: [null] }),
        threads: Math.min(2, availableParallelism()),
        rerank: options.rerank ?? true,
        onLog: (message) => process.stderr.write(`${message}\n`),
      },
      { fit: fitRecommender, defaults: defaultParams },
    );
    process.stdout.write(`${JSON.stringify(line)}\n`);
    return;
  }
  const lines = evaluateModels(dataset, {
    models: options.models ?? ['popularity', 'itemknn', 'als'],
    k: options.k,
    tune: options.tune,
    dataset: name,
    threads: Math.min(2, availableParallelism()),
    onLog: (line) => process.stderr.write(`${line}\n`),
  });
  for await (const line of lines) process.stdout.write(`${JSON.stringify(line)}\n`);
}

/** `--choice`: `{"model": …, "params": {…}}`, as `GET /v1/models` shows what serves. */
function parseChoice(text: string): ModelChoice {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new RangeError('--choice: not valid JSON; expected {"model": "…", "params": {…}}');
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new RangeError('--choice: expected a JSON object {"model": "…", "params": {…}}');
  }
  const { model, params } = json as { model?: unknown; params?: unknown };
  if (typeof model !== 'string') throw new RangeError('--choice: "model" must be a model name');
  return { model, params: (params ?? null) as ModelChoice['params'] };
}

/** `--models` for `--auto`: registered models a blend can be built from, named as the user wrote them. */
function selectable(names: readonly string[]): BlendableName[] {
  const known = selectableModels();
  for (const name of names) {
    if (!known.includes(name as BlendableName)) {
      throw new RangeError(`--models: unknown model '${name}' (choose from ${known.join(', ')})`);
    }
  }
  if (names.length === 0) throw new RangeError('--models: name at least one model');
  return names as BlendableName[];
}
