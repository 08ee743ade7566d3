import type { Worker } from 'node:worker_threads';
import { startWorker } from '../shared/worker.js';

/**
 * Helper threads for the SIMD kernels (ALS, EASE), kept between fits. Starting a worker costs ~40 ms (far
 * more under a TS loader), a large share of a MovieLens 100K fit, and tuning runs a dozen fits back to
 * back. Idle workers are unreferenced (they never keep the process alive) and end after `idleMs`.
 */
export class WorkerPool {
  private readonly idle: Worker[] = [];
  private readonly timers = new Map<Worker, NodeJS.Timeout>();

  constructor(
    private readonly callerUrl: string,
    private readonly workerPath: string,
    private readonly idleMs = 30_000,
  ) {}

  /** `n` workers for one fit, reused when idle ones exist. The caller must `release` them. */
  acquire(n: number): Worker[] {
    const out: Worker[] = [];
    while (out.length < n) {
      const worker = this.idle.pop() ?? startWorker(this.callerUrl, this.workerPath);
      this.clearTimer(worker);
      // Referenced while in use: the fit awaits their messages.
      worker.ref();
      out.push(worker);
    }
    return out;
  }

  /** Returns healthy workers to the pool; `failed` ones are terminated instead. */
  release(workers: readonly Worker[], failed: boolean): void {
    for (const worker of workers) {
      if (failed) {
        void worker.terminate();
        continue;
      }
      worker.unref();
      this.idle.push(worker);
      const timer = setTimeout(() => {
        const at = this.idle.indexOf(worker);
        if (at >= 0) this.idle.splice(at, 1);
        this.timers.delete(worker);
        void worker.terminate();
      }, this.idleMs);
      timer.unref();
      this.timers.set(worker, timer);
    }
  }

  /** Ends every idle worker now (tests, shutdown). */
  async close(): Promise<void> {
    const all = this.idle.splice(0);
    for (const worker of all) this.clearTimer(worker);
    await Promise.all(all.map((w) => w.terminate()));
  }

  private clearTimer(worker: Worker): void {
    const timer = this.timers.get(worker);
    if (timer) clearTimeout(timer);
    this.timers.delete(worker);
  }
}

/** What a helper posts when it has finished step `generation` of fit `fit`. */
export interface StepDone {
  readonly fit: number;
  readonly generation: number;
}

/**
 * The helpers of one fit. The last helper to finish a step posts the step's generation and the coordinator
 * awaits that message (Atomics.waitAsync wake-ups can be lost while Node 20's loop sleeps,
 * nodejs/node#44409); a helper's error or exit rejects the wait instead of hanging the fit.
 */
export class FitHelpers<Job extends { readonly fit: number; readonly thread: number }> {
  private completed = 0;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;
  private readonly fit: number;
  private readonly onMessage = (done: StepDone): void => {
    // A pooled helper's last message of its previous fit can arrive after this fit has begun.
    if (done.fit !== this.fit) return;
    if (done.generation > this.completed) this.completed = done.generation;
    this.wake?.();
  };
  private readonly onError = (error: Error): void => this.fail(error);
  private readonly onExit = (code: number): void =>
    this.fail(new Error(`${this.label} helper thread exited with code ${code} during a fit`));

  constructor(
    private readonly pool: WorkerPool,
    private readonly label: string,
    private readonly workers: readonly Worker[],
    shared: Omit<Job, 'thread'>,
  ) {
    this.fit = shared.fit;
    workers.forEach((worker, k) => {
      worker.on('message', this.onMessage);
      worker.on('error', this.onError);
      worker.on('exit', this.onExit);
      worker.postMessage({ ...shared, thread: k + 1 });
    });
  }

  /** Resolves once every helper has finished step `generation`. */
  async done(generation: number): Promise<void> {
    while (this.completed < generation) {
      if (this.failure) throw this.failure;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
      this.wake = undefined;
    }
    if (this.failure) throw this.failure;
  }

  release(jobFailed: boolean): void {
    for (const worker of this.workers) {
      worker.off('message', this.onMessage);
      worker.off('error', this.onError);
      worker.off('exit', this.onExit);
    }
    this.pool.release(this.workers, jobFailed || this.failure !== undefined);
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.wake?.();
  }
}
