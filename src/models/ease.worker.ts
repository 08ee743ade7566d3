import { parentPort } from 'node:worker_threads';
import { EASE_CTRL, instantiateEase, runEaseShare, type EaseLayout } from './ease-kernel.js';
import type { WasmMemory } from './wasm.js';

/** One fit's hand-off to a helper thread: the shared memory and where everything sits in it. */
export interface EaseWorkerJob {
  /** Distinguishes fits, so a late message from one fit is never taken for another's. */
  readonly fit: number;
  readonly memory: WasmMemory;
  readonly layout: EaseLayout;
  readonly thread: number;
}

/** What a helper posts when it is the last to finish a step. */
export interface EaseStepDone {
  readonly fit: number;
  readonly generation: number;
}

/**
 * A pooled helper thread of EASE fits: sleeps on the control block's generation counter, runs its rows of
 * each sweep step and counts itself out; the last one out posts the generation to the coordinator (which
 * awaits a message rather than blocking its event loop). Blocking waits are fine here.
 */
function runFit({ fit, memory, layout, thread }: EaseWorkerJob): void {
  const kernel = instantiateEase(memory);
  const ctrl = new Int32Array(memory.buffer, layout.control, EASE_CTRL.length);
  let seen = 0;
  while (true) {
    Atomics.wait(ctrl, EASE_CTRL.generation, seen);
    seen = Atomics.load(ctrl, EASE_CTRL.generation);
    if (Atomics.load(ctrl, EASE_CTRL.exit) !== 0) return;
    try {
      runEaseShare(
        kernel,
        layout,
        Atomics.load(ctrl, EASE_CTRL.k0),
        Atomics.load(ctrl, EASE_CTRL.k1),
        thread,
      );
    } catch {
      Atomics.store(ctrl, EASE_CTRL.failed, 1);
    }
    if (Atomics.sub(ctrl, EASE_CTRL.remaining, 1) === 1) {
      const done: EaseStepDone = { fit, generation: seen };
      parentPort?.postMessage(done);
    }
  }
}

parentPort?.on('message', (job: EaseWorkerJob) => runFit(job));
