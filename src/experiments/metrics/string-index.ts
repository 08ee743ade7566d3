/**
 * Strings → dense indices (0, 1, … in the order first added), in an open-addressing table of typed arrays.
 *
 * Why not a `Map<string, number>`: analysis looks up the user of every event, and with a million users a
 * V8 Map lookup of an id string freshly read from the store measured 500–900 ns on a shared 2-core VM (it
 * hashes the string in the runtime, then follows dependent pointers through a large heap, the stored key
 * string last). This table measured 120–230 ns there: the hash is a loop over the characters of a string
 * that is already in cache, and one slot of a flat array holds everything a lookup compares.
 *
 * A key is identified by its length and two independent, per-table seeded 32-bit hashes; the stored key
 * string is not read on lookup (that read was most of the cost). Adding compares strings, so the members
 * are always told apart exactly: should two members ever share both hashes, the table notices and compares
 * strings on every lookup from then on. What remains is a string that is NOT a member (a user outside the
 * experiment) matching a member's 64 bits of hash: about 2⁻⁶⁴ per lookup, under 10⁻¹¹ over a billion
 * lookups. The seeds are random, so ids chosen to collide (ids come from senders) cannot be prepared.
 */
export class StringIndex {
  /** Per slot: `[hash, second hash, length, index + 1]`; index + 1 = 0 marks an empty slot. */
  private slots: Int32Array;
  private mask: number;
  private readonly seed: number;
  private readonly secondSeed: number;
  /** Set once two different members share both hashes; lookups then compare strings. */
  private verify = false;
  readonly keys: string[] = [];

  /**
   * `seeds`: the hashes' seeds, random when not given. Given when another thread hashes the keys it looks
   * up (the analysis's reader thread, `log-reader.ts`): the seeds are still random, only chosen before.
   */
  constructor(expected = 16, seeds: HashSeeds = [randomSeed(), randomSeed()]) {
    let capacity = 16;
    while (capacity < expected * 2) capacity *= 2; // load at most one half: probes stay short
    this.slots = new Int32Array(capacity * SLOT);
    this.mask = capacity - 1;
    [this.seed, this.secondSeed] = seeds;
  }

  get size(): number {
    return this.keys.length;
  }

  /**
   * The slots, for reading the index a lookup found: a key's slot starts at the word `locate` returns, and
   * its word `INDEX_WORD` holds the key's index + 1. The array is replaced when the table grows, so read it
   * again after adding.
   */
  get table(): Int32Array {
    return this.slots;
  }

  /** The key's index, or -1. */
  get(key: string): number {
    const hash = hashString(key, this.seed, this.secondSeed);
    const at = this.locate(key, hash, lastSecondHash);
    return at < 0 ? -1 : this.slots[at + INDEX_WORD]! - 1;
  }

  /** This table's hashes of a key: the first returned, the second in `lastSecondHashOf()`. */
  hash(key: string): number {
    return hashString(key, this.seed, this.secondSeed);
  }

  /**
   * `get` in two steps, for a batch: hash every key first (`hash`), then find them all. Each step is then a
   * short loop whose iterations do not wait on each other, so the table's cache misses overlap.
   */
  find(key: string, hash: number, second: number): number {
    const at = this.locate(key, hash, second);
    return at < 0 ? -1 : this.slots[at + INDEX_WORD]! - 1;
  }

  /**
   * Whether lookups must compare key strings (two members share both hashes, see above): then only
   * `locate` and `find` can tell keys apart, not `locateHashed`. Practically never.
   */
  get comparesKeys(): boolean {
    return this.verify;
  }

  /**
   * Compare key strings on every lookup from now on, as if two members shared both hashes: for tests of
   * the paths that must then tell users apart by their id strings, a case random seeds practically never
   * produce.
   */
  compareKeys(): void {
    this.verify = true;
  }

  /**
   * Where a key of this length and hashes has its slot, from the hashes alone (valid while `comparesKeys` is
   * false): a loop that reads nothing but the table, for a batch whose key strings have left the cache since
   * they were hashed.
   */
  locateHashed(hash: number, second: number, length: number): number {
    const slots = this.slots;
    let slot = hash & this.mask;
    for (;;) {
      const at = slot * SLOT;
      if (slots[at + INDEX_WORD] === 0) return -1;
      if (slots[at] === hash && slots[at + 1] === second && slots[at + 2] === length) return at;
      slot = (slot + 1) & this.mask;
    }
  }

  /** As `find`, but where the key's slot starts in `table` (its first word), or -1. */
  locate(key: string, hash: number, second: number): number {
    const slots = this.slots;
    let slot = hash & this.mask;
    for (;;) {
      const at = slot * SLOT;
      const entry = slots[at + INDEX_WORD]!;
      if (entry === 0) return -1;
      if (slots[at] === hash && slots[at + 1] === second && slots[at + 2] === key.length) {
        if (!this.verify || this.keys[entry - 1] === key) return at;
      }
      slot = (slot + 1) & this.mask;
    }
  }

  /** The key's index, adding the key when new. */
  add(key: string): number {
    const hash = hashString(key, this.seed, this.secondSeed);
    return this.addHashed(key, hash, lastSecondHash);
  }

  /** `add` with the key's hashes already computed (`hash`), as `find` is to `get`. */
  addHashed(key: string, hash: number, second: number): number {
    const slots = this.slots;
    let slot = hash & this.mask;
    for (;;) {
      const at = slot * SLOT;
      const entry = slots[at + INDEX_WORD]!;
      if (entry === 0) break;
      if (slots[at] === hash && slots[at + 1] === second && slots[at + 2] === key.length) {
        if (this.keys[entry - 1] === key) return entry - 1;
        this.verify = true;
      }
      slot = (slot + 1) & this.mask;
    }
    const index = this.keys.length;
    this.keys.push(key);
    const at = slot * SLOT;
    slots[at] = hash;
    slots[at + 1] = second;
    slots[at + 2] = key.length;
    slots[at + INDEX_WORD] = index + 1;
    if (this.keys.length * 2 > this.mask + 1) this.grow();
    return index;
  }

  private grow(): void {
    const old = this.slots;
    const capacity = (this.mask + 1) * 2;
    const slots = new Int32Array(capacity * SLOT);
    const mask = capacity - 1;
    for (let at = 0; at < old.length; at += SLOT) {
      if (old[at + INDEX_WORD] === 0) continue;
      let slot = old[at]! & mask;
      while (slots[slot * SLOT + INDEX_WORD] !== 0) slot = (slot + 1) & mask;
      const to = slot * SLOT;
      slots[to] = old[at]!;
      slots[to + 1] = old[at + 1]!;
      slots[to + 2] = old[at + 2]!;
      slots[to + 3] = old[at + 3]!;
    }
    this.slots = slots;
    this.mask = mask;
  }
}

/** Words per slot. */
const SLOT = 4;
/** The word of a slot holding its key's index + 1 (0: the slot is empty). */
export const INDEX_WORD = 3;

/** The two seeds of a pair of hashes (`hashString`). */
export type HashSeeds = readonly [number, number];

export function randomSeed(): number {
  return (Math.random() * 0x1_0000_0000) | 0;
}

/** The second hash of the last `hashString` call: a module slot instead of a returned pair, which would allocate. */
let lastSecondHash = 0;

/** The second hash computed by the last `hashString` call. */
export function lastSecondHashOf(): number {
  return lastSecondHash;
}

/**
 * Two 32-bit hashes of a string in one pass over its UTF-16 code units: FNV-1a and a multiply-rotate hash,
 * from different seeds, each finished with murmur3's mixer so that the low bits (the slot) depend on every
 * character. Returns the first; the second is left in `lastSecondHash`.
 */
export function hashString(key: string, seed: number, secondSeed: number): number {
  let a = 0x811c9dc5 ^ seed;
  let b = 0x9e3779b9 ^ secondSeed;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b = (b << 13) | (b >>> 19);
  }
  lastSecondHash = mix(b ^ key.length);
  return mix(a);
}

function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}
