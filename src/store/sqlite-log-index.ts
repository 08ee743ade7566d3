import type BetterSqlite3 from 'better-sqlite3';

import type { EventWindow } from './keyset.js';
import type { EventRow } from './rows.js';
import { activityIndexer } from './sqlite-activity.js';
import type { Statements, WindowStatements } from './sqlite-statements.js';

/*
 * The log's indexes by item (`item_events`, schema V5) and by user (`user_events`, V11): tables derived
 * from `events` after the commit instead of indexes maintained inside it. Appends write only `events`; a
 * catch-up copies (key, ts, seq) of the events beyond `item_events_through` into both tables and advances
 * the mark in the same transaction, so each table is always exactly "every event with seq ≤ through".
 * The store's background thread catches up on its timer; a writer without that thread catches up itself
 * after its appends (`sqlite.ts`). Reads combine a table with the unindexed tail of the log and never
 * depend on either having run.
 */

/**
 * Log positions (so at most this many rows per table) one catch-up transaction indexes. It holds the write
 * lock while it runs; the serving thread's group commit waits for it without blocking (`sqlite.ts`). Its
 * cost is mostly one leaf per item or user it touches, not per row: 15k rows over 5,000 items took
 * 70–95 ms on a table of 600k rows (measured). One 1 s tick of the background thread at ~34k events/s
 * (bench/ingest.ts) fits in one chunk; a smaller chunk would write the same leaves more often.
 */
export const LOG_INDEX_CHUNK = 40_000;

/**
 * Brings `item_events` and `user_events` up to the log position it finds when called (not to a position
 * that keeps moving under continuous ingestion, so one call's work is bounded), in transactions of at most
 * `chunk` positions. Returns how many log positions it indexed. Each transaction is IMMEDIATE and re-reads
 * the mark under the write lock, so two connections catching up at once (the server's thread and a
 * secondary writer) never index an event twice.
 */
export function logIndexCatchUp(
  db: BetterSqlite3.Database,
  statements: Statements,
  chunk: number = LOG_INDEX_CHUNK,
): () => number {
  if (!Number.isSafeInteger(chunk) || chunk < 1) throw new RangeError(`chunk must be ≥ 1, got ${chunk}`);
  // The activity tables share the mark (`sqlite-activity.ts`): one catch-up derives both.
  const indexActivity = activityIndexer(db);
  const step = db.transaction((target: number): number => {
    const { through } = position(statements);
    if (through >= target) return 0;
    const upTo = Math.min(target, through + chunk);
    statements.indexItemEvents.run(through, upTo);
    statements.indexUserEvents.run(through, upTo);
    indexActivity(through, upTo);
    statements.setItemEventsThrough.run(JSON.stringify(upTo));
    return upTo - through;
  }).immediate;
  return () => {
    // A plain read first: a store with nothing to index (an idle server, every tick) takes no write lock.
    const { through, last } = position(statements);
    let indexed = 0;
    if (last <= through) return indexed;
    for (let done = step(last); done > 0; done = step(last)) indexed += done;
    return indexed;
  };
}

/** How many log positions lie beyond `item_events_through`: what a read has to take from the log itself. */
export function logIndexBehind(statements: Statements): number {
  const { through, last } = position(statements);
  return Math.max(0, last - through);
}

/**
 * An item's events as `Store.itemEvents` returns them (or a user's, as `Store.userEvents` does), read in
 * one deferred transaction: the mark, the indexed part and the tail all come from one snapshot, so an event
 * is in exactly one of the two parts even while another connection appends or catches up. Exact however
 * far the table lags; a long tail only makes the rowid range scan longer. The caller's seq range is split
 * at the mark: `(afterSeq, min(through, throughSeq)]` from the table, `(max(through, afterSeq), throughSeq]`
 * from the log; a part whose range is empty is not read at all.
 */
export function indexedEventsReader(
  db: BetterSqlite3.Database,
  statements: Statements,
  queries: WindowStatements,
): (key: string, window: EventWindow) => EventRow[] {
  return db.transaction((key: string, window: EventWindow): EventRow[] => {
    const { since, afterSeq, throughSeq, limit } = window;
    const { through } = position(statements);
    const indexedThrough = Math.min(through, throughSeq);
    const tailAfter = Math.max(through, afterSeq);
    const indexed =
      afterSeq < indexedThrough ? queries.indexed.all(key, since, afterSeq, indexedThrough, limit) : [];
    const tail = tailAfter < throughSeq ? queries.tail.all(tailAfter, throughSeq, key, since, limit) : [];
    return newestFirst(indexed, tail, limit);
  }).deferred;
}

/** Merges two lists that are each newest first (ts, then seq, descending) into the first `limit` of both. */
export function newestFirst(a: readonly EventRow[], b: readonly EventRow[], limit: number): EventRow[] {
  if (b.length === 0) return a.slice(0, limit);
  if (a.length === 0) return b.slice(0, limit);
  const out: EventRow[] = [];
  let i = 0;
  let j = 0;
  while (out.length < limit) {
    const x = a[i];
    const y = b[j];
    if (x === undefined) {
      if (y === undefined) break;
      out.push(y);
      j += 1;
    } else if (y === undefined || x.ts > y.ts || (x.ts === y.ts && x.seq > y.seq)) {
      out.push(x);
      i += 1;
    } else {
      out.push(y);
      j += 1;
    }
  }
  return out;
}

function position(statements: Statements): { readonly through: number; readonly last: number } {
  const row = statements.logIndexPosition.get();
  if (row === undefined) throw new Error('reading the log index position returned no row');
  return row;
}
