/**
 * Helper threads for k-means' assignment step. `kmeans` is synchronous (the CLI and `chooseK` call it
 * as a function), so the coordinator blocks on Atomics rather than awaiting messages: it posts a step by
 * bumping a generation counter, takes chunks itself like any helper, and waits until every chunk is done.
 *
 * Chunks are claimed from a shared counter, so a helper that is still starting (about 40 ms compiled, far
 * more under a TS loader) simply joins later: the main thread never waits for a helper to start, only for
 * chunks a helper has claimed. Helpers are unreferenced (they never keep the process alive) and end after
 * HELPER_IDLE_MS without work. Which thread computes a chunk does not change the result (kmeans-assign.ts).
 */
import { MessageChannel, type MessagePort, type Worker } from 'node:worker_threads';
import { startWorker } from '../shared/worker.js';
import { ASSIGN_CHUNKS, assignChunk, type AssignBuffers } from './kmeans-assign.js';

/** Slots of the control block (an Int32Array on a SharedArrayBuffer). */
export const CONTROL = {
  /** Bumped once per step; helpers sleep on it. */
  generation: 0,
  /** The next chunk to claim; ≥ ASSIGN_CHUNKS when none is left. */
  next: 1,
  /** Chunks finished in this step; the coordinator sleeps on it. */
  completed: 2,
  /** Bumped when the buffers change (one per fit); helpers fetch the new ones from their port. */
  epoch: 3,
  /** Set by a helper whose chunk threw. */
  failed: 4,
  n: 5,
  d: 6,
  k: 7,
  moveSums: 8,
  /** Bit t set when thread t (0 the coordinator) took a chunk in this step. */
  threads: 9,
  /** Bit h set once helper h runs its loop (cleared when it leaves). */
  running: 10,
  /** Chunks helpers have computed, all steps together (for tests). */
  helperChunks: 11,
  /** Helper h's slot is alive[h]: 1 from its start until it leaves. */
  alive: 12,
} as const;

/** Helpers at most: one chunk each, and the coordinator's. */
export const MAX_HELPERS = ASSIGN_CHUNKS - 1;
const CONTROL_LENGTH = CONTROL.alive + MAX_HELPERS;
export const HELPER_IDLE_MS = 30_000;

/** What a helper gets at start (workerData). */
export interface HelperStart {
  readonly control: SharedArrayBuffer;
  readonly port: MessagePort;
  /** Its slot, 0 ≤ helper < MAX_HELPERS; it takes part as thread helper + 1. */
  readonly helper: number;
}

/** What a helper receives on its port when the buffers change. */
export interface HelperBuffers {
  readonly epoch: number;
  readonly buffers: AssignBuffers;
}

/** The process's helpers (k-means runs one fit at a time per thread, so one team suffices). */
class AssignTeam {
  readonly control = new Int32Array(new SharedArrayBuffer(CONTROL_LENGTH * 4));
  /** Tests only: the coordinator leaves chunks to running helpers for up to a second per step. */
  leaveToHelpers = false;

  constructor() {
    // No step yet: nothing to claim until the first `run` sets `next` to 0.
    Atomics.store(this.control, CONTROL.next, ASSIGN_CHUNKS);
  }
  private readonly helpers: ({ worker: Worker; port: MessagePort } | undefined)[] = [];
  private epoch = 0;

  /** Starts helpers up to `count` (replacing ones that ended); returns at once, with the control block. */
  ensure(count: number): Int32Array {
    for (let h = 0; h < Math.min(count, MAX_HELPERS); h++) {
      if (this.helpers[h] !== undefined && Atomics.load(this.control, CONTROL.alive + h) === 1) continue;
      this.helpers[h]?.port.close();
      const { port1, port2 } = new MessageChannel();
      // Alive from now on: the helper clears it only when it leaves for good.
      Atomics.store(this.control, CONTROL.alive + h, 1);
      const start: HelperStart = {
        control: this.control.buffer as SharedArrayBuffer,
        port: port2,
        helper: h,
      };
      const worker = startWorker(import.meta.url, './kmeans.worker.js', {
        workerData: start,
        transferList: [port2],
      });
      // A helper that fails to start or dies is only one fewer: the coordinator does the chunks itself.
      worker.on('error', () => Atomics.store(this.control, CONTROL.alive + h, 0));
      worker.unref();
      port1.unref();
      this.helpers[h] = { worker, port: port1 };
    }
    return this.control;
  }

  /** Hands a fit's buffers (on SharedArrayBuffers) to the helpers. */
  share(buffers: AssignBuffers): void {
    const message: HelperBuffers = { epoch: ++this.epoch, buffers };
    for (const helper of this.helpers) helper?.port.postMessage(message);
    Atomics.store(this.control, CONTROL.epoch, this.epoch);
  }

  /** Runs one assignment step over every chunk; returns how many threads took part. */
  run(buffers: AssignBuffers, n: number, d: number, k: number, moveSums: boolean): number {
    const { control } = this;
    Atomics.store(control, CONTROL.n, n);
    Atomics.store(control, CONTROL.d, d);
    Atomics.store(control, CONTROL.k, k);
    Atomics.store(control, CONTROL.moveSums, moveSums ? 1 : 0);
    Atomics.store(control, CONTROL.completed, 0);
    Atomics.store(control, CONTROL.threads, 0);
    // Last: until `next` is 0 no helper can claim a chunk of this step.
    Atomics.store(control, CONTROL.next, 0);
    Atomics.add(control, CONTROL.generation, 1);
    Atomics.notify(control, CONTROL.generation);
    if (this.leaveToHelpers && Atomics.load(control, CONTROL.running) !== 0) {
      const deadline = Date.now() + 1000;
      for (let completed = 0; completed < ASSIGN_CHUNKS && Date.now() < deadline;) {
        Atomics.wait(control, CONTROL.completed, completed, 10);
        completed = Atomics.load(control, CONTROL.completed);
      }
    }
    for (;;) {
      const chunk = Atomics.add(control, CONTROL.next, 1);
      if (chunk >= ASSIGN_CHUNKS) break;
      Atomics.or(control, CONTROL.threads, 1);
      assignChunk(buffers, n, d, k, chunk, moveSums);
      Atomics.add(control, CONTROL.completed, 1);
    }
    for (;;) {
      const completed = Atomics.load(control, CONTROL.completed);
      if (completed >= ASSIGN_CHUNKS) break;
      Atomics.wait(control, CONTROL.completed, completed);
    }
    if (Atomics.exchange(control, CONTROL.failed, 0) !== 0) {
      throw new Error('a k-means helper thread failed in the assignment step');
    }
    let threads = 0;
    for (let mask = Atomics.load(control, CONTROL.threads); mask !== 0; mask &= mask - 1) threads++;
    return threads;
  }
}

let team: AssignTeam | undefined;

/** Tests only: `on`, the coordinator leaves the chunks to running helpers; returns chunks helpers did. */
export function leaveChunksToHelpers(on: boolean): number {
  assignTeam().leaveToHelpers = on;
  return Atomics.load(assignTeam().control, CONTROL.helperChunks);
}

/**
 * Starts helper threads for k-means fits of `threads` threads (the caller's included) and resolves with
 * how many helpers run once they all do (or after `timeoutMs`). Fits start helpers themselves and go on
 * without waiting for them; this is for a caller that fits repeatedly, or measures a fit apart from the
 * threads' start (bench/kmeans.ts), and for tests.
 */
export async function startKmeansHelpers(threads: number, timeoutMs = 10_000): Promise<number> {
  const helpers = Math.min(Math.max(threads, 1), ASSIGN_CHUNKS) - 1;
  const control = assignTeam().ensure(helpers);
  const all = (1 << helpers) - 1;
  const deadline = Date.now() + timeoutMs;
  while ((Atomics.load(control, CONTROL.running) & all) !== all && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  let running = 0;
  for (let mask = Atomics.load(control, CONTROL.running) & all; mask !== 0; mask &= mask - 1) running++;
  return running;
}

/** The process's team of helper threads, started on first use. */
export function assignTeam(): AssignTeam {
  team ??= new AssignTeam();
  return team;
}

export type { AssignTeam };
