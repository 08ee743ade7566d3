import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import type { DecisionClose, LoggedDecision } from '../decisions/points/log-types.js';
import { decisionLogRows, type DecisionLogRows, type ExposureParams, type ImpressionParams } from './rows.js';
import { appendCommitter, type AppendOutcome, type EventAppend } from './sqlite-append.js';
import { CACHE_KIB } from './sqlite-cache.js';
import { logIndexCatchUp } from './sqlite-log-index.js';
import { prepareStatements, writeDecisionLogRows, type Statements } from './sqlite-statements.js';

/**
 * The SQLite store's background writer: the event log's group commits, WAL checkpoints, the log's user and
 * item indexes (`user_events`, `item_events`) and the impression, exposure and decision logs, so the
 * serving thread neither copies the WAL back into the database nor waits on the disk for a write. A
 * checkpoint run inline stalled requests for tens of milliseconds; even run on another thread, it stalled
 * the serving thread's own impression commits on the file system. Checkpoints are PASSIVE: they never
 * block writers or readers, they do what they can. The indexes are derived from events after their commit
 * (schema V5, V11): maintained inside the acknowledged commit each cost a fifth of ingestion or more. Each
 * tick indexes what was appended since the last one, then checkpoints, so the checkpoint also copies the
 * pages the indexing just wrote.
 *
 * Events are committed here too, on a connection of their own with the store's durability (the logs' is
 * NORMAL): inserting a batch and its fsync took ~40% of the serving thread under sustained ingestion, and
 * it had to wait, idle, whenever a catch-up held the write lock. Here the commits and the catch-ups take
 * turns on one thread without waiting on each other, and the serving thread parses, validates and folds
 * features meanwhile.
 */
export interface BackgroundJob {
  readonly file: string;
  readonly intervalMs: number;
  /** The durability of event commits: the store's own (`SqliteStoreOptions.synchronous`). */
  readonly synchronous: 'FULL' | 'NORMAL';
}

/** What the background thread writes: the logs, with the rows each takes, and one metadata entry. */
export interface BackgroundRows {
  readonly impressions: readonly ImpressionParams[];
  readonly exposures: readonly ExposureParams[];
  /**
   * Decisions as logged, turned into rows here: their context, offered actions and probabilities as JSON
   * took the serving thread ~13 µs a decision; copying them to this thread takes ~9 (batches of 50).
   */
  readonly decisions: {
    readonly appends: readonly LoggedDecision[];
    readonly closes: readonly DecisionClose[];
  };
  /**
   * A key and its JSON text, committed with the store's own durability (the events' connection): a
   * learner's state is ~0.4 MB, and its commit and fsync on the serving thread stalled it for ~20 ms.
   */
  readonly meta: readonly [key: string, json: string];
}

export type BackgroundRequest =
  | { readonly type: 'append'; readonly id: number; readonly appends: readonly EventAppend[] }
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
  | { readonly type: 'appended'; readonly id: number; readonly outcomes: readonly AppendOutcome[] }
  | {
      readonly type: 'failed';
      readonly id: number;
      readonly table: keyof BackgroundRows;
      readonly message: string;
    };

const { file, intervalMs, synchronous } = workerData as BackgroundJob;
const port = parentPort;
let open: {
  readonly db: Database.Database;
  readonly insertImpressions: (rows: readonly ImpressionParams[]) => void;
  readonly insertExposures: (rows: readonly ExposureParams[]) => void;
  readonly writeDecisions: (rows: DecisionLogRows) => void;
  readonly catchUpLogIndex: () => number;
} | null = null;
let events: {
  readonly db: Database.Database;
  readonly commit: ReturnType<typeof appendCommitter>;
  readonly setMeta: Statements['setMeta'];
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

/** The event log's connection: acknowledged writes, so with the store's own durability. */
function eventsConnection(): NonNullable<typeof events> {
  if (events) return events;
  const db = new Database(file, { fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  db.pragma(`synchronous = ${synchronous === 'FULL' ? 'FULL' : 'NORMAL'}`);
  db.pragma('secure_delete = ON');
  db.pragma(`cache_size = -${CACHE_KIB}`);
  // Checkpoints are this thread's timer's, never a commit's (see `WAL_AUTOCHECKPOINT_PAGES` in sqlite.ts).
  db.pragma('wal_autocheckpoint = 0');
  const statements = prepareStatements(db);
  events = { db, commit: appendCommitter(db, statements), setMeta: statements.setMeta };
  return events;
}

function stop(): void {
  stopped = true;
  clearInterval(timer);
  open?.db.close();
  open = null;
  events?.db.close();
  events = null;
  port?.close();
}

const timer = setInterval(() => {
  try {
    const writer = connection();
    try {
      writer.catchUpLogIndex();
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
  if (request.type === 'append') {
    let outcomes: AppendOutcome[];
    try {
      outcomes = eventsConnection().commit(request.appends);
    } catch (error) {
      // The connection would not open: every append of the group fails with the reason.
      const failed = error instanceof Error ? error.message : String(error);
      outcomes = request.appends.map(() => ({ failed }));
    }
    port.postMessage({ type: 'appended', id: request.id, outcomes } satisfies BackgroundReply);
    return;
  }
  try {
    if (request.table === 'meta') eventsConnection().setMeta.run(...request.rows);
    else if (request.table === 'impressions') connection().insertImpressions(request.rows);
    else if (request.table === 'exposures') connection().insertExposures(request.rows);
    else connection().writeDecisions(decisionLogRows(request.rows.appends, request.rows.closes));
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
