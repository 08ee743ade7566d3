import type { Redis } from 'ioredis';

import { parseSharedList, type SharedList, type SharedLists } from '../recommendations/index.js';
import { newInstanceId } from './bus.js';
import { closeRedis, describeError, openRedis } from './redis.js';

export interface RedisListsOptions {
  /** `redis://` or `rediss://` URL (REDIS_URL). */
  readonly redisUrl: string;
  /** Key prefix of the deployment (ATTUNE_REDIS_PREFIX). */
  readonly prefix: string;
  /** Names the connection in CLIENT LIST (default: host, pid and random bits). */
  readonly instance?: string;
  /**
   * How long a read may wait before it counts as a miss and the list is computed (default 10 ms): a Redis
   * nearby answers in well under a millisecond, and a slow one must not cost a request more than computing.
   */
  readonly readTimeoutMs?: number;
  /** Writes in flight beyond which new ones are dropped (default 1,000): a slow Redis never piles them up. */
  readonly maxPendingWrites?: number;
}

/** The shared lists' counters for /health and metrics, since the connection was made. */
export interface SharedListsStatus {
  readonly connected: boolean;
  readonly hits: number;
  readonly misses: number;
  /** Reads that failed, timed out or found an unreadable entry (each also a miss). */
  readonly errors: number;
  readonly writes: number;
  /** Writes not made: no connection, too many in flight, or failed. */
  readonly droppedWrites: number;
  readonly lastError: string | null;
}

/**
 * The shared tier of served lists (`recommendations/shared-lists.ts`) in Redis. One string per list at
 * `${prefix}lists:${app}:${hex(user)}:${key}`, expiring with the list (PX), so Redis never holds a list past
 * the moment it may no longer be served; the user id is hex so that an erasure can find the user's lists
 * with one SCAN pattern whatever characters the id has.
 *
 * Nothing here waits on Redis for long or throws: while Redis is down, reads miss at once (no offline
 * queue) and lists are computed and served from memory as on one instance.
 */
export class RedisLists {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #maxPendingWrites: number;
  #pendingWrites = 0;
  #hits = 0;
  #misses = 0;
  #errors = 0;
  #writes = 0;
  #droppedWrites = 0;
  #lastError: string | null = null;

  constructor(options: RedisListsOptions) {
    this.#prefix = options.prefix;
    this.#maxPendingWrites = options.maxPendingWrites ?? 1_000;
    this.#redis = openRedis(options.redisUrl, {
      name: `attune-lists-${options.instance ?? newInstanceId()}`,
      commandTimeoutMs: options.readTimeoutMs ?? 10,
    });
    this.#redis.on('error', (error: unknown) => {
      this.#lastError = describeError(error);
    });
  }

  /** The lists of one app (tenant): apps never read each other's. */
  forApp(app: string): SharedLists {
    const base = `${this.#prefix}lists:${app}:`;
    return {
      get: (userId, key) => this.#get(`${base}${hex(userId)}:${key}`),
      set: (userId, key, entry, ttlMs) => this.#set(`${base}${hex(userId)}:${key}`, entry, ttlMs),
      forgetUser: (userId) => this.#deleteMatching(`${escapeGlob(base)}${hex(userId)}:*`),
    };
  }

  async #get(key: string): Promise<SharedList | null> {
    if (this.#redis.status !== 'ready') {
      this.#misses++;
      return null;
    }
    let text: string | null;
    try {
      text = await this.#redis.get(key);
    } catch (error) {
      this.#failed(error);
      return null;
    }
    if (text === null) {
      this.#misses++;
      return null;
    }
    const entry = parseSharedList(text);
    if (entry === null) this.#failed(new Error(`unreadable list at ${key}`));
    else this.#hits++;
    return entry;
  }

  #set(key: string, entry: SharedList, ttlMs: number): void {
    const ttl = Math.floor(ttlMs);
    if (ttl <= 0) return;
    if (this.#redis.status !== 'ready' || this.#pendingWrites >= this.#maxPendingWrites) {
      this.#droppedWrites++;
      return;
    }
    this.#pendingWrites++;
    this.#redis
      .set(key, JSON.stringify(entry), 'PX', ttl)
      .then(
        () => void this.#writes++,
        (error: unknown) => {
          this.#droppedWrites++;
          this.#lastError = describeError(error);
        },
      )
      .finally(() => void this.#pendingWrites--);
  }

  /** SCAN, never KEYS: an erasure must not block the Redis every instance is reading. */
  async #deleteMatching(pattern: string): Promise<void> {
    let cursor = '0';
    do {
      const [next, keys] = await this.#redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1_000);
      if (keys.length > 0) await this.#redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
  }

  status(): SharedListsStatus {
    return {
      connected: this.#redis.status === 'ready',
      hits: this.#hits,
      misses: this.#misses,
      errors: this.#errors,
      writes: this.#writes,
      droppedWrites: this.#droppedWrites,
      lastError: this.#lastError,
    };
  }

  async close(): Promise<void> {
    await closeRedis(this.#redis);
  }

  #failed(error: unknown): void {
    this.#errors++;
    this.#misses++;
    this.#lastError = describeError(error);
  }
}

function hex(text: string): string {
  return Buffer.from(text, 'utf8').toString('hex');
}

/** A literal for a SCAN pattern: the glob's special characters escaped. */
function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}
