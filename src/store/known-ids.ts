/**
 * A bounded set of ids known to exist in a table: a hit saves a probe, a miss costs only the probe it would
 * have made anyway. Past the bound the oldest entries go first (a Set iterates in insertion order), so a
 * catalog larger than the bound keeps its most recently confirmed ids.
 */
export class KnownIds {
  readonly #ids = new Set<string>();

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1)
      throw new RangeError(`limit must be a positive integer, got ${limit}`);
  }

  get size(): number {
    return this.#ids.size;
  }

  has(id: string): boolean {
    return this.#ids.has(id);
  }

  add(id: string): void {
    if (this.#ids.has(id)) return;
    if (this.#ids.size >= this.limit) this.#ids.delete(this.#ids.values().next().value!);
    this.#ids.add(id);
  }

  delete(id: string): void {
    this.#ids.delete(id);
  }
}
