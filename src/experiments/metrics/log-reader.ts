import type { MessagePort, Transferable, Worker } from 'node:worker_threads';
import type { TrackedEvent } from '../../events/types.js';
import type { Impression } from '../../recommendations/impression.js';
import { collectYoungGeneration, settleHeap } from './columns.js';
import {
  ColumnWriter,
  type ColumnFeed,
  type ListBatch,
  type ColumnJob,
  type EventColumns,
  type ListColumns,
} from './log-columns.js';
import type { BatchSource } from './served-lists.js';

/**
 * The analysis in two threads: a reader thread reads the log (the served lists, then the events) and turns
 * each batch into columns (`log-columns.ts`), the analysis thread indexes the exposures meanwhile and then
 * works on the columns alone. Reading is much of what one thread would do (materialising the records, the
 * garbage collections they cause, hashing their strings: ~4 s of ~11 s over ten million events); in a
 * thread of its own it runs beside the rest, which the analysis thread keeps (exposures, a typed-array pass
 * over each batch, the results). Measured there: the reader busy ~4.5 s, the analysis ~7.5 s, in 8 s.
 *
 * The reader's side is `serveLog`, run by a worker that owns the log (for a report, `report-reader.worker.ts`
 * on a store connection of its own); the analysis's side is a `LogReader` on that worker, given to
 * `computeMetrics` as its events. The analysis chooses the hash seeds and sends them with the definitions
 * (`ColumnJob`) when it starts, before it indexes the exposures, so the reader converts the served lists
 * while the analysis indexes.
 *
 * Backpressure: a batch's columns are one `ArrayBuffer`, transferred (not copied) to the analysis, which
 * transfers it back once it has read the batch; the reader writes the next batches into the buffers it gets
 * back and waits when all are out. Memory stays bounded by its pool (`POOL_SIZE`), and a long read
 * allocates no new buffers in either thread.
 *
 * Users told apart by their id strings: when two exposed users share both hashes (`StringIndex.comparesKeys`,
 * about 2⁻⁶⁴ per pair), the analysis needs each record's user id. It learns so only once the exposures are
 * indexed, when the reader has converted batches without ids: it then restarts the reader from the start of
 * the log with ids attached (`ColumnJob.keys`) and drops the batches of the first read, rather than making
 * every analysis send ids it practically never needs, or keep a single-thread path for that case.
 */

/**
 * The reader's buffers: `POOL_SIZE` of `BUFFER_BYTES`, so at most 64 MiB of batches in flight. A buffer
 * holds a batch of 10,000 events (the store's batch) feeding up to 13 parts, or 20,000 lists of 9 items
 * (fewer lists of more); a batch of events that needs more gets a larger buffer in its place.
 */
const BUFFER_BYTES = 2 << 20;
const POOL_SIZE = 32;

/**
 * Served lists per batch the reader asks for, a tenth of a store's default. A batch of 10,000 lists is
 * ~27 MB of objects, more than a young generation holds until it has grown: a thread that has only opened
 * its store starts with one of a few MB, which grows as collections find much alive. While a batch does not
 * fit, every collection falls inside one and finds all its objects alive, and V8 pretenures an allocation
 * site (for good) when that happens at a collection once the young generation is at its largest — unless
 * a collection has found under 85% of the site's new objects alive before, which decides it never will.
 * Measured in a reader thread over ten million events with batches of 10,000: about one run in three
 * pretenured the lists' objects, and read them in 6–10 s instead of 1 s. Batches of 1,000 (~3 MB) fit a
 * young generation long before it is at its largest. Events are ~3 MB per 10,000: the store's batch.
 */
const LIST_BATCH = 1_000;
/**
 * Served lists per batch sent to the analysis, at most: twenty of the reader's, as many as one buffer
 * (`BUFFER_BYTES`) holds with 9 items each. A batch of lists in columns is small (~100 B a list), and the
 * more the pool holds, the further the reader gets while the analysis indexes the exposures.
 */
const LIST_COLUMNS = 20_000;

/** The reader thread's source of records: a store's scans, or any batches (tests, benchmarks). */
export interface LogScans {
  /** Called once per read of the log (twice after a restart), for batches of about `batchSize` lists. */
  impressions(batchSize: number): BatchSource<Impression>;
  events(): BatchSource<TrackedEvent>;
}

/** Where the reader's time went in one read of lists or events, in milliseconds. */
export interface ReaderStats {
  /** Waiting for the source's batches (a store's scan: its queries and the records it materialises). */
  readonly scanMs: number;
  /** Converting them to columns. */
  readonly convertMs: number;
  /** Waiting for the analysis to hand back a buffer. */
  readonly blockedMs: number;
  readonly batches: number;
}

type ToReader =
  | { readonly type: 'start'; readonly epoch: number; readonly job: ColumnJob }
  | { readonly type: 'credit'; readonly epoch: number; readonly buffer: ArrayBuffer }
  | { readonly type: 'close' };

type FromReader =
  | { readonly type: 'ready'; readonly info: unknown }
  | { readonly type: 'lists'; readonly epoch: number; readonly columns: ListColumns }
  | { readonly type: 'events'; readonly epoch: number; readonly columns: EventColumns }
  | {
      readonly type: 'end';
      readonly epoch: number;
      readonly of: 'lists' | 'events';
      readonly stats: ReaderStats;
    }
  | { readonly type: 'failed'; readonly epoch: number; readonly message: string };

/**
 * The reader thread's side: answers one `LogReader` on `port`. Posts `ready` (with `info`, e.g. what a
 * benchmark's reader generated) once its buffers are allocated, reads the log on `start` (again on a
 * second `start`, with user ids), and returns on `close`. A failure of the source is posted to the
 * analysis, which throws it.
 */
export async function serveLog(
  port: MessagePort,
  scans: LogScans,
  ready: { readonly info?: unknown; readonly transfer?: readonly Transferable[] } = {},
): Promise<void> {
  let job: ColumnJob | null = null;
  let epoch = -1;
  let closing = false;
  let inFlight = 0;
  // Allocated before anything is read, and the heap settled, before the analysis is told the reader is
  // ready: allocated while a batch is alive, tens of MB of buffers would make V8 pretenure the source's
  // records (see `settleHeap`), and a major collection they start should not end during the first batch.
  const pool = Array.from({ length: POOL_SIZE }, () => new ArrayBuffer(BUFFER_BYTES));
  await settleHeap();
  let wake: (() => void) | null = null;
  const onMessage = (message: ToReader) => {
    switch (message.type) {
      case 'start':
        job = message.job;
        epoch = message.epoch;
        inFlight = 0; // the batches of an earlier read come back as credits of their epoch
        break;
      case 'credit':
        if (pool.length < POOL_SIZE) pool.push(message.buffer);
        if (message.epoch === epoch) inFlight--;
        break;
      case 'close':
        closing = true;
        break;
    }
    const waiting = wake;
    wake = null;
    waiting?.();
  };
  const nextMessage = () => new Promise<void>((resolve) => (wake = resolve));
  const post = (message: FromReader, transfer: readonly Transferable[] = []) =>
    port.postMessage(message, transfer);

  /** A buffer of at least `bytes`, once fewer than `POOL_SIZE` batches are out; null when interrupted. */
  const take = async (bytes: number, interrupted: () => boolean): Promise<ArrayBuffer | null> => {
    while (inFlight >= POOL_SIZE) {
      if (interrupted()) return null;
      await nextMessage();
    }
    const buffer = pool.pop();
    return buffer !== undefined && buffer.byteLength >= bytes
      ? buffer
      : new ArrayBuffer(Math.max(bytes, BUFFER_BYTES));
  };

  /** One read of the log for `reading`; returns when done, failed, or interrupted (restart or close). */
  const read = async (reading: ColumnJob, readEpoch: number) => {
    const interrupted = () => closing || epoch !== readEpoch;
    const writer = new ColumnWriter(reading);
    let blockedMs = 0;
    const buffer = async (bytes: number) => {
      const waiting = performance.now();
      const taken = await take(bytes, interrupted);
      blockedMs += performance.now() - waiting;
      return taken;
    };
    const send = (message: FromReader & { readonly columns: ListColumns | EventColumns }) => {
      post(message, [message.columns.buffer]);
      inFlight++;
    };

    /** Reads `source`, each batch into `write` (false: interrupted), then `end`; null when interrupted. */
    const pass = async <R>(
      source: BatchSource<R>,
      write: (batch: readonly R[]) => Promise<boolean>,
      end: () => void,
    ): Promise<ReaderStats | null> => {
      let scanMs = 0;
      let busyMs = 0;
      let batches = 0;
      blockedMs = 0;
      await collectYoungGeneration(); // the next collection many batches on (see columns.ts)
      let mark = performance.now();
      for await (const batch of source) {
        const read = performance.now();
        scanMs += read - mark;
        if (!(await write(batch))) return null;
        batches++;
        // A turn of the event loop per batch: credits come back as they are posted, and a restart or close
        // is seen within a batch.
        await new Promise((resolve) => setImmediate(resolve));
        if (interrupted()) return null;
        mark = performance.now();
        busyMs += mark - read;
      }
      scanMs += performance.now() - mark;
      end();
      return { scanMs, convertMs: busyMs - blockedMs, blockedMs, batches };
    };

    // Lists are read in small batches and sent in large ones (`LIST_BATCH`, `LIST_COLUMNS`).
    let open: ListBatch | null = null;
    const sendLists = () => {
      if (open !== null && open.length > 0)
        send({ type: 'lists', epoch: readEpoch, columns: open.columns() });
      open = null;
    };
    const writeLists = async (batch: readonly Impression[]): Promise<boolean> => {
      if (open === null || !open.append(batch)) {
        sendLists();
        const capacity = Math.max(LIST_COLUMNS, batch.length);
        const taken = await buffer(writer.listBytes(batch, capacity));
        if (taken === null) return false;
        const opened = writer.openLists(taken, capacity);
        if (!opened.append(batch)) throw new Error('a batch of lists does not fit the buffer made for it');
        open = opened;
      }
      if (open.length >= LIST_COLUMNS) sendLists();
      return true;
    };
    const writeEvents = async (batch: readonly TrackedEvent[]): Promise<boolean> => {
      const taken = await buffer(writer.eventBytes(batch.length));
      if (taken === null) return false;
      send({ type: 'events', epoch: readEpoch, columns: writer.writeEvents(batch, taken) });
      return true;
    };

    try {
      if (reading.lists) {
        const stats = await pass(scans.impressions(LIST_BATCH), writeLists, sendLists);
        if (stats === null) return;
        post({ type: 'end', epoch: readEpoch, of: 'lists', stats });
      }
      const stats = await pass(scans.events(), writeEvents, () => {});
      if (stats === null) return;
      post({ type: 'end', epoch: readEpoch, of: 'events', stats });
    } catch (error) {
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      post({ type: 'failed', epoch: readEpoch, message });
    }
  };

  port.on('message', onMessage);
  try {
    post({ type: 'ready', info: ready.info }, ready.transfer);
    let served = -1;
    for (;;) {
      while (!closing && (job === null || epoch === served)) await nextMessage();
      if (closing || job === null) return;
      served = epoch;
      await read(job, epoch);
    }
  } finally {
    port.off('message', onMessage);
  }
}

/**
 * The analysis thread's side of a reader thread (`serveLog` on `worker`): pass it to `computeMetrics` as
 * its `events`. Read once: the analysis starts it and closes it, whether it succeeds or not.
 */
export class LogReader implements ColumnFeed {
  /** What the reader posted when it was ready (`serveLog`'s `info`). */
  readonly ready: Promise<unknown>;
  private readonly queue: FromReader[] = [];
  private wake: (() => void) | null = null;
  private failure: Error | null = null;
  private epoch = 0;
  private job: ColumnJob | null = null;
  private closed = false;
  private readonly ended = { lists: false, events: false };
  private waitedMs = 0;
  private readonly readerStats: { lists: ReaderStats | null; events: ReaderStats | null } = {
    lists: null,
    events: null,
  };

  constructor(private readonly worker: Worker) {
    let resolveReady: (info: unknown) => void = () => {};
    let rejectReady: (error: Error) => void = () => {};
    this.ready = new Promise((resolve, reject) => {
      resolveReady = resolve;
      rejectReady = reject;
    });
    // Whoever reads the log sees a failure there; `ready` need not be awaited.
    this.ready.catch(() => {});
    worker.on('message', (message: FromReader) => {
      if (message.type === 'ready') resolveReady(message.info);
      else this.queue.push(message);
      this.notify();
    });
    worker.on('error', (error) => {
      this.fail(error);
      rejectReady(error);
    });
    worker.on('exit', (code) => {
      const error = new Error(`the log reader thread exited with code ${code} before the log was read`);
      if (!this.closed && !this.ended.events) this.fail(error);
      rejectReady(error);
    });
  }

  /** Starts the reading for one analysis: called by `computeMetrics`. */
  start(job: ColumnJob): ColumnFeed {
    if (this.job !== null || this.closed) throw new Error('a LogReader is read once');
    this.job = job;
    this.worker.postMessage({ type: 'start', epoch: this.epoch, job } satisfies ToReader);
    return this;
  }

  compareKeys(): void {
    if (this.job === null || this.job.keys) return;
    this.job = { ...this.job, keys: true };
    this.epoch++;
    this.worker.postMessage({ type: 'start', epoch: this.epoch, job: this.job } satisfies ToReader);
  }

  lists(): AsyncIterable<ListColumns> {
    return this.read('lists', (message) => (message.type === 'lists' ? message.columns : null));
  }

  events(): AsyncIterable<EventColumns> {
    return this.read('events', (message) => (message.type === 'events' ? message.columns : null));
  }

  /**
   * Where the time went: the reader's (per kind, once read), and the analysis's waiting for batches; and how
   * often the log was read (twice after a restart for user ids).
   */
  get stats(): {
    readonly lists: ReaderStats | null;
    readonly events: ReaderStats | null;
    readonly analysisWaitedMs: number;
    readonly reads: number;
  } {
    return { ...this.readerStats, analysisWaitedMs: this.waitedMs, reads: this.epoch + 1 };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.worker.postMessage({ type: 'close' } satisfies ToReader);
    // The reader ends by itself once it has read the close; it must not keep this thread's loop alive.
    this.worker.unref();
  }

  private async *read<C extends ListColumns | EventColumns>(
    of: 'lists' | 'events',
    columnsOf: (message: FromReader) => C | null,
  ): AsyncGenerator<C> {
    for (;;) {
      const message = await this.next();
      if (message.type === 'failed') throw new Error(`reading the log failed: ${message.message}`);
      if (message.type === 'end' && message.of === of) {
        this.readerStats[of] = message.stats;
        this.ended[of] = true;
        return;
      }
      const columns = columnsOf(message);
      if (columns === null) throw new Error(`the log reader sent ${message.type} while ${of} were read`);
      yield columns;
      this.release(message.epoch, columns.buffer);
    }
  }

  /** The next message of the current read; batches of an earlier one go straight back. */
  private async next(): Promise<Exclude<FromReader, { readonly type: 'ready' }>> {
    for (;;) {
      const message = this.queue.shift();
      if (message !== undefined && message.type !== 'ready') {
        if (message.epoch === this.epoch) return message;
        if (message.type === 'lists' || message.type === 'events') {
          this.release(message.epoch, message.columns.buffer);
        }
        continue;
      }
      if (this.failure !== null) throw this.failure;
      const waiting = performance.now();
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.waitedMs += performance.now() - waiting;
    }
  }

  private release(epoch: number, buffer: ArrayBuffer): void {
    if (this.closed) return;
    this.worker.postMessage({ type: 'credit', epoch, buffer } satisfies ToReader, [buffer]);
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.notify();
  }

  private notify(): void {
    const waiting = this.wake;
    this.wake = null;
    waiting?.();
  }
}
