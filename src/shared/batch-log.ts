export interface BatchLogOptions {
  /** How long a record may wait for its batch. */
  readonly flushMs: number;
  readonly onError: (error: unknown) => void;
  /** Called with how many records were dropped because the backlog was full. */
  readonly onDrop?: (count: number) => void;
  /** A batch is written as soon as it holds this many. */
  readonly maxPending?: number;
  /**
   * Records given but not yet stored, at most. When the store falls behind (a slow disk, a burst
   * above what it can write), further records are dropped and counted rather than held in memory
   * without bound: a served list never waits for its log, and the process never grows until it dies.
   */
  readonly maxBacklog?: number;
}

/**
 * Writes records in batches on the side of the request path (impressions, exposures): one store write per
 * flush instead of one per request keeps logging off the latency budget. A crash loses at most the last
 * `flushMs` of records (and, under overload, what the backlog limit dropped), never an event.
 */
export class BatchLog<T> {
  private pending: T[] = [];
  /** Recorded and not yet stored (or failed): the pending batch plus batches queued for the store. */
  private backlog = 0;
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();
  private readonly maxPending: number;
  private readonly maxBacklog: number;

  constructor(
    private readonly write: (batch: T[]) => Promise<void>,
    private readonly options: BatchLogOptions,
  ) {
    this.maxPending = options.maxPending ?? 512;
    this.maxBacklog = Math.max(this.maxPending, options.maxBacklog ?? 20_000);
  }

  /** Records given and not yet stored. */
  get queued(): number {
    return this.backlog;
  }

  /** Queues a record; false when the backlog is full and it was dropped (and counted). */
  record(record: T): boolean {
    if (this.backlog >= this.maxBacklog) {
      this.options.onDrop?.(1);
      return false;
    }
    this.backlog++;
    this.pending.push(record);
    if (this.pending.length >= this.maxPending) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.options.flushMs);
    return true;
  }

  /** Writes everything recorded so far; resolves when it is stored. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const batch = this.pending;
    this.pending = [];
    if (batch.length > 0) this.flushing = this.#afterPrevious(batch);
    return this.flushing;
  }

  /**
   * The batch's write, chained after those before it. Nothing that runs after the write may refer to the
   * batch: records handed to a store that copies them (SQLite's background thread) must not stay reachable
   * until its commit, or a slow commit moves every record in flight into V8's old generation. Closures of
   * one scope share their captures, so the count the last step needs comes from a scope of its own.
   */
  #afterPrevious(batch: T[]): Promise<void> {
    return this.flushing
      .then(() => this.write(batch))
      .catch(this.options.onError)
      .finally(this.#stored(batch.length));
  }

  #stored(count: number): () => void {
    return () => {
      this.backlog -= count;
    };
  }
}
