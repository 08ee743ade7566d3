/*
 * Small pieces the PostgreSQL record tables share (`postgres-records*.ts`): the limit checks SQLite makes
 * and keyset scans that hold no cursor between batches.
 */

/** Rows per batch of a scan when the caller does not say (as SQLite's scans). */
export const DEFAULT_SCAN_BATCH = 10_000;

/** Limits and batch sizes end up in LIMIT clauses: refused as SQLite refuses them, naming the option. */
export function assertCount(name: string, value: number, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RangeError(`${name} must be an integer ≥ ${min}, got ${value}`);
  }
}

/** How `keysetScan` reads one table: a page of rows after a key, each row's key, and the row as returned. */
export interface KeysetPages<Row, Key, T> {
  /** Below every key. */
  readonly start: Key;
  /** At most `limit` rows with keys above `after`, in key order. */
  readonly fetch: (after: Key, limit: number) => Promise<Row[]>;
  readonly keyOf: (row: Row) => Key;
  readonly map: (row: Row) => T;
}

/**
 * A table in batches by keyset pagination: each batch is its own query, so nothing is held open while the
 * consumer works, and a scan that outlives `close()` fails with `StoreClosedError` on its next batch (the
 * pool is looked up per query). A short batch is the last.
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
