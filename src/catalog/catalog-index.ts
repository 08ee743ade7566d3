import { Fingerprint, SetFingerprint } from '../shared/content-hash.js';
import type { EpochMs } from '../shared/types.js';
import { matchesItem, type ItemFilter } from './filter.js';
import type { Item } from './types.js';

/** Whether an item may be recommended at `now`: available and not past its expiry time. */
export function isItemRecommendable(item: Item, now: EpochMs): boolean {
  // "After expiresAt the item is never recommended": at exactly expiresAt it still is.
  return item.available && (item.expiresAt === null || now <= item.expiresAt);
}

/** Newest first (createdAt descending), then by id so that the order is total and stable. */
function byAge(a: Item, b: Item): number {
  if (a.createdAt !== b.createdAt) return b.createdAt - a.createdAt;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * Changes held back before the age order is re-sorted from scratch instead of patched. Patching costs
 * a binary search and an array splice (a memmove of n pointers) per change; a re-sort costs
 * n·log n comparator calls, each far dearer than moving a pointer, so about a thousand patches break even.
 */
const MAX_PENDING = 1024;

/**
 * The catalog held in memory for serving: every candidate of every request is checked here, so the
 * checks are one Map lookup and a few comparisons. Items are held as given (immutable), not copied.
 * Updates replace whole items, matching the store's `putItems`.
 */
export class CatalogIndex implements Iterable<Item> {
  readonly #items = new Map<string, Item>();
  /**
   * All items newest first, for `newest`; built on first use. Writes do not touch it: they queue in
   * `#pending` (old version, new version), applied on the next read, so loading a catalog item by item
   * or ingesting a burst of new items never pays a splice per write. Too many pending → rebuild.
   */
  #byAge: Item[] | null = null;
  #pending: { readonly before: Item | undefined; readonly after: Item | undefined }[] = [];
  #version = 0;
  /** Built on the first `fingerprint` read, then kept by every write: nothing pays for it unasked. */
  #fingerprint: {
    readonly set: SetFingerprint;
    readonly members: Map<string, readonly [number, number]>;
  } | null = null;

  constructor(items: Iterable<Item> = []) {
    for (const item of items) this.#items.set(item.id, item);
  }

  /** Changes with every write, so callers can cache what they derive from the catalog. */
  get version(): number {
    return this.#version;
  }

  get size(): number {
    return this.#items.size;
  }

  /**
   * The catalog's content as 64 bits in hex: equal in every process holding the same items (as the store
   * returns them), whatever order they were written in, unlike `version`, which counts this process's writes.
   */
  get fingerprint(): string {
    return this.trackFingerprint();
  }

  /**
   * Starts keeping the fingerprint (one pass over every item, then a little per write) and returns it:
   * an engine sharing lists calls it at start-up, so the pass is not a request's.
   */
  trackFingerprint(): string {
    if (this.#fingerprint === null) {
      const set = new SetFingerprint();
      const members = new Map<string, readonly [number, number]>();
      for (const item of this.#items.values()) {
        const member = itemFingerprint(item);
        members.set(item.id, member);
        set.add(member);
      }
      this.#fingerprint = { set, members };
    }
    return this.#fingerprint.set.hex();
  }

  #refingerprint(itemId: string, after: Item | undefined): void {
    if (this.#fingerprint === null) return;
    const { set, members } = this.#fingerprint;
    const before = members.get(itemId);
    if (before !== undefined) set.remove(before);
    if (after === undefined) {
      members.delete(itemId);
      return;
    }
    const member = itemFingerprint(after);
    members.set(itemId, member);
    set.add(member);
  }

  get(itemId: string): Item | undefined {
    return this.#items.get(itemId);
  }

  has(itemId: string): boolean {
    return this.#items.has(itemId);
  }

  upsert(item: Item): void {
    const before = this.#items.get(item.id);
    this.#items.set(item.id, item);
    this.#version += 1;
    this.#queue(before, item);
    this.#refingerprint(item.id, item);
  }

  /** Returns whether the item was there. */
  remove(itemId: string): boolean {
    const before = this.#items.get(itemId);
    if (before === undefined) return false;
    this.#items.delete(itemId);
    this.#version += 1;
    this.#queue(before, undefined);
    this.#refingerprint(itemId, undefined);
    return true;
  }

  /** Known, available and not expired. */
  isRecommendable(itemId: string, now: EpochMs): boolean {
    const item = this.#items.get(itemId);
    return item !== undefined && isItemRecommendable(item, now);
  }

  /** Known and passing the filter; an unknown item matches nothing. */
  matches(itemId: string, filter: ItemFilter): boolean {
    const item = this.#items.get(itemId);
    return item !== undefined && matchesItem(item, filter);
  }

  /** `isRecommendable && matches` with one lookup: the per-candidate check of the serving path. */
  accepts(itemId: string, now: EpochMs, filter: ItemFilter): boolean {
    const item = this.#items.get(itemId);
    return item !== undefined && isItemRecommendable(item, now) && matchesItem(item, filter);
  }

  /**
   * Up to `limit` recommendable items that `accept` takes, newest first (by createdAt, then id): the
   * serving path's last resort when no model can fill a list. Costs what it scans, not the catalog size.
   */
  newest(limit: number, now: EpochMs, accept: (item: Item) => boolean = () => true): Item[] {
    const found: Item[] = [];
    if (limit <= 0) return found;
    for (const item of this.#ordered()) {
      if (isItemRecommendable(item, now) && accept(item)) {
        found.push(item);
        if (found.length >= limit) break;
      }
    }
    return found;
  }

  values(): IterableIterator<Item> {
    return this.#items.values();
  }

  [Symbol.iterator](): IterableIterator<Item> {
    return this.#items.values();
  }

  #queue(before: Item | undefined, after: Item | undefined): void {
    if (this.#byAge === null) return;
    if (this.#pending.length >= MAX_PENDING) {
      this.#byAge = null;
      this.#pending = [];
      return;
    }
    this.#pending.push({ before, after });
  }

  /** The age order, brought up to date. */
  #ordered(): readonly Item[] {
    let order = this.#byAge;
    if (order === null) {
      order = [...this.#items.values()].sort(byAge);
      this.#byAge = order;
    } else if (this.#pending.length > 0) {
      // In write order: a second write of the same item removes the version the first one inserted.
      for (const { before, after } of this.#pending) {
        if (before !== undefined) order.splice(lowerBound(order, before), 1);
        if (after !== undefined) order.splice(lowerBound(order, after), 0, after);
      }
      this.#pending = [];
    }
    return order;
  }
}

/** The first position whose item does not sort before `item`: where it is, or where it belongs. */
function lowerBound(order: readonly Item[], item: Item): number {
  let lo = 0;
  let hi = order.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (byAge(order[mid]!, item) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Builds an index from batches as the store's `scanItems` streams them. */
export async function loadCatalogIndex(batches: AsyncIterable<readonly Item[]>): Promise<CatalogIndex> {
  const index = new CatalogIndex();
  for await (const batch of batches) {
    for (const item of batch) index.upsert(item);
  }
  return index;
}

/** An item's content; its JSON is the store's form, so equal items read anywhere give equal text. */
function itemFingerprint(item: Item): readonly [number, number] {
  return new Fingerprint().text(JSON.stringify(item)).lanes();
}
