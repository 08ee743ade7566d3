import type { Store } from '../store/index.js';
import type { Impression } from './impression.js';

export interface ImpressionLogOptions {
  /** How long a recorded impression may wait for its batch. */
  readonly flushMs: number;
  readonly onError: (error: unknown) => void;
  /** Called with how many impressions were dropped because the backlog was full. */
  readonly onDrop?: (count: number) => void;
  /** A batch is written as soon as it holds this many. */
  readonly maxPending?: number;
  /**
   * Impressions recorded but not yet stored, at most. When the store falls behind (a slow disk, a burst
   * above what it can write), further impressions are dropped and counted rather than held in memory
   * without bound: a served list never waits for its log, and the process never grows until it dies.
   */
  readonly maxBacklog?: number;
}

/**
 * Logs served lists in batches: one store write per flush instead of one per request keeps logging off
 * the latency budget. A crash loses at most the last `flushMs` of impressions (and, under overload, what
 * the backlog limit dropped), never an event.
 */
export class ImpressionLog {
  private pending: Impression[] = [];
  /** Recorded and not yet stored (or failed): the pending batch plus batches queued for the store. */
  private backlog = 0;
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();
  private readonly maxPending: number;
  private readonly maxBacklog: number;

  constructor(
    private readonly store: Pick<Store, 'appendImpressions'>,
    private readonly options: ImpressionLogOptions,
  ) {
    this.maxPending = options.maxPending ?? 512;
    this.maxBacklog = Math.max(this.maxPending, options.maxBacklog ?? 20_000);
  }

  /** Impressions recorded and not yet stored. */
  get queued(): number {
    return this.backlog;
  }

  record(impression: Impression): void {
    if (this.backlog >= this.maxBacklog) {
      this.options.onDrop?.(1);
      return;
    }
    this.backlog++;
    this.pending.push(impression);
    if (this.pending.length >= this.maxPending) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.options.flushMs);
  }

  /** Writes everything recorded so far; resolves when it is stored. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const batch = this.pending;
    this.pending = [];
    if (batch.length > 0) {
      this.flushing = this.flushing
        .then(() => this.store.appendImpressions(batch))
        .catch(this.options.onError)
        .finally(() => {
          this.backlog -= batch.length;
        });
    }
    return this.flushing;
  }
}
