import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import type { DecisionLogRows, ExposureParams, ImpressionParams } from './rows.js';
import { CACHE_KIB } from './sqlite-cache.js';
import { logIndexCatchUp } from './sqlite-log-index.js';
import { prepareStatements, writeDecisionLogRows, type Statements } from './sqlite-statements.js';

/**
 * The SQLite store's background writer: WAL checkpoints, the log's user and item indexes (`user_events`,
 * `item_events`) and the impression, exposure and decision logs, on a connection of its own, so the
 * serving thread neither copies the WAL back into the database nor waits on the disk for a log write. A
 * checkpoint run inline stalled requests for tens of milliseconds; even run on another thread, it stalled
 * the serving thread's own impression commits on the file system. Checkpoints are PASSIVE: they never
 * block writers or readers, they do what they can. The indexes are derived from events after their commit
 * (schema V5, V11): maintained inside the acknowledged commit each cost a fifth of ingestion or more. Each
 * tick indexes what was appended since the last one, then checkpoints, so the checkpoint also copies the
 * pages the indexing just wrote. Every write transaction here is announced on a shared flag
 * (`announced`), which the serving thread's group commit waits on instead of blocking in SQLite.
 */
export interface BackgroundJob {
  readonly file: string;
  readonly intervalMs: number;
  /** `BackgroundWriter.writing`'s memory: this thread's write transactions, announced. */
  readonly writing: SharedArrayBuffer;
}

/** The logs the background thread writes, with the rows each takes. */
export interface BackgroundRows {
  readonly impressions: readonly ImpressionParams[];
  readonly exposures: readonly ExposureParams[];
  readonly decisions: DecisionLogRows;
}

export type BackgroundRequest =
  | {
      [T in keyof BackgroundRows]: {
        readonly type: 'write';
        readonly table: T;
        readonly id: number;
        readonly rows: BackgroundRows[T];
      };
    }[keyof BackgroundRows]
  | { readonly type: 'stop' };

export type BackgroundReply =
  | { readonly type: 'done'; readonly id: number }
  | {
      readonly type: 'failed';
      readonly id: number;
      readonly table: keyof BackgroundRows;
      readonly message: string;
    };

const { file, intervalMs, writing } = workerData as BackgroundJob;
const writingFlag = new Int32Array(writing);

/** Runs `write` (one or more write transactions) with the flag the store's group commit waits on raised. */
function announced<T>(write: () => T): T {
  Atomics.store(writingFlag, 0, 1);
  try {
    return write();
  } finally {
    Atomics.store(writingFlag, 0, 0);
    Atomics.notify(writingFlag, 0);
  }
}
const port = parentPort;
let open: {
  readonly db: Database.Database;
  readonly insertImpressions: (rows: readonly ImpressionParams[]) => void;
  readonly insertExposures: (rows: readonly ExposureParams[]) => void;
  readonly writeDecisions: (rows: DecisionLogRows) => void;
  readonly catchUpLogIndex: () => number;
} | null = null;
let stopped = false;

function connection(): NonNullable<typeof open> {
  if (open) return open;
  const db = new Database(file, { fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  // The logs are not acknowledged writes, and the item index is derived (a lost catch-up loses its mark
  // with it, in the same commit, and is redone): a process crash still keeps what WAL holds.
  db.pragma('synchronous = NORMAL');
  // As on the main connection: what this writer deletes or rewrites (closed decisions) is zeroed.
  db.pragma('secure_delete = ON');
  // A catch-up dirties a leaf of the user and item tables per user and item it meets: thousands of pages,
  // which SQLite's 2 MiB default would spill to the WAL mid-transaction and re-read on the next tick.
  db.pragma(`cache_size = -${CACHE_KIB}`);
  const statements: Statements = prepareStatements(db);
  const insertImpressions = db.transaction((rows: readonly ImpressionParams[]) => {
    for (const row of rows) statements.insertImpression.run(...row);
  }).immediate;
  const insertExposures = db.transaction((rows: readonly ExposureParams[]) => {
    for (const row of rows) statements.insertExposure.run(...row);
  }).immediate;
  const writeDecisions = db.transaction((rows: DecisionLogRows) =>
    writeDecisionLogRows(statements, rows),
  ).immediate;
  open = {
    db,
    insertImpressions,
    insertExposures,
    writeDecisions,
    catchUpLogIndex: logIndexCatchUp(db, statements),
  };
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
    const writer = connection();
    try {
      announced(writer.catchUpLogIndex);
    } catch {
      // The write lock stayed busy past busy_timeout: the next tick goes on from the same mark, and reads
      // are exact meanwhile (they scan the unindexed tail, only for longer).
    }
    writer.db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // Busy, or the database is gone (a store closed and removed right after opening): checkpoints are
    // an optimisation, so give up quietly when there is no database.
    if (!stopped && open === null) stop();
  }
}, intervalMs);

port?.on('message', (request: BackgroundRequest) => {
  if (request.type === 'stop') return stop();
  try {
    const writer = connection();
    announced(() => {
      if (request.table === 'impressions') writer.insertImpressions(request.rows);
      else if (request.table === 'exposures') writer.insertExposures(request.rows);
      else writer.writeDecisions(request.rows);
    });
    port.postMessage({ type: 'done', id: request.id } satisfies BackgroundReply);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    port.postMessage({
      type: 'failed',
      id: request.id,
      table: request.table,
      message,
    } satisfies BackgroundReply);
  }
});
