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
  type ResultLine,
} from '../../evaluation/index.js';
import { performance } from 'node:perf_hooks';
import { UsageError, verboseRequested } from '../errors.js';
import { readableFile } from '../input-file.js';
import { counted, createProgress } from '../progress.js';
import { autoSummary, choiceSummary, modelsSummary, splitLine } from './evaluate-summary.js';

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
  /** JSON lines on stdout (today's records) instead of the table. */
  readonly json?: boolean;
}

/**
 * Runs the offline protocol (`../shared/reference/PROTOCOL.md`). With `json`: JSON lines on stdout, one
 * per model, and the split's summary and fingerprint on stderr, so stdout stays machine-readable; without,
 * a table (or the choice and its candidates) for people. Progress goes to stderr either way; the
 * protocol's own log lines with `--verbose`.
 */
export async function evaluate(options: EvaluateCommandOptions): Promise<void> {
  const started = performance.now();
  const json = options.json === true;
  const verbose = verboseRequested(process.argv);
  // The command line first: a wrong option must not wait for the file to be read.
  const choice = options.choice === undefined ? null : parseChoice(options.choice);
  const autoModels =
    options.auto === true && options.models !== undefined ? selectable(options.models) : undefined;
  await readableFile(options.input);
  const progress = createProgress();
  const rows = counted(
    readInteractions(options.input, options.format),
    progress,
    'reading interactions',
    'rows',
  );
  const dataset = await prepareDataset(rows);
  progress.stop();
  const split = summarize(dataset);
  if (json) process.stderr.write(`split: ${JSON.stringify(split)}\n`);
  const name = options.format === 'ml100k' ? basename(dirname(options.input)) : basename(options.input);
  const data = splitLine(name, split);
  const elapsed = () => (performance.now() - started) / 1000;
  const threads = Math.min(2, availableParallelism());
  const log = (onLine: (message: string) => void) => (message: string) => {
    if (verbose) process.stderr.write(`${message}\n`);
    else onLine(message);
  };
  if (choice !== null) {
    progress.begin(`evaluating ${choice.model}`);
    const line = await evaluateChoice(dataset, choice, { k: options.k, dataset: name, threads });
    progress.stop();
    process.stdout.write(
      json ? `${JSON.stringify(line)}\n` : choiceSummary(line, options.k, data, elapsed()),
    );
    return;
  }
  if (options.auto === true) {
    let tried = 0;
    const line = await runAuto(
      dataset,
      {
        k: options.k,
        dataset: name,
        ...(autoModels === undefined ? {} : { models: autoModels }),
        // Untuned: every model at its defaults, read without recency weighting.
        ...(options.tune ? {} : { grids: untunedGrids(defaultParams), recency: [null] }),
        threads,
        rerank: options.rerank ?? true,
        onLog: log((message) => {
          if (message.includes('val ndcg')) progress.update('selecting a model', ++tried, null, 'candidates');
          else if (message.startsWith('two-stage')) progress.begin('trying the two-stage model');
        }),
      },
      { fit: fitRecommender, defaults: defaultParams },
    );
    progress.stop();
    process.stdout.write(json ? `${JSON.stringify(line)}\n` : autoSummary(line, options.k, data, elapsed()));
    return;
  }
  const models = options.models ?? ['popularity', 'itemknn', 'als'];
  let done = 0;
  progress.update('evaluating models', 0, models.length, 'models');
  const lines = evaluateModels(dataset, {
    models,
    k: options.k,
    tune: options.tune,
    dataset: name,
    threads,
    onLog: log(() => undefined),
  });
  const results: ResultLine[] = [];
  for await (const line of lines) {
    progress.update('evaluating models', ++done, models.length, 'models');
    if (json) process.stdout.write(`${JSON.stringify(line)}\n`);
    results.push(line);
  }
  progress.stop();
  if (!json) process.stdout.write(modelsSummary(results, options.k, data, elapsed()));
}

/** `--choice`: `{"model": …, "params": {…}}`, as `GET /v1/models` shows what serves. */
function parseChoice(text: string): ModelChoice {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new UsageError('--choice: not valid JSON; expected {"model": "…", "params": {…}}');
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new UsageError('--choice: expected a JSON object {"model": "…", "params": {…}}');
  }
  const { model, params } = json as { model?: unknown; params?: unknown };
  if (typeof model !== 'string') throw new UsageError('--choice: "model" must be a model name');
  return { model, params: (params ?? null) as ModelChoice['params'] };
}

/** `--models` for `--auto`: registered models a blend can be built from, named as the user wrote them. */
function selectable(names: readonly string[]): BlendableName[] {
  const known = selectableModels();
  for (const name of names) {
    if (!known.includes(name as BlendableName)) {
      throw new UsageError(`--models: unknown model '${name}' (choose from ${known.join(', ')})`);
    }
  }
  if (names.length === 0) throw new UsageError('--models: name at least one model');
  return names as BlendableName[];
}
