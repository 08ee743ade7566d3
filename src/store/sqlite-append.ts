import type BetterSqlite3 from 'better-sqlite3';

import type { AppendResult, TrackedEvent } from '../events/types.js';
import type { KnownIds } from './known-ids.js';
import { eventParams, type EventParams } from './rows.js';
import type { Statements } from './sqlite-statements.js';

/**
 * One `appendEvents` call as the connection that commits it needs it: the rows to insert, and which of
 * them should create a placeholder item when stored (1) because the writer does not know their item to be
 * in `items` already. Plain arrays, so that it crosses to the store's background thread as it is.
 */
export interface EventAppend {
  readonly rows: readonly EventParams[];
  readonly placeholders: Uint8Array;
}

/** Either a committed append's result or why it failed: a group commits or fails batch by batch. */
export type AppendOutcome = AppendResult | { readonly failed: string };

/**
 * The rows of an append, with placeholders asked for every stored event whose item is not in `knownItems`
 * (none at all when `knownItems` is null: the caller creates no missing items).
 */
export function eventAppend(events: readonly TrackedEvent[], knownItems: KnownIds | null): EventAppend {
  const placeholders = new Uint8Array(events.length);
  if (knownItems !== null) {
    events.forEach((event, index) => {
      if (event.itemId !== null && !knownItems.has(event.itemId)) placeholders[index] = 1;
    });
  }
  return { rows: events.map(eventParams), placeholders };
}

/**
 * Commits appends in one IMMEDIATE transaction (one fsync for all), each result as if the appends had been
 * committed one after another in order. When the shared transaction fails it rolls back whole, and each
 * append is committed alone, so that one bad batch fails only itself.
 */
export function appendCommitter(
  db: BetterSqlite3.Database,
  statements: Statements,
): (appends: readonly EventAppend[]) => AppendOutcome[] {
  const one = db.transaction((append: EventAppend) => insertAppend(statements, append)).immediate;
  const all = db.transaction((appends: readonly EventAppend[]) =>
    appends.map((append) => insertAppend(statements, append)),
  ).immediate;
  return (appends) => {
    try {
      return all(appends);
    } catch {
      return appends.map((append) => {
        try {
          return one(append);
        } catch (error) {
          return { failed: error instanceof Error ? error.message : String(error) };
        }
      });
    }
  };
}

/**
 * Inserts one append inside the caller's transaction. An ignored insert (changes === 0) means the event id
 * was already stored — by an earlier append or earlier in this one. Placeholder items are created only for
 * newly stored events: a re-sent event has no effect at all, so it cannot resurrect a deleted item.
 */
function insertAppend(statements: Statements, { rows, placeholders }: EventAppend): AppendResult {
  let stored = 0;
  const duplicates: string[] = [];
  const createdItems: string[] = [];
  const positions: (number | null)[] = [];
  rows.forEach((row, index) => {
    const inserted = statements.insertEvent.run(...row);
    if (inserted.changes === 0) {
      duplicates.push(row[0]);
      positions.push(null);
      return;
    }
    positions.push(Number(inserted.lastInsertRowid));
    stored += 1;
    const [, , , itemId, ts, receivedAt] = row;
    if (placeholders[index] === 1 && itemId !== null) {
      if (statements.insertMissingItem.run(itemId, ts, receivedAt).changes > 0) createdItems.push(itemId);
    }
  });
  return { stored, duplicates, createdItems, positions };
}
