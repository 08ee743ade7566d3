import { parentPort, workerData } from 'node:worker_threads';
import type { TrackedEvent } from '../../events/types.js';
import type { Impression } from '../../recommendations/impression.js';
import { serveLog, type LogScans } from './log-reader.js';
import { syntheticLog, type SyntheticOptions } from './synthetic.js';

/**
 * A reader thread (`serveLog`) over a log given to it, for tests of the two-thread analysis: batches of
 * records (copied to the thread), or a synthetic log generated in the thread. `failAtBatch`: the events'
 * scan throws at that batch, as a store whose connection fails would.
 */
export type FixtureLog =
  | {
      readonly kind: 'records';
      readonly events: readonly (readonly TrackedEvent[])[];
      readonly impressions: readonly (readonly Impression[])[];
      readonly failAtBatch?: number;
    }
  | { readonly kind: 'synthetic'; readonly options: SyntheticOptions };

const port = parentPort;
if (!port) throw new Error('fixture-reader.worker must run as a worker thread');
const log = workerData as FixtureLog;

async function* failing<T>(batches: readonly (readonly T[])[], at: number): AsyncGenerator<readonly T[]> {
  for (let b = 0; b < batches.length; b++) {
    if (b === at) throw new Error(`the scan failed at batch ${b}`);
    yield batches[b]!;
  }
}

let scans: LogScans;
if (log.kind === 'records') {
  scans = {
    impressions: () => log.impressions,
    events: () => failing(log.events, log.failAtBatch ?? -1),
  };
} else {
  const synthetic = syntheticLog(log.options);
  scans = {
    impressions: (batchSize) => synthetic.impressions(batchSize),
    events: () => synthetic.events(),
  };
}
await serveLog(port, scans);
