import { Worker } from 'node:worker_threads';

/** How often a thread that never yields found the clock jumped: time it did not run. */
export interface Stalls {
  readonly threads: number;
  readonly seconds: number;
  /** Per thread: gaps between two consecutive clock readings over 1, 2 and 5 ms, and the longest (ms). */
  readonly perThread: readonly {
    readonly over1ms: number;
    readonly over2ms: number;
    readonly over5ms: number;
    readonly maxMs: number;
  }[];
}

// Reads the clock in a loop that allocates nothing (no collections), counting the gaps.
const SPINNER = `
const { parentPort, workerData } = require('node:worker_threads');
const end = performance.now() + workerData.seconds * 1000;
let last = performance.now(), over1 = 0, over2 = 0, over5 = 0, max = 0;
for (;;) {
  const now = performance.now();
  const gap = now - last;
  last = now;
  if (gap > 1) { over1++; if (gap > 2) { over2++; if (gap > 5) over5++; } }
  if (gap > max) max = gap;
  if (now > end) break;
}
parentPort.postMessage({ over1ms: over1, over2ms: over2, over5ms: over5, maxMs: Math.round(max * 100) / 100 });
`;

/**
 * The machine's own stalls, for reading a latency bench's floor: `threads` spinning threads for `seconds`.
 * A vCPU of this virtual machine is taken away for milliseconds now and then, more often when both are busy
 * (a C loop on each of the two, 2026-12-06: 18 and 51 gaps over 2 ms in 20 s, the longest 102 ms; one loop
 * alone: 1 gap over 1 ms in 10 s), and `/proc/stat` shows no steal for it. A request that meets such a gap
 * waits it out, whatever the server does; run with nothing else busy.
 */
export async function machineStalls(threads: number, seconds: number): Promise<Stalls> {
  const perThread = await Promise.all(
    Array.from(
      { length: threads },
      () =>
        new Promise<Stalls['perThread'][number]>((resolve, reject) => {
          const worker = new Worker(SPINNER, { eval: true, workerData: { seconds } });
          worker.once('message', (result: Stalls['perThread'][number]) => {
            resolve(result);
            void worker.terminate();
          });
          worker.once('error', reject);
        }),
    ),
  );
  return { threads, seconds, perThread };
}
