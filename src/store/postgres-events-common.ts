import { assertText } from './postgres-db.js';

/*
 * Small pieces the PostgreSQL event tables' files share: the column lists, the advisory locks that order
 * writers across connections and processes, and the checks on caller input.
 */

export const EVENT_COLUMNS =
  'seq, event_id, name, user_id, item_id, ts, received_at, context, properties, request_id';
/** The same columns qualified by the alias `e`, for joins. */
export const EVENT_COLUMNS_OF_E = EVENT_COLUMNS.split(', ')
  .map((column) => `e.${column}`)
  .join(', ');

/**
 * Taken (in the statement that inserts) by every append before it draws a seq, and held until its commit:
 * appends commit one at a time in seq order, across connections and processes, so a reader that saw seq N
 * never later sees a commit with a lower seq (`Store.lastEventSeq`). Keyed by the schema: stores in other
 * schemas of the same database do not wait for each other.
 */
export const APPEND_LOCK = "pg_advisory_xact_lock(hashtext('attune-append:' || current_schema()))";

/**
 * Orders what changes the activity tables (`postgres-events-activity.ts`): the catch-up that adds events
 * to them and whatever deletes or moves events (retention, erasure, merges), which takes counted ones out.
 */
export const ACTIVITY_LOCK = "pg_advisory_xact_lock(hashtext('attune-activity:' || current_schema()))";
/** The catch-up's form: it skips a turn rather than wait behind another catch-up or a deletion. */
export const ACTIVITY_TRY_LOCK =
  "pg_try_advisory_xact_lock(hashtext('attune-activity:' || current_schema()))";

/** `ts` (epoch ms) floored to its minute; integer `/` truncates toward zero, so negative times step back. */
export const MINUTE_OF_TS = '((ts - ((ts % 60000) + 60000) % 60000) / 60000)';
export const MINUTE_MS = 60_000;

/** Limits and batch sizes end up in LIMIT clauses: checked as the SQLite store checks them. */
export function assertCount(name: string, value: number, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RangeError(`${name} must be an integer ≥ ${min}, got ${value}`);
  }
}

/** A nullable id bound for a text column (`assertText`, which refuses U+0000, naming the field). */
export function assertOptionalText(field: string, value: string | null): string | null {
  return value === null ? null : assertText(field, value);
}

/**
 * Whether a looked-up id can be stored at all: nothing is ever stored under an id with U+0000, so a read
 * of one answers "none" (as SQLite does) without sending PostgreSQL a string it would refuse.
 */
export function storable(id: string): boolean {
  return !id.includes('\u0000');
}
