import type { Impression } from '../../recommendations/impression.js';
import type { EpochMs } from '../../shared/types.js';
import type { ExposedPopulation } from './exposures.js';
import { hashString, lastSecondHashOf, randomSeed } from './string-index.js';

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
 */
export interface ServedListIndex {
  readonly count: number;
  /** User `u`'s lists, oldest first, are the positions `[userStart[u], userStart[u + 1])` of what follows. */
  readonly userStart: Int32Array;
  readonly servedAt: Float64Array;
  readonly requestHash: Int32Array;
  readonly requestSecondHash: Int32Array;
  /** Position `p`'s item hashes are `[itemStart[p], itemStart[p + 1])` of `itemHash` and `itemSecondHash`. */
  readonly itemStart: Int32Array;
  readonly itemHash: Int32Array;
  readonly itemSecondHash: Int32Array;
  readonly seeds: readonly [number, number];
}

/** Reads the lists served before `now` to exposed users; `reach`: how far from exposure a window extends. */
export async function indexServedLists(
  source: BatchSource<Impression>,
  population: ExposedPopulation,
  now: EpochMs,
  reach: number,
): Promise<ServedListIndex> {
  const seeds = [randomSeed(), randomSeed()] as const;
  // In the order read: each list's user, time, request id hashes, and where its item hashes start.
  const users = new Int32Buffer();
  const times: number[] = [];
  const readRequest = new Int32Buffer();
  const readRequestSecond = new Int32Buffer();
  const readItemStart = new Int32Buffer();
  const readHash = new Int32Buffer();
  const readSecondHash = new Int32Buffer();
  for await (const batch of source) {
    for (const impression of batch) {
      const user = population.users.get(impression.userId);
      const at = impression.createdAt;
      if (user < 0 || !(at < now)) continue;
      const first = population.firstAt[user]!;
      if (first === Infinity) continue; // not exposed as of now
      users.push(user);
      times.push(at);
      readRequest.push(hashString(impression.requestId, seeds[0], seeds[1]));
      readRequestSecond.push(lastSecondHashOf());
      readItemStart.push(readHash.length);
      if (at >= first - reach && at < first + reach) {
        for (const item of impression.items) {
          readHash.push(hashString(item.itemId, seeds[0], seeds[1]));
          readSecondHash.push(lastSecondHashOf());
        }
      }
    }
  }
  readItemStart.push(readHash.length);

  const count = users.length;
  const user = users.view();
  const userCount = population.firstAt.length;
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

  // Everything copied into that order, so that one user's lists lie side by side.
  const requests = readRequest.view();
  const requestSeconds = readRequestSecond.view();
  const readStarts = readItemStart.view();
  const hashes = readHash.view();
  const secondHashes = readSecondHash.view();
  const servedAt = new Float64Array(count);
  const requestHash = new Int32Array(count);
  const requestSecondHash = new Int32Array(count);
  const itemStart = new Int32Array(count + 1);
  const itemHash = new Int32Array(hashes.length);
  const itemSecondHash = new Int32Array(hashes.length);
  let filled = 0;
  for (let p = 0; p < count; p++) {
    const list = order[p]!;
    servedAt[p] = times[list]!;
    requestHash[p] = requests[list]!;
    requestSecondHash[p] = requestSeconds[list]!;
    itemStart[p] = filled;
    for (let k = readStarts[list]!; k < readStarts[list + 1]!; k++) {
      itemHash[filled] = hashes[k]!;
      itemSecondHash[filled++] = secondHashes[k]!;
    }
  }
  itemStart[count] = filled;
  return {
    count,
    userStart,
    servedAt,
    requestHash,
    requestSecondHash,
    itemStart,
    itemHash,
    itemSecondHash,
    seeds,
  };
}

/** What a request id says about a click in a window. */
export const NOT_LINKED = -1;
export const LINKED_OUTSIDE = 0;
export const LINKED_INSIDE = 1;

/**
 * Whether `requestId` names one of `user`'s lists: `LINKED_INSIDE` when one so named was served in
 * `[from, to)`, `LINKED_OUTSIDE` when only others, `NOT_LINKED` when none.
 */
export function linkByRequest(
  index: ServedListIndex,
  user: number,
  requestId: string,
  from: EpochMs,
  to: EpochMs,
): number {
  const end = index.userStart[user + 1]!;
  let p = index.userStart[user]!;
  if (p === end) return NOT_LINKED;
  const hash = hashString(requestId, index.seeds[0], index.seeds[1]);
  const second = lastSecondHashOf();
  let link = NOT_LINKED;
  for (; p < end; p++) {
    if (index.requestHash[p] !== hash || index.requestSecondHash[p] !== second) continue;
    const at = index.servedAt[p]!;
    if (at >= from && at < to) return LINKED_INSIDE;
    link = LINKED_OUTSIDE;
  }
  return link;
}

/** Whether a list served to `user` in `[from, to]` holds `itemId`. Scans the user's few lists. */
export function servedItemBetween(
  index: ServedListIndex,
  user: number,
  itemId: string,
  from: EpochMs,
  to: EpochMs,
): boolean {
  const end = index.userStart[user + 1]!;
  let p = index.userStart[user]!;
  while (p < end && index.servedAt[p]! < from) p++;
  if (p === end || index.servedAt[p]! > to) return false;
  const hash = hashString(itemId, index.seeds[0], index.seeds[1]);
  const second = lastSecondHashOf();
  for (; p < end && index.servedAt[p]! <= to; p++) {
    for (let k = index.itemStart[p]!; k < index.itemStart[p + 1]!; k++) {
      if (index.itemHash[k] === hash && index.itemSecondHash[k] === second) return true;
    }
  }
  return false;
}

/** A growable Int32Array. */
class Int32Buffer {
  private data = new Int32Array(1024);
  length = 0;

  push(value: number): void {
    if (this.length === this.data.length) {
      const grown = new Int32Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.length++] = value;
  }

  /** The values pushed, without copying. */
  view(): Int32Array {
    return this.data.subarray(0, this.length);
  }
}
