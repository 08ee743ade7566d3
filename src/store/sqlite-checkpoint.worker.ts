import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';

/**
 * Moves WAL checkpoints off the serving thread. A checkpoint copies the WAL back into the database and
 * fsyncs it; run inline by whichever commit crosses the threshold, it stalled that request (and every
 * request queued behind it) for tens of milliseconds. Here a PASSIVE checkpoint runs on its own
 * connection at a fixed interval: it never blocks writers or readers, it just does what it can.
 */
interface CheckpointJob {
  readonly file: string;
  readonly intervalMs: number;
}

const { file, intervalMs } = workerData as CheckpointJob;
const db = new Database(file, { fileMustExist: true });
db.pragma('busy_timeout = 1000');

const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // Busy or shutting down: the next tick tries again.
  }
}, intervalMs);

parentPort?.on('message', (message: unknown) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  db.close();
  parentPort?.close();
});
