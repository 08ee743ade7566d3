import type { ModelName } from '../models/index.js';
import type { Worker } from 'node:worker_threads';

import { startWorker } from '../shared/worker.js';
import type { BundleInfo } from './bundle.js';
import type { TrainingConfig, TrainingProgress } from './train.js';

export type TrainingMessage =
  | { readonly type: 'progress'; readonly stage: string; readonly done: number; readonly total: number }
  | { readonly type: 'done'; readonly info: BundleInfo }
  | { readonly type: 'failed'; readonly message: string };

/**
 * Runs training in a worker thread, one run at a time: asking while a run is under way joins that run
 * instead of starting a second one over the same data.
 */
export class TrainingRunner {
  private running: Promise<BundleInfo> | null = null;
  /** The thread of the run under way, for `stop`. */
  private worker: Worker | null = null;

  constructor(
    private readonly storeUrl: string,
    private readonly config: TrainingConfig,
  ) {}

  /** `alsoFit`: models this run fits besides the configured ones (see `TrainingConfig.alsoFit`). */
  run(onProgress?: TrainingProgress, alsoFit: readonly ModelName[] = []): Promise<BundleInfo> {
    this.running ??= this.start(onProgress, alsoFit).finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /**
   * Ends the run under way, if any, and resolves once its thread is gone (the run then fails with "exited
   * before finishing"). Its model is not saved unless it already was: a version is saved whole or not at
   * all. Closing an engine does this, so no thread is left writing to a store that is being closed.
   */
  async stop(): Promise<void> {
    const worker = this.worker;
    if (worker !== null) await worker.terminate();
  }

  private start(
    onProgress: TrainingProgress | undefined,
    alsoFit: readonly ModelName[],
  ): Promise<BundleInfo> {
    return new Promise((resolve, reject) => {
      const config: TrainingConfig = alsoFit.length > 0 ? { ...this.config, alsoFit } : this.config;
      const worker = startWorker(import.meta.url, './training.worker.js', {
        workerData: { storeUrl: this.storeUrl, config },
      });
      this.worker = worker;
      let settled = false;
      worker.on('message', (message: TrainingMessage) => {
        if (message.type === 'progress') onProgress?.(message.stage, message.done, message.total);
        else if (message.type === 'done') {
          settled = true;
          resolve(message.info);
        } else {
          settled = true;
          reject(new Error(`training failed: ${message.message}`));
        }
      });
      worker.on('error', (error) => {
        settled = true;
        reject(error);
      });
      worker.on('exit', (code) => {
        if (this.worker === worker) this.worker = null;
        if (!settled) reject(new Error(`training worker exited with code ${code} before finishing`));
      });
    });
  }
}
