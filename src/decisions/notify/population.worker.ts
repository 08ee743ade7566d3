import { parentPort, workerData } from 'node:worker_threads';
import { ConsentFilter } from '../../privacy/index.js';
import { openStore } from '../../store/index.js';
import { populationFromStore, type PopulationJob, type PopulationMessage } from './population.js';

const port = parentPort;
if (!port) throw new Error('population.worker must run as a worker thread');
const job = workerData as PopulationJob;
try {
  // A plain connection that only reads, as the report worker's: a read-only SQLite connection can fail to
  // read a WAL another connection of the same process is writing through.
  const store = await openStore(job.storeUrl, { backgroundCheckpoints: false });
  try {
    const consent = await ConsentFilter.read(store, job.defaultConsent);
    const population = await populationFromStore(store, job.at, job.sampleUsers, consent);
    port.postMessage({ type: 'done', population } satisfies PopulationMessage, [
      population.shares.buffer as ArrayBuffer,
    ]);
  } finally {
    await store.close();
  }
} catch (error) {
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  port.postMessage({ type: 'failed', message } satisfies PopulationMessage);
}
