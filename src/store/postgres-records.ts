import type { Exposure } from '../experiments/types.js';
import type { Consent } from '../privacy/consent.js';
import type { JsonValue } from '../shared/types.js';
import { assertText, type PgDb, type PgTx } from './postgres-db.js';
import { assertCount, keysetScan } from './keyset.js';
import { PgDecisionLog } from './postgres-records-decisions.js';
import type { PgLogWriter } from './postgres-writer.js';
import type { RecordTables } from './postgres.js';
import {
  apiKeyFromRow,
  apiKeyToRow,
  artifactFromRow,
  artifactInfoFromRow,
  artifactParams,
  consentFromRow,
  documentFromRow,
  exposureFromRow,
  leaseFromRow,
  parseJson,
  type ApiKeyRow,
  type ArtifactInfoRow,
  type AuditRow,
  type DocumentRow,
  type ExposureRow,
  type LeaseRow,
} from './rows.js';
// The meta keys the store keeps itself have the same names on both backends. (Not from postgres-schema.ts,
// which imports this module's DDL while it loads.)
import { ITEM_EVENTS_THROUGH_KEY, LAST_ERASURE_KEY, SCHEMA_VERSION_KEY } from './sqlite-schema.js';
import type {
  ArtifactInfo,
  AuditEntry,
  Erasure,
  Lease,
  LeaseAttempt,
  NewArtifact,
  StoredApiKey,
  StoredArtifact,
  StoredAuditEntry,
  StoredDocument,
  StoredExperiment,
} from './types.js';

/**
 * DDL of this half's tables, part of migration V1 (`meta` exists before V1 runs). The shapes are SQLite's
 * after all its migrations (`sqlite-schema.ts`), in PostgreSQL's types: times in epoch ms and positions as
 * bigint, JSON as text (kept exactly as written: key order, number spelling, escaped U+0000), blobs as
 * bytea. Ids that lists are ordered or paged by are `COLLATE "C"`: byte order, as SQLite orders them,
 * whatever locale the database was created with.
 *
 * - exposures: one row per (experiment, user), the user's first exposure.
 * - decisions: `seq` is the append order (what scans page on); the outcome columns are NULL while a
 *   decision is open. (point, seq) serves a point's scan, stats and deletion; (point, at) the dashboard's
 *   timeline; the partial deadline index holds only open decisions, so the sweep for expired ones stays a
 *   short range however many closed rows the log has.
 * - audit_log: `seq` in append order (appends serialise on an advisory lock, so seq order is commit order
 *   and a reader paging after a seq never misses an entry committed later with a lower one).
 * - artifacts: versions per name, chosen under a per-name advisory lock (`saveArtifact`).
 * - leases: one row per held name; a row whose `expires_at` has passed is free to take.
 */
export const RECORD_TABLES_V1 = `
  CREATE TABLE experiments (
    id       text COLLATE "C" PRIMARY KEY,
    revision bigint NOT NULL,
    body     text   NOT NULL -- JSON
  );

  CREATE TABLE exposures (
    experiment text COLLATE "C" NOT NULL,
    user_id    text COLLATE "C" NOT NULL,
    variant    text   NOT NULL,
    at         bigint NOT NULL, -- epoch ms
    PRIMARY KEY (experiment, user_id)
  );
  CREATE INDEX exposures_user ON exposures (user_id);

  CREATE TABLE decision_points (
    id       text COLLATE "C" PRIMARY KEY,
    revision bigint NOT NULL,
    body     text   NOT NULL -- JSON
  );

  CREATE TABLE decisions (
    seq            bigserial PRIMARY KEY,
    id             text   NOT NULL UNIQUE,
    point          text   NOT NULL,
    user_id        text   NOT NULL,
    at             bigint NOT NULL, -- epoch ms
    context        text   NOT NULL, -- JSON object
    features       bytea  NOT NULL, -- little-endian float64s
    offered        text   NOT NULL, -- JSON array of strings
    probabilities  text   NOT NULL, -- JSON array of numbers
    action         text   NOT NULL,
    propensity     double precision NOT NULL,
    policy         text   NOT NULL,
    experiment     text,            -- JSON { id, variant } or NULL
    deadline       bigint NOT NULL, -- epoch ms
    reward         double precision, -- the outcome: all three NULL while open
    outcome_at     bigint,          -- epoch ms
    outcome_source text
  );
  CREATE INDEX decisions_point_seq ON decisions (point, seq);
  CREATE INDEX decisions_point_at ON decisions (point, at);
  CREATE INDEX decisions_open_deadline ON decisions (deadline, seq) WHERE outcome_source IS NULL;
  CREATE INDEX decisions_user ON decisions (user_id, seq);

  CREATE TABLE api_keys (
    id         text COLLATE "C" PRIMARY KEY,
    app        text   NOT NULL,
    scope      text   NOT NULL,
    name       text,
    hash       text   NOT NULL,
    created_at bigint NOT NULL, -- epoch ms
    revoked_at bigint           -- epoch ms, NULL while the key works
  );

  CREATE TABLE audit_log (
    seq    bigserial PRIMARY KEY,
    at     bigint  NOT NULL, -- epoch ms
    app    text    NOT NULL,
    actor  text    NOT NULL,
    action text    NOT NULL,
    target text,
    status integer NOT NULL
  );
  CREATE INDEX audit_log_app ON audit_log (app, seq);

  CREATE TABLE consents (
    user_id    text   PRIMARY KEY,
    consent    text   NOT NULL, -- full | analytics | none
    updated_at bigint NOT NULL  -- epoch ms
  );

  CREATE TABLE artifacts (
    name       text    NOT NULL,
    version    integer NOT NULL,
    created_at bigint  NOT NULL,
    meta       text    NOT NULL, -- JSON
    payload    bytea   NOT NULL,
    PRIMARY KEY (name, version)
  );
  -- Stored uncompressed (model weights barely compress), so that loadArtifact's slices read only the
  -- TOAST chunks they cover instead of decompressing the whole value per slice.
  ALTER TABLE artifacts ALTER COLUMN payload SET STORAGE EXTERNAL;

  CREATE TABLE leases (
    name        text   PRIMARY KEY,
    holder      text   NOT NULL,
    acquired_at bigint NOT NULL, -- epoch ms, the database's clock
    expires_at  bigint NOT NULL  -- epoch ms, the database's clock
  );
`;

/** How much of an artifact's payload one read fetches (8 MiB: 16 MiB of hex text in the driver, far below its limit). */
const ARTIFACT_SLICE_BYTES = 8 * 1024 * 1024;

/** The tables of definitions stored as documents with a revision. */
type DocumentTable = 'experiments' | 'decision_points';

const API_KEY_COLUMNS = 'id, app, scope, name, hash, created_at, revoked_at';
const LEASE_COLUMNS = 'name, holder, acquired_at, expires_at';

/**
 * Now, in epoch ms, by the database's clock: every instance judges lease expiry by the same clock, however
 * far the machines' own clocks drift apart. clock_timestamp(), not now(): the time of the statement's
 * evaluation, not of its transaction's start.
 */
const DB_NOW_MS = 'floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint';

/**
 * Takes the lease in one statement: inserted when free, taken over when expired, renewed (keeping
 * `acquired_at`) when the holder already holds it; otherwise the WHERE refuses the update and nothing
 * comes back. Concurrent claimants of one name serialise on its row (or on the unique index while it is
 * being inserted), and each re-checks the WHERE against the row the previous one left.
 */
const ACQUIRE_LEASE = `
  INSERT INTO leases AS l (${LEASE_COLUMNS})
  SELECT $1, $2, now_ms, now_ms + $3::bigint FROM (SELECT ${DB_NOW_MS} AS now_ms) AS clock
  ON CONFLICT (name) DO UPDATE SET
    holder = EXCLUDED.holder,
    acquired_at = CASE WHEN l.holder = EXCLUDED.holder AND l.expires_at > EXCLUDED.acquired_at
                       THEN l.acquired_at ELSE EXCLUDED.acquired_at END,
    expires_at = EXCLUDED.expires_at
  WHERE l.expires_at <= EXCLUDED.acquired_at OR l.holder = EXCLUDED.holder
  RETURNING ${LEASE_COLUMNS}`;

/** A refused claim reads who holds the lease; if it went in between (released, expired), claim again. */
const LEASE_CLAIM_ATTEMPTS = 5;

/** What `eraseUserRecords` deleted and rewrote. */
export interface ErasedRecords {
  readonly exposures: number;
  readonly decisions: number;
  readonly consent: boolean;
  readonly artifacts: number;
}

/**
 * This half's part of `Store.eraseUser`, inside the events half's erasure transaction: the person's
 * exposures, decisions and consent are deleted and the given artifact versions get their new payloads
 * (a version that no longer exists is not counted).
 */
export async function eraseUserRecords(tx: PgTx, userId: string, erasure: Erasure): Promise<ErasedRecords> {
  assertText('userId', userId);
  const exposures = await tx.execute('DELETE FROM exposures WHERE user_id = $1', [userId]);
  const decisions = await tx.execute('DELETE FROM decisions WHERE user_id = $1', [userId]);
  const consent = (await tx.execute('DELETE FROM consents WHERE user_id = $1', [userId])) > 0;
  let artifacts = 0;
  // One statement per version: payloads are whole models, sent as binary parameters, where an array of
  // them would travel as hex text at twice the size.
  for (const { name, version, payload } of erasure.artifacts) {
    assertText('artifact name', name);
    artifacts += await tx.execute('UPDATE artifacts SET payload = $1 WHERE name = $2 AND version = $3', [
      Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength),
      name,
      version,
    ]);
  }
  return { exposures, decisions, consent, artifacts };
}

/** Experiments, exposures, decision points and log, consent, keys, audit, artifacts, leases, meta. */
export class PgRecordTables implements RecordTables {
  readonly #decisions: PgDecisionLog;

  /** `logWriter` writes the exposure and decision logs, as it does impressions (`postgres-writer.ts`). */
  constructor(
    private readonly db: PgDb,
    private readonly logWriter: PgLogWriter,
  ) {
    this.#decisions = new PgDecisionLog(db, logWriter);
  }

  // --- experiments --------------------------------------------------------------------------------

  async saveExperiment(experiment: StoredExperiment, expectedRevision: number | null): Promise<boolean> {
    this.db.assertWritable('save an experiment');
    return this.#saveDocument('experiments', experiment, expectedRevision);
  }

  async getExperiment(id: string): Promise<StoredExperiment | null> {
    return this.#getDocument('experiments', id);
  }

  async listExperiments(): Promise<StoredExperiment[]> {
    return this.#listDocuments('experiments');
  }

  /**
   * One statement per batch. The earliest exposure wins, whichever batch (or instance) writes it first.
   * A batch is reduced to one row per (experiment, user) first (ON CONFLICT cannot touch a row twice in
   * one statement), the earliest, the first of equals, as SQLite's row-by-row upsert keeps; and sorted by
   * key, so that two instances upserting overlapping batches take the rows' locks in one order.
   */
  async appendExposures(exposures: readonly Exposure[]): Promise<void> {
    this.db.assertWritable('append exposures');
    if (exposures.length === 0) return;
    const earliest = new Map<string, Exposure>();
    for (const exposure of exposures) {
      assertText('exposure experiment', exposure.experiment);
      assertText('exposure userId', exposure.userId);
      assertText('exposure variant', exposure.variant);
      const key = JSON.stringify([exposure.experiment, exposure.userId]);
      const kept = earliest.get(key);
      if (kept === undefined || exposure.at < kept.at) earliest.set(key, exposure);
    }
    // Any one order will do, as long as every instance uses it.
    const rows = [...earliest.values()].sort(
      (a, b) => compareStrings(a.experiment, b.experiment) || compareStrings(a.userId, b.userId),
    );
    await this.logWriter.run(
      `INSERT INTO exposures (experiment, user_id, variant, at)
       SELECT experiment, user_id, variant, at
       FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) WITH ORDINALITY
         AS t(experiment, user_id, variant, at, ord)
       ORDER BY ord
       ON CONFLICT (experiment, user_id) DO UPDATE SET variant = EXCLUDED.variant, at = EXCLUDED.at
       WHERE EXCLUDED.at < exposures.at`,
      [
        [
          rows.map((e) => e.experiment),
          rows.map((e) => e.userId),
          rows.map((e) => e.variant),
          rows.map((e) => e.at),
        ],
      ],
    );
  }

  scanExposures(
    experiment: string,
    options: { readonly batchSize?: number } = {},
  ): AsyncGenerator<Exposure[]> {
    assertText('experiment', experiment);
    return keysetScan(options, {
      start: '',
      fetch: (after, limit) =>
        this.db.query<ExposureRow>(
          `SELECT experiment, user_id, variant, at FROM exposures WHERE experiment = $1 AND user_id > $2
           ORDER BY user_id LIMIT $3`,
          [experiment, after, limit],
        ),
      keyOf: (row) => row.user_id,
      map: exposureFromRow,
    });
  }

  async countExposures(experiment: string): Promise<Record<string, number>> {
    assertText('experiment', experiment);
    const rows = await this.db.query<{ variant: string; users: number }>(
      'SELECT variant, count(*) AS users FROM exposures WHERE experiment = $1 GROUP BY variant',
      [experiment],
    );
    const counts: Record<string, number> = {};
    for (const row of rows) counts[row.variant] = row.users;
    return counts;
  }

  async userExposures(userId: string): Promise<Exposure[]> {
    assertText('userId', userId);
    const rows = await this.db.query<ExposureRow>(
      'SELECT experiment, user_id, variant, at FROM exposures WHERE user_id = $1 ORDER BY experiment',
      [userId],
    );
    return rows.map(exposureFromRow);
  }

  // --- decision points and the decision log (postgres-records-decisions.ts) ----------------------

  async saveDecisionPoint(point: StoredDocument, expectedRevision: number | null): Promise<boolean> {
    this.db.assertWritable('save a decision point');
    return this.#saveDocument('decision_points', point, expectedRevision);
  }

  async getDecisionPoint(id: string): Promise<StoredDocument | null> {
    return this.#getDocument('decision_points', id);
  }

  async listDecisionPoints(): Promise<StoredDocument[]> {
    return this.#listDocuments('decision_points');
  }

  readonly deleteDecisionPoint: RecordTables['deleteDecisionPoint'] = (...args) =>
    this.#decisions.deleteDecisionPoint(...args);
  readonly appendDecisions: RecordTables['appendDecisions'] = (...args) =>
    this.#decisions.appendDecisions(...args);
  readonly writeDecisionLog: RecordTables['writeDecisionLog'] = (...args) =>
    this.#decisions.writeDecisionLog(...args);
  readonly getDecision: RecordTables['getDecision'] = (...args) => this.#decisions.getDecision(...args);
  readonly closeDecisions: RecordTables['closeDecisions'] = (...args) =>
    this.#decisions.closeDecisions(...args);
  readonly expiredDecisions: RecordTables['expiredDecisions'] = (...args) =>
    this.#decisions.expiredDecisions(...args);
  readonly scanDecisions: RecordTables['scanDecisions'] = (...args) => this.#decisions.scanDecisions(...args);
  readonly decisionStats: RecordTables['decisionStats'] = (...args) => this.#decisions.decisionStats(...args);
  readonly userDecisions: RecordTables['userDecisions'] = (...args) => this.#decisions.userDecisions(...args);
  readonly decisionActivity: RecordTables['decisionActivity'] = (...args) =>
    this.#decisions.decisionActivity(...args);

  // --- consent -----------------------------------------------------------------------------------

  async setConsent(userId: string, consent: Consent, at: number): Promise<void> {
    this.db.assertWritable('set consent');
    assertText('userId', userId);
    await this.db.execute(
      `INSERT INTO consents (user_id, consent, updated_at) VALUES ($1, $2, $3)
       ON CONFLICT (user_id) DO UPDATE SET consent = EXCLUDED.consent, updated_at = EXCLUDED.updated_at`,
      [userId, assertText('consent', consent), at],
    );
  }

  async getConsent(userId: string): Promise<Consent | null> {
    assertText('userId', userId);
    const [row] = await this.db.query<{ consent: string }>(
      'SELECT consent FROM consents WHERE user_id = $1',
      [userId],
    );
    return row ? consentFromRow(row.consent) : null;
  }

  async getConsents(userIds: readonly string[]): Promise<Map<string, Consent>> {
    if (userIds.length === 0) return new Map();
    userIds.forEach((userId, index) => assertText(`userIds[${index}]`, userId));
    const rows = await this.db.query<{ user_id: string; consent: string }>(
      'SELECT user_id, consent FROM consents WHERE user_id = ANY($1::text[])',
      [userIds],
    );
    return new Map(rows.map((row) => [row.user_id, consentFromRow(row.consent)]));
  }

  async listConsents(except: Consent): Promise<Map<string, Consent>> {
    const rows = await this.db.query<{ user_id: string; consent: string }>(
      'SELECT user_id, consent FROM consents WHERE consent <> $1',
      [assertText('consent', except)],
    );
    return new Map(rows.map((row) => [row.user_id, consentFromRow(row.consent)]));
  }

  // --- access keys and the audit log -------------------------------------------------------------

  /** A plain INSERT: a repeated id violates the primary key and is an error, as the contract says. */
  async createApiKey(key: StoredApiKey): Promise<void> {
    this.db.assertWritable('create an API key');
    const row = apiKeyToRow(key);
    assertText('api key id', row.id);
    assertText('api key app', row.app);
    assertText('api key scope', row.scope);
    if (row.name !== null) assertText('api key name', row.name);
    assertText('api key hash', row.hash);
    await this.db.execute(`INSERT INTO api_keys (${API_KEY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)`, [
      row.id,
      row.app,
      row.scope,
      row.name,
      row.hash,
      row.created_at,
      row.revoked_at,
    ]);
  }

  async getApiKey(id: string): Promise<StoredApiKey | null> {
    assertText('api key id', id);
    const [row] = await this.db.query<ApiKeyRow>(`SELECT ${API_KEY_COLUMNS} FROM api_keys WHERE id = $1`, [
      id,
    ]);
    return row ? apiKeyFromRow(row) : null;
  }

  async listApiKeys(): Promise<StoredApiKey[]> {
    const rows = await this.db.query<ApiKeyRow>(
      `SELECT ${API_KEY_COLUMNS} FROM api_keys ORDER BY created_at, id`,
    );
    return rows.map(apiKeyFromRow);
  }

  /** A revoked key keeps its first revocation time. */
  async revokeApiKey(id: string, at: number): Promise<StoredApiKey | null> {
    this.db.assertWritable('revoke an API key');
    assertText('api key id', id);
    const [row] = await this.db.query<ApiKeyRow>(
      `UPDATE api_keys SET revoked_at = coalesce(revoked_at, $1) WHERE id = $2 RETURNING ${API_KEY_COLUMNS}`,
      [at, id],
    );
    return row ? apiKeyFromRow(row) : null;
  }

  async countApiKeys(): Promise<number> {
    const [row] = await this.db.query<{ n: number }>('SELECT count(*) AS n FROM api_keys');
    return row?.n ?? 0;
  }

  /**
   * One statement per batch, in the batch's order. Appends serialise on an advisory lock held to the
   * commit, so seq order is commit order: a bigserial alone is drawn before the commit, and a reader
   * paging after seq n could miss an entry with a lower seq that another instance committed later.
   * Admin actions are rare; the lock costs nothing that matters.
   */
  async appendAudit(entries: readonly AuditEntry[]): Promise<void> {
    this.db.assertWritable('append to the audit log');
    if (entries.length === 0) return;
    for (const entry of entries) {
      assertText('audit app', entry.app);
      assertText('audit actor', entry.actor);
      assertText('audit action', entry.action);
      if (entry.target !== null) assertText('audit target', entry.target);
    }
    await this.db.transaction(async (tx) => {
      await tx.query("SELECT pg_advisory_xact_lock(hashtext('attune-audit:' || current_schema()))");
      await tx.execute(
        `INSERT INTO audit_log (at, app, actor, action, target, status)
         SELECT at, app, actor, action, target, status
         FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::integer[])
           WITH ORDINALITY AS t(at, app, actor, action, target, status, ord)
         ORDER BY ord`,
        [
          entries.map((e) => e.at),
          entries.map((e) => e.app),
          entries.map((e) => e.actor),
          entries.map((e) => e.action),
          entries.map((e) => e.target),
          entries.map((e) => e.status),
        ],
      );
    });
  }

  async listAudit(options: {
    readonly afterSeq?: number;
    readonly limit: number;
    readonly app?: string;
  }): Promise<StoredAuditEntry[]> {
    assertCount('audit limit', options.limit, 1);
    const app = options.app === undefined ? null : assertText('audit app', options.app);
    return this.db.query<AuditRow>(
      `SELECT seq, at, app, actor, action, target, status FROM audit_log
       WHERE seq > $1 AND ($2::text IS NULL OR app = $2) ORDER BY seq LIMIT $3`,
      [options.afterSeq ?? 0, app, options.limit],
    );
  }

  // --- model artifacts ----------------------------------------------------------------------------

  /**
   * The version is chosen inside the insert, under a transaction-level advisory lock on the name (held
   * to the commit): a concurrent saver of the same name, in this process or another, waits and then
   * reads the version this one committed. Savers of other names do not wait (unless their hashes collide,
   * which only serialises them).
   */
  async saveArtifact(artifact: NewArtifact): Promise<number> {
    this.db.assertWritable('save an artifact');
    const params = artifactParams(artifact);
    assertText('artifact name', params.name);
    return this.db.transaction(async (tx) => {
      await tx.query(
        "SELECT pg_advisory_xact_lock(hashtext('attune-artifact:' || current_schema() || ':' || $1))",
        [params.name],
      );
      const [row] = await tx.query<{ version: number }>(
        `INSERT INTO artifacts (name, version, created_at, meta, payload)
         SELECT $1, coalesce(max(version), 0) + 1, $2, $3, $4 FROM artifacts WHERE name = $1
         RETURNING version`,
        [params.name, params.createdAt, params.meta, params.payload],
      );
      if (row === undefined) throw new Error(`saving artifact "${params.name}" returned no version`);
      return row.version;
    });
  }

  /**
   * Read in slices of `ARTIFACT_SLICE_BYTES`: the driver decodes each value of a row into one string (bytea
   * as hex, twice its size), and a string cannot exceed 512 MiB, so a bundle of a few hundred megabytes
   * read whole would fail (and fail inside the driver's socket handler). Slices of one version are read in
   * one repeatable-read transaction, so they are of one value.
   */
  async loadArtifact(name: string, version?: number): Promise<StoredArtifact | null> {
    assertText('artifact name', name);
    return this.db.transaction(async (tx) => {
      const [row] =
        version === undefined
          ? await tx.query<ArtifactInfoRow>(
              `SELECT name, version, created_at, meta, octet_length(payload) AS bytes FROM artifacts
                WHERE name = $1 ORDER BY version DESC LIMIT 1`,
              [name],
            )
          : await tx.query<ArtifactInfoRow>(
              `SELECT name, version, created_at, meta, octet_length(payload) AS bytes FROM artifacts
                WHERE name = $1 AND version = $2`,
              [name, version],
            );
      if (!row) return null;
      const payload = Buffer.allocUnsafe(row.bytes);
      for (let offset = 0; offset < row.bytes; offset += ARTIFACT_SLICE_BYTES) {
        const [slice] = await tx.query<{ part: Buffer }>(
          // substring counts from 1.
          'SELECT substring(payload FROM $3 FOR $4) AS part FROM artifacts WHERE name = $1 AND version = $2',
          [row.name, row.version, offset + 1, ARTIFACT_SLICE_BYTES],
        );
        if (!slice) throw new Error(`artifact ${name} version ${row.version} vanished while being read`);
        slice.part.copy(payload, offset);
      }
      return artifactFromRow({ ...row, payload });
    }, 'REPEATABLE READ');
  }

  /** octet_length reads a stored value's size from its header, without fetching the payload. */
  async listArtifacts(name: string): Promise<ArtifactInfo[]> {
    assertText('artifact name', name);
    const rows = await this.db.query<ArtifactInfoRow>(
      `SELECT name, version, created_at, meta, octet_length(payload) AS bytes FROM artifacts WHERE name = $1
       ORDER BY version DESC`,
      [name],
    );
    return rows.map(artifactInfoFromRow);
  }

  // --- leases -------------------------------------------------------------------------------------
  // Expiry uses the database's clock (DB_NOW_MS): instances on several machines share one database, not
  // one clock.

  async acquireLease(name: string, holder: string, ttlMs: number): Promise<LeaseAttempt> {
    this.db.assertWritable('acquire a lease');
    assertCount('lease ttlMs', ttlMs, 1);
    assertText('lease name', name);
    assertText('lease holder', holder);
    for (let attempt = 0; attempt < LEASE_CLAIM_ATTEMPTS; attempt++) {
      const [taken] = await this.db.query<LeaseRow>(ACQUIRE_LEASE, [name, holder, ttlMs]);
      if (taken) return { acquired: true, lease: leaseFromRow(taken) };
      const [held] = await this.db.query<LeaseRow>(
        `SELECT ${LEASE_COLUMNS} FROM leases WHERE name = $1 AND expires_at > ${DB_NOW_MS}`,
        [name],
      );
      if (held) return { acquired: false, held: leaseFromRow(held) };
    }
    throw new Error(`The lease "${name}" kept changing hands; try again`);
  }

  async renewLease(name: string, holder: string, ttlMs: number): Promise<Lease | null> {
    this.db.assertWritable('renew a lease');
    assertCount('lease ttlMs', ttlMs, 1);
    assertText('lease name', name);
    assertText('lease holder', holder);
    const [row] = await this.db.query<LeaseRow>(
      `UPDATE leases SET expires_at = ${DB_NOW_MS} + $3::bigint WHERE name = $1 AND holder = $2
       RETURNING ${LEASE_COLUMNS}`,
      [name, holder, ttlMs],
    );
    return row ? leaseFromRow(row) : null;
  }

  async releaseLease(name: string, holder: string): Promise<boolean> {
    this.db.assertWritable('release a lease');
    assertText('lease name', name);
    assertText('lease holder', holder);
    return (await this.db.execute('DELETE FROM leases WHERE name = $1 AND holder = $2', [name, holder])) > 0;
  }

  // --- metadata -----------------------------------------------------------------------------------

  async getMeta(key: string): Promise<JsonValue | null> {
    assertText('meta key', key);
    const [row] = await this.db.query<{ value: string }>('SELECT value FROM meta WHERE key = $1', [key]);
    return row ? parseJson<JsonValue>(row.value) : null;
  }

  /** The keys the store keeps itself are refused, as SQLite refuses them (its item-index mark included). */
  async setMeta(key: string, value: JsonValue): Promise<void> {
    this.db.assertWritable('set metadata');
    if (key === SCHEMA_VERSION_KEY || key === ITEM_EVENTS_THROUGH_KEY || key === LAST_ERASURE_KEY) {
      throw new Error(`The meta key "${key}" is managed by the store and cannot be set`);
    }
    assertText('meta key', key);
    await this.db.execute(
      'INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value',
      [key, JSON.stringify(value)],
    );
  }

  // --- documents under compare-and-set (experiments, decision points) -----------------------------

  /**
   * Create refuses an existing id (ON CONFLICT DO NOTHING inserts no row); update replaces only the
   * revision the writer read. Under READ COMMITTED an UPDATE that waited for a concurrent writer re-checks
   * `revision` on the row that writer left, so of two writers that read one revision exactly one wins.
   */
  async #saveDocument(
    table: DocumentTable,
    document: StoredDocument,
    expectedRevision: number | null,
  ): Promise<boolean> {
    assertText(`${table} id`, document.id);
    const body = JSON.stringify(document.body);
    const changed =
      expectedRevision === null
        ? await this.db.execute(
            `INSERT INTO ${table} (id, revision, body) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING`,
            [document.id, document.revision, body],
          )
        : await this.db.execute(
            `UPDATE ${table} SET revision = $1, body = $2 WHERE id = $3 AND revision = $4`,
            [document.revision, body, document.id, expectedRevision],
          );
    return changed > 0;
  }

  async #getDocument(table: DocumentTable, id: string): Promise<StoredDocument | null> {
    assertText(`${table} id`, id);
    const [row] = await this.db.query<DocumentRow>(`SELECT id, revision, body FROM ${table} WHERE id = $1`, [
      id,
    ]);
    return row ? documentFromRow(row) : null;
  }

  async #listDocuments(table: DocumentTable): Promise<StoredDocument[]> {
    const rows = await this.db.query<DocumentRow>(`SELECT id, revision, body FROM ${table} ORDER BY id`);
    return rows.map(documentFromRow);
  }
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
