import type { Item, User } from '../catalog/types.js';
import type { AppendResult, TrackedEvent } from '../events/types.js';
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
  /** A user's events, newest first (by timestamp, then insertion order). */
  userEvents(userId: string, options?: UserEventsOptions): Promise<TrackedEvent[]>;
  /**
   * Streams every event in insertion order, in batches, for training and batch jobs. A cursor, not one
   * giant array: the event log can be larger than memory.
   */
  scanEvents(options?: ScanOptions): AsyncIterable<TrackedEvent[]>;
  /** Events that carry `properties.request_id` equal to `requestId`, in insertion order. */
  eventsForRequest(requestId: string): Promise<TrackedEvent[]>;
  countEvents(): Promise<number>;

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

  // --- model artifacts ----------------------------------------------------------------------------
  /** Saves a new artifact version. Versions of one name are unique and increase; a repeat is an error. */
  saveArtifact(artifact: StoredArtifact): Promise<void>;
  /** The given version, or the latest one when `version` is omitted. */
  loadArtifact(name: string, version?: number): Promise<StoredArtifact | null>;
  /** Newest first, without payloads. */
  listArtifacts(name: string): Promise<ArtifactInfo[]>;
  /** The next free version number for `name` (1 for the first). */
  nextArtifactVersion(name: string): Promise<number>;

  // --- metadata -----------------------------------------------------------------------------------
  getMeta(key: string): Promise<JsonValue | null>;
  setMeta(key: string, value: JsonValue): Promise<void>;

  close(): Promise<void>;
}

export interface AppendOptions {
  readonly createMissingItems: boolean;
}

export interface UserEventsOptions {
  /** At most this many (default 100). */
  readonly limit?: number;
  /** Only events with timestamp ≥ since. */
  readonly since?: EpochMs;
}

export interface ScanOptions {
  /** Rows per batch (default 10,000). */
  readonly batchSize?: number;
  /** Only events that name an item. */
  readonly withItemOnly?: boolean;
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

export interface StoredArtifact {
  readonly name: string;
  readonly version: number;
  readonly createdAt: EpochMs;
  readonly meta: JsonValue;
  readonly payload: Uint8Array;
}
