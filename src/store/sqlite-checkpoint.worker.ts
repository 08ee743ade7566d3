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
let db: Database.Database | null = null;
let stopped = false;

function stop(): void {
  stopped = true;
  clearInterval(timer);
  db?.close();
  db = null;
  parentPort?.close();
}

const timer = setInterval(() => {
  try {
    // Opened on the first tick, not at start: a store closed (and its directory removed) right after
    // opening must not leave this thread failing on a file that is gone.
    db ??= new Database(file, { fileMustExist: true });
    db.pragma('busy_timeout = 1000');
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // Busy, or the database is gone: checkpoints are an optimisation, so give up quietly when gone.
    if (!stopped && db === null) stop();
  }
}, intervalMs);

parentPort?.on('message', (message: unknown) => {
  if (message === 'stop') stop();
});
