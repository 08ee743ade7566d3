import type BetterSqlite3 from 'better-sqlite3';

import { StoreSchemaError } from './errors.js';

type Db = BetterSqlite3.Database;

/**
 * One step of the schema's history. Steps are never edited once released: a change to the schema is a
 * new step appended to `MIGRATIONS`, so every existing data directory can be brought forward.
 */
export interface Migration {
  readonly version: number;
  readonly description: string;
  readonly up: (db: Db) => void;
}

/** The `meta` key that records which migrations have run; not writable through `Store.setMeta`. */
export const SCHEMA_VERSION_KEY = 'schema_version';

/**
 * The `meta` key holding the highest `events.seq` that the log's derived indexes cover (a JSON number):
 * every event with a seq at or below it has its row in `user_events` (and in `item_events` if it names an
 * item), and none above it does. Named for the first such table (V5). Written only in the transactions
 * that index events (the V5 and V11 backfills and `sqlite-log-index.ts`); not writable through
 * `Store.setMeta`.
 */
export const ITEM_EVENTS_THROUGH_KEY = 'item_events_through';

/** That mark as an SQL expression (0 before anything is indexed), for reading it inside a statement. */
export const LOG_INDEX_MARK = `coalesce((SELECT CAST(value AS INTEGER) FROM meta WHERE key = '${ITEM_EVENTS_THROUGH_KEY}'), 0)`;

/** The `meta` key holding the time of the newest erasure (`Store.lastErasureAt`); written by it alone. */
export const LAST_ERASURE_KEY = 'last_erasure_at';

const V1 = `
  CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL -- JSON
  );

  -- AUTOINCREMENT so a seq is never reused, even if the newest events are deleted one day (user erasure):
  -- consumers remember "processed up to seq N" and keyset scans resume from it.
  CREATE TABLE events (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id    TEXT    NOT NULL UNIQUE,
    name        TEXT    NOT NULL,
    user_id     TEXT    NOT NULL,
    item_id     TEXT,
    ts          INTEGER NOT NULL, -- epoch ms
    received_at INTEGER NOT NULL, -- epoch ms
    context     TEXT    NOT NULL, -- JSON object of scalars
    properties  TEXT    NOT NULL, -- JSON object of scalars
    request_id  TEXT
  );
  CREATE INDEX events_user_ts ON events (user_id, ts DESC, seq DESC);
  -- Partial: most events carry no request id, and request_id = ? implies NOT NULL so the index still serves.
  CREATE INDEX events_request ON events (request_id) WHERE request_id IS NOT NULL;

  CREATE TABLE items (
    id         TEXT PRIMARY KEY,
    categories TEXT    NOT NULL, -- JSON array of strings
    tags       TEXT    NOT NULL, -- JSON array of strings
    price      REAL,
    available  INTEGER NOT NULL, -- 0 / 1
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    attributes TEXT    NOT NULL, -- JSON object of scalars
    updated_at INTEGER NOT NULL
  );

  CREATE TABLE users (
    id         TEXT PRIMARY KEY,
    traits     TEXT    NOT NULL, -- JSON object of scalars
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );

  CREATE TABLE impressions (
    request_id    TEXT PRIMARY KEY,
    user_id       TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    surface       TEXT    NOT NULL,
    model         TEXT    NOT NULL,
    model_version INTEGER NOT NULL,
    fallback      INTEGER NOT NULL, -- 0 / 1
    items         TEXT    NOT NULL  -- JSON array of { itemId, position, score }
  );

  -- payload last: listing reads the columns before it without touching the blob's overflow pages.
  CREATE TABLE artifacts (
    name       TEXT    NOT NULL,
    version    INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    meta       TEXT    NOT NULL, -- JSON
    payload    BLOB    NOT NULL,
    PRIMARY KEY (name, version)
  );
`;

/**
 * Leases (the training lease): one row per held name. A row whose `expires_at` has passed is free to take;
 * rows are deleted on release, so the table stays as small as the number of lease names.
 */
const V2 = `
  CREATE TABLE leases (
    name        TEXT    PRIMARY KEY,
    holder      TEXT    NOT NULL,
    acquired_at INTEGER NOT NULL, -- epoch ms
    expires_at  INTEGER NOT NULL  -- epoch ms
  );
`;

/**
 * Experiments (their definitions as JSON documents with a revision for compare-and-set updates) and
 * exposures: one row per (experiment, user), the user's first exposure, which is what analysis counts from.
 */
const V3 = `
  CREATE TABLE experiments (
    id       TEXT    PRIMARY KEY,
    revision INTEGER NOT NULL,
    body     TEXT    NOT NULL -- JSON
  );

  CREATE TABLE exposures (
    experiment TEXT    NOT NULL,
    user_id    TEXT    NOT NULL,
    variant    TEXT    NOT NULL,
    at         INTEGER NOT NULL, -- epoch ms
    PRIMARY KEY (experiment, user_id)
  ) WITHOUT ROWID;
`;

/**
 * An item's events by time, for the feature store's item windows (`Store.itemEvents`). Partial: events
 * about no item are never asked for, and `item_id = ?` implies NOT NULL so the index still serves.
 * Dropped again by V5 (it cost ingestion ~22%); kept here because released steps are never edited.
 */
const V4 = `
  CREATE INDEX events_item_ts ON events (item_id, ts DESC, seq DESC) WHERE item_id IS NOT NULL;
`;

/**
 * Replaces V4's index with a derived table kept off the acknowledged write path. As an index of `events`,
 * V4 made every appended event dirty one more random B-tree leaf inside the commit that the client waits
 * for, each written whole to the WAL and fsynced: ingestion fell from ~33.5k to ~26.7k events/s
 * (bench/ingest.ts). `item_events` holds the same key, (item, time, seq), but is filled after the fact,
 * on the store's background thread, in chunks (`sqlite-log-index.ts`): the client's commit neither does
 * that work nor waits for it, and one chunk writes each item's newest leaf once for all of its events in
 * the chunk instead of once per batch. Its meta entry `item_events_through` says how far it goes;
 * `itemEvents` reads the table up to there and the newest events beyond it from the log itself (a rowid
 * range), in one snapshot, so its answer stays exact however far the table lags (only slower). The table
 * is derived: whatever deletes events must delete their rows here too, in the same transaction. The
 * backfill covers every existing event, so an upgraded database starts complete; it inserts in key order,
 * which appends to the new B-tree instead of splitting random pages. Measured on a machine where V4 gave
 * 24.2k events/s: 30.0–31.3k (three sets of 3 runs), 32.9k with no item index at all; the difference is
 * the catch-up holding the write lock (~70–100 ms per 500 ms tick at that rate), which also shows in p99.
 */
const V5 = `
  DROP INDEX events_item_ts;
  CREATE TABLE item_events (
    item_id TEXT    NOT NULL,
    ts      INTEGER NOT NULL, -- events.ts, epoch ms
    seq     INTEGER NOT NULL, -- events.seq
    PRIMARY KEY (item_id, ts, seq)
  ) WITHOUT ROWID;
  INSERT INTO item_events (item_id, ts, seq)
    SELECT item_id, ts, seq FROM events WHERE item_id IS NOT NULL ORDER BY item_id, ts, seq;
  INSERT INTO meta (key, value)
    VALUES ('${ITEM_EVENTS_THROUGH_KEY}',
            CAST(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0) AS TEXT))
    ON CONFLICT (key) DO UPDATE SET value = excluded.value;
`;

/**
 * Decision points (definitions as documents with a revision, like experiments) and the decision log: one
 * row per decision, appended at ~1,000/s and closed (its outcome set) at about the same rate. `seq` is the
 * rowid, so append order is the B-tree's order; `id` is what reward calls name. The outcome columns are
 * NULL while the decision is open (`outcome_source IS NULL` is the test). Two indexes besides `id`'s:
 * (point, seq) serves a point's scan, its stats and its deletion; the partial deadline index holds only
 * open decisions, so the sweep for expired ones stays a short range however many closed rows the log
 * has, and closing a decision removes its entry instead of rewriting it.
 */
const V6 = `
  CREATE TABLE decision_points (
    id       TEXT    PRIMARY KEY,
    revision INTEGER NOT NULL,
    body     TEXT    NOT NULL -- JSON
  );

  CREATE TABLE decisions (
    seq            INTEGER PRIMARY KEY,
    id             TEXT    NOT NULL UNIQUE,
    point          TEXT    NOT NULL,
    user_id        TEXT    NOT NULL,
    at             INTEGER NOT NULL, -- epoch ms
    context        TEXT    NOT NULL, -- JSON object
    features       BLOB    NOT NULL, -- little-endian float64s
    offered        TEXT    NOT NULL, -- JSON array of strings
    probabilities  TEXT    NOT NULL, -- JSON array of numbers
    action         TEXT    NOT NULL,
    propensity     REAL    NOT NULL,
    policy         TEXT    NOT NULL,
    experiment     TEXT,             -- JSON { id, variant } or NULL
    deadline       INTEGER NOT NULL, -- epoch ms
    reward         REAL,             -- the outcome: all three NULL while open
    outcome_at     INTEGER,          -- epoch ms
    outcome_source TEXT
  );
  CREATE INDEX decisions_point_seq ON decisions (point, seq);
  CREATE INDEX decisions_open_deadline ON decisions (deadline) WHERE outcome_source IS NULL;
`;

/**
 * API keys (only their SHA-256: `access/key-format.ts`) and the audit log of admin actions. The audit log
 * names keys by id and resources by id, never a user: it must outlive an erasure without holding one.
 */
const V7 = `
  CREATE TABLE api_keys (
    id         TEXT    PRIMARY KEY,
    app        TEXT    NOT NULL,
    scope      TEXT    NOT NULL,
    name       TEXT,
    hash       TEXT    NOT NULL,
    created_at INTEGER NOT NULL, -- epoch ms
    revoked_at INTEGER           -- epoch ms, NULL while the key works
  );

  CREATE TABLE audit_log (
    seq    INTEGER PRIMARY KEY,
    at     INTEGER NOT NULL, -- epoch ms
    app    TEXT    NOT NULL,
    actor  TEXT    NOT NULL,
    action TEXT    NOT NULL,
    target TEXT,
    status INTEGER NOT NULL
  );
`;

/** Users' consent, apart from their traits: a traits update never touches it, an erasure removes it. */
const V8 = `
  CREATE TABLE consents (
    user_id    TEXT    PRIMARY KEY,
    consent    TEXT    NOT NULL, -- full | analytics | none
    updated_at INTEGER NOT NULL  -- epoch ms
  );
`;

/** One person's rows, found without scanning: what access requests and erasure read and delete. */
const V9 = `
  CREATE INDEX impressions_user ON impressions (user_id, created_at);
  CREATE INDEX exposures_user ON exposures (user_id);
  CREATE INDEX decisions_user ON decisions (user_id, seq);
`;

/**
 * Activity over time, for the dashboard (`sqlite-activity.ts`): events per minute of their timestamp and
 * each user's newest event time and event count, derived after the commit by the item index's catch-up
 * (so they cover exactly the events up to `item_events_through`, backfilled here up to it), and served
 * lists by time. `(ts / 60000 - (ts % 60000 < 0))` floors a time to its minute (SQLite's `/` truncates).
 */
const V10 = `
  CREATE TABLE event_minutes (
    minute INTEGER PRIMARY KEY, -- floor(ts / 60,000)
    events INTEGER NOT NULL
  );
  CREATE TABLE user_activity (
    user_id TEXT    PRIMARY KEY,
    last_ts INTEGER NOT NULL, -- the newest event's ts, epoch ms
    events  INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX user_activity_last ON user_activity (last_ts);
  CREATE INDEX impressions_created ON impressions (created_at);
  INSERT INTO event_minutes (minute, events)
    SELECT (ts / 60000 - (ts % 60000 < 0)) AS m, count(*) FROM events
    WHERE seq <= (SELECT CAST(value AS INTEGER) FROM meta WHERE key = '${ITEM_EVENTS_THROUGH_KEY}')
    GROUP BY m ORDER BY m;
  INSERT INTO user_activity (user_id, last_ts, events)
    SELECT user_id, max(ts), count(*) FROM events
    WHERE seq <= (SELECT CAST(value AS INTEGER) FROM meta WHERE key = '${ITEM_EVENTS_THROUGH_KEY}')
    GROUP BY user_id ORDER BY user_id;
`;

/**
 * Replaces the user index on `events` with a derived table, as V5 did for items. As an index it dirtied a
 * random B-tree leaf per appended event inside the acknowledged commit, each written whole to the WAL and
 * fsynced: with it dropped, ingestion went from ~25.6k to 31.6–34.4k events/s (bench/ingest.ts's load, an
 * empty store). `user_events` holds the same key, (user, time, seq), filled after the commit by the same
 * catch-up as `item_events` and covered by the same mark; reads take the table up to the mark and the log
 * beyond it (`sqlite-log-index.ts`, and `USER_SEQS` in `sqlite-statements.ts`). Backfilled up to the mark
 * in key order, so an upgraded database starts consistent with it. (The mark is spelled out rather than
 * `LOG_INDEX_MARK`: a released step must not change with later code.)
 */
const V11 = `
  CREATE TABLE user_events (
    user_id TEXT    NOT NULL,
    ts      INTEGER NOT NULL, -- events.ts, epoch ms
    seq     INTEGER NOT NULL, -- events.seq
    PRIMARY KEY (user_id, ts, seq)
  ) WITHOUT ROWID;
  INSERT INTO user_events (user_id, ts, seq)
    SELECT user_id, ts, seq FROM events
    WHERE seq <= coalesce((SELECT CAST(value AS INTEGER) FROM meta WHERE key = '${ITEM_EVENTS_THROUGH_KEY}'), 0)
    ORDER BY user_id, ts, seq;
  DROP INDEX events_user_ts;
`;

export const MIGRATIONS: readonly Migration[] = [
  { version: 1, description: 'events, items, users, impressions, artifacts, meta', up: (db) => db.exec(V1) },
  { version: 2, description: 'leases', up: (db) => db.exec(V2) },
  { version: 3, description: 'experiments, exposures', up: (db) => db.exec(V3) },
  {
    version: 4,
    description: "events by item and time (the feature store's item windows)",
    up: (db) => db.exec(V4),
  },
  {
    version: 5,
    description: 'item windows from a table indexed after the commit instead of an index on events',
    up: (db) => db.exec(V5),
  },
  { version: 6, description: 'decision points and the decision log', up: (db) => db.exec(V6) },
  { version: 7, description: 'API keys and the audit log', up: (db) => db.exec(V7) },
  { version: 8, description: "users' consent", up: (db) => db.exec(V8) },
  {
    version: 9,
    description: "one person's impressions, exposures and decisions by user",
    up: (db) => db.exec(V9),
  },
  {
    version: 10,
    description:
      "activity over time (the dashboard's events per minute, active users) and served lists by time",
    up: (db) => db.exec(V10),
  },
  {
    version: 11,
    description: 'user windows from a table indexed after the commit instead of an index on events',
    up: (db) => db.exec(V11),
  },
];

/** The schema version this build writes and understands. */
export const LATEST_SCHEMA_VERSION = MIGRATIONS.at(-1)?.version ?? 0;

/** The version recorded in the database; 0 for a database no migration has touched yet. */
export function readSchemaVersion(db: Db): number {
  const hasMeta = db
    .prepare<[], { n: number }>(
      `SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'meta'`,
    )
    .get();
  if (!hasMeta || hasMeta.n === 0) return 0;
  const row = db
    .prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?')
    .get(SCHEMA_VERSION_KEY);
  if (!row) return 0;
  const version: unknown = JSON.parse(row.value);
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 0) {
    throw new StoreSchemaError(`The database records an invalid schema version: ${row.value}`);
  }
  return version;
}

/**
 * Brings the database up to the newest migration in `migrations` and returns the resulting version.
 * Runs in one IMMEDIATE transaction: two processes opening a fresh data directory at once serialise here
 * (the loser waits on busy_timeout, then finds the work done), and a failing step leaves nothing behind.
 */
export function migrate(db: Db, migrations: readonly Migration[] = MIGRATIONS): number {
  assertOrdered(migrations);
  const latest = migrations.at(-1)?.version ?? 0;
  const run = db.transaction((): number => {
    const current = readSchemaVersion(db);
    assertNotNewer(current, latest);
    for (const migration of migrations) {
      if (migration.version <= current) continue;
      migration.up(db);
      db.prepare(
        'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      ).run(SCHEMA_VERSION_KEY, JSON.stringify(migration.version));
    }
    return Math.max(current, latest);
  });
  return run.immediate();
}

/** A read-only connection cannot migrate; it can only check that it understands what it will read. */
export function assertReadableSchema(db: Db): number {
  const current = readSchemaVersion(db);
  if (current === 0) {
    throw new StoreSchemaError('The database has no Attune schema yet; open it read-write once to create it');
  }
  assertNotNewer(current, LATEST_SCHEMA_VERSION);
  if (current < LATEST_SCHEMA_VERSION) {
    throw new StoreSchemaError(
      `The database is at schema version ${current} but this build needs ${LATEST_SCHEMA_VERSION}; ` +
        'open it read-write once (start the server) to migrate it',
    );
  }
  return current;
}

function assertNotNewer(current: number, latest: number): void {
  if (current > latest) {
    throw new StoreSchemaError(
      `The database is at schema version ${current}, newer than this build knows (${latest}); ` +
        'upgrade Attune instead of opening it with an older version',
    );
  }
}

function assertOrdered(migrations: readonly Migration[]): void {
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1) {
      throw new Error(
        `Migrations must be numbered 1, 2, 3, … in order; found ${migration.version} at ${index}`,
      );
    }
  });
}
