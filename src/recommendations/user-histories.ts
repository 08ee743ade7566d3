import type { TrackedEvent } from '../events/index.js';
import { LruMap } from '../shared/lru.js';
import type { Store } from '../store/index.js';
import { BYTES_PER_ITEM, HistoryTables, UserHistory, type HistorySettings } from './user-history.js';

/** A committed event with its log position, as `UserHistory.withEvents` takes it. */
interface Positioned {
  readonly event: TrackedEvent;
  readonly position: number;
}

/** A history being read from the store, and the events committed for its user meanwhile. */
interface Loading {
  readonly promise: Promise<UserHistory>;
  readonly pending: Positioned[];
  /** Forgotten while it read: what it read may predate another instance's events, so it is not kept. */
  stale: boolean;
}

/**
 * Rough bytes a cached history costs beyond its arrays: the history object, its buffer and four views,
 * the map entry and the user id. Measured in bench/user-state.ts; used only to bound the cache.
 */
const OVERHEAD_BYTES = 600;

/**
 * Every active user's whole history (`UserHistory`), in memory so a request does not read the store, and
 * exact: read whole from the store's per-item aggregates on first use (one range scan, whatever the number
 * of events), then kept up to date by `record`, which every committed append goes through once. Users
 * nobody has heard of are cached too (as empty histories), so asking again for them reads nothing.
 *
 * Exact while every append goes through this process; with several API instances the appends of the
 * others arrive as cluster messages (`cluster/`) that drop the users they changed (`forget`). Bounded in bytes, not users, since
 * one heavy user can weigh as much as a thousand light ones.
 */
export class UserHistories {
  readonly tables = new HistoryTables();
  readonly #cache: LruMap<string, UserHistory>;
  readonly #loading = new Map<string, Loading>();

  constructor(
    private readonly store: Store,
    readonly settings: HistorySettings,
    capacityBytes: number,
  ) {
    this.#cache = new LruMap(capacityBytes, (history) => history.size * BYTES_PER_ITEM + OVERHEAD_BYTES);
  }

  /** Users held in memory, and the bytes their histories take by the estimate above. */
  get stats(): { readonly users: number; readonly bytes: number } {
    return { users: this.#cache.size, bytes: this.#cache.weight };
  }

  get(userId: string): Promise<UserHistory> {
    const cached = this.#cache.get(userId);
    if (cached !== undefined) return Promise.resolve(cached);
    let loading = this.#loading.get(userId);
    if (loading === undefined) {
      const pending: Positioned[] = [];
      loading = { pending, promise: this.#load(userId, pending), stale: false };
      this.#loading.set(userId, loading);
    }
    return loading.promise;
  }

  /**
   * Folds newly committed events into the histories held for their users. `positions` is the store's
   * answer for the same events (`AppendResult.positions`): duplicates (`null`) were not committed now and
   * change nothing; every other event applies exactly once, since a history skips what its read already
   * included. Users neither cached nor being read are left alone: their next read includes the events.
   */
  record(events: readonly TrackedEvent[], positions: readonly (number | null)[]): void {
    const byUser = new Map<string, Positioned[]>();
    events.forEach((event, index) => {
      const position = positions[index];
      if (position === null || position === undefined || event.itemId === null) return;
      let list = byUser.get(event.userId);
      if (list === undefined) {
        list = [];
        byUser.set(event.userId, list);
      }
      list.push({ event, position });
    });
    for (const [userId, list] of byUser) {
      const cached = this.#cache.peek(userId);
      if (cached !== undefined) this.#cache.replace(userId, cached.withEvents(list, this.settings));
      else this.#loading.get(userId)?.pending.push(...list);
    }
  }

  /**
   * Drops a user's history (after an erasure, or another instance's events); the next request reads it
   * again. A read under way still answers its callers but is not kept: it may predate what changed.
   */
  forget(userId: string): void {
    this.#cache.delete(userId);
    const loading = this.#loading.get(userId);
    if (loading !== undefined) loading.stale = true;
  }

  /** Drops every history (another instance's changes may have been missed). */
  clear(): void {
    this.#cache.clear();
    for (const loading of this.#loading.values()) loading.stale = true;
  }

  async #load(userId: string, pending: Positioned[]): Promise<UserHistory> {
    try {
      let history = UserHistory.fromTotals(this.tables, await this.store.userItems(userId), this.settings);
      const newest = history.newestAt;
      if (newest !== null) {
        // The two reads are two snapshots (appends commit on another thread or instance meanwhile): the
        // window stops where the totals did, and what committed between them arrives as `pending` or a
        // later `record`, once. Without the bound it also came in the window, twice in the session.
        const { windowMs, windowEvents } = this.settings;
        const events = await this.store.userEvents(userId, {
          since: newest - windowMs,
          limit: windowEvents,
          throughSeq: history.through,
        });
        history = history.withWindow(events, this.settings);
      }
      // Events committed while the store was being read: those it did not include are above `through`.
      history = history.withEvents(pending, this.settings);
      if (this.#loading.get(userId)?.stale !== true) this.#cache.set(userId, history);
      return history;
    } finally {
      this.#loading.delete(userId);
    }
  }
}
