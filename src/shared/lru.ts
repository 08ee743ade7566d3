/**
 * A map that holds at most `capacity` worth of entries, dropping the least recently used ones beyond
 * that. Every cache on the request path is one of these, because what requests name (users, presets,
 * items) comes from clients and is not bounded. Each entry weighs 1 unless `weigh` says otherwise (bytes,
 * say); the newest entry is kept even when it alone weighs more than the capacity.
 *
 * The use order is a doubly linked list beside the Map, so every operation is O(1). (Keeping the order in
 * the Map itself, by re-inserting on use and evicting its first key, is quadratic under churn: V8 leaves a
 * deleted entry's slot as a hole until the next rehash, and finding the first key skips every hole; at
 * 200,000 entries an eviction took milliseconds.)
 */
/** A held entry: its value, for a writer that changes it in place and then `reweigh`s it. */
export interface LruEntry<V> {
  readonly value: V;
}

export class LruMap<K, V> {
  readonly #entries = new Map<K, LruNode<K, V>>();
  /** Most recently used. */
  #head: LruNode<K, V> | null = null;
  /** Least recently used: the next to go. */
  #tail: LruNode<K, V> | null = null;
  #weight = 0;

  constructor(
    readonly capacity: number,
    private readonly weigh: (value: V) => number = () => 1,
    /** Called with each entry dropped to make room (not with those deleted or replaced by a caller). */
    private readonly evicted: ((value: V, key: K) => void) | null = null,
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
    const node = this.#entries.get(key);
    if (node === undefined) return undefined;
    this.#toFront(node);
    return node.value;
  }

  /** The value without marking it used: for writers that update an entry only if it is cached. */
  peek(key: K): V | undefined {
    return this.#entries.get(key)?.value;
  }

  has(key: K): boolean {
    return this.#entries.has(key);
  }

  set(key: K, value: V): void {
    this.delete(key);
    const node: LruNode<K, V> = {
      key,
      value,
      weight: this.weigh(value),
      held: true,
      newer: null,
      older: null,
    };
    this.#entries.set(key, node);
    this.#link(node);
    this.#weight += node.weight;
    this.#evict(node);
  }

  /**
   * The entry held for `key`, without marking it used: for writers that change a value in place on the
   * hot path (the feature store, on every event) and `reweigh` it after, with one map lookup in all.
   */
  entry(key: K): LruEntry<V> | undefined {
    return this.#entries.get(key);
  }

  /**
   * Weighs an entry's value again after its holder changed it, keeping its place in the use order, and
   * drops others if it grew past the capacity. An entry no longer held (deleted or dropped since) is left
   * alone.
   */
  reweigh(entry: LruEntry<V>): void {
    const node = entry as LruNode<K, V>;
    if (!node.held) return;
    const weight = this.weigh(node.value);
    if (weight === node.weight) return;
    this.#weight += weight - node.weight;
    node.weight = weight;
    this.#evict(node);
  }

  /** Replaces a cached value in place, keeping its place in the use order; absent keys stay absent. */
  replace(key: K, value: V): void {
    const node = this.#entries.get(key);
    if (node === undefined) return;
    const weight = this.weigh(value);
    this.#weight += weight - node.weight;
    node.value = value;
    node.weight = weight;
    this.#evict(node);
  }

  delete(key: K): boolean {
    const node = this.#entries.get(key);
    if (node === undefined) return false;
    this.#entries.delete(key);
    node.held = false;
    this.#unlink(node);
    this.#weight -= node.weight;
    return true;
  }

  clear(): void {
    for (const node of this.#entries.values()) node.held = false;
    this.#entries.clear();
    this.#head = null;
    this.#tail = null;
    this.#weight = 0;
  }

  /** Drops the least recently used entries, never `keep`, until the weight fits. */
  #evict(keep: LruNode<K, V>): void {
    let node = this.#tail;
    while (node !== null && this.#weight > this.capacity) {
      const newer: LruNode<K, V> | null = node.newer;
      if (node !== keep) {
        this.delete(node.key);
        this.evicted?.(node.value, node.key);
      }
      node = newer;
    }
  }

  #toFront(node: LruNode<K, V>): void {
    if (this.#head === node) return;
    this.#unlink(node);
    this.#link(node);
  }

  /** Puts a detached node at the front (most recently used). */
  #link(node: LruNode<K, V>): void {
    node.older = this.#head;
    node.newer = null;
    if (this.#head !== null) this.#head.newer = node;
    this.#head = node;
    this.#tail ??= node;
  }

  #unlink(node: LruNode<K, V>): void {
    if (node.newer !== null) node.newer.older = node.older;
    else this.#head = node.older;
    if (node.older !== null) node.older.newer = node.newer;
    else this.#tail = node.newer;
    node.newer = null;
    node.older = null;
  }
}

interface LruNode<K, V> {
  readonly key: K;
  value: V;
  /** What `weigh` said when the value was stored (a value's weight may change after; the sum must not). */
  weight: number;
  /** False once deleted, dropped or cleared: a caller's `LruEntry` may outlive its place here. */
  held: boolean;
  newer: LruNode<K, V> | null;
  older: LruNode<K, V> | null;
}
