import type { EpochMs } from '../../shared/types.js';
import { INDEX_WORD, lastSecondHashOf, StringIndex, type HashSeeds } from './string-index.js';

/** A user's first exposure to an experiment: the variant they saw and when they first saw it. */
export interface ExposedUser {
  readonly userId: string;
  readonly variant: string;
  readonly firstAt: EpochMs;
}

/** A user given under two variants: assignment broke its one promise, and no analysis of them is sound. */
export class ExposureConflictError extends Error {
  constructor(
    readonly userId: string,
    readonly variants: readonly [string, string],
  ) {
    super(`user "${userId}" is exposed to two variants, "${variants[0]}" and "${variants[1]}"`);
    this.name = 'ExposureConflictError';
  }
}

/**
 * The exposed users, each with an index (the order they were first given) into every per-user array of
 * the analysis. Users are not regrouped by variant: that would renumber a million hash-table entries at
 * random; each variant instead lists its members, and results are gathered per variant at the end.
 */
export interface ExposedPopulation {
  /** Variant names, sorted, so that results do not depend on the order exposures were read in. */
  readonly variants: readonly string[];
  /** User id → index (`keys`: index → user id). The analysis's one per-user hash table. */
  readonly users: StringIndex;
  /**
   * Index → first exposure time; +Infinity for a user first exposed at or after `now` (not exposed yet as of
   * the analysis time), so that every window test fails for them without another check.
   */
  readonly firstAt: Float64Array;
  /** Per variant (as `variants`), its members' indices, ascending. */
  readonly members: readonly Int32Array[];
}

/**
 * Indexes exposures. A user given more than once keeps the earliest time, so a later exposure never resets
 * their windows; a user given under two variants throws `ExposureConflictError`. Users whose first exposure
 * is not before `now` belong to no variant. `seeds`: the user table's (see `StringIndex`), random when not
 * given.
 */
export function indexExposures(
  exposures: Iterable<ExposedUser>,
  now: EpochMs,
  seeds?: HashSeeds,
): ExposedPopulation {
  const users = new StringIndex(Array.isArray(exposures) ? exposures.length : 1024, seeds);
  const times: number[] = [];
  const variantOf: number[] = [];
  const variantIds = new Map<string, number>();
  const variantNames: string[] = [];

  // Exposures are read a block at a time: first each one's checks, variant and key hashes (the strings and
  // objects just read are in cache), then the block's keys are added in a loop that touches only the table,
  // whose iterations' cache misses overlap. Same order, same outcome as adding one at a time.
  const blockKeys: string[] = [];
  const blockHash = new Int32Array(BLOCK);
  const blockSecond = new Int32Array(BLOCK);
  const blockTime = new Float64Array(BLOCK);
  const blockVariant = new Int32Array(BLOCK);
  let blockSize = 0;
  const addBlock = () => {
    for (let i = 0; i < blockSize; i++) {
      const known = users.addHashed(blockKeys[i]!, blockHash[i]!, blockSecond[i]!);
      const v = blockVariant[i]!;
      const firstAt = blockTime[i]!;
      if (known === times.length) {
        times.push(firstAt);
        variantOf.push(v);
      } else if (variantOf[known] !== v) {
        throw new ExposureConflictError(blockKeys[i]!, [variantNames[variantOf[known]!]!, variantNames[v]!]);
      } else if (firstAt < times[known]!) {
        times[known] = firstAt;
      }
    }
    blockSize = 0;
  };

  let position = 0;
  let lastVariant = '';
  let v = -1;
  for (const exposure of exposures) {
    const { userId, variant, firstAt } = exposure;
    if (typeof userId !== 'string' || typeof variant !== 'string' || !Number.isFinite(firstAt)) {
      addBlock(); // the exposures before this one first: one of them may conflict
      throw new TypeError(`exposure ${position}: expected a string userId and variant and a finite firstAt`);
    }
    position++;
    // Exposures come in runs of few variants: compare with the last one before hashing the name.
    if (v < 0 || variant !== lastVariant) {
      v = variantIds.get(variant) ?? variantNames.push(variant) - 1;
      variantIds.set(variant, v);
      lastVariant = variant;
    }
    blockKeys[blockSize] = userId;
    blockHash[blockSize] = users.hash(userId);
    blockSecond[blockSize] = lastSecondHashOf();
    blockTime[blockSize] = firstAt;
    blockVariant[blockSize++] = v;
    if (blockSize === BLOCK) addBlock();
  }
  addBlock();

  const order = variantNames.map((_, i) => i).sort((a, b) => compare(variantNames[a]!, variantNames[b]!));
  const sizes = new Int32Array(variantNames.length);
  const firstAt = new Float64Array(times.length);
  for (let u = 0; u < times.length; u++) {
    const exposed = times[u]! < now;
    firstAt[u] = exposed ? times[u]! : Infinity;
    if (exposed) sizes[variantOf[u]!]!++;
  }
  const members = variantNames.map((_, i) => new Int32Array(sizes[i]!));
  const filled = new Int32Array(variantNames.length);
  for (let u = 0; u < times.length; u++) {
    if (firstAt[u] === Infinity) continue;
    const of = variantOf[u]!;
    members[of]![filled[of]!++] = u;
  }
  return {
    variants: order.map((i) => variantNames[i]!),
    users,
    firstAt,
    members: order.map((i) => members[i]!),
  };
}

/** Exposures hashed before they are added (see `indexExposures`). */
const BLOCK = 4096;

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The population index (−1: not exposed) of each of `n` users given by their hashes (three words each:
 * two seeded hashes and the id's length), as the reader's columns carry them, into `out`. When the table
 * compares keys (two exposed ids share both hashes), `userIds` must hold the ids. One loop of independent
 * iterations: the lookups' cache misses, at random among a million users, overlap instead of queueing.
 */
export function locateUsers(
  population: ExposedPopulation,
  words: Int32Array,
  userIds: readonly string[] | null,
  n: number,
  out: Int32Array,
): void {
  const { users } = population;
  const table = users.table;
  if (!users.comparesKeys) {
    for (let i = 0; i < n; i++) {
      const slot = users.locateHashed(words[3 * i]!, words[3 * i + 1]!, words[3 * i + 2]!);
      out[i] = slot < 0 ? -1 : table[slot + INDEX_WORD]! - 1;
    }
    return;
  }
  if (userIds === null) throw new Error('a batch without user ids, read while the user table compares them');
  for (let i = 0; i < n; i++) {
    const slot = users.locate(userIds[i]!, words[3 * i]!, words[3 * i + 1]!);
    out[i] = slot < 0 ? -1 : table[slot + INDEX_WORD]! - 1;
  }
}
