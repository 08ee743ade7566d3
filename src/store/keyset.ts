import type { UserEventsOptions } from './types.js';

/*
 * What both stores' scans share: the checks on limits, batch sizes and position bounds, the defaults of a
 * user's or an item's window of events, and keyset pagination.
 */

/**
 * Limits and batch sizes end up in LIMIT clauses, where SQLite reads a negative value as "no limit" and
 * PostgreSQL refuses it: both stores refuse them alike, naming the option.
 */
export function assertCount(name: string, value: number, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RangeError(`${name} must be an integer ≥ ${min}, got ${value}`);
  }
}

/** How many events `userEvents` and `itemEvents` return when the caller does not say. */
const DEFAULT_WINDOW_LIMIT = 100;

/** A user's or an item's window (`UserEventsOptions`) with its defaults filled in and its bounds checked. */
export interface EventWindow {
  /** Only `ts ≥ since`. */
  readonly since: number;
  /** Only `afterSeq < seq ≤ throughSeq`. */
  readonly afterSeq: number;
  readonly throughSeq: number;
  readonly limit: number;
}

/**
 * `UserEventsOptions` as both stores read them: by default the newest 100 events of any time and position.
 * `limit` and the position bounds, when given, must be integers ≥ 0 (positions are), or the read fails
 * naming the option.
 */
export function eventWindow(options: UserEventsOptions): EventWindow {
  const limit = options.limit ?? DEFAULT_WINDOW_LIMIT;
  assertCount('limit', limit, 0);
  const afterSeq = options.afterSeq ?? 0;
  assertCount('afterSeq', afterSeq, 0);
  const throughSeq = options.throughSeq ?? Number.MAX_SAFE_INTEGER;
  assertCount('throughSeq', throughSeq, 0);
  return { since: options.since ?? Number.MIN_SAFE_INTEGER, afterSeq, throughSeq, limit };
}

/** Rows per batch of a scan when the caller does not say. */
export const DEFAULT_SCAN_BATCH = 10_000;

/** How `keysetScan` reads one table: a page of rows after a key, each row's key, and the row as returned. */
export interface KeysetPages<Row, Key, T> {
  /** Below every key. */
  readonly start: Key;
  /** At most `limit` rows with keys above `after`, in key order. */
  readonly fetch: (after: Key, limit: number) => Row[] | Promise<Row[]>;
  readonly keyOf: (row: Row) => Key;
  readonly map: (row: Row) => T;
}

/**
 * A table in batches (`batchSize`, default `DEFAULT_SCAN_BATCH`) by keyset pagination: each batch is its own read, so nothing is held
 * open while the consumer works (SQLite's WAL can checkpoint during a long scan; PostgreSQL holds no
 * cursor), and `fetch` looks the connection up per batch, so a scan outlived by `close()` fails with a
 * clear error on its next batch. A short batch is the last.
 */
export async function* keysetScan<Row, Key, T>(
  options: { readonly batchSize?: number },
  pages: KeysetPages<Row, Key, T>,
): AsyncGenerator<T[]> {
  const batchSize = options.batchSize ?? DEFAULT_SCAN_BATCH;
  assertCount('batchSize', batchSize, 1);
  let after = pages.start;
  while (true) {
    const rows = await pages.fetch(after, batchSize);
    const last = rows.at(-1);
    if (last === undefined) return;
    after = pages.keyOf(last);
    yield rows.map(pages.map);
    if (rows.length < batchSize) return;
  }
}

/** Rows per batch of an item scan when the caller does not say. */
const DEFAULT_ITEM_BATCH = 1_000;

/** The catalog in id order, in batches, through `list` (a store's `listItems`). */
export function scanItemPages<T extends { readonly id: string }>(
  options: { readonly batchSize?: number },
  list: (after: string | undefined, limit: number) => Promise<T[]>,
): AsyncGenerator<T[]> {
  return keysetScan<T, string | undefined, T>(
    { batchSize: options.batchSize ?? DEFAULT_ITEM_BATCH },
    { start: undefined, fetch: list, keyOf: (item) => item.id, map: (item) => item },
  );
}
