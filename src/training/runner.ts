import type { ModelName } from '../models/index.js';
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

  private start(
    onProgress: TrainingProgress | undefined,
    alsoFit: readonly ModelName[],
  ): Promise<BundleInfo> {
    return new Promise((resolve, reject) => {
      const config: TrainingConfig = alsoFit.length > 0 ? { ...this.config, alsoFit } : this.config;
      const worker = startWorker(import.meta.url, './training.worker.js', {
        workerData: { storeUrl: this.storeUrl, config },
      });
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
        if (!settled) reject(new Error(`training worker exited with code ${code} before finishing`));
      });
    });
  }
}
