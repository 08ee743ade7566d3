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

/*
 * Appends run side by side; a reader that needs a settled prefix of the log waits for them. Every append
 * takes the append lock SHARED (in the statement that inserts) before it draws a seq, and holds it until its
 * commit, so any number of appends, from any connection or process, commit at once and their seqs may
 * commit out of order. A position handed out as a prefix (`Store.lastEventSeq`, the activity catch-up's
 * target) is read under the same lock taken EXCLUSIVE: it is granted only when no append is between drawing
 * its seqs and committing, so every seq drawn by then is settled, and every later append draws higher ones.
 * A reader that saw position N therefore never later sees a commit at or below N. The barrier waits for at
 * most the appends in flight (one statement each), and appends queue behind it only for that long.
 * Keyed by the schema: stores in other schemas of the same database do not wait for each other.
 */
const APPEND_KEY = "hashtext('attune-append:' || current_schema())";
export const APPEND_LOCK = `pg_advisory_xact_lock_shared(${APPEND_KEY})`;
export const APPEND_BARRIER = `pg_advisory_xact_lock(${APPEND_KEY})`;

/**
 * A statement reading `value` (a scalar expression such as the log's max(seq)) behind the barrier, as `seq`.
 * Which snapshot `value` reads does not matter: any seq it finds was drawn before the barrier was granted,
 * and everything drawn by then has committed or failed when the statement returns. (A scalar subquery, not
 * a join with the barrier, so that max(seq) stays one probe of the primary key.)
 */
export function settled(value: string): string {
  return `SELECT ${value} AS seq FROM (SELECT ${APPEND_BARRIER}) AS barrier`;
}

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

/**
 * The coarse time `user_activity` indexes (`last_hour`) of a bigint expression of epoch ms. Not floored
 * (integer `/` truncates toward zero, so -0.5 h and 0.5 h share hour 0): the reads need only that it never
 * decreases as time grows, so that `t >= since` implies `HOUR_OF(t) >= HOUR_OF(since)`.
 */
export const HOUR_OF = (ms: string): string => `(${ms} / 3600000)`;

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
