/**
 * A k-means helper thread (kmeans-threads.ts): sleeps on the control block's generation, claims chunks of
 * each assignment step until none is left, and counts each one done. Blocking waits are fine here. After
 * HELPER_IDLE_MS without a step it leaves, clearing its alive flag first so that the next fit starts a
 * new helper; a step posted meanwhile is done by the other threads.
 */
import { receiveMessageOnPort, workerData } from 'node:worker_threads';
import { ASSIGN_CHUNKS, assignChunk, type AssignBuffers } from './kmeans-assign.js';
import { CONTROL, HELPER_IDLE_MS, type HelperBuffers, type HelperStart } from './kmeans-threads.js';

const { control: shared, port, helper } = workerData as HelperStart;
const control = new Int32Array(shared);
const pause = new Int32Array(new SharedArrayBuffer(4));
let epoch = 0;
let buffers: AssignBuffers | undefined;

/** The buffers of the current fit: posted before the epoch was bumped, so they are on the port. */
function currentBuffers(): AssignBuffers {
  const want = Atomics.load(control, CONTROL.epoch);
  while (epoch !== want || buffers === undefined) {
    const received = receiveMessageOnPort(port) as { message: HelperBuffers } | undefined;
    if (received === undefined) {
      Atomics.wait(pause, 0, 0, 1);
      continue;
    }
    ({ epoch, buffers } = received.message);
  }
  return buffers;
}

let seen = -1;
Atomics.or(control, CONTROL.running, 1 << helper);
for (;;) {
  if (Atomics.wait(control, CONTROL.generation, seen, HELPER_IDLE_MS) === 'timed-out') {
    // Not running first: once alive is 0 the coordinator may start a new helper in this slot.
    Atomics.and(control, CONTROL.running, ~(1 << helper));
    if (Atomics.compareExchange(control, CONTROL.alive + helper, 1, 0) === 1) break;
    Atomics.or(control, CONTROL.running, 1 << helper);
  }
  seen = Atomics.load(control, CONTROL.generation);
  for (;;) {
    const chunk = Atomics.add(control, CONTROL.next, 1);
    if (chunk >= ASSIGN_CHUNKS) break;
    Atomics.or(control, CONTROL.threads, 1 << (helper + 1));
    try {
      const n = Atomics.load(control, CONTROL.n);
      const d = Atomics.load(control, CONTROL.d);
      const k = Atomics.load(control, CONTROL.k);
      assignChunk(currentBuffers(), n, d, k, chunk, Atomics.load(control, CONTROL.moveSums) === 1);
    } catch {
      Atomics.store(control, CONTROL.failed, 1);
    }
    Atomics.add(control, CONTROL.helperChunks, 1);
    Atomics.add(control, CONTROL.completed, 1);
    Atomics.notify(control, CONTROL.completed);
  }
}
port.close();
