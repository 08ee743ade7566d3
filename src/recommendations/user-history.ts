import {
  feedbackOf,
  normalizeEventName,
  type FeedbackConfig,
  type FeedbackKind,
  type TrackedEvent,
} from '../events/index.js';
import { Fingerprint, SetFingerprint } from '../shared/content-hash.js';
import type { UserItemTotal } from '../store/index.js';

/**
 * One recent feedback event, as the session stage reads it. Only the session window is kept raw (see
 * `HistorySettings`); everything older lives in the aggregate arrays of `UserHistory`.
 */
export interface HistoryEntry {
  readonly name: string;
  readonly itemId: string;
  readonly timestamp: number;
  /** `context.session_id` as a string; absent when the event carried none. */
  readonly sessionId?: string;
}

/** How a user's history is read; fixed for an engine's lifetime. */
export interface HistorySettings {
  readonly feedback: FeedbackConfig;
  /**
   * The session window (`SessionConfig.windowMs`): the feedback events this long before the user's newest
   * one are kept as events, for the session stage. It is the one place serving reads a window of events.
   */
  readonly windowMs: number;
  /** At most this many of them, newest first: a client that sends thousands in minutes is still bounded. */
  readonly windowEvents: number;
}

/**
 * Item ids as small integers. A user's state stores 4-byte ordinals rather than strings, sorted, so that
 * "has the user seen X" is a binary search and a million users' histories share one copy of each id.
 * Grows with the distinct items that cached histories name: bounded by the catalog, not by traffic.
 */
export class ItemOrdinals {
  readonly #byId = new Map<string, number>();
  readonly #ids: string[] = [];

  intern(itemId: string): number {
    let ordinal = this.#byId.get(itemId);
    if (ordinal === undefined) {
      ordinal = this.#ids.length;
      this.#byId.set(itemId, ordinal);
      this.#ids.push(itemId);
    }
    return ordinal;
  }

  /** The ordinal, or -1 for an id no history has named (then no history holds it). */
  find(itemId: string): number {
    return this.#byId.get(itemId) ?? -1;
  }

  id(ordinal: number): string {
    const id = this.#ids[ordinal];
    if (id === undefined) throw new RangeError(`no item with ordinal ${ordinal}`);
    return id;
  }

  get size(): number {
    return this.#ids.length;
  }
}

/**
 * Event names behind reasons ("because you bought X"), as 14-bit indices. Names come from senders; past
 * 16,383 distinct ones a new name is kept as "unknown" (the reason then says "interacted"), never an
 * unbounded table.
 */
class ActionNames {
  readonly #byName = new Map<string, number>();
  readonly #names: string[] = [''];

  index(name: string): number {
    let index = this.#byName.get(name);
    if (index === undefined) {
      if (this.#names.length > ACTION) return 0;
      index = this.#names.length;
      this.#byName.set(name, index);
      this.#names.push(name);
    }
    return index;
  }

  name(index: number): string | null {
    return index === 0 ? null : (this.#names[index] ?? null);
  }
}

/** The tables a cache's histories share: built once per engine. */
export class HistoryTables {
  readonly items = new ItemOrdinals();
  readonly actions = new ActionNames();
}

const REJECTED = 0x8000;
const PURCHASED = 0x4000;
const ACTION = 0x3fff;
/** Bytes per item: time 8, ordinal 4, weight 4, marks 2. */
export const BYTES_PER_ITEM = 18;

/**
 * A user's whole history, compact and exact: per distinct item the user gave feedback on (positive or
 * negative, not mere exposures), the summed feedback weight, the latest feedback time, whether they
 * turned it down or bought it, and their strongest action on it, in parallel typed arrays sorted by item
 * ordinal and backed by one buffer (18 bytes per item). Immutable: new events give a new history, so
 * whatever was derived from one (a serving profile, cached scores) stays valid by identity.
 *
 * `through` is the log position the history was read at: every event of the user with a position at or
 * below it is in, none above it; events recorded later apply only when above it, so each applies once.
 */
export class UserHistory {
  private constructor(
    readonly tables: HistoryTables,
    /** Item ordinals, ascending. */
    readonly items: Int32Array,
    /** Summed feedback weight (positive minus negative) per item. */
    readonly weights: Float32Array,
    /** Latest feedback event time per item. */
    readonly lastAt: Float64Array,
    private readonly marks: Uint16Array,
    /** Position of the user's newest feedback event; 0 when none. */
    readonly feedbackPosition: number,
    readonly through: number,
    /** The session window's feedback events, newest first (by time, later arrivals first on ties). */
    readonly recent: readonly HistoryEntry[],
  ) {}

  static empty(tables: HistoryTables): UserHistory {
    const arrays = allocate(0);
    return new UserHistory(tables, arrays.items, arrays.weights, arrays.lastAt, arrays.marks, 0, 0, []);
  }

  /**
   * The history from the store's aggregates (`Store.userItems`), without its session window yet (see
   * `withWindow`). `through` is the highest position among the totals.
   */
  static fromTotals(
    tables: HistoryTables,
    totals: readonly UserItemTotal[],
    settings: HistorySettings,
  ): UserHistory {
    let through = 0;
    let feedbackPosition = 0;
    const byItem = new Map<string, Accumulated>();
    for (const total of totals) {
      through = Math.max(through, total.lastSeq);
      const kind = kindOf(settings.feedback, total.name);
      if (kind === null) continue;
      feedbackPosition = Math.max(feedbackPosition, total.lastSeq);
      let entry = byItem.get(total.itemId);
      if (entry === undefined) {
        entry = { ordinal: tables.items.intern(total.itemId), weight: 0, lastAt: -Infinity, marks: 0 };
        byItem.set(total.itemId, entry);
      }
      accumulate(entry, tables, settings.feedback, total.name, kind, total.count, total.lastAt);
    }
    const entries = [...byItem.values()].sort((a, b) => a.ordinal - b.ordinal);
    const arrays = allocate(entries.length);
    entries.forEach((entry, k) => store(arrays, k, entry));
    return new UserHistory(
      tables,
      arrays.items,
      arrays.weights,
      arrays.lastAt,
      arrays.marks,
      feedbackPosition,
      through,
      [],
    );
  }

  /** The time of the user's newest feedback event, or `null` when there is none. */
  get newestAt(): number | null {
    let newest = -Infinity;
    for (let k = 0; k < this.lastAt.length; k++) newest = Math.max(newest, this.lastAt[k]!);
    return newest === -Infinity ? null : newest;
  }

  /**
   * This history with its session window taken from the user's newest events (newest first, as
   * `Store.userEvents` returns them; they must reach back `windowMs` from `newestAt`).
   */
  withWindow(newest: readonly TrackedEvent[], settings: HistorySettings): UserHistory {
    const recent = windowOf(newest.filter((e) => isFeedback(settings, e)).map(entryOf), settings);
    return new UserHistory(
      this.tables,
      this.items,
      this.weights,
      this.lastAt,
      this.marks,
      this.feedbackPosition,
      this.through,
      recent,
    );
  }

  /** A history built from events alone, in commit order (positions 1, 2, …): for tests and replays. */
  static fromEvents(
    tables: HistoryTables,
    events: readonly TrackedEvent[],
    settings: HistorySettings,
  ): UserHistory {
    const positioned = events.map((event, index) => ({ event, position: index + 1 }));
    return UserHistory.empty(tables).withEvents(positioned, settings);
  }

  /** Distinct items with feedback. */
  get size(): number {
    return this.items.length;
  }

  #fingerprint: string | null = null;

  /**
   * What this history holds as 64 bits in hex, the same in every process that read the same events
   * (ordinals and action indices are this process's; the fingerprint uses the ids and names they stand
   * for, and adds items in any order). Computed once per history: histories are immutable.
   */
  get fingerprint(): string {
    if (this.#fingerprint !== null) return this.#fingerprint;
    const items = new SetFingerprint();
    for (let k = 0; k < this.items.length; k++) {
      const marks = this.marks[k]!;
      items.add(
        new Fingerprint()
          .text(this.tables.items.id(this.items[k]!))
          .number(this.weights[k]!)
          .number(this.lastAt[k]!)
          .word(marks & ~ACTION)
          .text(this.tables.actions.name(marks & ACTION) ?? '')
          .lanes(),
      );
    }
    const whole = new Fingerprint().text(items.hex()).number(this.feedbackPosition);
    for (const entry of this.recent) {
      whole
        .text(entry.name)
        .text(entry.itemId)
        .number(entry.timestamp)
        .text(entry.sessionId ?? '');
    }
    this.#fingerprint = whole.hex();
    return this.#fingerprint;
  }

  /**
   * This history with newly committed events of this user folded in; events at or below `through` are
   * already in and are skipped. Returns this very history when nothing it keeps changes (exposures, events
   * without an item): identity then still means "same state".
   */
  withEvents(
    events: readonly { readonly event: TrackedEvent; readonly position: number }[],
    settings: HistorySettings,
  ): UserHistory {
    const changes = new Map<number, Accumulated>();
    const arrived: HistoryEntry[] = [];
    let feedbackPosition = this.feedbackPosition;
    for (const { event, position } of events) {
      if (position <= this.through || event.itemId === null) continue;
      const kind = kindOf(settings.feedback, event.name);
      if (kind === null) continue;
      const ordinal = this.tables.items.intern(event.itemId);
      let entry = changes.get(ordinal);
      if (entry === undefined) {
        const at = this.position(ordinal);
        entry =
          at < 0
            ? { ordinal, weight: 0, lastAt: -Infinity, marks: 0 }
            : {
                ordinal,
                weight: this.weights[at]!,
                lastAt: this.lastAt[at]!,
                marks: this.marks[at]!,
              };
        changes.set(ordinal, entry);
      }
      accumulate(entry, this.tables, settings.feedback, event.name, kind, 1, event.timestamp);
      feedbackPosition = Math.max(feedbackPosition, position);
      arrived.push(entryOf(event));
    }
    if (changes.size === 0) return this;

    const added = [...changes.values()].filter((e) => this.position(e.ordinal) < 0);
    added.sort((a, b) => a.ordinal - b.ordinal);
    const arrays = allocate(this.size + added.length);
    // Merge the old entries (updated where changed) with the new ones, keeping ordinals ascending.
    let a = 0;
    let out = 0;
    for (let k = 0; k < this.size; k++) {
      const ordinal = this.items[k]!;
      while (a < added.length && added[a]!.ordinal < ordinal) store(arrays, out++, added[a++]!);
      const changed = changes.get(ordinal);
      if (changed) store(arrays, out++, changed);
      else {
        arrays.items[out] = ordinal;
        arrays.weights[out] = this.weights[k]!;
        arrays.lastAt[out] = this.lastAt[k]!;
        arrays.marks[out] = this.marks[k]!;
        out++;
      }
    }
    while (a < added.length) store(arrays, out++, added[a++]!);

    // Newest first; on equal times the later arrival first (arrivals are in commit order, all after what
    // the window holds), as the store orders ties. The sort is stable.
    const merged = arrived.reverse().concat(this.recent);
    merged.sort((a, b) => b.timestamp - a.timestamp);
    const recent = windowOf(merged, settings);
    return new UserHistory(
      this.tables,
      arrays.items,
      arrays.weights,
      arrays.lastAt,
      arrays.marks,
      feedbackPosition,
      this.through,
      recent,
    );
  }

  /** The entry position of an item ordinal, or -1. */
  position(ordinal: number): number {
    const { items } = this;
    let low = 0;
    let high = items.length - 1;
    while (low <= high) {
      const mid = (low + high) >> 1;
      const value = items[mid]!;
      if (value === ordinal) return mid;
      if (value < ordinal) low = mid + 1;
      else high = mid - 1;
    }
    return -1;
  }

  /** The entry position of an item id, or -1 when the user gave it no feedback. */
  find(itemId: string): number {
    const ordinal = this.tables.items.find(itemId);
    return ordinal < 0 ? -1 : this.position(ordinal);
  }

  itemId(k: number): string {
    return this.tables.items.id(this.items[k]!);
  }

  /** Whether the user interacted with the item (any feedback, positive or negative). */
  has(itemId: string): boolean {
    return this.find(itemId) >= 0;
  }

  /** Whether the user ever turned the item down. */
  rejected(itemId: string): boolean {
    const k = this.find(itemId);
    return k >= 0 && this.rejectedAt(k);
  }

  purchased(itemId: string): boolean {
    const k = this.find(itemId);
    return k >= 0 && this.purchasedAt(k);
  }

  rejectedAt(k: number): boolean {
    return (this.marks[k]! & REJECTED) !== 0;
  }

  purchasedAt(k: number): boolean {
    return (this.marks[k]! & PURCHASED) !== 0;
  }

  /** The latest feedback time on the item, or `undefined` when the user gave it none. */
  lastSeenAt(itemId: string): number | undefined {
    const k = this.find(itemId);
    return k < 0 ? undefined : this.lastAt[k];
  }

  /** The name of the user's strongest positive event on the item ("purchased"), if any. */
  action(itemId: string): string | null {
    const k = this.find(itemId);
    return k < 0 ? null : this.actionAt(k);
  }

  actionAt(k: number): string | null {
    return this.tables.actions.name(this.marks[k]! & ACTION);
  }
}

/** One item's feedback while it is being summed. */
interface Accumulated {
  readonly ordinal: number;
  weight: number;
  lastAt: number;
  marks: number;
}

/** Positive or negative feedback kinds; `null` for exposures and events that are not feedback. */
type Feedback = Extract<FeedbackKind, { readonly kind: 'positive' | 'negative' }>;

const NO_PROPERTIES = Object.freeze({});

function kindOf(config: FeedbackConfig, name: string): Feedback | null {
  const kind = feedbackOf(config, { name, properties: NO_PROPERTIES });
  return kind.kind === 'positive' || kind.kind === 'negative' ? kind : null;
}

function isFeedback(settings: HistorySettings, event: TrackedEvent): boolean {
  return event.itemId !== null && kindOf(settings.feedback, event.name) !== null;
}

/**
 * Adds `count` events of one name. The action kept for reasons is the strongest positive name; between
 * names of equal weight the alphabetically first, so the result does not depend on the order events
 * arrive in (a history read from totals equals one built event by event).
 */
function accumulate(
  entry: Accumulated,
  tables: HistoryTables,
  config: FeedbackConfig,
  name: string,
  kind: Feedback,
  count: number,
  at: number,
): void {
  entry.lastAt = Math.max(entry.lastAt, at);
  if (kind.kind === 'negative') {
    entry.weight -= kind.weight * count;
    entry.marks |= REJECTED;
    return;
  }
  entry.weight += kind.weight * count;
  if (isPurchase(name)) entry.marks |= PURCHASED;
  const current = tables.actions.name(entry.marks & ACTION);
  const currentWeight = current === null ? -Infinity : (kindOf(config, current)?.weight ?? -Infinity);
  if (kind.weight > currentWeight || (kind.weight === currentWeight && current !== null && name < current)) {
    entry.marks = (entry.marks & ~ACTION) | tables.actions.index(name);
  }
}

interface HistoryArrays {
  readonly items: Int32Array;
  readonly weights: Float32Array;
  readonly lastAt: Float64Array;
  readonly marks: Uint16Array;
}

/** Parallel arrays for `n` items on one buffer: one allocation, and one object less per array to track. */
function allocate(n: number): HistoryArrays {
  const buffer = new ArrayBuffer(n * BYTES_PER_ITEM);
  // Widest first, so every view starts on a multiple of its element size.
  return {
    lastAt: new Float64Array(buffer, 0, n),
    items: new Int32Array(buffer, 8 * n, n),
    weights: new Float32Array(buffer, 12 * n, n),
    marks: new Uint16Array(buffer, 16 * n, n),
  };
}

function store(arrays: HistoryArrays, k: number, entry: Accumulated): void {
  arrays.items[k] = entry.ordinal;
  arrays.weights[k] = entry.weight;
  arrays.lastAt[k] = entry.lastAt;
  arrays.marks[k] = entry.marks;
}

function entryOf(event: TrackedEvent): HistoryEntry {
  const id = event.context['session_id'];
  const sessionId = typeof id === 'string' || typeof id === 'number' ? String(id) : undefined;
  return {
    name: event.name,
    itemId: event.itemId ?? '',
    timestamp: event.timestamp,
    ...(sessionId === undefined ? {} : { sessionId }),
  };
}

/** The entries within the session window of the newest one (newest first), at most `windowEvents`. */
function windowOf(entries: readonly HistoryEntry[], settings: HistorySettings): HistoryEntry[] {
  const newest = entries[0];
  if (newest === undefined) return [];
  const from = newest.timestamp - settings.windowMs;
  let end = 0;
  while (end < entries.length && end < settings.windowEvents && entries[end]!.timestamp >= from) end += 1;
  return entries.slice(0, end);
}

const purchaseNames = new Map<string, boolean>();
const PURCHASE = /purchas|bought|order_completed|checkout_completed/;

/** Whether a (positive) event name means a purchase; memoised, as names repeat endlessly. */
export function isPurchase(name: string): boolean {
  let known = purchaseNames.get(name);
  if (known === undefined) {
    known = PURCHASE.test(normalizeEventName(name));
    if (purchaseNames.size < 1024) purchaseNames.set(name, known);
  }
  return known;
}
