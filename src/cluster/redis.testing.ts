import { randomBytes } from 'node:crypto';

import { Redis } from 'ioredis';

/*
 * For tests that need a real Redis: where it is, whether it answers, a key prefix per test, and cleanup
 * that deletes only that prefix's keys (never FLUSHALL/FLUSHDB: other suites share the server). With no
 * server, such suites are skipped and say so, unless ATTUNE_REQUIRE_SERVICES is set (CI): then they fail.
 */

export const TEST_REDIS_URL = process.env.ATTUNE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A port nothing listens on, for a Redis that is down. */
export const CLOSED_REDIS_URL = 'redis://127.0.0.1:6390';

let reachable: Promise<boolean> | undefined;

/** Whether the test server answers (asked once per test file). */
export function redisReachable(): Promise<boolean> {
  reachable ??= (async () => {
    const redis = new Redis(TEST_REDIS_URL, {
      lazyConnect: true,
      connectTimeout: 2_000,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    redis.on('error', () => undefined);
    try {
      await redis.connect();
      await redis.ping();
      return true;
    } catch (error) {
      if (process.env.ATTUNE_REQUIRE_SERVICES) {
        throw new Error(`Redis is required (ATTUNE_REQUIRE_SERVICES) but did not answer: ${String(error)}`, {
          cause: error,
        });
      }
      console.warn(`Redis at ${TEST_REDIS_URL} did not answer; skipping the Redis suites`);
      return false;
    } finally {
      redis.disconnect();
    }
  })();
  return reachable;
}

/** A key prefix no other test uses. */
export function testPrefix(): string {
  return `attune-test:${randomBytes(6).toString('hex')}:`;
}

/** A plain connection for a test's own commands (inspecting keys, killing clients). */
export function adminConnection(): Redis {
  return new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
}

/** Deletes the keys under the prefixes (SCAN, not KEYS, so the server is never blocked). */
export async function deleteKeys(admin: Redis, prefixes: readonly string[]): Promise<void> {
  for (const prefix of prefixes) {
    let cursor = '0';
    do {
      const [next, keys] = await admin.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length > 0) await admin.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  }
}

/**
 * Kills the connections with exactly this CLIENT SETNAME name, and no others: Redis 7.0's CLIENT KILL has
 * no name filter, so they are found by name in CLIENT LIST and killed by ID. Returns how many were killed.
 */
export async function killClientsNamed(admin: Redis, name: string): Promise<number> {
  const list = (await admin.client('LIST')) as string;
  let killed = 0;
  for (const line of list.split('\n')) {
    const fields = new Map(
      line
        .trim()
        .split(' ')
        .map((field) => {
          const at = field.indexOf('=');
          return [field.slice(0, at), field.slice(at + 1)] as const;
        }),
    );
    if (fields.get('name') !== name) continue;
    killed += Number(await admin.client('KILL', 'ID', fields.get('id')!));
  }
  return killed;
}

/** Waits until `condition` holds, polling every 5 ms; fails after `timeoutMs` naming `what`. */
export async function until(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
