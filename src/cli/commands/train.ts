import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

import { bundleJson } from '../../api/admin.js';
import { Engine } from '../../engine/index.js';
import { defaultStages } from '../../recommendations/index.js';
import { TrainingLeaseHeldError, type BundleInfo } from '../../training/index.js';
import { cliEngineConfig } from '../config.js';
import { CliError } from '../errors.js';
import { choiceName, count, score, seconds, summary } from '../format.js';
import { cliLogger } from '../logger.js';
import { existingDataDir, storeName } from '../options.js';
import { createProgress, trainingProgress } from '../progress.js';

/** The exit status when another trainer holds the lease: EX_TEMPFAIL, "try again later" to scripts. */
export const EXIT_TRAINING_BUSY = 75;

/** How often `--wait` asks for the lease again. */
const WAIT_POLL_MS = 2_000;

export interface TrainOptions {
  readonly dataDir: string | undefined;
  /** When another trainer holds the lease, wait for it instead of exiting with `EXIT_TRAINING_BUSY`. */
  readonly wait: boolean;
  /** The bundle's record as one JSON object (`GET /v1/models`' shape) instead of the summary. */
  readonly json?: boolean;
}

/**
 * Trains a new bundle from the store's events and says what was trained: a summary, or with `json` the
 * bundle's record. Takes the training lease like every trainer, so it never runs beside the server's own
 * training on the same store.
 */
export async function train(options: TrainOptions): Promise<void> {
  const dir = existingDataDir(options.dataDir);
  const engine = await Engine.open(
    cliEngineConfig(dir, { retrainIntervalMs: null, bundlePollMs: null }),
    defaultStages,
    { logger: cliLogger('warn'), trainerName: 'attune train' },
  );
  try {
    if ((await engine.store.countEvents()) === 0) {
      throw new CliError(
        `the store at ${storeName(dir)} has no events to train on`,
        'load some first: `attune demo` (a demo shop), `attune import --format <format> <file>`, or POST /v1/events',
      );
    }
    const started = performance.now();
    const progress = createProgress();
    let info: BundleInfo | null = null;
    let waiting = false;
    while (info === null) {
      try {
        info = await engine.train(trainingProgress(progress));
      } catch (error) {
        progress.stop();
        if (!(error instanceof TrainingLeaseHeldError)) throw error;
        if (!options.wait) {
          process.stderr.write(`attune: ${error.message}\n`);
          process.stderr.write('  → wait for it, or run `attune train --wait` to train right after it\n');
          process.exitCode = EXIT_TRAINING_BUSY;
          return;
        }
        if (!waiting) process.stderr.write(`attune: waiting — ${error.message}\n`);
        waiting = true;
        await sleep(WAIT_POLL_MS);
      }
    }
    progress.stop();
    process.stdout.write(
      options.json === true
        ? `${JSON.stringify(bundleJson(info))}\n`
        : trainSummary(info, storeName(dir), (performance.now() - started) / 1000),
    );
  } finally {
    await engine.close();
  }
}

/** What `attune train` prints for people: what was chosen and how well, on what, how long, where. */
export function trainSummary(info: BundleInfo, dir: string, elapsedSeconds: number): string {
  const { selection, reranking } = info;
  const chosen = selection
    ? choiceName(selection.chosen.model, selection.chosen.params)
    : `${info.primary} (no automatic selection in this run)`;
  const validation =
    selection === undefined
      ? null
      : selection.valNdcg === null
        ? `not measured: ${selection.fallback ?? 'too little data'}`
        : `ndcg@20 ${score(selection.valNdcg)} on ${count(selection.validationUsers)} users ` +
          `(${selection.tried.length} candidates tried in ${seconds(selection.seconds)})`;
  const rerank =
    reranking === undefined || reranking === null
      ? null
      : reranking.chosen && reranking.info !== null
        ? `kept: ndcg@${reranking.info.k} ${score(reranking.info.ndcg)} vs ${score(reranking.info.generatorNdcg)} ` +
          `in the model's order${reranking.forced ? ` (${reranking.forced})` : ''}`
        : `not kept${reranking.skipped ? `: ${reranking.skipped}` : reranking.info ? ': no gain on validation' : ''}`;
  return summary(`trained model version ${info.version} in ${seconds(elapsedSeconds)}`, [
    ['model', chosen],
    ['validation', validation],
    ['re-ranker', rerank],
    [
      'data',
      `${count(info.eventsRead)} events · ${count(info.users)} users · ${count(info.items)} items · ` +
        `${count(info.interactions)} interactions (through event #${count(info.position)})`,
    ],
    ['saved', `version ${info.version} in ${dir}; a server on this store picks it up on its next poll`],
    ['next', 'attune serve   (or GET /v1/models on a running server; --json for the full record)'],
  ]);
}
