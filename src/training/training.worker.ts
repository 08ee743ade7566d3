import { parentPort, workerData } from 'node:worker_threads';
import { openStore } from '../store/index.js';
import { trainBundle, type TrainingConfig } from './train.js';
import type { TrainingMessage } from './runner.js';

/**
 * The training role: runs off the serving thread with its own store connection, so scanning the whole
 * event log and the numeric kernels never stall a request.
 */
interface TrainingJob {
  readonly storeUrl: string;
  readonly config: TrainingConfig;
}

const job = workerData as TrainingJob;
const port = parentPort;
if (!port) throw new Error('training.worker must run as a worker thread');

const store = await openStore(job.storeUrl, { backgroundCheckpoints: false });
try {
  const info = await trainBundle(store, job.config, (stage, done, total) =>
    port.postMessage({ type: 'progress', stage, done, total } satisfies TrainingMessage),
  );
  port.postMessage({ type: 'done', info } satisfies TrainingMessage);
} catch (error) {
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  port.postMessage({ type: 'failed', message } satisfies TrainingMessage);
} finally {
  await store.close();
}
