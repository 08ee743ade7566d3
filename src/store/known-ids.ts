/** Bounds for `KnownIds`: how many ids it holds, and for how long it trusts them. */
export interface KnownIdsOptions {
  /** Ids held at most; past it the oldest go first. */
  readonly limit: number;
  /**
   * Milliseconds after which every id held is forgotten at once (default: never). For a store other
   * processes write to as well: an id one of them deleted is believed present here for at most this long.
   */
  readonly maxAgeMs?: number;
  /** The clock, for tests. */
  readonly now?: () => number;
}

/**
 * A bounded set of ids known to exist in a table: a hit saves a probe, a miss costs only the probe it would
 * have made anyway. Past the bound the oldest entries go first (a Set iterates in insertion order), so a
 * catalog larger than the bound keeps its most recently confirmed ids.
 */
export class KnownIds {
  readonly #ids = new Set<string>();
  readonly limit: number;
  readonly #maxAgeMs: number;
  readonly #now: () => number;
  /** When the oldest id held was added (meaningless while none is). */
  #since = 0;

  constructor({ limit, maxAgeMs = Infinity, now = Date.now }: KnownIdsOptions) {
    if (!Number.isInteger(limit) || limit < 1)
      throw new RangeError(`limit must be a positive integer, got ${limit}`);
    if (!(maxAgeMs > 0)) throw new RangeError(`maxAgeMs must be positive, got ${maxAgeMs}`);
    this.limit = limit;
    this.#maxAgeMs = maxAgeMs;
    this.#now = now;
  }

  get size(): number {
    this.#expire();
    return this.#ids.size;
  }

  has(id: string): boolean {
    this.#expire();
    return this.#ids.has(id);
  }

  add(id: string): void {
    this.#expire();
    if (this.#ids.has(id)) return;
    if (this.#ids.size === 0) this.#since = this.#now();
    if (this.#ids.size >= this.limit) this.#ids.delete(this.#ids.values().next().value!);
    this.#ids.add(id);
  }

  delete(id: string): void {
    this.#ids.delete(id);
  }

  #expire(): void {
    if (this.#ids.size > 0 && this.#now() - this.#since >= this.#maxAgeMs) this.#ids.clear();
  }
}
