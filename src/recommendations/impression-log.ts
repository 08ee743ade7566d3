import type { Store } from '../store/index.js';
import type { Impression } from './impression.js';

/**
 * Logs served lists in batches: one store write per flush instead of one per request keeps logging off
 * the latency budget. A crash loses at most the last `flushMs` of impressions, never an event.
 */
export class ImpressionLog {
  private pending: Impression[] = [];
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Store,
    private readonly flushMs: number,
    private readonly onError: (error: unknown) => void,
    private readonly maxPending = 512,
  ) {}

  record(impression: Impression): void {
    this.pending.push(impression);
    if (this.pending.length >= this.maxPending) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.flushMs);
  }

  /** Writes everything recorded so far; resolves when it is stored. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const batch = this.pending;
    this.pending = [];
    if (batch.length > 0) {
      this.flushing = this.flushing.then(() => this.store.appendImpressions(batch)).catch(this.onError);
    }
    return this.flushing;
  }
}
