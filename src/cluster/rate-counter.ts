import type { Redis } from 'ioredis';

import type { RateCounter } from '../api/limits.js';
import { newInstanceId } from './bus.js';
import { closeRedis, describeError, openRedis } from './redis.js';

export interface RedisRateCounterOptions {
  /** `redis://` or `rediss://` URL (REDIS_URL). */
  readonly redisUrl: string;
  /** Key prefix of the deployment; counts live at `${prefix}rate:<key>:<epoch second>`. */
  readonly prefix: string;
  /** Names the connection in CLIENT LIST (default: host, pid and random bits). */
  readonly instance?: string;
  /** How often local counts go to Redis and totals come back (default 50 ms). */
  readonly syncIntervalMs?: number;
  /** Per-sync reply timeout (default 500 ms). */
  readonly commandTimeoutMs?: number;
}

/** The shared counter's state for /health and metrics. */
export interface RateCounterStatus {
  readonly connected: boolean;
  /** Syncs that reached Redis. */
  readonly syncs: number;
  /** Syncs that failed or timed out (their increments go with the next one). */
  readonly syncFailures: number;
  /** Keys counted in memory now. */
  readonly windows: number;
  readonly lastError: string | null;
}

/** One key's current second, as this instance knows it. */
interface Window {
  readonly key: string;
  readonly second: number;
  /** Requests this instance admitted in the window. */
  own: number;
  /** Of those, how many Redis has confirmed (INCRBY replied). */
  sent: number;
  /** The deployment-wide total at the last sync (0 before one: this instance's own limit). */
  total: number;
  /** `sent` when `total` was read: the own admissions `total` already includes. */
  sentAtRead: number;
  /** Whether it waits in the dirty list for the next sync. */
  dirty: boolean;
}

/** Keys live a few seconds past their window, so an instance whose clock lags a little still finds them. */
const KEY_TTL_MS = 5_000;
/** Windows beyond which idle ones are swept, as in RateWindows. */
const SWEEP_AT = 100_000;

/**
 * Per-key limits across every instance of a deployment, with no Redis round trip on the request path.
 * `take` decides from memory: the deployment-wide total at the last sync plus what this instance admitted
 * since. Every `syncIntervalMs` (50 ms) one pipeline sends each active window's new admissions
 * (`INCRBY ${prefix}rate:<key>:<second>` with a 5 s expiry; a `GET` for a window with none) and reads the
 * totals back. A request is admitted while that estimate is below the limit.
 *
 * The bound. With N instances and sync interval T, an instance's view of the others' admissions is at
 * most 2T + one round trip old (theirs reach Redis within T, its next read within another T). So in one
 * window the deployment admits at most `max + Σ over the other instances of what each admitted for the key
 * in 2T + RTT`: with T = 50 ms and one instance admitting 1,000 requests/s of that key, 100 more per other
 * instance; and never more than `N × max` (each instance alone still holds `max`). A burst faster than one
 * sync — all of it at the start of a window — gets that worst case, as does a window while Redis is down:
 * each instance then counts alone, at its own limit, and rejoins the shared count once Redis answers.
 * Windows are epoch seconds of each instance's clock, so clocks are assumed close (NTP).
 *
 * Only admitted requests are sent: rejections do not spend the deployment's budget. A sync that fails is
 * resent whole by the next one, which may count an increment twice if Redis applied it but the reply was
 * lost — a stricter limit for at most one second, never a looser one.
 */
export class RedisRateCounter implements RateCounter {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #windows = new Map<string, Window>();
  /** Windows with admissions or takes since the last sync. */
  #dirty: Window[] = [];
  /** The latest second `take` was asked about: the caller's clock decides what is current. */
  #second = 0;
  #syncing: Promise<void> | null = null;
  readonly #timer: NodeJS.Timeout;
  #syncs = 0;
  #syncFailures = 0;
  #lastError: string | null = null;
  #closing: Promise<void> | undefined;

  constructor(options: RedisRateCounterOptions) {
    this.#prefix = `${options.prefix}rate:`;
    const instance = options.instance ?? newInstanceId();
    this.#redis = openRedis(options.redisUrl, {
      name: `${options.prefix}rate:${instance}`,
      commandTimeoutMs: options.commandTimeoutMs ?? 500,
    });
    this.#redis.on('error', (error: unknown) => void (this.#lastError = describeError(error)));
    this.#timer = setInterval(() => void this.sync(), options.syncIntervalMs ?? 50);
    this.#timer.unref();
  }

  take(key: string, max: number, now: number): number | null {
    const second = Math.floor(now / 1000);
    if (second > this.#second) this.#second = second;
    let window = this.#windows.get(key);
    if (window === undefined || window.second !== second) {
      if (window === undefined && this.#windows.size >= SWEEP_AT) this.#sweep(second);
      window = { key, second, own: 0, sent: 0, total: 0, sentAtRead: 0, dirty: false };
      this.#windows.set(key, window);
    }
    if (!window.dirty) {
      // Marked on rejections too, so a limited key's total keeps being read and it reopens when it should.
      window.dirty = true;
      this.#dirty.push(window);
    }
    if (window.total + window.own - window.sentAtRead + 1 > max) return 1000 - (now % 1000);
    window.own++;
    return null;
  }

  /**
   * Sends the admissions since the last sync and reads the totals back; runs on the timer, exposed for
   * tests and shutdown. At most one sync is in flight; it resolves when that one is done and never rejects.
   */
  sync(): Promise<void> {
    if (this.#syncing !== null) return this.#syncing;
    const current = this.#second;
    const batch = this.#dirty.filter((window) => window.second === current);
    for (const window of this.#dirty) window.dirty = false;
    this.#dirty = [];
    if (batch.length === 0) return Promise.resolve();
    if (this.#redis.status !== 'ready') {
      this.#redirty(batch);
      return Promise.resolve();
    }
    const pipeline = this.#redis.pipeline();
    const deltas = batch.map((window) => {
      const name = `${this.#prefix}${window.key}:${window.second}`;
      const delta = window.own - window.sent;
      if (delta > 0) pipeline.incrby(name, delta).pexpire(name, KEY_TTL_MS);
      else pipeline.get(name);
      return delta;
    });
    this.#syncing = pipeline
      .exec()
      .then((replies) => {
        if (replies === null) throw new Error('the sync pipeline was discarded');
        let reply = 0;
        const failed: Window[] = [];
        batch.forEach((window, i) => {
          const delta = deltas[i]!;
          const [error, value] = replies[reply]!;
          reply += delta > 0 ? 2 : 1;
          if (error !== null) {
            this.#lastError = describeError(error);
            failed.push(window);
            return;
          }
          window.sent += delta;
          window.total = value === null ? 0 : Number(value);
          window.sentAtRead = window.sent;
        });
        if (failed.length === 0) this.#syncs++;
        else this.#failed(failed, null);
      })
      .catch((error: unknown) => this.#failed(batch, error))
      .finally(() => {
        this.#syncing = null;
      });
    return this.#syncing;
  }

  status(): RateCounterStatus {
    return {
      connected: this.#redis.status === 'ready',
      syncs: this.#syncs,
      syncFailures: this.#syncFailures,
      windows: this.#windows.size,
      lastError: this.#lastError,
    };
  }

  /** Stops syncing, sends the last counts (bounded by the command timeout) and disconnects. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      clearInterval(this.#timer);
      await this.sync();
      await closeRedis(this.#redis);
    })();
    return this.#closing;
  }

  #failed(windows: readonly Window[], error: unknown): void {
    this.#syncFailures++;
    if (error !== null) this.#lastError = describeError(error);
    this.#redirty(windows);
  }

  /** Puts windows back for the next sync (their unsent admissions are still `own - sent`). */
  #redirty(windows: readonly Window[]): void {
    for (const window of windows) {
      if (window.dirty || window.second !== this.#second) continue;
      window.dirty = true;
      this.#dirty.push(window);
    }
  }

  #sweep(second: number): void {
    for (const [key, window] of this.#windows) if (window.second !== second) this.#windows.delete(key);
  }
}
