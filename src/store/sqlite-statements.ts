import type BetterSqlite3 from 'better-sqlite3';

import type {
  ApiKeyRow,
  AuditRow,
  ArtifactInfoRow,
  ArtifactParams,
  ArtifactRow,
  DecisionCloseParams,
  DecisionLogRows,
  DecisionParams,
  DecisionRow,
  DocumentRow,
  EventParams,
  EventRow,
  ExposureParams,
  ExposureRow,
  ImpressionParams,
  ImpressionRow,
  ItemParams,
  ItemRow,
  LeaseRow,
  OutcomeParams,
  UserItemRow,
  UserParams,
  UserRow,
} from './rows.js';
import { ITEM_EVENTS_THROUGH_KEY, LOG_INDEX_MARK } from './sqlite-schema.js';

const EVENT_COLUMNS =
  'seq, event_id, name, user_id, item_id, ts, received_at, context, properties, request_id';
/** The same columns qualified by the alias `e`, for joins. */
const EVENT_COLUMNS_OF_E = EVENT_COLUMNS.split(', ')
  .map((column) => `e.${column}`)
  .join(', ');
/**
 * The seqs of every event of the user `@user`, from one snapshot: the indexed part from `user_events` (all
 * of it is at or below the mark) and the log beyond the mark, a rowid range filtered by user. Used as
 * `seq IN (…)` where a query needs the user's whole history rather than a window in time order.
 */
const USER_SEQS = `SELECT seq FROM user_events WHERE user_id = @user
  UNION ALL
  SELECT seq FROM events
  WHERE seq > ${LOG_INDEX_MARK}
    AND user_id = @user`;
const API_KEY_COLUMNS = 'id, app, scope, name, hash, created_at, revoked_at';
const ITEM_COLUMNS = 'id, categories, tags, price, available, created_at, expires_at, attributes, updated_at';
const IMPRESSION_COLUMNS = 'request_id, user_id, created_at, surface, model, model_version, fallback, items';
/** In the order of `DecisionParams`. */
const DECISION_COLUMNS =
  'id, point, user_id, at, context, features, offered, probabilities, action, propensity, policy, ' +
  'experiment, deadline, reward, outcome_at, outcome_source';

/** The tables of definitions stored as documents with a revision. */
export type DocumentTable = 'experiments' | 'decision_points';

/**
 * One table of documents under compare-and-set: create refuses an existing id (changes === 0), update
 * replaces only the revision the writer read.
 */
function documentStatements(db: BetterSqlite3.Database, table: DocumentTable) {
  return {
    get: db.prepare<[id: string], DocumentRow>(`SELECT id, revision, body FROM ${table} WHERE id = ?`),
    list: db.prepare<[], DocumentRow>(`SELECT id, revision, body FROM ${table} ORDER BY id`),
    insert: db.prepare<[id: string, revision: number, body: string]>(
      `INSERT OR IGNORE INTO ${table} (id, revision, body) VALUES (?, ?, ?)`,
    ),
    update: db.prepare<[revision: number, body: string, id: string, expected: number]>(
      `UPDATE ${table} SET revision = ?, body = ? WHERE id = ? AND revision = ?`,
    ),
  };
}

export type DocumentStatements = ReturnType<typeof documentStatements>;

/**
 * A user's or an item's window in two parts (sqlite-log-index.ts): what its derived table (`user_events`,
 * `item_events`) covers, then the log beyond the mark. CROSS JOIN fixes the loop order: a reverse range of
 * the table's key, then each event by its rowid; the seq bounds are checked on the key (the tables are
 * WITHOUT ROWID: their seq is no rowid to range over). The tail is a rowid range: the events appended
 * since the last catch-up (one background tick's worth normally; more while the thread is behind, e.g.
 * under sustained peak ingestion, which makes this scan longer), cut to the caller's seq bounds.
 */
function windowStatements(db: BetterSqlite3.Database, key: 'user' | 'item') {
  return {
    indexed: db.prepare<
      [id: string, since: number, afterSeq: number, throughSeq: number, limit: number],
      EventRow
    >(
      `SELECT ${EVENT_COLUMNS_OF_E} FROM ${key}_events AS x CROSS JOIN events AS e ON e.seq = x.seq
       WHERE x.${key}_id = ? AND x.ts >= ? AND x.seq > ? AND x.seq <= ? ORDER BY x.ts DESC, x.seq DESC LIMIT ?`,
    ),
    tail: db.prepare<
      [afterSeq: number, throughSeq: number, id: string, since: number, limit: number],
      EventRow
    >(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE seq > ? AND seq <= ? AND ${key}_id = ? AND ts >= ?
       ORDER BY ts DESC, seq DESC LIMIT ?`,
    ),
  };
}

/** One derived table's window statements. */
export type WindowStatements = ReturnType<typeof windowStatements>;

/** Every statement the store runs, prepared once per connection: preparing costs more than a small query. */
export function prepareStatements(db: BetterSqlite3.Database) {
  return {
    // First write wins: a re-sent event id is ignored (changes === 0) and reported as a duplicate.
    insertEvent: db.prepare<EventParams>(
      `INSERT OR IGNORE INTO events (event_id, name, user_id, item_id, ts, received_at, context, properties,
         request_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    insertMissingItem: db.prepare<[id: string, createdAt: number, updatedAt: number]>(
      `INSERT OR IGNORE INTO items (${ITEM_COLUMNS})
       VALUES (?, '[]', '[]', NULL, 1, ?, NULL, '{}', ?)`,
    ),
    // Every event of the user (the user's seqs from `USER_SEQS`), each read by its rowid. A covering index
    // (item_id and name in it) read a heavy user ~1.5× faster on a miss but cost 12% of ingestion throughput
    // on every append (bench/ingest.ts), and so did a materialised per-(user, item, name) table (30%);
    // misses are once per user, appends are not.
    userItems: db.prepare<[{ user: string }], UserItemRow>(
      `SELECT item_id, name, count(*) AS count, max(ts) AS last_ts, max(seq) AS last_seq FROM events
       WHERE seq IN (${USER_SEQS}) AND item_id IS NOT NULL GROUP BY item_id, name`,
    ),
    userWindow: windowStatements(db, 'user'),
    itemWindow: windowStatements(db, 'item'),
    // How far the derived indexes go and how far the log goes; 0 for either when there is nothing yet.
    logIndexPosition: db.prepare<[], { readonly through: number; readonly last: number }>(
      `SELECT ${LOG_INDEX_MARK} AS through,
              coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0) AS last`,
    ),
    // In key order, so the B-tree is walked item by item, each leaf dirtied once per chunk.
    indexItemEvents: db.prepare<[afterSeq: number, throughSeq: number]>(
      `INSERT INTO item_events (item_id, ts, seq)
       SELECT item_id, ts, seq FROM events WHERE seq > ? AND seq <= ? AND item_id IS NOT NULL
       ORDER BY item_id, ts, seq`,
    ),
    indexUserEvents: db.prepare<[afterSeq: number, throughSeq: number]>(
      `INSERT INTO user_events (user_id, ts, seq)
       SELECT user_id, ts, seq FROM events WHERE seq > ? AND seq <= ? ORDER BY user_id, ts, seq`,
    ),
    setItemEventsThrough: db.prepare<[json: string]>(
      `INSERT INTO meta (key, value) VALUES ('${ITEM_EVENTS_THROUGH_KEY}', ?)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
    ),
    scanEvents: db.prepare<[afterSeq: number, throughSeq: number, limit: number], EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?`,
    ),
    scanItemEvents: db.prepare<[afterSeq: number, throughSeq: number, limit: number], EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE seq > ? AND seq <= ? AND item_id IS NOT NULL
       ORDER BY seq LIMIT ?`,
    ),
    // AUTOINCREMENT's high-water mark, written in the same transaction as the insert: it is the highest
    // committed seq and, unlike max(seq), does not go back when the newest events are deleted.
    lastEventSeq: db.prepare<[], number>(`SELECT seq FROM sqlite_sequence WHERE name = 'events'`).pluck(),
    eventsForRequest: db.prepare<[requestId: string], EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE request_id = ? ORDER BY seq`,
    ),
    countEvents: db.prepare<[], number>('SELECT count(*) FROM events').pluck(),

    putItem: db.prepare<ItemParams>(
      `INSERT INTO items (${ITEM_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET categories = excluded.categories, tags = excluded.tags,
         price = excluded.price, available = excluded.available, created_at = excluded.created_at,
         expires_at = excluded.expires_at, attributes = excluded.attributes,
         updated_at = excluded.updated_at`,
    ),
    getItem: db.prepare<[id: string], ItemRow>(`SELECT ${ITEM_COLUMNS} FROM items WHERE id = ?`),
    firstItems: db.prepare<[limit: number], ItemRow>(`SELECT ${ITEM_COLUMNS} FROM items ORDER BY id LIMIT ?`),
    itemsAfter: db.prepare<[afterId: string, limit: number], ItemRow>(
      `SELECT ${ITEM_COLUMNS} FROM items WHERE id > ? ORDER BY id LIMIT ?`,
    ),
    deleteItem: db.prepare<[id: string]>('DELETE FROM items WHERE id = ?'),
    countItems: db.prepare<[], number>('SELECT count(*) FROM items').pluck(),

    putUser: db.prepare<UserParams>(
      `INSERT INTO users (id, traits, created_at, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET traits = excluded.traits, created_at = excluded.created_at,
         updated_at = excluded.updated_at`,
    ),
    getUser: db.prepare<[id: string], UserRow>(
      'SELECT id, traits, created_at, updated_at FROM users WHERE id = ?',
    ),

    // First write wins, like events: a retried log write must not rewrite what was served.
    insertImpression: db.prepare<ImpressionParams>(
      `INSERT OR IGNORE INTO impressions (${IMPRESSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    scanImpressions: db.prepare<[afterRow: number, limit: number], ImpressionRow & { readonly row: number }>(
      `SELECT rowid AS row, ${IMPRESSION_COLUMNS} FROM impressions WHERE rowid > ? ORDER BY rowid LIMIT ?`,
    ),
    getImpression: db.prepare<[requestId: string], ImpressionRow>(
      `SELECT ${IMPRESSION_COLUMNS} FROM impressions WHERE request_id = ?`,
    ),
    // Through impressions_user (user_id, created_at).
    recentImpressions: db.prepare<
      [userId: string, surface: string, since: number, limit: number],
      ImpressionRow
    >(
      `SELECT ${IMPRESSION_COLUMNS} FROM impressions WHERE user_id = ? AND surface = ? AND created_at >= ?
       ORDER BY created_at DESC, request_id DESC LIMIT ?`,
    ),

    // The earliest exposure wins, whichever batch (or instance) writes it first.
    insertExposure: db.prepare<ExposureParams>(
      `INSERT INTO exposures (experiment, user_id, variant, at) VALUES (?, ?, ?, ?)
       ON CONFLICT (experiment, user_id) DO UPDATE SET variant = excluded.variant, at = excluded.at
       WHERE excluded.at < exposures.at`,
    ),
    scanExposures: db.prepare<[experiment: string, afterUser: string, limit: number], ExposureRow>(
      `SELECT experiment, user_id, variant, at FROM exposures WHERE experiment = ? AND user_id > ?
       ORDER BY user_id LIMIT ?`,
    ),
    countExposures: db.prepare<[experiment: string], { variant: string; users: number }>(
      'SELECT variant, count(*) AS users FROM exposures WHERE experiment = ? GROUP BY variant',
    ),

    experiments: documentStatements(db, 'experiments'),
    decisionPoints: documentStatements(db, 'decision_points'),

    // A plain INSERT: a repeated decision id is an error (it fails the whole batch), not a duplicate to skip.
    insertDecision: db.prepare<DecisionParams>(
      `INSERT INTO decisions (${DECISION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    getDecision: db.prepare<[id: string], DecisionRow>(
      `SELECT ${DECISION_COLUMNS} FROM decisions WHERE id = ?`,
    ),
    // Sets the outcome only of an open decision: one statement, so of two racing closes exactly one matches.
    closeDecision: db.prepare<[...OutcomeParams, id: string], DecisionRow>(
      `UPDATE decisions SET reward = ?, outcome_at = ?, outcome_source = ? WHERE id = ? AND outcome_source IS NULL
       RETURNING ${DECISION_COLUMNS}`,
    ),
    // closeDecision without reading the row back: the serving path's queued closes need no answer.
    closeOpenDecision: db.prepare<DecisionCloseParams>(
      'UPDATE decisions SET reward = ?, outcome_at = ?, outcome_source = ? WHERE id = ? AND outcome_source IS NULL',
    ),
    // The partial index decisions_open_deadline, in its order (deadline, then rowid).
    expiredDecisions: db.prepare<[before: number, limit: number], DecisionRow>(
      `SELECT ${DECISION_COLUMNS} FROM decisions WHERE outcome_source IS NULL AND deadline < ?
       ORDER BY deadline, seq LIMIT ?`,
    ),
    scanDecisions: db.prepare<
      [point: string, afterSeq: number, limit: number],
      DecisionRow & { seq: number }
    >(`SELECT seq, ${DECISION_COLUMNS} FROM decisions WHERE point = ? AND seq > ? ORDER BY seq LIMIT ?`),
    decisionStats: db.prepare<[point: string], { decisions: number; closed: number; reward_sum: number }>(
      `SELECT count(*) AS decisions, count(outcome_source) AS closed, total(reward) AS reward_sum
       FROM decisions WHERE point = ?`,
    ),
    deletePointDecisions: db.prepare<[point: string]>('DELETE FROM decisions WHERE point = ?'),
    deleteDecisionPoint: db.prepare<[id: string]>('DELETE FROM decision_points WHERE id = ?'),

    // The version is chosen inside the insert (one write transaction), so no other writer can take it
    // between reading the highest version and writing the next.
    insertArtifact: db
      .prepare<ArtifactParams, number>(
        `INSERT INTO artifacts (name, version, created_at, meta, payload)
         SELECT @name, coalesce(max(version), 0) + 1, @createdAt, @meta, @payload
         FROM artifacts WHERE name = @name
         RETURNING version`,
      )
      .pluck(),
    getArtifact: db.prepare<[name: string, version: number], ArtifactRow>(
      'SELECT name, version, created_at, meta, payload FROM artifacts WHERE name = ? AND version = ?',
    ),
    latestArtifact: db.prepare<[name: string], ArtifactRow>(
      `SELECT name, version, created_at, meta, payload FROM artifacts WHERE name = ?
       ORDER BY version DESC LIMIT 1`,
    ),
    listArtifacts: db.prepare<[name: string], ArtifactInfoRow>(
      `SELECT name, version, created_at, meta, length(payload) AS bytes FROM artifacts WHERE name = ?
       ORDER BY version DESC`,
    ),

    getLease: db.prepare<[name: string], LeaseRow>(
      'SELECT name, holder, acquired_at, expires_at FROM leases WHERE name = ?',
    ),
    putLease: db.prepare<[name: string, holder: string, acquiredAt: number, expiresAt: number]>(
      `INSERT INTO leases (name, holder, acquired_at, expires_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, acquired_at = excluded.acquired_at,
         expires_at = excluded.expires_at`,
    ),
    renewLease: db.prepare<[expiresAt: number, name: string, holder: string], LeaseRow>(
      `UPDATE leases SET expires_at = ? WHERE name = ? AND holder = ?
       RETURNING name, holder, acquired_at, expires_at`,
    ),
    releaseLease: db.prepare<[name: string, holder: string]>(
      'DELETE FROM leases WHERE name = ? AND holder = ?',
    ),

    userImpressions: db.prepare<[userId: string], ImpressionRow>(
      `SELECT ${IMPRESSION_COLUMNS} FROM impressions WHERE user_id = ? ORDER BY created_at, request_id`,
    ),
    userExposures: db.prepare<[userId: string], ExposureRow>(
      'SELECT experiment, user_id, variant, at FROM exposures WHERE user_id = ? ORDER BY experiment',
    ),
    userDecisions: db.prepare<[userId: string], DecisionRow>(
      `SELECT ${DECISION_COLUMNS} FROM decisions WHERE user_id = ? ORDER BY seq`,
    ),
    // The head of the log, in log order: retention deletes its expired prefix.
    logHead: db.prepare<
      [limit: number],
      { seq: number; user_id: string; item_id: string | null; ts: number }
    >('SELECT seq, user_id, item_id, ts FROM events ORDER BY seq LIMIT ?'),
    deleteEvent: db.prepare<[seq: number]>('DELETE FROM events WHERE seq = ?'),
    deleteItemEvent: db.prepare<[itemId: string, ts: number, seq: number]>(
      'DELETE FROM item_events WHERE item_id = ? AND ts = ? AND seq = ?',
    ),
    deleteUserEvent: db.prepare<[userId: string, ts: number, seq: number]>(
      'DELETE FROM user_events WHERE user_id = ? AND ts = ? AND seq = ?',
    ),
    userEventKeys: db.prepare<[{ user: string }], { seq: number; item_id: string | null; ts: number }>(
      `SELECT seq, item_id, ts FROM events WHERE seq IN (${USER_SEQS})`,
    ),
    userEventItems: db.prepare<[{ user: string }], { item_id: string }>(
      `SELECT DISTINCT item_id FROM events WHERE seq IN (${USER_SEQS}) AND item_id IS NOT NULL`,
    ),
    eraseUserEvents: db.prepare<[userId: string]>('DELETE FROM user_events WHERE user_id = ?'),
    // A merge renames the user in both places: the log (the whole user, tail included; the IN list is
    // read before the rows change), then the indexed part of user_events, which that list was read from.
    mergeUserEvents: db.prepare<[{ user: string; to: string }]>(
      `UPDATE events SET user_id = @to WHERE seq IN (${USER_SEQS})`,
    ),
    mergeUserIndex: db.prepare<[{ user: string; to: string }]>(
      'UPDATE user_events SET user_id = @to WHERE user_id = @user',
    ),
    eraseImpressions: db.prepare<[userId: string]>('DELETE FROM impressions WHERE user_id = ?'),
    eraseExposures: db.prepare<[userId: string]>('DELETE FROM exposures WHERE user_id = ?'),
    eraseDecisions: db.prepare<[userId: string]>('DELETE FROM decisions WHERE user_id = ?'),
    eraseProfile: db.prepare<[userId: string]>('DELETE FROM users WHERE id = ?'),
    eraseConsent: db.prepare<[userId: string]>('DELETE FROM consents WHERE user_id = ?'),
    replaceArtifactPayload: db.prepare<[payload: Uint8Array, name: string, version: number]>(
      'UPDATE artifacts SET payload = ? WHERE name = ? AND version = ?',
    ),
    setConsent: db.prepare<[userId: string, consent: string, at: number]>(
      `INSERT INTO consents (user_id, consent, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (user_id) DO UPDATE SET consent = excluded.consent, updated_at = excluded.updated_at`,
    ),
    getConsent: db
      .prepare<[userId: string], string>('SELECT consent FROM consents WHERE user_id = ?')
      .pluck(),
    listConsents: db.prepare<[except: string], { user_id: string; consent: string }>(
      'SELECT user_id, consent FROM consents WHERE consent != ?',
    ),
    insertApiKey: db.prepare<ApiKeyRow>(
      `INSERT INTO api_keys (id, app, scope, name, hash, created_at, revoked_at)
       VALUES (@id, @app, @scope, @name, @hash, @created_at, @revoked_at)`,
    ),
    getApiKey: db.prepare<[id: string], ApiKeyRow>(`SELECT ${API_KEY_COLUMNS} FROM api_keys WHERE id = ?`),
    listApiKeys: db.prepare<[], ApiKeyRow>(`SELECT ${API_KEY_COLUMNS} FROM api_keys ORDER BY created_at, id`),
    // A revoked key keeps its first revocation time.
    revokeApiKey: db.prepare<[at: number, id: string], ApiKeyRow>(
      `UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?) WHERE id = ? RETURNING ${API_KEY_COLUMNS}`,
    ),
    countApiKeys: db.prepare<[], number>('SELECT count(*) FROM api_keys').pluck(),
    insertAudit: db.prepare<Omit<AuditRow, 'seq'>>(
      `INSERT INTO audit_log (at, app, actor, action, target, status)
       VALUES (@at, @app, @actor, @action, @target, @status)`,
    ),
    listAudit: db.prepare<[{ after: number; app: string | null; limit: number }], AuditRow>(
      `SELECT seq, at, app, actor, action, target, status FROM audit_log
       WHERE seq > @after AND (@app IS NULL OR app = @app) ORDER BY seq LIMIT @limit`,
    ),

    getMeta: db.prepare<[key: string], string>('SELECT value FROM meta WHERE key = ?').pluck(),
    setMeta: db.prepare<[key: string, value: string]>(
      'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    ),
  };
}

export type Statements = ReturnType<typeof prepareStatements>;

/**
 * Applies a batch of the serving path's decision log in the caller's transaction: the appends, then the
 * closes (so a close finds a decision appended in the same batch); a close of a decision that has an outcome
 * changes nothing. Features arrive as any byte view (a Buffer here, a Uint8Array across a thread).
 */
export function writeDecisionLogRows(statements: Statements, rows: DecisionLogRows): void {
  for (const params of rows.appends) {
    const blob = params[5];
    const features = Buffer.isBuffer(blob)
      ? blob
      : Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
    statements.insertDecision.run(...(params.map((v, i) => (i === 5 ? features : v)) as DecisionParams));
  }
  for (const params of rows.closes) statements.closeOpenDecision.run(...params);
}
