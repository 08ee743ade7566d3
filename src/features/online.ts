import type { TrackedEvent } from '../events/index.js';
import type { Clock } from '../shared/clock.js';
import { LruMap, type LruEntry } from '../shared/lru.js';
import type { Store } from '../store/index.js';
import { FeatureAccumulator, foldNewestFirst, type FeatureRow } from './accumulator.js';
import { pairItem } from './batch.js';
import type { EventReader, FeatureEvent, ItemLookup } from './feature-event.js';
import type { AccumulatorPlan, FeatureSet } from './feature-set.js';
import { SnapshotLoader, type FeatureSnapshots, type SnapshotActivity } from './snapshots.js';

/** Every event a load reads: `userEvents` and `itemEvents` take a limit, and a load wants them all. */
const ALL = Number.MAX_SAFE_INTEGER;

/** What a load gives: the accumulator, and the ids of the events it read (to skip among those committed meanwhile). */
interface Loaded {
  readonly accumulator: FeatureAccumulator;
  readonly eventIds: ReadonlySet<string>;
}

/** A committed event and its log position. */
interface Positioned {
  readonly event: FeatureEvent;
  readonly position: number;
}

/** A load under way and the events committed for its key meanwhile. */
interface Loading {
  readonly promise: Promise<FeatureAccumulator>;
  readonly pending: Positioned[];
  /** Forgotten while it read: what it read may predate another instance's events, so it is not kept. */
  stale: boolean;
}

/**
 * Accumulators of one entity (users or items), bounded in bytes, loaded from the store on a miss and kept
 * up to date by every committed event. A load reads what the accumulator needs: a user's whole history
 * (lifetime aggregates; once per load, as `UserHistories` reads a user's totals), an item's events within
 * the longest item window (item features are windowed). Events committed while a load reads are applied
 * after it unless the read already saw them (same event id: ids are unique in the store), or the shared
 * snapshot it started from folds them (a log position at or below the snapshot's, `heldThrough`).
 */
class AccumulatorCache {
  readonly #cache: LruMap<string, FeatureAccumulator>;
  readonly #loading = new Map<string, Loading>();
  /**
   * Per held key, the events its load read while they were in flight (committed, not yet recorded): their
   * `record` must not add them again. Emptied as they are recorded.
   */
  readonly #readEarly = new Map<string, Set<string>>();

  constructor(
    capacityBytes: number,
    private readonly load: (key: string, now: number) => Promise<Loaded>,
    /** Ids of events handed to the store and not yet recorded (`OnlineFeatures.expect`). */
    private readonly inFlight: ReadonlyMap<string, number>,
  ) {
    this.#cache = new LruMap(capacityBytes, (accumulator) => accumulator.bytes);
  }

  get stats(): { readonly entries: number; readonly bytes: number } {
    return { entries: this.#cache.size, bytes: this.#cache.weight };
  }

  /**
   * Where an event for `key` goes: the cached accumulator's entry, a load's pending list, or nowhere (not
   * held). One map lookup when held: this runs twice for every event ingested.
   */
  target(key: string): LruEntry<FeatureAccumulator> | Positioned[] | undefined {
    return this.#cache.entry(key) ?? (this.#loading.size === 0 ? undefined : this.#loading.get(key)?.pending);
  }

  /** Folds an event into what `target` found for `key`, and re-weighs a held accumulator. */
  fold(
    key: string,
    target: LruEntry<FeatureAccumulator> | Positioned[],
    event: FeatureEvent,
    position: number,
    now: number,
  ): void {
    if (Array.isArray(target)) {
      target.push({ event, position });
      return;
    }
    if (position <= target.value.heldThrough) return;
    if (this.#readEarly.size > 0 && this.#readEarly.get(key)?.has(event.eventId) === true) return;
    target.value.add(event);
    target.value.advance(now);
    this.#cache.reweigh(target);
  }

  get(key: string, now: number): Promise<FeatureAccumulator> {
    const cached = this.#cache.get(key);
    if (cached !== undefined) return Promise.resolve(cached);
    let loading = this.#loading.get(key);
    if (loading === undefined) {
      const pending: Positioned[] = [];
      loading = { pending, promise: this.#load(key, now, pending), stale: false };
      this.#loading.set(key, loading);
    }
    return loading.promise;
  }

  /** The event, in flight for `key`, has been recorded (or its append failed). */
  settled(key: string, eventId: string): void {
    const early = this.#readEarly.get(key);
    if (early === undefined) return;
    early.delete(eventId);
    if (early.size === 0) this.#readEarly.delete(key);
  }

  /** Drops the key's accumulator; a load under way still answers its callers but is not kept. */
  forget(key: string): void {
    this.#cache.delete(key);
    this.#readEarly.delete(key);
    const loading = this.#loading.get(key);
    if (loading !== undefined) loading.stale = true;
  }

  /** Drops everything held (another instance's changes may have been missed). */
  clear(): void {
    this.#cache.clear();
    this.#readEarly.clear();
    for (const loading of this.#loading.values()) loading.stale = true;
  }

  async #load(key: string, now: number, pending: Positioned[]): Promise<FeatureAccumulator> {
    try {
      const { accumulator, eventIds } = await this.load(key, now);
      accumulator.advance(now);
      for (const { event, position } of pending) {
        if (position > accumulator.heldThrough && !eventIds.has(event.eventId)) accumulator.add(event);
      }
      if (this.#loading.get(key)?.stale !== true) {
        this.#cache.set(key, accumulator);
        this.#noteReadEarly(key, eventIds);
      }
      return accumulator;
    } finally {
      this.#loading.delete(key);
    }
  }

  /** Remembers which of the events in flight the key's load read (the smaller set is walked). */
  #noteReadEarly(key: string, eventIds: ReadonlySet<string>): void {
    this.#readEarly.delete(key);
    if (this.inFlight.size === 0) return;
    const early = new Set<string>();
    if (this.inFlight.size < eventIds.size) {
      for (const id of this.inFlight.keys()) if (eventIds.has(id)) early.add(id);
    } else for (const id of eventIds) if (this.inFlight.has(id)) early.add(id);
    if (early.size > 0) this.#readEarly.set(key, early);
  }
}

/** An accumulator of every event in `events` (newest first, as the store returns them). */
function folded(plan: AccumulatorPlan, reader: EventReader, events: readonly TrackedEvent[]): Loaded {
  const accumulator = new FeatureAccumulator(plan);
  foldNewestFirst(accumulator, reader, events);
  return { accumulator, eventIds: new Set(events.map((e) => e.eventId)) };
}

/**
 * Online feature values: every active user's and item's accumulator in memory, updated by each committed
 * event (`record`, called once per append like `UserHistories.record`) and read at the engine's clock
 * with the same rule as batch: a value at `now` is computed from exactly the events with timestamp < now.
 * An event stamped in the future counts once its time has come; a late one counts in every window its
 * timestamp falls in. Never scans the log: a miss reads one user's events, or one item's recent ones.
 *
 * Exact while every append goes through this process; with several instances, the others' appends arrive
 * as cluster messages (`cluster/`) that drop what they changed (`forgetChanged`).
 * Bounded in bytes: three quarters for users, a quarter for items.
 */
export class OnlineFeatures {
  readonly #users: AccumulatorCache;
  readonly #items: AccumulatorCache;
  readonly #reader: EventReader;
  /** The latest time read or recorded at: reads never go back (an accumulator cannot). */
  #now = -Infinity;
  /** Users' accumulators shared with the deployment's other instances, when it shares them. */
  #snapshots: SnapshotLoader | null = null;
  /** Events handed to the store and not yet recorded, by id, with how many appends carry each. */
  readonly #inFlight = new Map<string, number>();

  constructor(
    store: Store,
    readonly set: FeatureSet,
    private readonly items: ItemLookup,
    capacityBytes: number,
    private readonly clock: Clock,
  ) {
    this.#reader = set.eventReader(items);
    const userBytes = Math.max(1, Math.floor(capacityBytes * 0.75));
    this.#users = new AccumulatorCache(
      userBytes,
      async (userId) => {
        const shared = this.#snapshots;
        if (shared !== null) return shared.load(userId);
        return folded(set.userPlan, this.#reader, await store.userEvents(userId, { limit: ALL }));
      },
      this.#inFlight,
    );
    this.#items = new AccumulatorCache(
      Math.max(1, capacityBytes - userBytes),
      async (itemId, now) =>
        folded(
          set.itemPlan,
          this.#reader,
          await store.itemEvents(itemId, { since: now - set.itemPlan.spanMs, limit: ALL }),
        ),
      this.#inFlight,
    );
  }

  /**
   * Loads users through snapshots shared by the deployment's instances (`snapshots.ts`), and takes new
   * ones after loads that read many events. Returns the loader (`settled` and `close` for shutdown).
   */
  shareSnapshots(
    snapshots: FeatureSnapshots,
    store: Store,
    onError: (error: unknown) => void,
    observe?: (what: SnapshotActivity) => void,
  ): SnapshotLoader {
    this.#snapshots = new SnapshotLoader(
      snapshots,
      store,
      this.set.userPlan,
      this.#reader,
      this.clock,
      onError,
      observe,
    );
    return this.#snapshots;
  }

  get stats(): { readonly users: number; readonly items: number; readonly bytes: number } {
    const users = this.#users.stats;
    const items = this.#items.stats;
    return { users: users.entries, items: items.entries, bytes: users.bytes + items.bytes };
  }

  /** The engine's time, never earlier than a time already used. */
  now(): number {
    this.#now = Math.max(this.#now, this.clock());
    return this.#now;
  }

  /**
   * Events about to be handed to the store, before their append: once it commits, a load (another
   * request's) can read them before their `record` runs, and that `record` must then not add them to the
   * accumulator the load made. Each is settled by `record`, or by `abandon` when the append fails.
   */
  expect(events: readonly TrackedEvent[]): void {
    for (const { eventId } of events) this.#inFlight.set(eventId, (this.#inFlight.get(eventId) ?? 0) + 1);
  }

  /** The append of events given to `expect` failed: they are no longer in flight. */
  abandon(events: readonly TrackedEvent[]): void {
    for (const event of events) this.#settle(event);
  }

  /**
   * Folds newly committed events into the accumulators held for their users and items. `positions` is
   * the store's answer for the same events: duplicates (`null`) were not committed now and change nothing.
   * Users and items neither cached nor loading are left alone: their next load reads the events. An
   * accumulator loaded after the events committed (`expect`), or restored from a snapshot taken after, already
   * has them.
   * Each accumulator is advanced and re-weighed as its event lands (both cost nothing when nothing
   * changed): collecting the touched ones per batch in maps cost more than it saved (~1.7 µs an event).
   */
  record(events: readonly TrackedEvent[], positions: readonly (number | null)[]): void {
    this.#fold(events, positions);
    if (this.#inFlight.size > 0) for (const event of events) this.#settle(event);
  }

  #fold(events: readonly TrackedEvent[], positions: readonly (number | null)[]): void {
    const now = this.now();
    for (let index = 0; index < events.length; index++) {
      const position = positions[index];
      if (position === null || position === undefined) continue;
      const event = events[index]!;
      const user = this.#users.target(event.userId);
      const item = event.itemId === null ? undefined : this.#items.target(event.itemId);
      if (user === undefined && item === undefined) continue;
      const featureEvent = this.#reader.read(event);
      if (user !== undefined) this.#users.fold(event.userId, user, featureEvent, position, now);
      if (item !== undefined) this.#items.fold(event.itemId!, item, featureEvent, position, now);
    }
  }

  /** One append of the event is over: when it was the last in flight, no load's note of it is needed. */
  #settle(event: TrackedEvent): void {
    const count = this.#inFlight.get(event.eventId);
    if (count === undefined) return;
    if (count > 1) {
      this.#inFlight.set(event.eventId, count - 1);
      return;
    }
    this.#inFlight.delete(event.eventId);
    this.#users.settled(event.userId, event.eventId);
    if (event.itemId !== null) this.#items.settled(event.itemId, event.eventId);
  }

  /** A user's features now; `known` is false when the store has no event of theirs. */
  async user(
    userId: string,
  ): Promise<{ readonly row: FeatureRow; readonly known: boolean; readonly at: number }> {
    const now = this.now();
    const accumulator = await this.#users.get(userId, now);
    const at = this.#advanced(accumulator);
    return { row: accumulator.read(this.set.user, at), known: accumulator.eventCount > 0, at };
  }

  /** A user's, an item's and their pair's features, all at one time. */
  async userWithItem(
    userId: string,
    itemId: string,
  ): Promise<{
    readonly at: number;
    readonly known: boolean;
    readonly itemKnown: boolean;
    readonly user: FeatureRow;
    readonly item: FeatureRow;
    readonly pair: FeatureRow;
  }> {
    const now = this.now();
    const [user, item] = await Promise.all([this.#users.get(userId, now), this.#items.get(itemId, now)]);
    const at = this.#advanced(user);
    item.advance(at);
    return {
      at,
      known: user.eventCount > 0,
      itemKnown: item.eventCount > 0,
      user: user.read(this.set.user, at),
      item: item.read(this.set.item, at),
      pair: user.read(this.set.userItem, at, pairItem(itemId, this.items)),
    };
  }

  /** An item's features now; `known` is false when it had no event within the longest item window. */
  async item(
    itemId: string,
  ): Promise<{ readonly row: FeatureRow; readonly known: boolean; readonly at: number }> {
    const now = this.now();
    const accumulator = await this.#items.get(itemId, now);
    const at = this.#advanced(accumulator);
    return { row: accumulator.read(this.set.item, at), known: accumulator.eventCount > 0, at };
  }

  /**
   * Drops what is held for a user and, after an erasure, for the items their events named (an item's
   * accumulator can hold its users' ids, for distinct counts); the next read loads each again.
   */
  forgetUser(userId: string, items: readonly string[] = []): void {
    this.#users.forget(userId);
    for (const itemId of items) this.#items.forget(itemId);
  }

  /**
   * Drops the user's shared snapshot, where there is one: an erasure or a merge rewrote events it folds.
   * Throws when the snapshot store does not answer (the caller decides whether that fails the change).
   */
  async forgetSnapshot(userId: string): Promise<void> {
    await this.#snapshots?.forget(userId);
  }

  /** As `forgetSnapshot`, never failing: retried until Redis answers, the snapshot unused meanwhile. */
  async forgetSnapshotSoon(userId: string): Promise<void> {
    await this.#snapshots?.forgetSoon(userId);
  }

  /**
   * Another instance stored events of these users about these items: what is held for them misses those
   * events, so it is dropped and read again (with them) on next use.
   */
  forgetChanged(users: readonly string[], items: readonly string[]): void {
    for (const userId of users) this.#users.forget(userId);
    for (const itemId of items) this.#items.forget(itemId);
  }

  /** Drops every accumulator (another instance's changes may have been missed). */
  clear(): void {
    this.#users.clear();
    this.#items.clear();
  }

  /** Moves an accumulator to the current time (a load may have awaited while the clock moved). */
  #advanced(accumulator: FeatureAccumulator): number {
    const at = this.now();
    accumulator.advance(at);
    return at;
  }
}
