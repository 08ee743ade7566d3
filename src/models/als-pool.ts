import { WorkerPool } from './kernel-threads.js';

/** The ALS fits' pooled helper threads. */
export const alsWorkers = new WorkerPool(import.meta.url, './als.worker.js');

/** Ends idle ALS helper threads now (they end by themselves after 30 s idle and never hold the process). */
export function closeAlsWorkers(): Promise<void> {
  return alsWorkers.close();
}
