import type { Scope } from '../access/scopes.js';
import type { Consent } from '../privacy/consent.js';
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
import type { EpochMs, JsonValue } from '../shared/types.js';

/**
 * The one storage contract. The embedded SQLite store implements it today and a PostgreSQL store will
 * implement it next; both must pass `store.contract.ts`. Everything is async so that a networked
 * backend fits the same shape. Nothing outside `store/` writes SQL.
 */
export interface Store {
  /** The URL scheme this store was opened from: `sqlite` or `postgres`. */
  readonly backend: string;

  // --- events -------------------------------------------------------------------------------------
  /**
   * Commits the events atomically (all or none) and returns only after they are durable.
   * Events whose `eventId` is already stored are counted as duplicates and skipped, including a
   * repeat inside the same batch. With `createMissingItems`, unknown item ids get a catalog entry
   * (available, no categories, createdAt = the event's time) in the same transaction.
   */
  appendEvents(events: readonly TrackedEvent[], options: AppendOptions): Promise<AppendResult>;
  /**
   * A user's whole history in aggregate: one entry per (item, event name) the user has events for, in no
   * particular order. Always exactly what the stored events say (SQLite reads it from an index of them).
   */
  userItems(userId: string): Promise<UserItemTotal[]>;
  /**
   * A user's events, newest first (by timestamp, then insertion order), filtered by `options` (time and
   * log position) and then cut to its `limit`.
   */
  userEvents(userId: string, options?: UserEventsOptions): Promise<TrackedEvent[]>;
  /**
   * An item's events, newest first (by timestamp, then insertion order), as `userEvents` for a user: the
   * feature store reads an item's recent window from it on a cache miss (SQLite keeps an index for it).
   */
  itemEvents(itemId: string, options?: UserEventsOptions): Promise<TrackedEvent[]>;
  /**
   * Streams every event in insertion order, in batches, for training and batch jobs. A cursor, not one
   * giant array: the event log can be larger than memory. Without `throughSeq` the scan also yields events
   * committed while it runs; with it, exactly the events up to that position.
   */
  scanEvents(options?: ScanOptions): AsyncIterable<TrackedEvent[]>;
  /**
   * The position of the event log: the highest `seq` committed so far, 0 before the first event. Every
   * stored event has a unique `seq`; a backend must make sure that no event at or below a position this
   * returned can commit afterwards (SQLite commits appends one at a time; PostgreSQL runs them side by side
   * and answers only once those in flight have committed). The position never decreases, even if the
   * newest events are deleted later. A reader that fixes the position `p` and scans `{ throughSeq: p }`
   * reads one consistent prefix of the log, whatever is appended meanwhile.
   */
  lastEventSeq(): Promise<number>;
  /** Events that carry `properties.request_id` equal to `requestId`, in insertion order. */
  eventsForRequest(requestId: string): Promise<TrackedEvent[]>;
  countEvents(): Promise<number>;
  /**
   * Retention: deletes the oldest events of the log, in log order, while their timestamp is before
   * `before`, at most `limit` per call, with everything derived from them (the item and user indexes). It
   * stops at the first event that is not yet old enough, so an old event logged after a newer one goes when
   * that one does. Returns how many were deleted and whose they were (each user once).
   */
  expireEvents(
    before: EpochMs,
    limit: number,
  ): Promise<{ readonly deleted: number; readonly users: string[] }>;

  // --- catalog ------------------------------------------------------------------------------------
  /** Inserts or replaces items, atomically. */
  putItems(items: readonly Item[]): Promise<void>;
  getItem(id: string): Promise<Item | null>;
  /** Items ordered by id, after `after` (keyset pagination). */
  listItems(options: ListOptions): Promise<Item[]>;
  /** Streams the whole catalog, ordered by id. */
  scanItems(options?: { readonly batchSize?: number }): AsyncIterable<Item[]>;
  /** Returns whether the item existed. */
  deleteItem(id: string): Promise<boolean>;
  countItems(): Promise<number>;

  putUser(user: User): Promise<void>;
  getUser(id: string): Promise<User | null>;

  // --- impressions --------------------------------------------------------------------------------
  appendImpressions(impressions: readonly Impression[]): Promise<void>;
  getImpression(requestId: string): Promise<Impression | null>;
  /** Every logged impression, in the order they were stored, in batches (for experiment analysis). */
  scanImpressions(options?: { readonly batchSize?: number }): AsyncIterable<Impression[]>;
  /**
   * One user's impressions on `surface` logged at or after `since`, newest first (ties by request id),
   * at most `limit` (what the re-ranker's `user_item_shown` reads on a user's first request).
   */
  recentImpressions(
    userId: string,
    options: { readonly surface: string; readonly since: EpochMs; readonly limit: number },
  ): Promise<Impression[]>;

  // --- experiments --------------------------------------------------------------------------------
  /**
   * Stores an experiment's definition (a JSON document; `experiments/` owns its shape) under compare-and-set:
   * with `expectedRevision` null it is created and fails if the id exists; otherwise it replaces exactly the
   * revision the caller read. Returns false, changing nothing, when that does not hold (someone else wrote
   * first), so two instances editing one experiment never silently lose an edit.
   */
  saveExperiment(experiment: StoredExperiment, expectedRevision: number | null): Promise<boolean>;
  getExperiment(id: string): Promise<StoredExperiment | null>;
  /** Every experiment, ordered by id. */
  listExperiments(): Promise<StoredExperiment[]>;
  /**
   * Records exposures. A user keeps their earliest exposure per experiment (with its variant): a later one
   * changes nothing, an earlier one arriving late (another instance's batch) replaces it.
   */
  appendExposures(exposures: readonly Exposure[]): Promise<void>;
  /** An experiment's exposed users, each once, with their first exposure; ordered by user id. */
  scanExposures(experiment: string, options?: { readonly batchSize?: number }): AsyncIterable<Exposure[]>;
  /** Exposed users per variant. */
  countExposures(experiment: string): Promise<Record<string, number>>;

  // --- decision points ----------------------------------------------------------------------------
  /**
   * Stores a decision point's definition (a JSON document; `decisions/` owns its shape) under
   * compare-and-set, exactly as `saveExperiment`: null creates (false if the id exists), a revision
   * replaces exactly that revision (false if someone else wrote first).
   */
  saveDecisionPoint(point: StoredDocument, expectedRevision: number | null): Promise<boolean>;
  getDecisionPoint(id: string): Promise<StoredDocument | null>;
  /** Every decision point, ordered by id. */
  listDecisionPoints(): Promise<StoredDocument[]>;
  /**
   * Deletes the definition and the point's whole decision log, atomically, so that a point created later
   * under the same id starts from an empty log. Returns whether the definition existed.
   */
  deleteDecisionPoint(id: string): Promise<boolean>;

  // --- decision log -------------------------------------------------------------------------------
  /**
   * Appends decisions (ids unique; a repeated id is an error), atomically. Features are kept bit for bit.
   * Appends and closes issued by one caller apply in the order it issued them.
   */
  appendDecisions(decisions: readonly LoggedDecision[]): Promise<void>;
  /**
   * The serving path's queue: appends, then closes, committed together, with no answer per close (a close
   * of a decision that has an outcome changes nothing). A backend may write it off the serving thread;
   * successive calls apply in call order, and a read issued after the promise resolves sees the batch.
   */
  writeDecisionLog(appends: readonly LoggedDecision[], closes: readonly DecisionClose[]): Promise<void>;
  getDecision(id: string): Promise<LoggedDecision | null>;
  /**
   * Sets the outcome of each decision that has none, in one transaction, and says per close (same order)
   * what happened: `recorded` (with the decision as it now stands), `closed` (it already had an outcome,
   * which is returned and kept), `unknown` (no such decision). Atomic per decision across connections and
   * processes: of two closes racing for one decision exactly one is `recorded`.
   */
  closeDecisions(closes: readonly DecisionClose[]): Promise<CloseResult[]>;
  /**
   * Open decisions (no outcome) whose reward window ended before `before`, earliest deadline first, at most
   * `limit`: what the engine closes with the default reward.
   */
  expiredDecisions(before: EpochMs, limit: number): Promise<LoggedDecision[]>;
  /** A point's decisions in the order they were appended, in batches (for off-policy evaluation). */
  scanDecisions(point: string, options?: { readonly batchSize?: number }): AsyncIterable<LoggedDecision[]>;
  decisionStats(point: string): Promise<DecisionLogStats>;

  // --- one person's data (access requests) --------------------------------------------------------
  /** The lists served to the user, oldest first. */
  userImpressions(userId: string): Promise<Impression[]>;
  /** The user's first exposure to each experiment, by experiment id. */
  userExposures(userId: string): Promise<Exposure[]>;
  /** The decisions made for the user, in the order they were logged. */
  userDecisions(userId: string): Promise<LoggedDecision[]>;

  // --- erasure -----------------------------------------------------------------------------------
  /**
   * Erases a person, in one transaction: their events (with the item index's rows of them), impressions,
   * profile, consent, exposures and decisions are deleted; the given artifact versions get their new
   * payloads (the same versions with the user erased, which the engine encodes); `at` becomes the newest
   * erasure (`lastErasureAt`). Deleted content is overwritten, not only unlinked, and then cleared from
   * the write-ahead log (SQLite: secure_delete, planner samples, a TRUNCATE checkpoint), so that the bytes
   * are gone from the disk as well; `diskCleared` is false when a reader kept the log from being emptied
   * (what it holds goes at the next checkpoint that completes). PostgreSQL cannot promise it (dead tuples and
   * WAL segments keep the bytes until vacuum and recycling reuse them): its `diskCleared` is always false.
   */
  eraseUser(userId: string, erasure: Erasure): Promise<ErasedRows>;
  /**
   * When the newest erasure happened, or null before any: a training run that began reading the log
   * before it may hold an erased person and must not save its models (`training/train.ts`).
   */
  lastErasureAt(): Promise<EpochMs | null>;

  // --- identity ----------------------------------------------------------------------------------
  /**
   * Makes `fromId`'s events `toId`'s (an anonymous visitor who turned out to be a known user: Segment's
   * identify), in one transaction: each keeps its id, time and log position, so training positions and
   * idempotency are unchanged. Events still waiting for a group commit are included. Nothing happens when
   * the ids are equal. Returns how many events moved and the items they name.
   */
  mergeUser(fromId: string, toId: string): Promise<MergedRows>;

  // --- consent -----------------------------------------------------------------------------------
  /** Records a user's consent (`privacy/consent.ts`), replacing what was recorded before. */
  setConsent(userId: string, consent: Consent, at: EpochMs): Promise<void>;
  /** The user's recorded consent, or null when none was recorded (the engine's default applies). */
  getConsent(userId: string): Promise<Consent | null>;
  /**
   * The recorded consent of each of these users that has one (the others are absent): one read for a batch
   * of events, where one read per user would be a round trip each on a networked store.
   */
  getConsents(userIds: readonly string[]): Promise<Map<string, Consent>>;
  /** Every recorded consent other than `except` (the default, which needs no list): for training runs. */
  listConsents(except: Consent): Promise<Map<string, Consent>>;

  // --- access keys and the audit log -------------------------------------------------------------
  /** Stores a new API key (ids unique: a repeated id is an error). Only the key's hash is ever stored. */
  createApiKey(key: StoredApiKey): Promise<void>;
  getApiKey(id: string): Promise<StoredApiKey | null>;
  /** Every key, revoked ones included, oldest first (then by id). */
  listApiKeys(): Promise<StoredApiKey[]>;
  /** Marks the key revoked at `at`. Returns the key as it now stands, or null when no key has this id. */
  revokeApiKey(id: string, at: EpochMs): Promise<StoredApiKey | null>;
  /** Keys ever created, revoked ones included (none at all is what lets the embedded demo run open). */
  countApiKeys(): Promise<number>;
  /** Appends to the audit log of admin actions; the store numbers entries in append order. */
  appendAudit(entries: readonly AuditEntry[]): Promise<void>;
  /** Audit entries after `afterSeq` (default 0), oldest first, at most `limit`; with `app`, that app's only. */
  listAudit(options: {
    readonly afterSeq?: number;
    readonly limit: number;
    readonly app?: string;
  }): Promise<StoredAuditEntry[]>;

  // --- model artifacts ----------------------------------------------------------------------------
  /**
   * Saves the artifact as a new version of its name and returns that version: one more than the highest
   * saved so far (1 for the first). The number is chosen in the same atomic write that stores the
   * artifact, so concurrent savers — other connections and other processes included — never collide on a
   * version and never lose a save. Saved versions are immutable.
   */
  saveArtifact(artifact: NewArtifact): Promise<number>;
  /** The given version, or the highest one when `version` is omitted. */
  loadArtifact(name: string, version?: number): Promise<StoredArtifact | null>;
  /** Highest version first, without payloads. */
  listArtifacts(name: string): Promise<ArtifactInfo[]>;

  // --- leases -------------------------------------------------------------------------------------
  /**
   * Takes the named lease for `holder` for `ttlMs`, atomically: at most one holder at a time, across
   * connections and processes. Succeeds when the lease is free, expired (its holder stopped renewing:
   * crashed or hung), or already held by `holder` (then it is renewed and keeps its `acquiredAt`).
   * Otherwise it changes nothing and reports who holds the lease. PostgreSQL may back this with an
   * advisory lock plus a row naming the holder; the behaviour is what `store.contract.ts` checks.
   */
  acquireLease(name: string, holder: string, ttlMs: number): Promise<LeaseAttempt>;
  /**
   * Extends the holder's lease to `ttlMs` from now. Returns the lease, or `null` when `holder` no longer
   * holds it (it expired and was taken over, or was released); then nothing changes.
   */
  renewLease(name: string, holder: string, ttlMs: number): Promise<Lease | null>;
  /** Frees the lease if `holder` holds it; returns whether it did. Another holder's lease is left alone. */
  releaseLease(name: string, holder: string): Promise<boolean>;

  // --- activity over time (the dashboard) ---------------------------------------------------------
  /**
   * Events per bucket of their timestamp: `bucketMs` (a whole number of minutes) wide, from the minute of
   * `from` until `to`, oldest first, zero-filled. Always exactly what the stored events say.
   */
  eventCounts(from: EpochMs, to: EpochMs, bucketMs: number): Promise<number[]>;
  /** Distinct users with an event timestamped at or after `since`. */
  activeUsers(since: EpochMs): Promise<number>;
  /**
   * Stored events and distinct users with at least one, kept as events arrive and go: what
   * `countEvents()` counts, without reading the whole log.
   */
  activityTotals(): Promise<{ readonly events: number; readonly users: number }>;
  /** Users by their newest event, newest first; with `prefix`, only ids starting with it. */
  recentUsers(options: { readonly prefix?: string; readonly limit: number }): Promise<UserActivity[]>;
  /**
   * Events newest first by log position, with their positions, filtered (`RecentEventsOptions`). A search
   * by name alone may read only part of the log per call; `nextBefore` says where to go on either way.
   */
  recentEvents(options: RecentEventsOptions): Promise<RecentEvents>;
  /**
   * A decision point's log in `count` buckets of `bucketMs` from `from` (zero-filled), by decision time:
   * decisions, outcomes known, reward, exploration (`decisions/timeline.ts`); and how many came before.
   */
  decisionActivity(point: string, from: EpochMs, bucketMs: number, count: number): Promise<DecisionTimeline>;
  /**
   * Lists served in `[since, until)` and how many of them were clicked: an event of the same user whose
   * `request_id` is the list's (names in `ignoredNames`, impressions, excepted), or an event named in
   * `clickNames` by the same user on a listed item at or after the list and before `until`. Names match
   * by `normalizeEventName`.
   */
  servedListClicks(
    since: EpochMs,
    until: EpochMs,
    clickNames: readonly string[],
    ignoredNames: readonly string[],
  ): Promise<ServedListClicks>;

  // --- metadata -----------------------------------------------------------------------------------
  getMeta(key: string): Promise<JsonValue | null>;
  setMeta(key: string, value: JsonValue): Promise<void>;

  close(): Promise<void>;
}

/**
 * A definition stored as a document with a revision (experiments, decision points): the store keeps the
 * document, the owning folder gives it meaning.
 */
export interface StoredDocument {
  readonly id: string;
  readonly revision: number;
  readonly body: JsonValue;
}

/** An experiment's definition as stored. */
export type StoredExperiment = StoredDocument;

export interface Erasure {
  readonly at: EpochMs;
  /** Stored versions to replace, each with its payload re-encoded without the person. */
  readonly artifacts: readonly ArtifactRewrite[];
}

export interface ArtifactRewrite {
  readonly name: string;
  readonly version: number;
  readonly payload: Uint8Array;
}

/** What an erasure deleted (counts and flags: nothing here is personal). */
export interface ErasedRows {
  readonly events: number;
  readonly impressions: number;
  readonly exposures: number;
  readonly decisions: number;
  readonly profile: boolean;
  readonly consent: boolean;
  /** Artifact versions whose payloads were replaced (one that no longer existed is not counted). */
  readonly artifacts: number;
  /** The items the deleted events named, so that what is derived per item can be recomputed. */
  readonly items: readonly string[];
  /** Whether the deleted content is also gone from the write-ahead log (see `Store.eraseUser`). */
  readonly diskCleared: boolean;
}

/** What `Store.mergeUser` moved. */
export interface MergedRows {
  readonly events: number;
  /** The items the moved events name, so that what is derived per item and user can be recomputed. */
  readonly items: readonly string[];
}

/** A user's events on one item under one name, summed: what serving reads of a whole history. */
export interface UserItemTotal {
  readonly itemId: string;
  /** The event name as sent. */
  readonly name: string;
  readonly count: number;
  /** The latest of these events' times. */
  readonly lastAt: EpochMs;
  /** The log position (`AppendResult.positions`) of the latest of these events. */
  readonly lastSeq: number;
}

/** A user's activity: the newest event's time and how many events are stored. */
export interface UserActivity {
  readonly userId: string;
  readonly lastSeen: EpochMs;
  readonly events: number;
}

/** An event with its log position. */
export interface LoggedEvent {
  readonly seq: number;
  readonly event: TrackedEvent;
}

export interface RecentEventsOptions {
  readonly limit: number;
  /** Only positions below this. */
  readonly beforeSeq?: number;
  /** Only positions above this. */
  readonly afterSeq?: number;
  /** The event name exactly as stored. */
  readonly name?: string;
  readonly userId?: string;
  readonly itemId?: string;
}

export interface RecentEvents {
  readonly events: readonly LoggedEvent[];
  /** Pass as `beforeSeq` for older events; null when none remain. */
  readonly nextBefore: number | null;
}

export interface ServedListClicks {
  readonly lists: number;
  readonly clicked: number;
}

export interface AppendOptions {
  readonly createMissingItems: boolean;
}

/**
 * A window of a user's (or an item's) events. The filters combine (all must hold); `limit` then keeps the
 * newest of the events that pass them.
 */
export interface UserEventsOptions {
  /** At most this many (default 100). */
  readonly limit?: number;
  /** Only events with timestamp ≥ since. */
  readonly since?: EpochMs;
  /**
   * Only events with `seq > afterSeq` (a position from `lastEventSeq()`): what came after a state read
   * through that position, e.g. a snapshot of the user's aggregates. An integer ≥ 0.
   */
  readonly afterSeq?: number;
  /**
   * Only events with `seq ≤ throughSeq` (a position from `lastEventSeq()`): the user's part of one
   * consistent prefix of the log, whatever is appended meanwhile. An integer ≥ 0.
   */
  readonly throughSeq?: number;
}

export interface ScanOptions {
  /** Rows per batch (default 10,000). */
  readonly batchSize?: number;
  /** Only events that name an item. */
  readonly withItemOnly?: boolean;
  /** Only events with `seq > afterSeq` (a position from `lastEventSeq()`): resume after what was read. */
  readonly afterSeq?: number;
  /**
   * Only events with `seq ≤ throughSeq`: a position from `lastEventSeq()`. A training run fixes it when it
   * starts, so that what it read is exactly "every event up to the position" (`BundleInfo.position`).
   */
  readonly throughSeq?: number;
}

export interface ListOptions {
  readonly after?: string;
  readonly limit: number;
}

export interface ArtifactInfo {
  readonly name: string;
  readonly version: number;
  readonly createdAt: EpochMs;
  readonly meta: JsonValue;
  readonly bytes: number;
}

/** An artifact to save; the store gives it its version. */
export interface NewArtifact {
  readonly name: string;
  readonly createdAt: EpochMs;
  readonly meta: JsonValue;
  readonly payload: Uint8Array;
}

export interface StoredArtifact {
  readonly name: string;
  readonly version: number;
  readonly createdAt: EpochMs;
  readonly meta: JsonValue;
  readonly payload: Uint8Array;
}

/** An API key as stored: never the key itself, only its SHA-256 (`access/key-format.ts`). */
export interface StoredApiKey {
  readonly id: string;
  /** The app (tenant) whose data the key reaches. */
  readonly app: string;
  readonly scope: Scope;
  /** What the key is for, as its creator said (`web shop`, `CI`); null when unnamed. */
  readonly name: string | null;
  /** SHA-256 of the key, hex. */
  readonly hash: string;
  readonly createdAt: EpochMs;
  readonly revokedAt: EpochMs | null;
}

/**
 * One admin action: who (a key id, never a key), what (method and route pattern), on what (a resource id
 * that is not personal data, or null), when, and how it ended (the HTTP status).
 */
export interface AuditEntry {
  readonly at: EpochMs;
  readonly app: string;
  readonly actor: string;
  readonly action: string;
  readonly target: string | null;
  readonly status: number;
}

export interface StoredAuditEntry extends AuditEntry {
  readonly seq: number;
}

/** A named lease (e.g. the training lease): who holds it, since when, and until when unless renewed. */
export interface Lease {
  readonly name: string;
  readonly holder: string;
  readonly acquiredAt: EpochMs;
  readonly expiresAt: EpochMs;
}

export type LeaseAttempt =
  | { readonly acquired: true; readonly lease: Lease }
  /** `held` is the live lease of another holder. */
  | { readonly acquired: false; readonly held: Lease };
