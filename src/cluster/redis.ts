import { Redis, type RedisOptions } from 'ioredis';

/**
 * How every Redis connection of the cluster layer behaves: Redis holds hot, rebuildable state, so a
 * connection must never make a request wait. Commands fail at once while disconnected (no offline queue to
 * pile up), a command in flight gives up after `commandTimeoutMs`, and the client reconnects by itself,
 * quickly at first, then every 2 s, for as long as the process lives.
 */
export interface RedisConnectionSettings {
  /** Shown by CLIENT LIST, so an operator (or a test) can tell the connections apart. No spaces. */
  readonly name: string;
  /** Giving up on a TCP connect (default 2,000 ms). */
  readonly connectTimeoutMs?: number;
  /** Giving up on one command's reply (default 1,000 ms). */
  readonly commandTimeoutMs?: number;
}

/** The reconnection delay after `attempt` failed attempts: 50, 100, 200 … ms, at most 2 s. */
export function reconnectDelayMs(attempt: number): number {
  return Math.min(50 * 2 ** Math.max(0, attempt - 1), 2_000);
}

export function redisOptions(settings: RedisConnectionSettings): RedisOptions {
  return {
    connectionName: settings.name,
    connectTimeout: settings.connectTimeoutMs ?? 2_000,
    commandTimeout: settings.commandTimeoutMs ?? 1_000,
    enableOfflineQueue: false,
    // A command caught by a disconnect fails instead of being resent after a reconnect: by then it is late.
    maxRetriesPerRequest: 0,
    retryStrategy: reconnectDelayMs,
    // The cluster layer resubscribes itself, to know when a subscription came back (see RedisClusterBus).
    autoResubscribe: false,
  };
}

/** Opens (asynchronously: it connects in the background) a connection with the settings above. */
export function openRedis(
  url: string,
  settings: RedisConnectionSettings,
  overrides: RedisOptions = {},
): Redis {
  return new Redis(url, { ...redisOptions(settings), ...overrides });
}

/** A connection's error for logs and /health, never the URL (which may carry a password). */
export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Closes a connection: QUIT when it is up (the server finishes what was sent), else a plain disconnect, so
 * closing never waits for a Redis that is not there.
 */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'end') return;
  if (redis.status === 'ready') {
    try {
      await redis.quit();
      return;
    } catch {
      // Fall through to the disconnect.
    }
  }
  redis.disconnect(false);
}
