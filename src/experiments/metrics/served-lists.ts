import type { EpochMs } from '../../shared/types.js';
import { CHUNK_BITS, CHUNK_MASK, Float64Column, Int32Column } from './columns.js';
import { locateUsers, type ExposedPopulation } from './exposures.js';
import type { ListColumns } from './log-columns.js';
import type { HashSeeds } from './string-index.js';

/** Batches of records, as `Store.scanEvents` yields them; a plain array of batches works too. */
export type BatchSource<T> = AsyncIterable<readonly T[]> | Iterable<readonly T[]>;

/**
 * The lists served to exposed users, held in memory so that clicks can be linked to them while events stream
 * past once. Nothing is looked up by request id across users: a click counts only on a list served to the
 * same user, so each user's lists are kept side by side (by time) with their request id and item ids as
 * hashes (two seeded 32-bit hashes each, as `StringIndex` identifies keys: a false match is about 2⁻⁶⁴ per
 * comparison), and linking a click scans that user's few lists in flat arrays. Request ids are unique in
 * the impression log (its primary key); were one repeated for a user, a click naming it links to each.
 *
 * Lists too far from the user's exposure to fall in any window keep no items, but keep their request id:
 * an event naming one is linked to it — and so counts as no click — instead of being matched to another
 * list by its item.
 *
 * Layout: what linking a click reads of a list is one record (`LIST_WIDTH` doubles: the time, the request
 * id's hashes, where its items are), a user's records are adjacent, and a list's items (two hashes each)
 * are contiguous: a user's lists take a cache line or two, and so do a list's items, rather than a line in
 * each of seven arrays.
 */
export interface ServedListIndex {
  readonly count: number;
  /** User `u`'s lists, oldest first, are the positions `[userStart[u], userStart[u + 1])`. */
  readonly userStart: Int32Array;
  /**
   * Position `p`'s record: double `p·LIST_WIDTH` is the time it was served; words `2p·LIST_WIDTH + 2` and
   * `+ 3` (of `listWords`, the same memory) its request id's hashes, `+ 4` and `+ 5` the start and end of
   * its items in `items`.
   */
  readonly lists: Float64Array;
  readonly listWords: Int32Array;
  /**
   * Per item, its id's two hashes: item `k` is words `2k` and `2k + 1` of the chunked column `items`, that
   * is, words `w & CHUNK_MASK` of `items[w >>> CHUNK_BITS]` (kept in the order read: a list's items are
   * contiguous, so are not copied).
   */
  readonly items: readonly Int32Array[];
  readonly seeds: readonly [number, number];
}

/** Doubles per list record, and the words of a record (counted from its first word). */
export const LIST_WIDTH = 3;
const REQUEST_WORD = 2;
const ITEMS_WORD = 4;

/**
 * Reads the lists served before `now` to exposed users, from their columns (`ListColumns`, hashed with
 * `seeds`); `reach`: how far from exposure a window extends.
 */
export async function indexServedLists(
  source: AsyncIterable<ListColumns>,
  population: ExposedPopulation,
  now: EpochMs,
  reach: number,
  seeds: HashSeeds,
): Promise<ServedListIndex> {
  const { firstAt } = population;
  // In the order read: each list's user, time, request id hashes (two entries), and where its item hashes
  // (two entries each) start.
  const readUser = new Int32Column();
  const readAt = new Float64Column();
  const readRequest = new Int32Column();
  const readItemStart = new Int32Column();
  const readItems = new Int32Column();
  // Per list of a batch: its user (-1: not counted).
  let userAt = new Int32Array(SCRATCH);
  for await (const batch of source) {
    const n = batch.count;
    if (userAt.length < n) userAt = new Int32Array(n);
    const { time, user: userWords, request, itemEnd, items } = batch;
    // As the pass over the events does: look every user up in a loop of independent iterations (their
    // cache misses overlap), then read the lists.
    locateUsers(population, userWords, batch.userIds, n, userAt);
    for (let i = 0; i < n; i++) {
      const user = userAt[i]!;
      if (user < 0) continue;
      const at = time[i]!;
      if (!(at < now)) continue;
      const first = firstAt[user]!;
      if (first === Infinity) continue; // not exposed as of now
      readUser.push(user);
      readAt.push(at);
      readRequest.push(request[2 * i]!);
      readRequest.push(request[2 * i + 1]!);
      readItemStart.push(readItems.length);
      if (at >= first - reach && at < first + reach) {
        readItems.pushRange(items, i === 0 ? 0 : 2 * itemEnd[i - 1]!, 2 * itemEnd[i]!);
      }
    }
  }
  readItemStart.push(readItems.length);

  const count = readUser.length;
  const user = readUser.toArray();
  const times = readAt.toArray();
  const userCount = firstAt.length;
  // By user (a counting sort), then by time within a user (few each: insertion sort).
  const userStart = new Int32Array(userCount + 1);
  for (let list = 0; list < count; list++) userStart[user[list]! + 1]!++;
  for (let u = 0; u < userCount; u++) userStart[u + 1]! += userStart[u]!;
  const next = userStart.slice(0, userCount);
  const order = new Int32Array(count); // position → list as read
  for (let list = 0; list < count; list++) order[next[user[list]!]!++] = list;
  for (let u = 0; u < userCount; u++) {
    for (let i = userStart[u]! + 1; i < userStart[u + 1]!; i++) {
      const list = order[i]!;
      let j = i - 1;
      while (j >= userStart[u]! && times[order[j]!]! > times[list]!) {
        order[j + 1] = order[j]!;
        j--;
      }
      order[j + 1] = list;
    }
  }

  // The lists' records in that order, so that one user's lists lie side by side.
  const requests = readRequest.toArray();
  const readStarts = readItemStart.toArray();
  const lists = new Float64Array(count * LIST_WIDTH);
  const listWords = new Int32Array(lists.buffer);
  for (let p = 0; p < count; p++) {
    const list = order[p]!;
    const record = p * LIST_WIDTH;
    const word = 2 * record;
    lists[record] = times[list]!;
    listWords[word + REQUEST_WORD] = requests[2 * list]!;
    listWords[word + REQUEST_WORD + 1] = requests[2 * list + 1]!;
    listWords[word + ITEMS_WORD] = readStarts[list]! >> 1;
    listWords[word + ITEMS_WORD + 1] = readStarts[list + 1]! >> 1;
  }
  const items = readItems.chunks;
  return { count, userStart, lists, listWords, items, seeds };
}

/** Lists per batch the reading has room for before it allocates more (stores yield batches of 10,000). */
const SCRATCH = 16_384;

/** What a request id says about a click in a window. */
export const NOT_LINKED = -1;
export const LINKED_OUTSIDE = 0;
export const LINKED_INSIDE = 1;

/**
 * Whether the request id of hashes `hash`, `second` (the index's `seeds`) names one of the lists at
 * positions `[start, end)` (one user's): `LINKED_INSIDE` when one so named was served in `[from, to)`,
 * `LINKED_OUTSIDE` when only others, `NOT_LINKED` when none.
 */
export function linkByRequest(
  index: ServedListIndex,
  start: number,
  end: number,
  hash: number,
  second: number,
  from: EpochMs,
  to: EpochMs,
): number {
  if (start === end) return NOT_LINKED;
  const lists = index.lists;
  const words = index.listWords;
  let link = NOT_LINKED;
  for (let p = start; p < end; p++) {
    const word = 2 * LIST_WIDTH * p + REQUEST_WORD;
    if (words[word] !== hash || words[word + 1] !== second) continue;
    const at = lists[p * LIST_WIDTH]!;
    if (at >= from && at < to) return LINKED_INSIDE;
    link = LINKED_OUTSIDE;
  }
  return link;
}

/**
 * Whether a list at positions `[start, end)` (one user's) served in `[from, to]` holds the item of hashes
 * `hash`, `second` (the index's `seeds`).
 */
export function servedItemBetween(
  index: ServedListIndex,
  start: number,
  end: number,
  hash: number,
  second: number,
  from: EpochMs,
  to: EpochMs,
): boolean {
  const lists = index.lists;
  let p = start;
  while (p < end && lists[p * LIST_WIDTH]! < from) p++;
  if (p === end || lists[p * LIST_WIDTH]! > to) return false;
  const words = index.listWords;
  const items = index.items;
  for (; p < end && lists[p * LIST_WIDTH]! <= to; p++) {
    const word = 2 * LIST_WIDTH * p + ITEMS_WORD;
    for (let k = 2 * words[word]!; k < 2 * words[word + 1]!; k += 2) {
      const chunk = items[k >>> CHUNK_BITS]!;
      const at = k & CHUNK_MASK; // even: an item's two words are in one chunk
      if (chunk[at] === hash && chunk[at + 1] === second) return true;
    }
  }
  return false;
}
