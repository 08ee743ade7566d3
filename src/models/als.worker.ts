import { parentPort } from 'node:worker_threads';
import { instantiateAls } from './als-kernel.js';
import { COMMAND, CTRL, runShare, type AlsLayout, type Side } from './als-plan.js';
import type { WasmMemory } from './wasm.js';

/** One fit's hand-off to a helper thread: the shared kernel memory and where everything sits in it. */
export interface AlsWorkerJob {
  readonly memory: WasmMemory;
  readonly layout: AlsLayout;
  readonly thread: number;
}

/**
 * A pooled helper thread of ALS fits. For each fit it receives a job, then sleeps on the control block's
 * generation counter, runs its share of each command and counts itself out, until the exit command
 * returns it to its event loop for the next fit. Blocking waits are fine: it has nothing else to do.
 */
function runFit({ memory, layout, thread }: AlsWorkerJob): void {
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
    if (Atomics.sub(ctrl, CTRL.remaining, 1) === 1) Atomics.notify(ctrl, CTRL.remaining);
  }
}

parentPort?.on('message', (job: AlsWorkerJob) => runFit(job));
