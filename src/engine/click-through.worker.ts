import { parentPort, workerData } from 'node:worker_threads';
import { openStore } from '../store/index.js';
import type { ClickThroughJob, ClickThroughMessage } from './click-through.js';

const port = parentPort;
if (!port) throw new Error('click-through.worker must run as a worker thread');
const job = workerData as ClickThroughJob;
// A plain connection that only reads, as the report worker's (`experiments/report-job.ts`).
const store = await openStore(job.storeUrl, { backgroundCheckpoints: false });
try {
  const windows = [];
  for (const since of job.since) {
    windows.push(await store.servedListClicks(since, job.until, job.clickNames, job.ignoredNames));
  }
  port.postMessage({ type: 'done', windows } satisfies ClickThroughMessage);
} catch (error) {
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  port.postMessage({ type: 'failed', message } satisfies ClickThroughMessage);
} finally {
  await store.close();
}
