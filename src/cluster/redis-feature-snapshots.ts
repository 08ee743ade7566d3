import type { Redis } from 'ioredis';

import {
  FeatureSnapshotsUnavailableError,
  type AccumulatorSnapshot,
  type FeatureSnapshots,
  type UserSnapshot,
} from '../features/index.js';
import { newInstanceId } from './bus.js';
import { closeRedis, describeError, openRedis } from './redis.js';

export interface RedisFeatureSnapshotsOptions {
  /** `redis://` or `rediss://` URL (REDIS_URL). */
  readonly redisUrl: string;
  /** Key prefix of the deployment (ATTUNE_REDIS_PREFIX). */
  readonly prefix: string;
  /** Names the connection in CLIENT LIST (default: host, pid and random bits). */
  readonly instance?: string;
  /**
   * How long a read may wait before the load reads the user's events from the store instead (default
   * 100 ms; a snapshot of a heavy user is tens of kilobytes).
   */
  readonly timeoutMs?: number;
  /** A user's snapshots expire this long after the last one was kept (default 30 days). */
  readonly ttlMs?: number;
  /** Snapshots larger than this are not kept (default 4 MiB): the store read is then the better deal. */
  readonly maxBytes?: number;
}

/** The snapshots' counters for /health and metrics, since the connection was made. */
export interface FeatureSnapshotsStatus {
  readonly connected: boolean;
  readonly hits: number;
  readonly misses: number;
  /** Reads that failed, timed out or found an unreadable snapshot (each also a miss). */
  readonly errors: number;
  readonly kept: number;
  /** Puts not kept because a snapshot through a later position was there already. */
  readonly superseded: number;
  readonly lastError: string | null;
}

/** Keeps the snapshot unless one through the same or a later position is kept (one atomic step). */
const PUT_IF_LATER = `
local current = redis.call('HGET', KEYS[1], ARGV[1] .. ':through')
if current and tonumber(current) >= tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1] .. ':through', ARGV[2], ARGV[1] .. ':snapshot', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
`;

type WithPut = Redis & {
  putIfLater(key: string, scope: string, through: number, snapshot: string, ttlMs: number): Promise<number>;
};

/**
 * Users' feature snapshots (`features/snapshots.ts`) in Redis: one hash per user at
 * `${prefix}features:${app}:${hex(user)}`, with a `<scope>:through` and `<scope>:snapshot` field per set of
 * feature definitions (`scope`), so an erasure deletes every version with one DEL and a change of
 * definitions never reads another's state. A put keeps a snapshot only over one through an earlier
 * position (a Lua step), so instances racing to snapshot a user leave the latest.
 */
export class RedisFeatureSnapshots {
  readonly #redis: WithPut;
  readonly #prefix: string;
  readonly #ttlMs: number;
  readonly #maxBytes: number;
  #hits = 0;
  #misses = 0;
  #errors = 0;
  #kept = 0;
  #superseded = 0;
  #lastError: string | null = null;

  constructor(options: RedisFeatureSnapshotsOptions) {
    this.#prefix = options.prefix;
    this.#ttlMs = options.ttlMs ?? 30 * 86_400_000;
    this.#maxBytes = options.maxBytes ?? 4 * 1024 * 1024;
    const redis = openRedis(options.redisUrl, {
      name: `attune-features-${options.instance ?? newInstanceId()}`,
      commandTimeoutMs: options.timeoutMs ?? 100,
    });
    redis.defineCommand('putIfLater', { numberOfKeys: 1, lua: PUT_IF_LATER });
    redis.on('error', (error: unknown) => {
      this.#lastError = describeError(error);
    });
    this.#redis = redis as WithPut;
  }

  /** The snapshots of one app (tenant) under one set of feature definitions. */
  forApp(app: string, scope: string): FeatureSnapshots {
    const key = (userId: string) =>
      `${this.#prefix}features:${app}:${Buffer.from(userId, 'utf8').toString('hex')}`;
    return {
      get: (userId) => this.#get(key(userId), scope),
      put: (userId, snapshot) => this.#put(key(userId), scope, snapshot),
      forget: (userId) => this.#forget(key(userId)),
    };
  }

  status(): FeatureSnapshotsStatus {
    return {
      connected: this.#redis.status === 'ready',
      hits: this.#hits,
      misses: this.#misses,
      errors: this.#errors,
      kept: this.#kept,
      superseded: this.#superseded,
      lastError: this.#lastError,
    };
  }

  async close(): Promise<void> {
    await closeRedis(this.#redis);
  }

  async #get(key: string, scope: string): Promise<UserSnapshot | null> {
    if (this.#redis.status !== 'ready') {
      this.#misses++;
      return null;
    }
    let fields: (string | null)[];
    try {
      fields = await this.#redis.hmget(key, `${scope}:through`, `${scope}:snapshot`);
    } catch (error) {
      this.#failed(error);
      return null;
    }
    const [through, text] = fields;
    if (through == null || text == null) {
      this.#misses++;
      return null;
    }
    const kept = readKept(Number(through), text);
    if (kept === null) {
      this.#failed(new Error(`unreadable snapshot at ${key}`));
      return null;
    }
    this.#hits++;
    return kept;
  }

  async #put(key: string, scope: string, { snapshot, through, builtAt }: UserSnapshot): Promise<void> {
    const text = JSON.stringify({ builtAt, snapshot });
    if (Buffer.byteLength(text) > this.#maxBytes) return;
    if (this.#redis.status !== 'ready') throw new FeatureSnapshotsUnavailableError('not connected');
    const kept = await this.#redis.putIfLater(key, scope, through, text, this.#ttlMs);
    if (kept === 1) this.#kept++;
    else this.#superseded++;
  }

  async #forget(key: string): Promise<void> {
    if (this.#redis.status !== 'ready') throw new FeatureSnapshotsUnavailableError('not connected');
    try {
      await this.#redis.del(key);
    } catch (error) {
      throw new FeatureSnapshotsUnavailableError(describeError(error), { cause: error });
    }
  }

  #failed(error: unknown): void {
    this.#errors++;
    this.#misses++;
    this.#lastError = describeError(error);
  }
}

/** A kept snapshot read back, or null when the fields are not what `#put` writes. */
function readKept(through: number, text: string): UserSnapshot | null {
  if (!Number.isSafeInteger(through) || through < 0) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const { builtAt, snapshot } = value as { builtAt?: unknown; snapshot?: unknown };
  if (typeof builtAt !== 'number' || typeof snapshot !== 'object' || snapshot === null) return null;
  return { through, builtAt, snapshot: snapshot as AccumulatorSnapshot };
}
