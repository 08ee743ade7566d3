import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

import Database from 'better-sqlite3';

import type { Item, User } from '../catalog/types.js';
import type {
  CloseResult,
  DecisionClose,
  DecisionLogStats,
  LoggedDecision,
} from '../decisions/points/log-types.js';
import type { DecisionTimeline } from '../decisions/timeline.js';
import type { AppendResult, TrackedEvent } from '../events/types.js';
import type { Exposure } from '../experiments/types.js';
import type { Impression } from '../recommendations/impression.js';
import type { Consent } from '../privacy/consent.js';
import type { EpochMs, JsonValue } from '../shared/types.js';
import { StoreClosedError, StoreReadonlyError } from './errors.js';
import {
  assertCount,
  DEFAULT_SCAN_BATCH,
  eventWindow,
  keysetScan,
  scanItemPages,
  type EventWindow,
} from './keyset.js';
import {
  apiKeyFromRow,
  consentFromRow,
  apiKeyToRow,
  artifactFromRow,
  artifactInfoFromRow,
  artifactParams,
  decisionFromRow,
  decisionLogRows,
  decisionParams,
  documentFromRow,
  eventFromRow,
  type DecisionLogRows,
  type EventRow,
  exposureFromRow,
  exposureParams,
  impressionFromRow,
  impressionParams,
  itemFromRow,
  itemParams,
  leaseFromRow,
  outcomeFromRow,
  outcomeParams,
  parseJson,
  userFromRow,
  userItemFromRow,
  userParams,
} from './rows.js';
import {
  ITEM_EVENTS_THROUGH_KEY,
  LAST_ERASURE_KEY,
  SCHEMA_VERSION_KEY,
  assertReadableSchema,
  migrate,
} from './sqlite-schema.js';
import { appendCommitter, eventAppend, type AppendOutcome, type EventAppend } from './sqlite-append.js';
import { BackgroundWriter } from './sqlite-background.js';
import { ReaderThread } from './sqlite-reader.js';
import { CACHE_KIB } from './sqlite-cache.js';
import { KnownIds } from './known-ids.js';
import { activityForgetter, activityReader, type ActivityReader } from './sqlite-activity.js';
import { indexedEventsReader, logIndexBehind, logIndexCatchUp } from './sqlite-log-index.js';
import {
  prepareStatements,
  writeDecisionLogRows,
  type DocumentStatements,
  type Statements,
} from './sqlite-statements.js';
import type {
  AppendOptions,
  ArtifactInfo,
  AuditEntry,
  ErasedRows,
  Erasure,
  MergedRows,
  Lease,
  LeaseAttempt,
  ListOptions,
  NewArtifact,
  RecentEvents,
  RecentEventsOptions,
  ScanOptions,
  ServedListClicks,
  Store,
  StoredApiKey,
  StoredArtifact,
  StoredAuditEntry,
  StoredDocument,
  StoredExperiment,
  UserActivity,
  UserEventsOptions,
  UserItemTotal,
} from './types.js';

/** The database file inside the data directory. */
export const DATABASE_FILE = 'attune.db';

export type SqliteSynchronous = 'FULL' | 'NORMAL';

export interface SqliteStoreOptions {
  /** Created if missing (unless read-only). */
  readonly dataDir: string;
  /** For training workers and batch jobs: no migrations, every write rejected. */
  readonly readonly?: boolean;
  /**
   * FULL (default) fsyncs the WAL on every commit, so an acknowledged write survives power loss. NORMAL
   * still survives a crash of the process (`kill -9`) but may lose the last commits on power loss.
   */
  readonly synchronous?: SqliteSynchronous;
  /** How long a statement waits for another connection's lock before failing (default 5 s). */
  readonly busyTimeoutMs?: number;
  /**
   * Checkpoint the WAL and index new events by user and item (`user_events`, `item_events`) from a
   * background thread instead of inside or after commits (default: true for the main read-write store).
   * Secondary writers (the training worker) leave it off and do both inline, off the serving thread anyway.
   */
  readonly backgroundCheckpoints?: boolean;
  /**
   * Read a user's history and a user's or item's window of events (what a cache miss of the serving
   * thread reads) on a thread of their own (`sqlite-reader.worker.ts`). Off by default for now: with it on,
   * `src/simulate/decisions.test.ts` failed 2 of 23 runs (the engine learned less offer reward than the
   * simulated users gave) against 0 of 16 with it off, and the cause is not found yet.
   */
  readonly readerThread?: boolean;
}

/** The connection settings in force, for diagnostics and tests. */
export interface SqliteSettings {
  readonly journalMode: string;
  readonly synchronous: SqliteSynchronous | 'OFF' | 'EXTRA';
  readonly busyTimeoutMs: number;
}

const DEFAULT_BUSY_TIMEOUT_MS = 5_000;
/**
 * For the same reason a batch appends 2–5 MB to the WAL. With the default checkpoint threshold (1,000 pages)
 * nearly every commit would also run a checkpoint, copying those pages into the database file and, under
 * synchronous=FULL, fsyncing it. 10,000 pages (~40 MB of WAL) checkpoints about every tenth batch, so a
 * page rewritten by several batches is copied once; measured ~1.7× the append throughput of the default.
 */
const WAL_AUTOCHECKPOINT_PAGES = 10_000;
/**
 * Every event dirtied about two random index leaf pages (then: user index, event-id index), and each dirty
 * page is written whole to the WAL and fsynced: with 4 KiB pages a batch of 500 wrote ~4 MB. 2 KiB pages
 * halve that; measured ~33.5k events/s against ~30k at 4 KiB (bench/ingest.ts, 3 runs each). Rows stay
 * well inside a page, so no overflow pages. The same arithmetic is why neither the item nor the user index
 * is an index on `events`: each dirtied a random leaf per event inside the acknowledged commit (the item
 * index cost ~22% of ingestion, schema V4). They are the derived tables `item_events` and `user_events`
 * instead, filled after the commit by the background thread (schema V5 and V11, `sqlite-log-index.ts`);
 * only the event-id index, which deduplication needs at once, is still written by the commit.
 */
const PAGE_SIZE = 2048;
/**
 * How often the background thread indexes new events by user and item and checkpoints the WAL. Each
 * catch-up writes a leaf per user and item it meets, so a longer interval writes a shared leaf once for
 * more events: under sustained ingestion 1 s gave 32.2–35.1k events/s against 28.9–30.5k at 500 ms
 * (bench/ingest.ts, 3 runs each). The price is the unindexed tail a read scans: at that rate up to ~35k
 * log positions, ~1.5 ms for one user's or item's window (a rowid range at ~43 ns a row, measured);
 * at ordinary rates a few hundred.
 */
const CHECKPOINT_INTERVAL_MS = 1_000;
/**
 * A writer without the background thread indexes new events by user and item itself once this many log
 * positions are unindexed, after the commit that crossed it (never inside it). Until then reads take them
 * from the log's tail, a rowid range this short costs well under a millisecond; a larger mark would make
 * that scan longer, a smaller one would add a transaction (and its fsync) to more of its appends.
 */
export const INLINE_LOG_INDEX_BEHIND = 1_000;
const SYNCHRONOUS_NAMES = ['OFF', 'NORMAL', 'FULL', 'EXTRA'] as const;
/**
 * Event groups posted to the background thread at once. With one, the thread idled from each commit until
 * this thread, often busy parsing a batch, got round to its reply and posted the next group; with two, the
 * next is already queued there (groups still commit one at a time, in order).
 */
const GROUPS_IN_FLIGHT = 2;
/** Item ids an append remembers as present (see `SqliteStore.#knownItems`): ~10 MB at most. */
const KNOWN_ITEMS_LIMIT = 100_000;

/**
 * Opens (creating and migrating when writable) the SQLite database in `dataDir`. One writable store per
 * process; any number of read-only ones (one per worker thread — connections cannot cross threads).
 */
export function openSqliteStore(options: SqliteStoreOptions): SqliteStore {
  const dataDir = resolve(options.dataDir);
  const file = join(dataDir, DATABASE_FILE);
  const readonly = options.readonly ?? false;
  const synchronous = options.synchronous ?? 'FULL';
  const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
  // Both end up inside PRAGMA text, which takes no bound parameters: accept only known values.
  if (synchronous !== 'FULL' && synchronous !== 'NORMAL') {
    throw new RangeError(`synchronous must be 'FULL' or 'NORMAL', got ${String(synchronous)}`);
  }
  assertCount('busyTimeoutMs', busyTimeoutMs, 0);

  if (readonly) {
    if (!existsSync(file)) {
      throw new Error(`No Attune database at ${file}; open the data directory read-write once to create it`);
    }
  } else {
    mkdirSync(dataDir, { recursive: true });
  }

  const background = !readonly && (options.backgroundCheckpoints ?? true);
  const db = new Database(file, { readonly, fileMustExist: readonly });
  try {
    // First, so that the migration below waits for a concurrent opener instead of failing with SQLITE_BUSY.
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    // Only takes effect on a new database file (before its first table), as intended.
    if (!readonly) db.pragma(`page_size = ${PAGE_SIZE}`);
    if (!readonly) {
      // WAL lets readers (the training worker) run while the writer commits. It is a property of the file,
      // so read-only connections inherit it.
      const mode = db.pragma('journal_mode = WAL', { simple: true });
      if (mode !== 'wal') throw new Error(`Could not switch ${file} to WAL mode (got ${String(mode)})`);
    }
    db.pragma(`synchronous = ${synchronous}`);
    // Whatever a writer deletes or moves is overwritten with zeros, not left in free space: an erased
    // person's bytes must leave the file, not only its b-trees. Appends free almost nothing, so the
    // ingestion path barely pays for it.
    if (!readonly) db.pragma('secure_delete = ON');
    db.pragma(`cache_size = -${CACHE_KIB}`);
    if (!readonly) db.pragma(`wal_autocheckpoint = ${background ? 0 : WAL_AUTOCHECKPOINT_PAGES}`);
    if (readonly) assertReadableSchema(db);
    else migrate(db);
  } catch (error) {
    db.close();
    throw error;
  }
  const writer = background ? new BackgroundWriter(file, CHECKPOINT_INTERVAL_MS, synchronous) : null;
  const reader = options.readerThread === true ? new ReaderThread(file, busyTimeoutMs) : null;
  return new SqliteStore(db, file, readonly, writer, reader);
}

interface Open {
  readonly db: Database.Database;
  readonly statements: Statements;
  readonly saveArtifact: (artifact: NewArtifact) => number;
  readonly acquireLease: (name: string, holder: string, ttlMs: number) => LeaseAttempt;
  readonly commitAppends: (appends: readonly EventAppend[]) => AppendOutcome[];
  readonly putItems: (items: readonly Item[]) => void;
  readonly appendImpressions: (impressions: readonly Impression[]) => void;
  readonly appendExposures: (exposures: readonly Exposure[]) => void;
  readonly deleteDecisionPoint: (id: string) => boolean;
  readonly appendDecisions: (decisions: readonly LoggedDecision[]) => void;
  readonly closeDecisions: (closes: readonly DecisionClose[]) => CloseResult[];
  readonly writeDecisionLog: (rows: DecisionLogRows) => void;
  readonly userEvents: (userId: string, window: EventWindow) => EventRow[];
  readonly itemEvents: (itemId: string, window: EventWindow) => EventRow[];
  readonly catchUpLogIndex: () => number;
  readonly activity: ActivityReader;
  readonly forgetActivity: ReturnType<typeof activityForgetter>;
}

/** An `appendEvents` call waiting for the next group commit. */
interface PendingAppend {
  readonly events: readonly TrackedEvent[];
  readonly createMissingItems: boolean;
  readonly resolve: (result: AppendResult) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * The embedded store. better-sqlite3 is synchronous; the async methods exist for the shared `Store`
 * shape. Each method runs to completion without yielding, so calls from one thread never interleave.
 */
export class SqliteStore implements Store {
  readonly backend = 'sqlite';
  #open: Open | null;
  #pendingAppends: PendingAppend[] = [];
  /** Groups posted to the background thread and not yet settled (at most `GROUPS_IN_FLIGHT`). */
  #groupsInFlight = 0;
  /** The newest of them: the thread commits groups in the order posted, so it settles last. */
  #newestGroup: Promise<void> = Promise.resolve();
  /**
   * Item ids this connection has seen in `items` since it opened (created, put, or found there by an append
   * that would have created them). Every event names an item, and asking `items` for it inside the
   * acknowledged commit (a primary-key probe per event, nearly all of them ignored) cost the store ~14%
   * (appends of 2,000 alone: 19,074 → 22,207 events/s without it, medians of 3). Ids
   * enter only after their commit, and leave when this connection deletes the item. Another process
   * deleting an item is not seen here: an event for it then creates no placeholder, as if the delete had
   * come just after the event.
   */
  readonly #knownItems = new KnownIds({ limit: KNOWN_ITEMS_LIMIT });

  /** Use `openSqliteStore`, which sets the connection up and migrates the schema. */
  constructor(
    db: Database.Database,
    /** The database file. */
    readonly path: string,
    readonly readonly: boolean,
    /** The background thread for checkpoints and the impression log, when this connection has one. */
    private readonly background: BackgroundWriter | null = null,
    /** The thread for the reads of a cache miss, when this connection has one. */
    private readonly reader: ReaderThread | null = null,
  ) {
    const statements = prepareStatements(db);
    const insertImpressions = db.transaction((impressions: readonly Impression[]) => {
      for (const impression of impressions) statements.insertImpression.run(...impressionParams(impression));
    }).immediate;
    // IMMEDIATE takes the write lock up front: a deferred transaction that upgrades from read to write can
    // fail with SQLITE_BUSY at once (no busy_timeout wait) when another connection wrote in between.
    this.#open = {
      db,
      statements,
      commitAppends: appendCommitter(db, statements),
      putItems: db.transaction((items: readonly Item[]) => {
        for (const item of items) statements.putItem.run(...itemParams(item));
      }).immediate,
      // One statement is already atomic; IMMEDIATE makes the wait for another writer explicit (busy_timeout
      // applies) instead of relying on how SQLite upgrades a statement's read to a write.
      saveArtifact: db.transaction((artifact: NewArtifact) => {
        const version = statements.insertArtifact.get(artifactParams(artifact));
        if (version === undefined) throw new Error(`saving artifact "${artifact.name}" returned no version`);
        return version;
      }).immediate,
      // Read and write in one IMMEDIATE transaction: no other connection can take the lease in between.
      acquireLease: db.transaction((name: string, holder: string, ttlMs: number): LeaseAttempt => {
        const now = Date.now();
        const row = statements.getLease.get(name);
        const live = row !== undefined && row.expires_at > now;
        if (live && row.holder !== holder) return { acquired: false, held: leaseFromRow(row) };
        // The holder taking its own live lease again renews it; "since" stays when it first took it.
        const acquiredAt = live ? row.acquired_at : now;
        statements.putLease.run(name, holder, acquiredAt, now + ttlMs);
        return { acquired: true, lease: { name, holder, acquiredAt, expiresAt: now + ttlMs } };
      }).immediate,
      // Without a background thread (secondary connections) the logs are written inline.
      appendImpressions: insertImpressions,
      appendExposures: db.transaction((exposures: readonly Exposure[]) => {
        for (const exposure of exposures) statements.insertExposure.run(...exposureParams(exposure));
      }).immediate,
      // The decision log is written here, on the serving thread's connection, not by the background thread:
      // see appendDecisions.
      deleteDecisionPoint: db.transaction((id: string): boolean => {
        statements.deletePointDecisions.run(id);
        return statements.deleteDecisionPoint.run(id).changes > 0;
      }).immediate,
      appendDecisions: db.transaction((decisions: readonly LoggedDecision[]) => {
        for (const decision of decisions) statements.insertDecision.run(...decisionParams(decision));
      }).immediate,
      closeDecisions: db.transaction((closes: readonly DecisionClose[]) =>
        closes.map((close) => closeInTransaction(statements, close)),
      ).immediate,
      writeDecisionLog: db.transaction((rows: DecisionLogRows) => writeDecisionLogRows(statements, rows))
        .immediate,
      userEvents: indexedEventsReader(db, statements, statements.userWindow),
      itemEvents: indexedEventsReader(db, statements, statements.itemWindow),
      catchUpLogIndex: logIndexCatchUp(db, statements),
      activity: activityReader(db),
      forgetActivity: activityForgetter(db),
    };
  }

  // --- events -------------------------------------------------------------------------------------

  /**
   * Group commit: appends requested while a commit is under way, or in the same turn of the event loop
   * (concurrent HTTP requests), share one transaction and one fsync. Each caller still resolves only after
   * its events are committed, and gets the result of its own batch, as if the batches had been committed
   * one after the other in call order. With a background thread the commits run there, one group at a
   * time, and this thread goes on serving meanwhile (`sqlite-background.worker.ts`).
   */
  appendEvents(events: readonly TrackedEvent[], options: AppendOptions): Promise<AppendResult> {
    try {
      this.#writable('append events');
    } catch (error) {
      return Promise.reject(error);
    }
    if (events.length === 0)
      return Promise.resolve({ stored: 0, duplicates: [], createdItems: [], positions: [] });
    return new Promise((resolve, reject) => {
      this.#pendingAppends.push({ events, createMissingItems: options.createMissingItems, resolve, reject });
      // With the pipeline full, the group that settles next posts these.
      if (this.#pendingAppends.length === 1 && this.#groupsInFlight < GROUPS_IN_FLIGHT) {
        setImmediate(() => this.#commitAppends());
      }
    });
  }

  /** Commits the appends waiting, unless the pipeline is full (the group that settles next posts them). */
  #commitAppends(): void {
    if (this.#groupsInFlight >= GROUPS_IN_FLIGHT) return;
    const pending = this.#pendingAppends;
    this.#pendingAppends = [];
    if (pending.length === 0) return;
    let open: Open;
    try {
      open = this.#writable('append events');
    } catch (error) {
      for (const append of pending) append.reject(error);
      return;
    }
    // An append whose rows cannot be built (a value JSON cannot hold) fails alone, before the group commits.
    const group: PendingAppend[] = [];
    const appends: EventAppend[] = [];
    for (const append of pending) {
      try {
        appends.push(eventAppend(append.events, append.createMissingItems ? this.#knownItems : null));
        group.push(append);
      } catch (error) {
        append.reject(error);
      }
    }
    if (group.length === 0) return;
    const background = this.background;
    if (background?.running) {
      this.#groupsInFlight++;
      this.#newestGroup = background
        .append(appends)
        .then(
          (outcomes) => this.#settle(group, outcomes),
          (error: unknown) => {
            for (const append of group) append.reject(error);
          },
        )
        .finally(() => {
          this.#groupsInFlight--;
          this.#commitAppends();
        });
      return;
    }
    this.#settle(group, open.commitAppends(appends));
    this.#indexLogInline(open);
  }

  #settle(pending: readonly PendingAppend[], outcomes: readonly AppendOutcome[]): void {
    pending.forEach((append, index) => {
      const outcome = outcomes[index];
      if (outcome === undefined) append.reject(new Error('the group commit returned no result'));
      else if ('failed' in outcome) append.reject(new Error(`appending events failed: ${outcome.failed}`));
      else {
        this.#markItemsKnown(append, outcome);
        append.resolve(outcome);
      }
    });
  }

  /** Resolves once every append requested so far is committed (or failed). */
  async #drainAppends(): Promise<void> {
    this.#commitAppends();
    while (this.#groupsInFlight > 0) await this.#newestGroup;
  }

  /**
   * After its commit, the item of every event an append with placeholders stored is in `items`. Not a
   * duplicate's: a re-sent event creates nothing, so its item may be one deleted since.
   */
  #markItemsKnown(append: PendingAppend, result: AppendResult): void {
    if (!append.createMissingItems) return;
    append.events.forEach((event, index) => {
      if (event.itemId !== null && result.positions[index] !== null) this.#knownItems.add(event.itemId);
    });
  }

  /**
   * Without a (live) background thread nothing else indexes new events by user and item, so this writer does, in
   * its own transactions after the appends committed: the appends are acknowledged already and do not
   * wait for it. Reads stay exact either way; this only keeps the tail they scan short. A failure (another
   * connection holding the write lock past busy_timeout) is left for the next commit to retry.
   */
  #indexLogInline(open: Open): void {
    if (this.background?.running) return;
    try {
      if (logIndexBehind(open.statements) >= INLINE_LOG_INDEX_BEHIND) open.catchUpLogIndex();
    } catch {
      // Nothing depends on the index being current.
    }
  }

  async userItems(userId: string): Promise<UserItemTotal[]> {
    const { statements } = this.#connection();
    const inline = (): UserItemTotal[] => statements.userItems.all({ user: userId }).map(userItemFromRow);
    return this.reader ? this.reader.userItems(userId, inline) : inline();
  }

  /** `user_events` up to its mark plus the log beyond it, in one snapshot (`sqlite-log-index.ts`). */
  async userEvents(userId: string, options: UserEventsOptions = {}): Promise<TrackedEvent[]> {
    const open = this.#connection();
    const window = eventWindow(options);
    const inline = (): TrackedEvent[] => open.userEvents(userId, window).map(eventFromRow);
    return this.reader ? this.reader.events('userEvents', userId, window, inline) : inline();
  }

  /** `item_events` up to its mark plus the log beyond it, in one snapshot (`sqlite-log-index.ts`). */
  async itemEvents(itemId: string, options: UserEventsOptions = {}): Promise<TrackedEvent[]> {
    const open = this.#connection();
    const window = eventWindow(options);
    const inline = (): TrackedEvent[] => open.itemEvents(itemId, window).map(eventFromRow);
    return this.reader ? this.reader.events('itemEvents', itemId, window, inline) : inline();
  }

  async *scanEvents(options: ScanOptions = {}): AsyncGenerator<TrackedEvent[]> {
    const batchSize = options.batchSize ?? DEFAULT_SCAN_BATCH;
    assertCount('batchSize', batchSize, 1);
    const throughSeq = options.throughSeq ?? Number.MAX_SAFE_INTEGER;
    assertCount('throughSeq', throughSeq, 0);
    let afterSeq = options.afterSeq ?? 0;
    assertCount('afterSeq', afterSeq, 0);
    while (true) {
      // Looked up per batch: a scan outlived by close() fails with a clear error on its next batch.
      const { statements } = this.#connection();
      const query = options.withItemOnly ? statements.scanItemEvents : statements.scanEvents;
      // Keyset pagination holds no read transaction between batches, so writes continue (and the WAL can
      // checkpoint) during a long training scan. Events committed meanwhile after the cursor are included
      // unless `throughSeq` bounds the scan (commits are serial, so every seq ≤ it was committed already).
      const rows = query.all(afterSeq, throughSeq, batchSize);
      const last = rows.at(-1);
      if (!last) return;
      afterSeq = last.seq;
      yield rows.map(eventFromRow);
      if (rows.length < batchSize) return;
    }
  }

  async eventsForRequest(requestId: string): Promise<TrackedEvent[]> {
    return this.#connection().statements.eventsForRequest.all(requestId).map(eventFromRow);
  }

  async countEvents(): Promise<number> {
    return this.#connection().statements.countEvents.get() ?? 0;
  }

  async lastEventSeq(): Promise<number> {
    return this.#connection().statements.lastEventSeq.get() ?? 0;
  }

  // --- catalog ------------------------------------------------------------------------------------

  async putItems(items: readonly Item[]): Promise<void> {
    const open = this.#writable('put items');
    if (items.length === 0) return;
    open.putItems(items);
    for (const item of items) this.#knownItems.add(item.id);
  }

  async getItem(id: string): Promise<Item | null> {
    const row = this.#connection().statements.getItem.get(id);
    return row ? itemFromRow(row) : null;
  }

  async listItems(options: ListOptions): Promise<Item[]> {
    const { statements } = this.#connection();
    assertCount('limit', options.limit, 0);
    const rows =
      options.after === undefined
        ? statements.firstItems.all(options.limit)
        : statements.itemsAfter.all(options.after, options.limit);
    return rows.map(itemFromRow);
  }

  scanItems(options: { readonly batchSize?: number } = {}): AsyncGenerator<Item[]> {
    return scanItemPages(options, (after, limit) => this.listItems({ after, limit }));
  }

  async deleteItem(id: string): Promise<boolean> {
    const deleted = this.#writable('delete an item').statements.deleteItem.run(id).changes > 0;
    this.#knownItems.delete(id);
    return deleted;
  }

  async countItems(): Promise<number> {
    return this.#connection().statements.countItems.get() ?? 0;
  }

  async putUser(user: User): Promise<void> {
    this.#writable('put a user').statements.putUser.run(...userParams(user));
  }

  async getUser(id: string): Promise<User | null> {
    const row = this.#connection().statements.getUser.get(id);
    return row ? userFromRow(row) : null;
  }

  // --- impressions --------------------------------------------------------------------------------

  async appendImpressions(impressions: readonly Impression[]): Promise<void> {
    const open = this.#writable('append impressions');
    if (impressions.length === 0) return;
    if (this.background) return this.background.write('impressions', impressions.map(impressionParams));
    open.appendImpressions(impressions);
  }

  async getImpression(requestId: string): Promise<Impression | null> {
    const row = this.#connection().statements.getImpression.get(requestId);
    return row ? impressionFromRow(row) : null;
  }

  async recentImpressions(
    userId: string,
    options: { readonly surface: string; readonly since: EpochMs; readonly limit: number },
  ): Promise<Impression[]> {
    assertCount('limit', options.limit, 1);
    return this.#connection()
      .statements.recentImpressions.all(userId, options.surface, options.since, options.limit)
      .map(impressionFromRow);
  }

  scanImpressions(options: { readonly batchSize?: number } = {}): AsyncGenerator<Impression[]> {
    return keysetScan(options, {
      start: 0,
      fetch: (after, limit) => this.#connection().statements.scanImpressions.all(after, limit),
      keyOf: (row) => row.row,
      map: impressionFromRow,
    });
  }

  // --- experiments --------------------------------------------------------------------------------

  async saveExperiment(experiment: StoredExperiment, expectedRevision: number | null): Promise<boolean> {
    return saveDocument(
      this.#writable('save an experiment').statements.experiments,
      experiment,
      expectedRevision,
    );
  }

  async getExperiment(id: string): Promise<StoredExperiment | null> {
    return getDocument(this.#connection().statements.experiments, id);
  }

  async listExperiments(): Promise<StoredExperiment[]> {
    return this.#connection().statements.experiments.list.all().map(documentFromRow);
  }

  async appendExposures(exposures: readonly Exposure[]): Promise<void> {
    const open = this.#writable('append exposures');
    if (exposures.length === 0) return;
    if (this.background) return this.background.write('exposures', exposures.map(exposureParams));
    open.appendExposures(exposures);
  }

  scanExposures(
    experiment: string,
    options: { readonly batchSize?: number } = {},
  ): AsyncGenerator<Exposure[]> {
    return keysetScan(options, {
      start: '',
      fetch: (after, limit) => this.#connection().statements.scanExposures.all(experiment, after, limit),
      keyOf: (row) => row.user_id,
      map: exposureFromRow,
    });
  }

  async countExposures(experiment: string): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const row of this.#connection().statements.countExposures.all(experiment))
      counts[row.variant] = row.users;
    return counts;
  }

  // --- decision points ----------------------------------------------------------------------------

  async saveDecisionPoint(point: StoredDocument, expectedRevision: number | null): Promise<boolean> {
    const { statements } = this.#writable('save a decision point');
    return saveDocument(statements.decisionPoints, point, expectedRevision);
  }

  async getDecisionPoint(id: string): Promise<StoredDocument | null> {
    return getDocument(this.#connection().statements.decisionPoints, id);
  }

  async listDecisionPoints(): Promise<StoredDocument[]> {
    return this.#connection().statements.decisionPoints.list.all().map(documentFromRow);
  }

  async deleteDecisionPoint(id: string): Promise<boolean> {
    return this.#writable('delete a decision point').deleteDecisionPoint(id);
  }

  // --- decision log -------------------------------------------------------------------------------

  /**
   * On this connection, in one IMMEDIATE transaction per call, like closeDecisions: each call commits before
   * it returns, so appends and closes apply in the order they were called, a close always finds the
   * decisions appended before it, and its results come straight back. The background thread (which writes
   * impressions) would take the commit's fsync off this thread, but it answers only "done", runs behind
   * reads made here, and would have to carry both appends and closes to keep their order.
   */
  async appendDecisions(decisions: readonly LoggedDecision[]): Promise<void> {
    const open = this.#writable('append decisions');
    if (decisions.length > 0) open.appendDecisions(decisions);
  }

  /**
   * The serving path's queue, on the background thread when this connection has one (like impressions): the
   * commit's fsync stays off the serving thread. One transaction per batch, appends before closes.
   */
  async writeDecisionLog(
    appends: readonly LoggedDecision[],
    closes: readonly DecisionClose[],
  ): Promise<void> {
    const open = this.#writable('write the decision log');
    if (appends.length === 0 && closes.length === 0) return;
    if (this.background) return this.background.write('decisions', { appends, closes });
    open.writeDecisionLog(decisionLogRows(appends, closes));
  }

  async getDecision(id: string): Promise<LoggedDecision | null> {
    const row = this.#connection().statements.getDecision.get(id);
    return row ? decisionFromRow(row) : null;
  }

  async closeDecisions(closes: readonly DecisionClose[]): Promise<CloseResult[]> {
    const open = this.#writable('close decisions');
    return closes.length === 0 ? [] : open.closeDecisions(closes);
  }

  async expiredDecisions(before: number, limit: number): Promise<LoggedDecision[]> {
    const { statements } = this.#connection();
    assertCount('limit', limit, 0);
    return statements.expiredDecisions.all(before, limit).map(decisionFromRow);
  }

  /** Keyset pagination on the rowid through the (point, seq) index: append order, no temp sort. */
  scanDecisions(
    point: string,
    options: { readonly batchSize?: number } = {},
  ): AsyncGenerator<LoggedDecision[]> {
    return keysetScan(options, {
      start: 0,
      fetch: (after, limit) => this.#connection().statements.scanDecisions.all(point, after, limit),
      keyOf: (row) => row.seq,
      map: decisionFromRow,
    });
  }

  async decisionStats(point: string): Promise<DecisionLogStats> {
    const row = this.#connection().statements.decisionStats.get(point);
    return { decisions: row?.decisions ?? 0, closed: row?.closed ?? 0, rewardSum: row?.reward_sum ?? 0 };
  }

  // --- model artifacts ----------------------------------------------------------------------------

  async saveArtifact(artifact: NewArtifact): Promise<number> {
    return this.#writable('save an artifact').saveArtifact(artifact);
  }

  async loadArtifact(name: string, version?: number): Promise<StoredArtifact | null> {
    const { statements } = this.#connection();
    const row =
      version === undefined ? statements.latestArtifact.get(name) : statements.getArtifact.get(name, version);
    return row ? artifactFromRow(row) : null;
  }

  async listArtifacts(name: string): Promise<ArtifactInfo[]> {
    return this.#connection().statements.listArtifacts.all(name).map(artifactInfoFromRow);
  }

  // --- leases -------------------------------------------------------------------------------------
  // Expiry uses this machine's clock: every connection to one SQLite file runs on the same machine.

  async acquireLease(name: string, holder: string, ttlMs: number): Promise<LeaseAttempt> {
    const open = this.#writable('acquire a lease');
    assertCount('lease ttlMs', ttlMs, 1);
    return open.acquireLease(name, holder, ttlMs);
  }

  async renewLease(name: string, holder: string, ttlMs: number): Promise<Lease | null> {
    const { statements } = this.#writable('renew a lease');
    assertCount('lease ttlMs', ttlMs, 1);
    const row = statements.renewLease.get(Date.now() + ttlMs, name, holder);
    return row ? leaseFromRow(row) : null;
  }

  async releaseLease(name: string, holder: string): Promise<boolean> {
    return this.#writable('release a lease').statements.releaseLease.run(name, holder).changes > 0;
  }

  async expireEvents(before: number, limit: number): Promise<{ deleted: number; users: string[] }> {
    assertCount('expire limit', limit, 1);
    const { db, statements, forgetActivity } = this.#writable('expire events');
    return db
      .transaction(() => {
        const users = new Set<string>();
        const gone: { seq: number; user_id: string; ts: number }[] = [];
        for (const row of statements.logHead.all(limit)) {
          if (row.ts >= before) break;
          statements.deleteEvent.run(row.seq);
          // Rows of events the index has not reached yet do not exist: deleting nothing is fine.
          if (row.item_id !== null) statements.deleteItemEvent.run(row.item_id, row.ts, row.seq);
          statements.deleteUserEvent.run(row.user_id, row.ts, row.seq);
          users.add(row.user_id);
          gone.push(row);
        }
        forgetActivity.events(gone);
        return { deleted: gone.length, users: [...users] };
      })
      .immediate();
  }

  // --- activity over time (sqlite-activity.ts) ---------------------------------------------------

  async eventCounts(from: number, to: number, bucketMs: number): Promise<number[]> {
    if (!Number.isSafeInteger(bucketMs) || bucketMs < 60_000 || bucketMs % 60_000 !== 0) {
      throw new RangeError(`bucketMs must be a whole number of minutes, got ${bucketMs}`);
    }
    return this.#connection().activity.eventCounts(from, to, bucketMs);
  }

  async activeUsers(since: number): Promise<number> {
    return this.#connection().activity.activeUsers(since);
  }

  async activityTotals(): Promise<{ events: number; users: number }> {
    return this.#connection().activity.totals();
  }

  async recentUsers(options: { readonly prefix?: string; readonly limit: number }): Promise<UserActivity[]> {
    assertCount('limit', options.limit, 1);
    return this.#connection().activity.recentUsers(options.prefix ?? null, options.limit);
  }

  async recentEvents(options: RecentEventsOptions): Promise<RecentEvents> {
    assertCount('limit', options.limit, 1);
    return this.#connection().activity.recentEvents(options);
  }

  async decisionActivity(
    point: string,
    from: number,
    bucketMs: number,
    count: number,
  ): Promise<DecisionTimeline> {
    assertCount('bucketMs', bucketMs, 1);
    assertCount('count', count, 1);
    return this.#connection().activity.decisionActivity(point, from, bucketMs, count);
  }

  async servedListClicks(
    since: number,
    until: number,
    clickNames: readonly string[],
    ignoredNames: readonly string[],
  ): Promise<ServedListClicks> {
    return this.#connection().activity.servedListClicks(since, until, clickNames, ignoredNames);
  }

  // --- erasure -----------------------------------------------------------------------------------

  async eraseUser(userId: string, erasure: Erasure): Promise<ErasedRows> {
    this.#writable('erase a user');
    // Events the group commit still holds are the user's too.
    await this.#drainAppends();
    const { db, statements, forgetActivity } = this.#writable('erase a user');
    const erased = db
      .transaction(() => {
        const items = new Set<string>();
        const keys = statements.userEventKeys.all({ user: userId });
        for (const key of keys) {
          statements.deleteEvent.run(key.seq);
          if (key.item_id !== null) {
            statements.deleteItemEvent.run(key.item_id, key.ts, key.seq);
            items.add(key.item_id);
          }
        }
        statements.eraseUserEvents.run(userId);
        forgetActivity.user(userId, keys);
        let artifacts = 0;
        for (const { name, version, payload } of erasure.artifacts) {
          artifacts += statements.replaceArtifactPayload.run(payload, name, version).changes;
        }
        forgetPlannerSamples(db, userId);
        statements.setMeta.run(LAST_ERASURE_KEY, JSON.stringify(erasure.at));
        return {
          events: keys.length,
          impressions: statements.eraseImpressions.run(userId).changes,
          exposures: statements.eraseExposures.run(userId).changes,
          decisions: statements.eraseDecisions.run(userId).changes,
          profile: statements.eraseProfile.run(userId).changes > 0,
          consent: statements.eraseConsent.run(userId).changes > 0,
          artifacts,
          items: [...items],
        };
      })
      .immediate();
    return { ...erased, diskCleared: await emptyWal(db) };
  }

  // --- identity ----------------------------------------------------------------------------------

  async mergeUser(fromId: string, toId: string): Promise<MergedRows> {
    this.#writable('merge users');
    if (fromId === toId) return { events: 0, items: [] };
    // Events the group commit still holds are the anonymous user's too.
    await this.#drainAppends();
    const { db, statements, forgetActivity } = this.#writable('merge users');
    return db
      .transaction(() => {
        const items = statements.userEventItems.all({ user: fromId }).map((row) => row.item_id);
        const rename = { user: fromId, to: toId };
        const events = statements.mergeUserEvents.run(rename).changes;
        statements.mergeUserIndex.run(rename);
        // The dashboard's per-user activity follows the events (sqlite-activity.ts).
        if (events > 0) forgetActivity.merge(fromId, toId);
        return { events, items };
      })
      .immediate();
  }

  async lastErasureAt(): Promise<number | null> {
    const value = this.#connection().statements.getMeta.get(LAST_ERASURE_KEY);
    return value === undefined ? null : parseJson<number>(value);
  }

  // --- one person's data (access requests) --------------------------------------------------------

  async userImpressions(userId: string): Promise<Impression[]> {
    return this.#connection().statements.userImpressions.all(userId).map(impressionFromRow);
  }

  async userExposures(userId: string): Promise<Exposure[]> {
    return this.#connection().statements.userExposures.all(userId).map(exposureFromRow);
  }

  async userDecisions(userId: string): Promise<LoggedDecision[]> {
    return this.#connection().statements.userDecisions.all(userId).map(decisionFromRow);
  }

  // --- consent -----------------------------------------------------------------------------------

  async setConsent(userId: string, consent: Consent, at: number): Promise<void> {
    this.#writable('set consent').statements.setConsent.run(userId, consent, at);
  }

  async getConsent(userId: string): Promise<Consent | null> {
    const value = this.#connection().statements.getConsent.get(userId);
    return value === undefined ? null : consentFromRow(value);
  }

  async getConsents(userIds: readonly string[]): Promise<Map<string, Consent>> {
    const { getConsent } = this.#connection().statements;
    const consents = new Map<string, Consent>();
    for (const userId of userIds) {
      const value = getConsent.get(userId);
      if (value !== undefined) consents.set(userId, consentFromRow(value));
    }
    return consents;
  }

  async listConsents(except: Consent): Promise<Map<string, Consent>> {
    const out = new Map<string, Consent>();
    for (const row of this.#connection().statements.listConsents.iterate(except)) {
      out.set(row.user_id, consentFromRow(row.consent));
    }
    return out;
  }

  // --- access keys and the audit log -------------------------------------------------------------

  async createApiKey(key: StoredApiKey): Promise<void> {
    this.#writable('create an API key').statements.insertApiKey.run(apiKeyToRow(key));
  }

  async getApiKey(id: string): Promise<StoredApiKey | null> {
    const row = this.#connection().statements.getApiKey.get(id);
    return row ? apiKeyFromRow(row) : null;
  }

  async listApiKeys(): Promise<StoredApiKey[]> {
    return this.#connection().statements.listApiKeys.all().map(apiKeyFromRow);
  }

  async revokeApiKey(id: string, at: number): Promise<StoredApiKey | null> {
    const row = this.#writable('revoke an API key').statements.revokeApiKey.get(at, id);
    return row ? apiKeyFromRow(row) : null;
  }

  async countApiKeys(): Promise<number> {
    return this.#connection().statements.countApiKeys.get() ?? 0;
  }

  async appendAudit(entries: readonly AuditEntry[]): Promise<void> {
    const { db, statements } = this.#writable('append to the audit log');
    db.transaction(() => {
      for (const entry of entries) statements.insertAudit.run(entry);
    })();
  }

  async listAudit(options: {
    readonly afterSeq?: number;
    readonly limit: number;
    readonly app?: string;
  }): Promise<StoredAuditEntry[]> {
    assertCount('audit limit', options.limit, 1);
    return this.#connection().statements.listAudit.all({
      after: options.afterSeq ?? 0,
      app: options.app ?? null,
      limit: options.limit,
    });
  }

  // --- metadata -----------------------------------------------------------------------------------

  async getMeta(key: string): Promise<JsonValue | null> {
    const value = this.#connection().statements.getMeta.get(key);
    return value === undefined ? null : parseJson<JsonValue>(value);
  }

  async setMeta(key: string, value: JsonValue): Promise<void> {
    const { statements } = this.#writable('set metadata');
    if (key === SCHEMA_VERSION_KEY || key === ITEM_EVENTS_THROUGH_KEY || key === LAST_ERASURE_KEY) {
      throw new Error(`The meta key "${key}" is managed by the store and cannot be set`);
    }
    const json = JSON.stringify(value);
    // Committed by the background thread where there is one: the commit's fsync is then not the serving
    // thread's to wait for, nor is the write lock while the thread holds it for a batch of the logs.
    if (this.background?.running) return this.background.write('meta', [key, json]);
    statements.setMeta.run(key, json);
  }

  // --- connection ---------------------------------------------------------------------------------

  /** The settings the connection actually runs with (read back from SQLite, not from the options). */
  settings(): SqliteSettings {
    const { db } = this.#connection();
    const synchronous = SYNCHRONOUS_NAMES[Number(db.pragma('synchronous', { simple: true }))];
    if (!synchronous) throw new Error('SQLite reported an unknown synchronous level');
    return {
      journalMode: String(db.pragma('journal_mode', { simple: true })),
      synchronous,
      busyTimeoutMs: Number(db.pragma('busy_timeout', { simple: true })),
    };
  }

  /** Idempotent. Any later call rejects with `StoreClosedError`. */
  async close(): Promise<void> {
    const open = this.#open;
    if (!open) return;
    await this.#drainAppends();
    await this.reader?.close();
    this.#open = null;
    await this.background?.close();
    // Recommended before closing a long-lived connection: refreshes planner statistics cheaply.
    if (!this.readonly) open.db.pragma('optimize');
    open.db.close();
  }

  #connection(): Open {
    if (!this.#open) throw new StoreClosedError(this.path);
    return this.#open;
  }

  #writable(operation: string): Open {
    const open = this.#connection();
    if (this.readonly) throw new StoreReadonlyError(this.path, operation);
    return open;
  }
}

/**
 * One close inside the batch's transaction. The conditional UPDATE decides: a row changed means this close
 * set the outcome; otherwise the decision either had one already (an earlier close, possibly earlier in
 * this batch) or does not exist.
 */
function closeInTransaction(statements: Statements, close: DecisionClose): CloseResult {
  const recorded = statements.closeDecision.get(...outcomeParams(close.outcome), close.id);
  if (recorded) return { status: 'recorded', decision: decisionFromRow(recorded) };
  const existing = statements.getDecision.get(close.id);
  const outcome = existing ? outcomeFromRow(existing) : null;
  return outcome ? { status: 'closed', outcome } : { status: 'unknown' };
}

/** Compare-and-set on a document table (experiments, decision points): see `Store.saveExperiment`. */
function saveDocument(
  statements: DocumentStatements,
  document: StoredDocument,
  expectedRevision: number | null,
): boolean {
  const body = JSON.stringify(document.body);
  const result =
    expectedRevision === null
      ? statements.insert.run(document.id, document.revision, body)
      : statements.update.run(document.revision, body, document.id, expectedRevision);
  return result.changes > 0;
}

function getDocument(statements: DocumentStatements, id: string): StoredDocument | null {
  const row = statements.get.get(id);
  return row ? documentFromRow(row) : null;
}

/**
 * ANALYZE keeps sample keys of each index in `sqlite_stat4` (better-sqlite3 builds SQLite with STAT4), and
 * `PRAGMA optimize` refreshes them: a sample can be the erased user's id. When one is, every sample goes,
 * not only those: deleting single rows of the small table can leave their bytes in the unused part of a
 * page that a connection without secure_delete (an ANALYZE run by hand) wrote, while emptying it frees
 * and zeroes every page. The planner does with `sqlite_stat1` until the next ANALYZE.
 */
function forgetPlannerSamples(db: Database.Database, userId: string): void {
  const hasStat4 = db
    .prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'sqlite_stat4'")
    .get();
  if (hasStat4 === undefined) return;
  const named = db
    .prepare('SELECT 1 FROM sqlite_stat4 WHERE instr(sample, ?) > 0 LIMIT 1')
    .get(Buffer.from(userId, 'utf8'));
  if (named !== undefined) db.exec('DELETE FROM sqlite_stat4');
}

/** Attempts, WAL_CLEAR_RETRY_MS apart, at a checkpoint that empties the WAL while readers come and go. */
const WAL_CLEAR_ATTEMPTS = 20;
const WAL_CLEAR_RETRY_MS = 50;

/**
 * Copies the WAL into the database and truncates it to nothing, so the frames that held deleted rows
 * are gone from the disk. A reader in the middle of a long read keeps the WAL in use: retried for about
 * a second, then left to the background checkpoints (false).
 */
async function emptyWal(db: Database.Database): Promise<boolean> {
  for (let attempt = 0; attempt < WAL_CLEAR_ATTEMPTS; attempt++) {
    const [result] = db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
    if (result?.busy === 0) return true;
    await new Promise((resolve) => setTimeout(resolve, WAL_CLEAR_RETRY_MS));
  }
  return false;
}
