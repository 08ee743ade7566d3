import { parentPort } from 'node:worker_threads';
import { instantiateAls } from './als-kernel.js';
import { COMMAND, CTRL, runShare, type AlsLayout, type Side } from './als-plan.js';
import type { WasmMemory } from './wasm.js';

/** One fit's hand-off to a helper thread: the shared kernel memory and where everything sits in it. */
export interface AlsWorkerJob {
  /** Distinguishes fits, so a late message from one fit is never taken for another's. */
  readonly fit: number;
  readonly memory: WasmMemory;
  readonly layout: AlsLayout;
  readonly thread: number;
}

/**
 * A pooled helper thread of ALS fits. For each fit it receives a job, then sleeps on the control block's
 * generation counter, runs its share of each command and counts itself out (the last one out posts the
 * generation to the coordinator), until the exit command
 * returns it to its event loop for the next fit. Blocking waits are fine: it has nothing else to do.
 */
/** What a helper posts when it is the last to finish a job. */
export interface AlsJobDone {
  readonly fit: number;
  readonly generation: number;
}

function runFit({ fit, memory, layout, thread }: AlsWorkerJob): void {
  const kernel = instantiateAls(memory);
  const ctrl = new Int32Array(memory.buffer, layout.control, CTRL.length);
  let seen = 0;
  while (true) {
    Atomics.wait(ctrl, CTRL.generation, seen);
    seen = Atomics.load(ctrl, CTRL.generation);
    const command = Atomics.load(ctrl, CTRL.command);
    if (command === COMMAND.exit) return;
    try {
      runShare(kernel, memory, layout, command, Atomics.load(ctrl, CTRL.side) as Side, thread);
    } catch {
      Atomics.store(ctrl, CTRL.failed, 1);
    }
    // The last helper to finish tells the coordinator, which awaits a message rather than blocking.
    if (Atomics.sub(ctrl, CTRL.remaining, 1) === 1) {
      const done: AlsJobDone = { fit, generation: seen };
      parentPort?.postMessage(done);
    }
  }
}

parentPort?.on('message', (job: AlsWorkerJob) => runFit(job));
