import type { Worker } from 'node:worker_threads';
import { startWorker } from '../shared/worker.js';

/**
 * Helper threads for ALS fits, kept between fits. Starting a worker costs ~40 ms (far more under a TS
 * loader), a quarter of a whole MovieLens 100K fit, and tuning runs a dozen fits back to back. Idle
 * workers are unreferenced (they never keep the process alive) and end after IDLE_MS.
 */
const IDLE_MS = 30_000;

const idle: Worker[] = [];
const timers = new Map<Worker, NodeJS.Timeout>();

/** `n` workers for one fit, reused when idle ones exist. The caller must `releaseAlsWorkers` them. */
export function acquireAlsWorkers(n: number): Worker[] {
  const out: Worker[] = [];
  while (out.length < n) {
    const worker = idle.pop() ?? startWorker(import.meta.url, './als.worker.js');
    const timer = timers.get(worker);
    if (timer) clearTimeout(timer);
    timers.delete(worker);
    // Referenced while in use: the fit awaits them, and an awaited Atomics.waitAsync holds no reference.
    worker.ref();
    out.push(worker);
  }
  return out;
}

/** Returns healthy workers to the pool; `failed` ones are terminated instead. */
export function releaseAlsWorkers(workers: readonly Worker[], failed: boolean): void {
  for (const worker of workers) {
    if (failed) {
      void worker.terminate();
      continue;
    }
    worker.unref();
    idle.push(worker);
    const timer = setTimeout(() => {
      const at = idle.indexOf(worker);
      if (at >= 0) idle.splice(at, 1);
      timers.delete(worker);
      void worker.terminate();
    }, IDLE_MS);
    timer.unref();
    timers.set(worker, timer);
  }
}

/** Ends every idle worker now (tests, shutdown). */
export async function closeAlsWorkers(): Promise<void> {
  const all = idle.splice(0);
  for (const worker of all) {
    const timer = timers.get(worker);
    if (timer) clearTimeout(timer);
    timers.delete(worker);
  }
  await Promise.all(all.map((w) => w.terminate()));
}
