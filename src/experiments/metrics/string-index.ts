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
  private readonly seed = randomSeed();
  private readonly secondSeed = randomSeed();
  /** Set once two different members share both hashes; lookups then compare strings. */
  private verify = false;
  readonly keys: string[] = [];

  constructor(expected = 16) {
    let capacity = 16;
    while (capacity < expected * 2) capacity *= 2; // load at most one half: probes stay short
    this.slots = new Int32Array(capacity * 4);
    this.mask = capacity - 1;
  }

  get size(): number {
    return this.keys.length;
  }

  /** The key's index, or -1. */
  get(key: string): number {
    const hash = hashString(key, this.seed, this.secondSeed);
    return this.find(key, hash, lastSecondHash);
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
    const slots = this.slots;
    let slot = hash & this.mask;
    for (;;) {
      const at = slot * 4;
      const entry = slots[at + 3]!;
      if (entry === 0) return -1;
      if (slots[at] === hash && slots[at + 1] === second && slots[at + 2] === key.length) {
        if (!this.verify || this.keys[entry - 1] === key) return entry - 1;
      }
      slot = (slot + 1) & this.mask;
    }
  }

  /** The key's index, adding the key when new. */
  add(key: string): number {
    const hash = hashString(key, this.seed, this.secondSeed);
    const second = lastSecondHash;
    const slots = this.slots;
    let slot = hash & this.mask;
    for (;;) {
      const at = slot * 4;
      const entry = slots[at + 3]!;
      if (entry === 0) break;
      if (slots[at] === hash && slots[at + 1] === second && slots[at + 2] === key.length) {
        if (this.keys[entry - 1] === key) return entry - 1;
        this.verify = true;
      }
      slot = (slot + 1) & this.mask;
    }
    const index = this.keys.length;
    this.keys.push(key);
    const at = slot * 4;
    slots[at] = hash;
    slots[at + 1] = second;
    slots[at + 2] = key.length;
    slots[at + 3] = index + 1;
    if (this.keys.length * 2 > this.mask + 1) this.grow();
    return index;
  }

  private grow(): void {
    const old = this.slots;
    const capacity = (this.mask + 1) * 2;
    const slots = new Int32Array(capacity * 4);
    const mask = capacity - 1;
    for (let at = 0; at < old.length; at += 4) {
      if (old[at + 3] === 0) continue;
      let slot = old[at]! & mask;
      while (slots[slot * 4 + 3] !== 0) slot = (slot + 1) & mask;
      const to = slot * 4;
      slots[to] = old[at]!;
      slots[to + 1] = old[at + 1]!;
      slots[to + 2] = old[at + 2]!;
      slots[to + 3] = old[at + 3]!;
    }
    this.slots = slots;
    this.mask = mask;
  }
}

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
