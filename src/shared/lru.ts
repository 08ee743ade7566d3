/**
 * A map that holds at most `capacity` worth of entries, dropping the least recently used ones beyond
 * that. Every cache on the request path is one of these, because what requests name (users, presets,
 * items) comes from clients and is not bounded. Each entry weighs 1 unless `weigh` says otherwise (bytes,
 * say); the newest entry is kept even when it alone weighs more than the capacity. A Map keeps insertion
 * order, so re-inserting on use makes the first key the least recently used.
 */
export class LruMap<K, V> {
  readonly #entries = new Map<K, V>();
  #weight = 0;

  constructor(
    readonly capacity: number,
    private readonly weigh: (value: V) => number = () => 1,
  ) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new RangeError(`capacity must be an integer ≥ 1, got ${capacity}`);
    }
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The summed weight of the entries held. */
  get weight(): number {
    return this.#weight;
  }

  /** The value, marked as the most recently used; `undefined` when absent. */
  get(key: K): V | undefined {
    const value = this.#entries.get(key);
    if (value === undefined) return undefined;
    this.#entries.delete(key);
    this.#entries.set(key, value);
    return value;
  }

  /** The value without marking it used: for writers that update an entry only if it is cached. */
  peek(key: K): V | undefined {
    return this.#entries.get(key);
  }

  has(key: K): boolean {
    return this.#entries.has(key);
  }

  set(key: K, value: V): void {
    this.delete(key);
    this.#entries.set(key, value);
    this.#weight += this.weigh(value);
    this.#evict(key);
  }

  /** Replaces a cached value in place, keeping its place in the use order; absent keys stay absent. */
  replace(key: K, value: V): void {
    const old = this.#entries.get(key);
    if (old === undefined) return;
    this.#entries.set(key, value);
    this.#weight += this.weigh(value) - this.weigh(old);
    this.#evict(key);
  }

  delete(key: K): boolean {
    const old = this.#entries.get(key);
    if (old === undefined) return false;
    this.#entries.delete(key);
    this.#weight -= this.weigh(old);
    return true;
  }

  clear(): void {
    this.#entries.clear();
    this.#weight = 0;
  }

  /** Drops the least recently used entries, never `keep`, until the weight fits. */
  #evict(keep: K): void {
    // Deleting the entry an iterator stands on is safe for a Map: iteration goes on with the next one.
    for (const key of this.#entries.keys()) {
      if (this.#weight <= this.capacity) return;
      if (key !== keep) this.delete(key);
    }
  }
}
