import type { TrackedEvent } from '../events/index.js';
import type { Store } from '../store/index.js';

/**
 * What serving reads of a past event. Context is left out to keep the cache small, except its `session_id`,
 * which tells the session stage which events belong to the current visit.
 */
export type HistoryEntry = Pick<
  TrackedEvent,
  'name' | 'itemId' | 'timestamp' | 'receivedAt' | 'properties'
> & {
  /** `context.session_id` as a string; absent when the event carried none. */
  readonly sessionId?: string;
};

/**
 * Each active user's newest events, kept in memory so a request does not read the event log, and kept
 * exact by recording every committed append. Exact only while every append goes through this process:
 * with several API instances this moves to Redis (ROADMAP, production path).
 *
 * Entries are newest first by (timestamp, arrival), the order `Store.userEvents` returns.
 */
export class RecentHistory {
  private readonly users = new Map<string, HistoryEntry[]>();
  /** Bumped by every append; a read that overlapped an append does not cache what it read. */
  private generation = 0;

  constructor(
    private readonly store: Store,
    private readonly limit: number,
    private readonly capacity: number,
  ) {}

  async get(userId: string): Promise<readonly HistoryEntry[]> {
    const cached = this.users.get(userId);
    if (cached) {
      // Map order is insertion order: re-inserting makes this user the most recently used.
      this.users.delete(userId);
      this.users.set(userId, cached);
      return cached;
    }
    const generation = this.generation;
    const events = await this.store.userEvents(userId, { limit: this.limit });
    const entries = events.map(toEntry);
    if (generation === this.generation) this.remember(userId, entries);
    return entries;
  }

  /**
   * Records newly committed events (not duplicates) into the cached histories they belong to. A history
   * that changes is replaced by a changed copy, never edited in place: an array `get` returned stays as it
   * was, so whatever was derived from it (a serving profile, see `buildProfile`) may be kept by identity.
   */
  record(events: readonly TrackedEvent[], duplicates: ReadonlySet<string>): void {
    this.generation += 1;
    const copied = new Set<string>();
    for (const event of events) {
      if (duplicates.has(event.eventId)) continue;
      let entries = this.users.get(event.userId);
      if (!entries) continue;
      // Newest first; a later arrival with an equal timestamp goes before (the store orders ties by seq).
      let at = 0;
      while (at < entries.length && entries[at]!.timestamp > event.timestamp) at += 1;
      if (at >= this.limit) continue;
      if (!copied.has(event.userId)) {
        // Setting an existing key keeps its place in the recency order, as editing in place did.
        entries = entries.slice();
        this.users.set(event.userId, entries);
        copied.add(event.userId);
      }
      entries.splice(at, 0, toEntry(event));
      if (entries.length > this.limit) entries.length = this.limit;
    }
  }

  private remember(userId: string, entries: HistoryEntry[]): void {
    this.users.set(userId, entries);
    if (this.users.size > this.capacity) {
      const oldest = this.users.keys().next().value;
      if (oldest !== undefined) this.users.delete(oldest);
    }
  }
}

function toEntry(event: TrackedEvent): HistoryEntry {
  return {
    name: event.name,
    itemId: event.itemId,
    timestamp: event.timestamp,
    receivedAt: event.receivedAt,
    properties: event.properties,
    sessionId: sessionIdOf(event),
  };
}

function sessionIdOf(event: TrackedEvent): string | undefined {
  const id = event.context['session_id'];
  return typeof id === 'string' || typeof id === 'number' ? String(id) : undefined;
}
