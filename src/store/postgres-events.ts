import type { Item, User } from '../catalog/types.js';
import type { AppendResult, TrackedEvent } from '../events/types.js';
import type { Impression } from '../recommendations/impression.js';
import { assertText, type PgDb, type PgTx } from './postgres-db.js';
import {
  ActivityTables,
  forgetEvents,
  lockActivity,
  mergeActivity,
  type DeletedEvent,
} from './postgres-events-activity.js';
import { KnownIds } from './known-ids.js';
import { EventAppender } from './postgres-events-append.js';
import type { PgLogWriter } from './postgres-writer.js';
import { EVENT_COLUMNS, HOUR_OF, MINUTE_MS, settled, storable } from './postgres-events-common.js';
import { assertCount, DEFAULT_SCAN_BATCH, eventWindow, scanItemPages } from './keyset.js';
import type { EpochMs } from '../shared/types.js';
import { eraseUserRecords } from './postgres-records.js';
import type { EventTables } from './postgres.js';
import {
  eventFromRow,
  impressionFromRow,
  impressionParams,
  itemFromRow,
  parseJson,
  userFromRow,
  userItemFromRow,
  type EventRow,
  type ImpressionRow,
  type ItemRow,
  type UserItemRow,
  type UserRow,
} from './rows.js';
import { LAST_ERASURE_KEY } from './sqlite-schema.js';
import type {
  AppendOptions,
  ErasedRows,
  Erasure,
  ListOptions,
  MergedRows,
  RecentEvents,
  RecentEventsOptions,
  ScanOptions,
  ServedListClicks,
  UserActivity,
  UserEventsOptions,
  UserItemTotal,
} from './types.js';

/**
 * DDL of this half's tables (events, items, users, impressions, activity), part of migration V1. Names and
 * meanings as in SQLite's schema (`sqlite-schema.ts`, latest shape). Ids are `COLLATE "C"`: byte order, as
 * SQLite compares, so keyset pages and prefix ranges mean the same on both, whatever the database's
 * default collation, and index comparisons are a memcmp.
 *
 * `events.seq` has no default: it is drawn from `events_seq` only by the append statement, under the append
 * lock (`postgres-events-common.ts`), so that positions handed out as prefixes are settled. Indexes are
 * what reads need and no more, since each one is written by every append: the user's history, the
 * item's window (partial: events about no item are never asked for), the request link (partial: most
 * events carry none). No index on `ts`: retention deletes the log's head in seq order (the primary key)
 * and the activity reads use the kept tables below plus a seq range.
 *
 * `event_log` is one row: `high_water`, the highest seq ever deleted, so that `lastEventSeq` (the larger of
 * it and max(seq)) never goes back when the newest events are erased; and the activity tables' mark and
 * totals (`postgres-events-activity.ts`).
 */
export const EVENT_TABLES_V1 = `
  CREATE SEQUENCE events_seq AS bigint;
  CREATE TABLE events (
    seq         bigint PRIMARY KEY,
    event_id    text COLLATE "C" NOT NULL,
    name        text COLLATE "C" NOT NULL,
    user_id     text COLLATE "C" NOT NULL,
    item_id     text COLLATE "C",
    ts          bigint NOT NULL, -- epoch ms
    received_at bigint NOT NULL, -- epoch ms
    context     text NOT NULL,   -- JSON object of scalars
    properties  text NOT NULL,   -- JSON object of scalars
    request_id  text COLLATE "C",
    CONSTRAINT events_event_id UNIQUE (event_id)
  );
  ALTER SEQUENCE events_seq OWNED BY events.seq;
  CREATE INDEX events_user_ts ON events (user_id, ts DESC, seq DESC);
  CREATE INDEX events_item_ts ON events (item_id, ts DESC, seq DESC) WHERE item_id IS NOT NULL;
  CREATE INDEX events_request ON events (request_id) WHERE request_id IS NOT NULL;
  -- By time, for time-range reads and retention: a block range index, a few kilobytes that appends barely
  -- touch (events arrive close to their timestamps, so blocks of the log hold narrow time ranges), where a
  -- B-tree would cost every append one more random leaf write under the append lock.
  CREATE INDEX events_ts ON events USING brin (ts) WITH (pages_per_range = 32);

  CREATE TABLE items (
    id         text COLLATE "C" PRIMARY KEY,
    categories text NOT NULL, -- JSON array of strings
    tags       text NOT NULL, -- JSON array of strings
    price      double precision,
    available  boolean NOT NULL,
    created_at bigint NOT NULL,
    expires_at bigint,
    attributes text NOT NULL, -- JSON object of scalars
    updated_at bigint NOT NULL
  );

  CREATE TABLE users (
    id         text COLLATE "C" PRIMARY KEY,
    traits     text NOT NULL, -- JSON object of scalars
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL
  );

  -- seq: the order stored, for scans (SQLite's rowid).
  CREATE TABLE impressions (
    request_id    text COLLATE "C" PRIMARY KEY,
    seq           bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    user_id       text COLLATE "C" NOT NULL,
    created_at    bigint NOT NULL,
    surface       text NOT NULL,
    model         text NOT NULL,
    model_version bigint NOT NULL,
    fallback      boolean NOT NULL,
    items         text NOT NULL -- JSON array of { itemId, position, score }
  );
  CREATE INDEX impressions_user ON impressions (user_id, created_at);
  CREATE INDEX impressions_created ON impressions (created_at);

  CREATE TABLE event_minutes (
    minute bigint PRIMARY KEY, -- floor(ts / 60,000)
    events bigint NOT NULL
  );
  CREATE TABLE user_activity (
    user_id text COLLATE "C" PRIMARY KEY,
    last_ts bigint NOT NULL, -- the newest counted event's ts, epoch ms
    events  bigint NOT NULL
  );
  CREATE INDEX user_activity_last ON user_activity (last_ts);
  CREATE TABLE event_log (
    singleton        boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    high_water       bigint NOT NULL DEFAULT 0,
    activity_through bigint NOT NULL DEFAULT 0,
    counted_events   bigint NOT NULL DEFAULT 0,
    counted_users    bigint NOT NULL DEFAULT 0
  );
  INSERT INTO event_log DEFAULT VALUES;
`;

/**
 * The catch-up's per-user upsert was the dearest part of ingestion (a catch-up of 30,000 users took ~0.9 s
 * of PostgreSQL time): every update moved `last_ts`, so none could be HOT and each wrote a new entry into
 * both indexes. The recency index is now on the hour of `last_ts` instead (generated, so nothing writes it),
 * which a user's events within an hour leave unchanged, and pages keep room for the new row versions: the
 * same catch-up takes 0.2–0.5 s. Reads still find active users through it (`ActivityTables`).
 */
export const EVENT_TABLES_V2 = `
  ALTER TABLE user_activity
    SET (fillfactor = 70),
    ADD COLUMN last_hour bigint GENERATED ALWAYS AS (${HOUR_OF('last_ts')}) STORED;
  DROP INDEX user_activity_last;
  CREATE INDEX user_activity_hour ON user_activity (last_hour);
`;

const DEFAULT_IMPRESSION_BATCH = 10_000;
/** Rows one multi-row statement carries at most; larger batches take several in one transaction. */
const ROWS_PER_STATEMENT = 10_000;

const ITEM_COLUMNS =
  'id, categories, tags, price, available::int AS available, created_at, expires_at, attributes, updated_at';
const IMPRESSION_COLUMNS =
  'request_id, user_id, created_at, surface, model, model_version, fallback::int AS fallback, items';
/** The log position: never below a seq that was ever committed, deleted ones included. */
const LAST_EVENT_SEQ = settled(
  'greatest((SELECT coalesce(max(seq), 0) FROM events), (SELECT high_water FROM event_log))',
);

/** Item ids appends remember as present (`EventAppender`): ~10 MB at most, as on SQLite. */
const KNOWN_ITEMS_LIMIT = 100_000;
/**
 * How long appends trust what they remember: other instances delete items too, and an event for an item
 * one of them deleted creates no placeholder while this instance still believes it present. Forgetting
 * costs one dearer append statement per batch of unknown items afterwards (`INSERT_EVENTS_WITH_ITEMS`).
 */
const KNOWN_ITEMS_MAX_AGE_MS = 30_000;

/** Events, catalog, users, impressions, identity, erasure and activity reads on PostgreSQL. */
export class PgEventTables implements EventTables {
  readonly #appender: EventAppender;
  readonly #activity: ActivityTables;
  readonly #knownItems = new KnownIds({ limit: KNOWN_ITEMS_LIMIT, maxAgeMs: KNOWN_ITEMS_MAX_AGE_MS });
  /** The impression log's writes, off the serving thread (`postgres-writer.ts`). */
  readonly #logWriter: PgLogWriter;

  constructor(
    private readonly db: PgDb,
    logWriter: PgLogWriter,
  ) {
    this.#logWriter = logWriter;
    this.#activity = new ActivityTables(db);
    this.#appender = new EventAppender(db, (lastSeq) => this.#activity.committed(lastSeq), this.#knownItems);
  }

  /** Resolves once the appends requested so far are answered and no background catch-up runs. */
  async settle(): Promise<void> {
    await this.#appender.settled();
    await this.#activity.settled();
  }

  /** Adds the events committed so far to the activity tables now (normally done after commits). */
  catchUpActivity(chunk?: number): Promise<number> {
    return this.#activity.catchUp(chunk);
  }

  // --- events -------------------------------------------------------------------------------------

  appendEvents(events: readonly TrackedEvent[], options: AppendOptions): Promise<AppendResult> {
    return this.#appender.append(events, options);
  }

  async userItems(userId: string): Promise<UserItemTotal[]> {
    if (!storable(userId)) return [];
    const rows = await this.db.query<UserItemRow>(
      `SELECT item_id, name, count(*) AS count, max(ts) AS last_ts, max(seq) AS last_seq FROM events
       WHERE user_id = $1 AND item_id IS NOT NULL GROUP BY item_id, name`,
      [userId],
    );
    return rows.map(userItemFromRow);
  }

  async userEvents(userId: string, options: UserEventsOptions = {}): Promise<TrackedEvent[]> {
    return this.#window('user_id', userId, options);
  }

  async itemEvents(itemId: string, options: UserEventsOptions = {}): Promise<TrackedEvent[]> {
    return this.#window('item_id', itemId, options);
  }

  /**
   * Keyset pagination on seq: no cursor or transaction is held between batches. Without `throughSeq` the
   * scan also yields what commits meanwhile; appends commit in seq order, so none lands behind the cursor.
   */
  async *scanEvents(options: ScanOptions = {}): AsyncGenerator<TrackedEvent[]> {
    const batchSize = options.batchSize ?? DEFAULT_SCAN_BATCH;
    assertCount('batchSize', batchSize, 1);
    const throughSeq = options.throughSeq ?? Number.MAX_SAFE_INTEGER;
    assertCount('throughSeq', throughSeq, 0);
    let afterSeq = options.afterSeq ?? 0;
    assertCount('afterSeq', afterSeq, 0);
    const itemOnly = options.withItemOnly ? 'AND item_id IS NOT NULL' : '';
    while (true) {
      const rows = await this.db.query<EventRow>(
        `SELECT ${EVENT_COLUMNS} FROM events WHERE seq > $1 AND seq <= $2 ${itemOnly} ORDER BY seq LIMIT $3`,
        [afterSeq, throughSeq, batchSize],
      );
      const last = rows.at(-1);
      if (!last) return;
      afterSeq = last.seq;
      yield rows.map(eventFromRow);
      if (rows.length < batchSize) return;
    }
  }

  async lastEventSeq(): Promise<number> {
    const [row] = await this.db.query<{ seq: number }>(LAST_EVENT_SEQ);
    return row?.seq ?? 0;
  }

  async eventsForRequest(requestId: string): Promise<TrackedEvent[]> {
    if (!storable(requestId)) return [];
    const rows = await this.db.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE request_id = $1 ORDER BY seq`,
      [requestId],
    );
    return rows.map(eventFromRow);
  }

  /** From the kept total (`postgres-events-activity.ts`): a count of the whole log would read all of it. */
  async countEvents(): Promise<number> {
    return this.#activity.events();
  }

  async expireEvents(before: number, limit: number): Promise<{ deleted: number; users: string[] }> {
    assertCount('expire limit', limit, 1);
    this.db.assertWritable('expire events');
    return this.db.transaction(async (tx) => {
      await lockActivity(tx);
      // The head of the log in log order, up to the first event that is not old enough yet.
      const gone = await tx.query<DeletedEvent>(
        `WITH head AS (SELECT seq, ts FROM events ORDER BY seq LIMIT $2),
         stop AS (SELECT coalesce(min(seq), 9223372036854775807) AS seq FROM head WHERE ts >= $1)
         DELETE FROM events AS e USING head, stop WHERE e.seq = head.seq AND head.seq < stop.seq
         RETURNING e.seq, e.user_id, e.ts`,
        [before, limit],
      );
      gone.sort((a, b) => a.seq - b.seq);
      await forgetDeleted(tx, gone);
      return { deleted: gone.length, users: [...new Set(gone.map((e) => e.user_id))] };
    });
  }

  // --- catalog ------------------------------------------------------------------------------------

  /** Atomic; the last copy of an id in the batch wins (one statement cannot update a row twice). */
  async putItems(items: readonly Item[]): Promise<void> {
    this.db.assertWritable('put items');
    const latest = new Map<string, Item>();
    items.forEach((item, index) => latest.set(assertText(`items[${index}].id`, item.id), item));
    const unique = [...latest.values()];
    const params = (chunk: readonly Item[]) => [
      chunk.map((i) => i.id),
      chunk.map((i) => JSON.stringify(i.categories)),
      chunk.map((i) => JSON.stringify(i.tags)),
      chunk.map((i) => i.price),
      chunk.map((i) => i.available),
      chunk.map((i) => i.createdAt),
      chunk.map((i) => i.expiresAt),
      chunk.map((i) => JSON.stringify(i.attributes)),
      chunk.map((i) => i.updatedAt),
    ];
    const chunks = inChunks(unique).map(params);
    if (chunks.length === 0) return;
    const sql = `INSERT INTO items (id, categories, tags, price, available, created_at, expires_at, attributes,
         updated_at)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[], $5::boolean[], $6::bigint[],
                            $7::bigint[], $8::text[], $9::bigint[])
       ON CONFLICT (id) DO UPDATE SET categories = excluded.categories, tags = excluded.tags,
         price = excluded.price, available = excluded.available, created_at = excluded.created_at,
         expires_at = excluded.expires_at, attributes = excluded.attributes, updated_at = excluded.updated_at`;
    if (chunks.length === 1) await this.db.query(sql, chunks[0]);
    else
      await this.db.transaction(async (tx) => {
        for (const chunk of chunks) await tx.query(sql, chunk);
      });
    for (const item of unique) this.#knownItems.add(item.id);
  }

  async getItem(id: string): Promise<Item | null> {
    if (!storable(id)) return null;
    const [row] = await this.db.query<ItemRow>(`SELECT ${ITEM_COLUMNS} FROM items WHERE id = $1`, [id]);
    return row ? itemFromRow(row) : null;
  }

  async listItems(options: ListOptions): Promise<Item[]> {
    assertCount('limit', options.limit, 0);
    const rows =
      options.after === undefined
        ? await this.db.query<ItemRow>(`SELECT ${ITEM_COLUMNS} FROM items ORDER BY id LIMIT $1`, [
            options.limit,
          ])
        : await this.db.query<ItemRow>(
            `SELECT ${ITEM_COLUMNS} FROM items WHERE id > $1 ORDER BY id LIMIT $2`,
            [
              // No stored id holds U+0000, and cutting there keeps the order: 'a\0…' sorts right after 'a'.
              options.after.split('\u0000')[0],
              options.limit,
            ],
          );
    return rows.map(itemFromRow);
  }

  scanItems(options: { readonly batchSize?: number } = {}): AsyncGenerator<Item[]> {
    return scanItemPages(options, (after, limit) => this.listItems({ after, limit }));
  }

  async deleteItem(id: string): Promise<boolean> {
    this.db.assertWritable('delete an item');
    if (!storable(id)) return false;
    this.#knownItems.delete(id);
    return (await this.db.execute('DELETE FROM items WHERE id = $1', [id])) > 0;
  }

  async countItems(): Promise<number> {
    const [row] = await this.db.query<{ n: number }>('SELECT count(*) AS n FROM items');
    return row?.n ?? 0;
  }

  async putUser(user: User): Promise<void> {
    this.db.assertWritable('put a user');
    await this.db.query(
      `INSERT INTO users (id, traits, created_at, updated_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (id) DO UPDATE SET traits = excluded.traits, created_at = excluded.created_at,
         updated_at = excluded.updated_at`,
      [assertText('user.id', user.id), JSON.stringify(user.traits), user.createdAt, user.updatedAt],
    );
  }

  async getUser(id: string): Promise<User | null> {
    if (!storable(id)) return null;
    const [row] = await this.db.query<UserRow>(
      'SELECT id, traits, created_at, updated_at FROM users WHERE id = $1',
      [id],
    );
    return row ? userFromRow(row) : null;
  }

  // --- impressions --------------------------------------------------------------------------------

  /** First write wins, as for events: a retried log write must not rewrite what was served. */
  async appendImpressions(impressions: readonly Impression[]): Promise<void> {
    this.db.assertWritable('append impressions');
    const params = impressions.map((impression, index) => {
      const row = impressionParams(impression);
      const field = `impressions[${index}]`;
      assertText(`${field}.requestId`, impression.requestId);
      assertText(`${field}.userId`, impression.userId);
      assertText(`${field}.surface`, impression.surface);
      assertText(`${field}.model`, impression.model);
      return row;
    });
    const chunks = inChunks(params).map((chunk) =>
      [0, 1, 2, 3, 4, 5, 6, 7].map((c) => chunk.map((row) => row[c])),
    );
    if (chunks.length === 0) return;
    const sql = `INSERT INTO impressions (request_id, user_id, created_at, surface, model, model_version, fallback,
         items)
       SELECT r, u, c, s, m, v, f <> 0, i
       FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::bigint[], $7::int[],
                   $8::text[]) WITH ORDINALITY AS x (r, u, c, s, m, v, f, i, ord)
       ORDER BY ord
       ON CONFLICT (request_id) DO NOTHING`;
    await this.#logWriter.run(sql, chunks);
  }

  async getImpression(requestId: string): Promise<Impression | null> {
    if (!storable(requestId)) return null;
    const [row] = await this.db.query<ImpressionRow>(
      `SELECT ${IMPRESSION_COLUMNS} FROM impressions WHERE request_id = $1`,
      [requestId],
    );
    return row ? impressionFromRow(row) : null;
  }

  async *scanImpressions(options: { readonly batchSize?: number } = {}): AsyncGenerator<Impression[]> {
    const batchSize = options.batchSize ?? DEFAULT_IMPRESSION_BATCH;
    assertCount('batchSize', batchSize, 1);
    let after = 0;
    while (true) {
      const rows = await this.db.query<ImpressionRow & { seq: number }>(
        `SELECT seq, ${IMPRESSION_COLUMNS} FROM impressions WHERE seq > $1 ORDER BY seq LIMIT $2`,
        [after, batchSize],
      );
      const last = rows.at(-1);
      if (!last) return;
      after = last.seq;
      yield rows.map(impressionFromRow);
      if (rows.length < batchSize) return;
    }
  }

  async recentImpressions(
    userId: string,
    options: { readonly surface: string; readonly since: EpochMs; readonly limit: number },
  ): Promise<Impression[]> {
    assertCount('limit', options.limit, 1);
    if (!storable(userId)) return [];
    const rows = await this.db.query<ImpressionRow>(
      `SELECT ${IMPRESSION_COLUMNS} FROM impressions
        WHERE user_id = $1 AND surface = $2 AND created_at >= $3
        ORDER BY created_at DESC, request_id DESC LIMIT $4`,
      [userId, options.surface, options.since, options.limit],
    );
    return rows.map(impressionFromRow);
  }

  async userImpressions(userId: string): Promise<Impression[]> {
    if (!storable(userId)) return [];
    const rows = await this.db.query<ImpressionRow>(
      `SELECT ${IMPRESSION_COLUMNS} FROM impressions WHERE user_id = $1 ORDER BY created_at, request_id`,
      [userId],
    );
    return rows.map(impressionFromRow);
  }

  // --- erasure and identity ----------------------------------------------------------------------

  /**
   * One transaction over both halves (`eraseUserRecords` deletes exposures, decisions and consent and
   * rewrites the artifacts). Appends this store was still committing are included. PostgreSQL cannot
   * promise the bytes are gone from the disk (dead tuples and WAL segments keep them until vacuum and
   * recycling reuse the space), so `diskCleared` is false.
   */
  async eraseUser(userId: string, erasure: Erasure): Promise<ErasedRows> {
    this.db.assertWritable('erase a user');
    assertText('userId', userId);
    await this.#appender.settled();
    const erased = await this.db.transaction(async (tx) => {
      await lockActivity(tx);
      const gone = await tx.query<DeletedEvent & { item_id: string | null }>(
        'DELETE FROM events WHERE user_id = $1 RETURNING seq, user_id, item_id, ts',
        [userId],
      );
      gone.sort((a, b) => a.seq - b.seq);
      await forgetDeleted(tx, gone, userId);
      const impressions = await tx.execute('DELETE FROM impressions WHERE user_id = $1', [userId]);
      const profile = (await tx.execute('DELETE FROM users WHERE id = $1', [userId])) > 0;
      const records = await eraseUserRecords(tx, userId, erasure);
      await tx.query(
        'INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value',
        [LAST_ERASURE_KEY, JSON.stringify(erasure.at)],
      );
      const items = new Set<string>();
      for (const e of gone) if (e.item_id !== null) items.add(e.item_id);
      return { events: gone.length, impressions, profile, ...records, items: [...items] };
    });
    return { ...erased, diskCleared: false };
  }

  async lastErasureAt(): Promise<number | null> {
    const [row] = await this.db.query<{ value: string }>('SELECT value FROM meta WHERE key = $1', [
      LAST_ERASURE_KEY,
    ]);
    return row === undefined ? null : parseJson<number>(row.value);
  }

  /** Events keep id, time and seq; only the owner changes. Appends this store was committing are included. */
  async mergeUser(fromId: string, toId: string): Promise<MergedRows> {
    this.db.assertWritable('merge users');
    if (fromId === toId) return { events: 0, items: [] };
    assertText('fromId', fromId);
    assertText('toId', toId);
    await this.#appender.settled();
    return this.db.transaction(async (tx) => {
      await lockActivity(tx);
      const moved = await tx.query<{ item_id: string | null }>(
        'UPDATE events SET user_id = $2 WHERE user_id = $1 RETURNING item_id',
        [fromId, toId],
      );
      if (moved.length > 0) await mergeActivity(tx, fromId, toId);
      const items = new Set<string>();
      for (const { item_id: item } of moved) if (item !== null) items.add(item);
      return { events: moved.length, items: [...items] };
    });
  }

  // --- activity over time (postgres-events-activity.ts) -------------------------------------------

  async eventCounts(from: number, to: number, bucketMs: number): Promise<number[]> {
    if (!Number.isSafeInteger(bucketMs) || bucketMs < MINUTE_MS || bucketMs % MINUTE_MS !== 0) {
      throw new RangeError(`bucketMs must be a whole number of minutes, got ${bucketMs}`);
    }
    return this.#activity.eventCounts(from, to, bucketMs);
  }

  async activeUsers(since: number): Promise<number> {
    return this.#activity.activeUsers(since);
  }

  async activityTotals(): Promise<{ events: number; users: number }> {
    return this.#activity.totals();
  }

  async recentUsers(options: { readonly prefix?: string; readonly limit: number }): Promise<UserActivity[]> {
    assertCount('limit', options.limit, 1);
    const prefix = options.prefix ?? null;
    if (prefix !== null && !storable(prefix)) return [];
    return this.#activity.recentUsers(prefix, options.limit);
  }

  async recentEvents(options: RecentEventsOptions): Promise<RecentEvents> {
    assertCount('limit', options.limit, 1);
    const { name, userId, itemId } = options;
    if ([name, userId, itemId].some((id) => id !== undefined && !storable(id))) {
      return { events: [], nextBefore: null };
    }
    return this.#activity.recentEvents(options, () => this.lastEventSeq());
  }

  async servedListClicks(
    since: number,
    until: number,
    clickNames: readonly string[],
    ignoredNames: readonly string[],
  ): Promise<ServedListClicks> {
    return this.#activity.servedListClicks(since, until, clickNames, ignoredNames);
  }

  /**
   * A user's or an item's events newest first (its index, in order), `since` inclusive, within the seq
   * bounds: seq is the index's last column, so they are index conditions checked on its entries, not on
   * the rows they point at.
   */
  async #window(
    column: 'user_id' | 'item_id',
    id: string,
    options: UserEventsOptions,
  ): Promise<TrackedEvent[]> {
    const { since, afterSeq, throughSeq, limit } = eventWindow(options);
    if (!storable(id)) return [];
    const rows = await this.db.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM events
       WHERE ${column} = $1 AND ts >= $2 AND seq > $3 AND seq <= $4
       ORDER BY ts DESC, seq DESC LIMIT $5`,
      [id, since, afterSeq, throughSeq, limit],
    );
    return rows.map(eventFromRow);
  }
}

/**
 * What deleting events changes besides the rows, in the deleting transaction (after `lockActivity`): the
 * activity tables, and the high-water mark when the newest events went, so the log position stays.
 */
async function forgetDeleted(
  tx: PgTx,
  gone: readonly DeletedEvent[],
  dropUser: string | null = null,
): Promise<void> {
  const last = gone.at(-1);
  if (last !== undefined) {
    await tx.query('UPDATE event_log SET high_water = greatest(high_water, $1)', [last.seq]);
  }
  await forgetEvents(tx, gone, dropUser);
}

function inChunks<T>(rows: readonly T[]): T[][] {
  const chunks: T[][] = [];
  for (let start = 0; start < rows.length; start += ROWS_PER_STATEMENT) {
    chunks.push(rows.slice(start, start + ROWS_PER_STATEMENT));
  }
  return chunks;
}
