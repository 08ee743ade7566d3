import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import type { ImpressionParams } from './rows.js';
import { prepareStatements, type Statements } from './sqlite-statements.js';

/**
 * The SQLite store's background writer: WAL checkpoints and the impression log, on a connection of its
 * own, so the serving thread neither copies the WAL back into the database nor waits on the disk for a
 * log write. A checkpoint run inline stalled requests for tens of milliseconds; even run on another
 * thread, it stalled the serving thread's own impression commits on the file system. Checkpoints are
 * PASSIVE: they never block writers or readers, they do what they can.
 */
export interface BackgroundJob {
  readonly file: string;
  readonly intervalMs: number;
}

export type BackgroundRequest =
  | { readonly type: 'impressions'; readonly id: number; readonly rows: readonly ImpressionParams[] }
  | { readonly type: 'stop' };

export type BackgroundReply =
  | { readonly type: 'done'; readonly id: number }
  | { readonly type: 'failed'; readonly id: number; readonly message: string };

const { file, intervalMs } = workerData as BackgroundJob;
const port = parentPort;
let open: {
  readonly db: Database.Database;
  readonly insert: (rows: readonly ImpressionParams[]) => void;
} | null = null;
let stopped = false;

function connection(): NonNullable<typeof open> {
  if (open) return open;
  const db = new Database(file, { fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  // The impression log is not an acknowledged write: a process crash still keeps what WAL holds.
  db.pragma('synchronous = NORMAL');
  const statements: Statements = prepareStatements(db);
  const insert = db.transaction((rows: readonly ImpressionParams[]) => {
    for (const row of rows) statements.insertImpression.run(...row);
  }).immediate;
  open = { db, insert };
  return open;
}

function stop(): void {
  stopped = true;
  clearInterval(timer);
  open?.db.close();
  open = null;
  port?.close();
}

const timer = setInterval(() => {
  try {
    connection().db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // Busy, or the database is gone (a store closed and removed right after opening): checkpoints are
    // an optimisation, so give up quietly when there is no database.
    if (!stopped && open === null) stop();
  }
}, intervalMs);

port?.on('message', (request: BackgroundRequest) => {
  if (request.type === 'stop') return stop();
  try {
    connection().insert(request.rows);
    port.postMessage({ type: 'done', id: request.id } satisfies BackgroundReply);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    port.postMessage({ type: 'failed', id: request.id, message } satisfies BackgroundReply);
  }
});
