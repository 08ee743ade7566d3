import { setTimeout as sleep } from 'node:timers/promises';

import { bundleJson } from '../../api/admin.js';
import { Engine } from '../../engine/index.js';
import { defaultStages } from '../../recommendations/index.js';
import { TrainingLeaseHeldError, type BundleInfo } from '../../training/index.js';
import { cliEngineConfig } from '../config.js';
import { cliLogger } from '../logger.js';
import { createProgress } from '../progress.js';

/** The exit status when another trainer holds the lease: EX_TEMPFAIL, "try again later" to scripts. */
export const EXIT_TRAINING_BUSY = 75;

/** How often `--wait` asks for the lease again. */
const WAIT_POLL_MS = 2_000;

export interface TrainOptions {
  readonly dataDir: string | undefined;
  /** When another trainer holds the lease, wait for it instead of exiting with `EXIT_TRAINING_BUSY`. */
  readonly wait: boolean;
}

/**
 * Trains a new bundle from the store's events and prints what was trained, as JSON. Takes the training
 * lease like every trainer, so it never runs beside the server's own training on the same store.
 */
export async function train(options: TrainOptions): Promise<void> {
  const engine = await Engine.open(
    cliEngineConfig(options.dataDir, { retrainIntervalMs: null, bundlePollMs: null }),
    defaultStages,
    { logger: cliLogger('warn'), trainerName: 'attune train' },
  );
  try {
    const progress = createProgress();
    let info: BundleInfo | null = null;
    let waiting = false;
    while (info === null) {
      try {
        info = await engine.train((stage, done, total) => progress.update(stage, done, total));
      } catch (error) {
        if (!(error instanceof TrainingLeaseHeldError)) throw error;
        if (!options.wait) {
          process.stderr.write(`attune: ${error.message}\n`);
          process.exitCode = EXIT_TRAINING_BUSY;
          return;
        }
        if (!waiting) process.stderr.write(`attune: waiting — ${error.message}\n`);
        waiting = true;
        await sleep(WAIT_POLL_MS);
      }
    }
    progress.stop();
    process.stdout.write(`${JSON.stringify(bundleJson(info))}\n`);
  } finally {
    await engine.close();
  }
}
