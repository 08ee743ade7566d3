import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import type { TrackedEvent } from '../events/types.js';
import type { EventWindow } from './keyset.js';
import { eventFromRow, userItemFromRow } from './rows.js';
import { indexedEventsReader } from './sqlite-log-index.js';
import { prepareStatements } from './sqlite-statements.js';
import type { UserItemTotal } from './types.js';

/**
 * The SQLite store's reader thread: the reads a cache miss makes (a user's whole history for
 * `UserHistories`, a user's or item's window of events for the online features), on a connection of its
 * own, so that the serving thread neither runs the query nor builds the rows. Read there, a MovieLens 100K
 * user's totals and session window cost it ~0.7 ms (~2 ms with cold pages), and every other request waited;
 * taking one read's answer over from here costs it ~0.1 ms, the read itself ~0.3 ms more latency
 * (docs/SCALING.md has the measurements).
 *
 * WAL lets this connection read while others write. Each read is its own snapshot taken when it starts,
 * so it holds every commit acknowledged before it was asked for (appends are acknowledged after their
 * commit, on the background thread), as a read on the serving thread's connection would.
 */
export interface ReaderJob {
  readonly file: string;
  readonly busyTimeoutMs: number;
}

/** What each read answers. */
export interface ReaderResults {
  readonly userItems: UserItemTotal[];
  readonly userEvents: TrackedEvent[];
  readonly itemEvents: TrackedEvent[];
}

export type ReaderRequest =
  | { readonly type: 'userItems'; readonly id: number; readonly key: string }
  | {
      readonly type: 'userEvents' | 'itemEvents';
      readonly id: number;
      readonly key: string;
      readonly window: EventWindow;
    }
  | { readonly type: 'stop' };

export type ReaderReply =
  | { readonly id: number; readonly ok: true; readonly value: ReaderResults[keyof ReaderResults] }
  | { readonly id: number; readonly ok: false; readonly message: string };

const { file, busyTimeoutMs } = workerData as ReaderJob;
const port = parentPort;

const db = new Database(file, { fileMustExist: true });
db.pragma(`busy_timeout = ${busyTimeoutMs}`);
// This connection never writes: a bug that tried would fail here rather than take the write lock.
db.pragma('query_only = ON');
// SQLite's own page cache size (2 MiB), not the writers' 64 MiB: reading every ML-100K user's totals and
// events took the same time with either (1.68–1.92 against 1.70–2.00 ms a user, three passes each), and
// the OS keeps the file's pages anyway.
const statements = prepareStatements(db);
const userEvents = indexedEventsReader(db, statements, statements.userWindow);
const itemEvents = indexedEventsReader(db, statements, statements.itemWindow);

function read(request: Exclude<ReaderRequest, { type: 'stop' }>): ReaderResults[keyof ReaderResults] {
  switch (request.type) {
    case 'userItems':
      return statements.userItems.all({ user: request.key }).map(userItemFromRow);
    case 'userEvents':
      return userEvents(request.key, request.window).map(eventFromRow);
    case 'itemEvents':
      return itemEvents(request.key, request.window).map(eventFromRow);
  }
}

port?.on('message', (request: ReaderRequest) => {
  if (request.type === 'stop') {
    db.close();
    port.close();
    return;
  }
  let reply: ReaderReply;
  try {
    reply = { id: request.id, ok: true, value: read(request) };
  } catch (error) {
    reply = { id: request.id, ok: false, message: error instanceof Error ? error.message : String(error) };
  }
  port.postMessage(reply);
});
