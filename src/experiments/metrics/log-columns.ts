import type { TrackedEvent } from '../../events/types.js';
import type { Impression } from '../../recommendations/impression.js';
import type { EpochMs } from '../../shared/types.js';
import type { MetricDefinition } from './definitions.js';
import {
  compilePlan,
  SOURCE_CLICKS,
  SOURCE_SERVED_LISTS,
  VALUE_ONE,
  VALUE_REVENUE,
  type Part,
  type Plan,
} from './plan.js';
import type { BatchSource } from './served-lists.js';
import { hashString, lastSecondHashOf, type HashSeeds } from './string-index.js';
import { propertyValueOf, revenueOf } from './values.js';

/**
 * The log as the analysis reads it: each batch of events or served lists turned into typed columns holding
 * only what the analysis needs of a record, computed from the record alone — its time, its user id's
 * hashes, which parts it feeds (`Plan.routesFor`) with the value it adds to each after the part's filter,
 * and for a click the hashes of its request id and item id (`ServedListIndex` keeps lists by hashes). What
 * depends on the exposed users (who the user is, their windows) is left to the analysis.
 *
 * Why: the conversion is the part of the analysis that reads the records, and the records are most of its
 * cost — materialising them (a store's scan), the garbage collections they cause, hashing their strings.
 * In columns, that work can run in another thread than the analysis (`log-reader.ts`): a batch is one
 * `ArrayBuffer`, moved between threads without a copy, and the analysis thread never holds a record object.
 * The analysis of in-memory batches (`computeMetrics` given `TrackedEvent[]` batches) converts with the
 * same `ColumnWriter` in its own thread, so there is one implementation of what a record contributes.
 *
 * A batch keeps only records that can count: an event that feeds at least one part with a non-zero value
 * before `now`, a list served before `now`. The analysis would skip the others anyway (a filtered out or
 * zero-valued record changes no sum), so they need not take room in the batch nor time in its thread.
 */

/** What both sides of the conversion agree on; plain data, posted to the reader thread as it is. */
export interface ColumnJob {
  /** Validated definitions, in the analysis's order: both threads compile the same plan from them. */
  readonly metrics: readonly MetricDefinition[];
  readonly now: EpochMs;
  /** The seeds of the user table's hashes (`StringIndex`), chosen by the analysis thread. */
  readonly userSeeds: HashSeeds;
  /** The seeds of the served lists' request and item id hashes (`ServedListIndex`). */
  readonly listSeeds: HashSeeds;
  /** Whether the served lists are read (a metric reads clicks or lists). */
  readonly lists: boolean;
  /**
   * Attach each record's user id string: two exposed users share both hashes, so the user table must
   * compare strings to tell them apart (`StringIndex.comparesKeys`; practically never).
   */
  readonly keys: boolean;
}

/** A batch of events in columns; arrays are views of `buffer` with room for more than `count` records. */
export interface EventColumns {
  readonly buffer: ArrayBuffer;
  /** Events read from the log for this batch, kept or not. */
  readonly read: number;
  /** Events kept: records `[0, count)` of the per-event columns. */
  readonly count: number;
  readonly time: Float64Array;
  /** Per event, words `3i` to `3i + 2`: its user id's two hashes (`userSeeds`) and its length. */
  readonly user: Int32Array;
  /** Event `i`'s entries are `[routeEnd[i − 1], routeEnd[i])` (from 0 for `i = 0`) of `routes`, `values`. */
  readonly routeEnd: Int32Array;
  /** Per entry, a route (`Routes`: part index × 2, + 1 for a click name) the event feeds. */
  readonly routes: Int32Array;
  /** Per entry, what the event adds to that part (never 0: such entries are left out). */
  readonly values: Float64Array;
  /**
   * Per event that feeds a click part, words `4i`, `4i + 1`: its request id's hashes (`listSeeds`), valid
   * when `flags[i]` has `HAS_REQUEST`; `4i + 2`, `4i + 3`: its item id's, valid with `HAS_ITEM`.
   */
  readonly link: Int32Array;
  readonly flags: Int32Array;
  /** With `ColumnJob.keys`: each kept event's user id. */
  readonly userIds: readonly string[] | null;
}

export const HAS_REQUEST = 1;
/** The event has an item and feeds a click part under a click name (it may link to a list by its item). */
export const HAS_ITEM = 2;

/** A batch of served lists in columns, as `EventColumns`. */
export interface ListColumns {
  readonly buffer: ArrayBuffer;
  readonly read: number;
  readonly count: number;
  readonly time: Float64Array;
  /** As `EventColumns.user`. */
  readonly user: Int32Array;
  /** Per list, words `2i`, `2i + 1`: its request id's hashes (`listSeeds`). */
  readonly request: Int32Array;
  /** List `i`'s items are `[itemEnd[i − 1], itemEnd[i])` (from 0 for the first) of `items`. */
  readonly itemEnd: Int32Array;
  /** Per item `k`, words `2k`, `2k + 1`: its id's hashes (`listSeeds`). */
  readonly items: Int32Array;
  readonly userIds: readonly string[] | null;
}

/** Bytes of an event batch with room for `events` events and `entries` entries. */
export function eventBytes(events: number, entries: number): number {
  return 44 * events + 12 * entries;
}

/** Bytes of a list batch with room for `lists` lists and `items` items. */
export function listBytes(lists: number, items: number): number {
  return 32 * lists + 8 * items;
}

/**
 * Converts batches for one analysis (`ColumnJob`). The buffer a batch is written to is the caller's: the
 * reader thread reuses the ones the analysis hands back, so that a long read allocates no new memory.
 */
export class ColumnWriter {
  private readonly plan: Plan;
  /** The most entries an event can have: one per part that events feed (served lists are not events). */
  readonly maxRoutes: number;

  constructor(readonly job: ColumnJob) {
    this.plan = compilePlan(job.metrics);
    this.maxRoutes = this.plan.parts.filter((part) => part.source !== SOURCE_SERVED_LISTS).length;
  }

  /** The buffer size `writeEvents` needs for a batch of `length` events (at most). */
  eventBytes(length: number): number {
    return eventBytes(length, length * this.maxRoutes);
  }

  /** The buffer size `writeLists` needs for `batch`, or `openLists` with room for `capacity` lists. */
  listBytes(batch: readonly Impression[], capacity = batch.length): number {
    let items = 0;
    for (let i = 0; i < batch.length; i++) items += batch[i]!.items.length;
    return listBytes(capacity, items);
  }

  /** `batch` in columns, written to `buffer` (of at least `eventBytes(batch.length)` bytes). */
  writeEvents(batch: readonly TrackedEvent[], buffer: ArrayBuffer): EventColumns {
    const n = batch.length;
    const entries = n * this.maxRoutes;
    // Doubles first, so that every view is aligned.
    const time = new Float64Array(buffer, 0, n);
    const values = new Float64Array(buffer, 8 * n, entries);
    let at = 8 * (n + entries);
    const user = new Int32Array(buffer, at, 3 * n);
    const routeEnd = new Int32Array(buffer, (at += 12 * n), n);
    const routes = new Int32Array(buffer, (at += 4 * n), entries);
    const link = new Int32Array(buffer, (at += 4 * entries), 4 * n);
    const flags = new Int32Array(buffer, at + 16 * n, n);

    const { plan, job } = this;
    const parts = plan.parts;
    const now = job.now;
    const [userSeed, userSecondSeed] = job.userSeeds;
    const [listSeed, listSecondSeed] = job.listSeeds;
    const userIds: string[] | null = job.keys ? [] : null;
    let count = 0;
    let entry = 0;
    for (let i = 0; i < n; i++) {
      const event = batch[i]!;
      const eventRoutes = plan.routesFor(event.name);
      if (eventRoutes.length === 0) continue;
      const timestamp = event.timestamp;
      if (!(timestamp < now)) continue;
      const first = entry;
      let clicks = false;
      let byName = false;
      for (let r = 0; r < eventRoutes.length; r++) {
        const route = eventRoutes[r]!;
        const part = parts[route >> 1]!;
        if (!matchesFilter(part, event)) continue;
        const value = valueOf(part, event);
        if (value === 0) continue;
        routes[entry] = route;
        values[entry++] = value;
        if (part.source === SOURCE_CLICKS) {
          clicks = true;
          if ((route & 1) !== 0) byName = true;
        }
      }
      if (entry === first) continue;
      time[count] = timestamp;
      const userId = event.userId;
      user[3 * count] = hashString(userId, userSeed, userSecondSeed);
      user[3 * count + 1] = lastSecondHashOf();
      user[3 * count + 2] = userId.length;
      routeEnd[count] = entry;
      let flag = 0;
      if (clicks) {
        const requestId = event.requestId;
        if (requestId !== null) {
          flag |= HAS_REQUEST;
          link[4 * count] = hashString(requestId, listSeed, listSecondSeed);
          link[4 * count + 1] = lastSecondHashOf();
        }
        const itemId = event.itemId;
        if (byName && itemId !== null) {
          flag |= HAS_ITEM;
          link[4 * count + 2] = hashString(itemId, listSeed, listSecondSeed);
          link[4 * count + 3] = lastSecondHashOf();
        }
      }
      flags[count] = flag;
      userIds?.push(userId);
      count++;
    }
    return { buffer, read: n, count, time, user, routeEnd, routes, values, link, flags, userIds };
  }

  /** `batch` in columns, written to `buffer` (of at least `listBytes(batch)` bytes). */
  writeLists(batch: readonly Impression[], buffer: ArrayBuffer): ListColumns {
    const lists = this.openLists(buffer, batch.length);
    lists.append(batch);
    return lists.columns();
  }

  /**
   * A batch of lists in `buffer` with room for `capacity` lists and as many items as the rest of it holds,
   * filled a source batch at a time (`ListBatch.append`): the reader thread reads lists in small batches
   * (see `LIST_BATCH`, log-reader.ts) and sends them in large ones.
   */
  openLists(buffer: ArrayBuffer, capacity: number): ListBatch {
    return new ListBatch(this.job, buffer, capacity);
  }
}

/** A batch of lists being written (`ColumnWriter.openLists`). */
export class ListBatch {
  private readonly time: Float64Array;
  private readonly user: Int32Array;
  private readonly request: Int32Array;
  private readonly itemEnd: Int32Array;
  private readonly items: Int32Array;
  private readonly userIds: string[] | null;
  private read = 0;
  private count = 0;
  private word = 0;

  constructor(
    private readonly job: ColumnJob,
    private readonly buffer: ArrayBuffer,
    private readonly capacity: number,
  ) {
    const n = capacity;
    this.time = new Float64Array(buffer, 0, n);
    let at = 8 * n;
    this.user = new Int32Array(buffer, at, 3 * n);
    this.request = new Int32Array(buffer, (at += 12 * n), 2 * n);
    this.itemEnd = new Int32Array(buffer, (at += 8 * n), n);
    this.items = new Int32Array(buffer, at + 4 * n, Math.floor((buffer.byteLength - listBytes(n, 0)) / 4));
    this.userIds = job.keys ? [] : null;
  }

  /** Whether `batch` is written: false, and nothing written, when the room left is too small for it. */
  append(batch: readonly Impression[]): boolean {
    const n = batch.length;
    let itemCount = 0;
    for (let i = 0; i < n; i++) itemCount += batch[i]!.items.length;
    if (this.read + n > this.capacity || this.word + 2 * itemCount > this.items.length) return false;
    const { time, user, request, itemEnd, items, userIds } = this;
    const now = this.job.now;
    const [userSeed, userSecondSeed] = this.job.userSeeds;
    const [listSeed, listSecondSeed] = this.job.listSeeds;
    let count = this.count;
    let word = this.word;
    for (let i = 0; i < n; i++) {
      const list = batch[i]!;
      const createdAt = list.createdAt;
      if (!(createdAt < now)) continue;
      time[count] = createdAt;
      const userId = list.userId;
      user[3 * count] = hashString(userId, userSeed, userSecondSeed);
      user[3 * count + 1] = lastSecondHashOf();
      user[3 * count + 2] = userId.length;
      request[2 * count] = hashString(list.requestId, listSeed, listSecondSeed);
      request[2 * count + 1] = lastSecondHashOf();
      const listItems = list.items;
      for (let k = 0; k < listItems.length; k++) {
        items[word++] = hashString(listItems[k]!.itemId, listSeed, listSecondSeed);
        items[word++] = lastSecondHashOf();
      }
      itemEnd[count] = word >> 1;
      userIds?.push(userId);
      count++;
    }
    this.read += n;
    this.count = count;
    this.word = word;
    return true;
  }

  /** Lists appended so far, kept or not. */
  get length(): number {
    return this.read;
  }

  columns(): ListColumns {
    const { buffer, read, count, time, user, request, itemEnd, items, userIds } = this;
    return { buffer, read, count, time, user, request, itemEnd, items, userIds };
  }
}

function matchesFilter(part: Part, event: TrackedEvent): boolean {
  const keys = part.whereKeys;
  for (let k = 0; k < keys.length; k++) {
    if (event.properties[keys[k]!] !== part.whereValues[k]) return false;
  }
  return true;
}

function valueOf(part: Part, event: TrackedEvent): number {
  if (part.valueKind === VALUE_ONE) return 1;
  if (part.valueKind === VALUE_REVENUE) return revenueOf(event.properties);
  return propertyValueOf(event.properties, part.property);
}

/** Where an analysis gets its columns: its own thread (`LocalColumns`) or a reader thread (`LogReader`). */
export interface ColumnFeed {
  /** The served lists, read once, before the events (only when `ColumnJob.lists`). */
  lists(): AsyncIterable<ListColumns>;
  /** The events, read once. */
  events(): AsyncIterable<EventColumns>;
  /** From now on every record carries its user id (`ColumnJob.keys`); before any batch is read. */
  compareKeys(): void;
  /** Ends the reading, whether or not it is over. */
  close(): void;
}

/** Records per batch the in-thread conversion has room for before it allocates more. */
const SCRATCH = 16_384;
/** Items per list the room of a list batch is sized for. */
const ITEMS_PER_LIST = 16;

/**
 * The conversion in the analysis's own thread, a batch at a time as the analysis asks for it, into one
 * buffer per kind reused for every batch. The buffers are allocated with the feed, before the analysis
 * reads its first batch (see `settleHeap`, columns.ts).
 */
export class LocalColumns implements ColumnFeed {
  private job: ColumnJob;
  private eventBuffer: ArrayBuffer;
  private listBuffer: ArrayBuffer;

  constructor(
    job: ColumnJob,
    private readonly eventSource: BatchSource<TrackedEvent>,
    private readonly listSource: BatchSource<Impression>,
  ) {
    this.job = job;
    this.eventBuffer = new ArrayBuffer(new ColumnWriter(job).eventBytes(SCRATCH));
    this.listBuffer = new ArrayBuffer(job.lists ? listBytes(SCRATCH, SCRATCH * ITEMS_PER_LIST) : 0);
  }

  compareKeys(): void {
    this.job = { ...this.job, keys: true };
  }

  close(): void {}

  async *lists(): AsyncIterable<ListColumns> {
    const writer = new ColumnWriter(this.job);
    for await (const batch of this.listSource) {
      const bytes = writer.listBytes(batch);
      if (this.listBuffer.byteLength < bytes) this.listBuffer = new ArrayBuffer(bytes);
      yield writer.writeLists(batch, this.listBuffer);
    }
  }

  async *events(): AsyncIterable<EventColumns> {
    const writer = new ColumnWriter(this.job);
    for await (const batch of this.eventSource) {
      const bytes = writer.eventBytes(batch.length);
      if (this.eventBuffer.byteLength < bytes) this.eventBuffer = new ArrayBuffer(bytes);
      yield writer.writeEvents(batch, this.eventBuffer);
    }
  }
}
