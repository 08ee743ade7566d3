import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { SharedList } from '../recommendations/index.js';
import { RedisLists } from './redis-lists.js';
import {
  adminConnection,
  CLOSED_REDIS_URL,
  deleteKeys,
  redisReachable,
  TEST_REDIS_URL,
  testPrefix,
  until,
} from './redis.testing.js';

const available = await redisReachable();

function entry(userId: string, expiresAt = Date.now() + 60_000): SharedList {
  return {
    expiresAt,
    list: {
      userId,
      model: 'als',
      modelVersion: 3,
      fallback: null,
      items: [{ itemId: 'i1', score: 0.5, reason: { kind: 'taste', text: 'for you' } }],
    },
  };
}

describe('RedisLists with Redis down', () => {
  it('misses at once and drops writes, so lists are computed and served from memory', async () => {
    const lists = new RedisLists({ redisUrl: CLOSED_REDIS_URL, prefix: testPrefix() });
    try {
      const app = lists.forApp('default');
      const started = performance.now();
      expect(await app.get('u1', 'k')).toBeNull();
      expect(performance.now() - started).toBeLessThan(50);
      app.set('u1', 'k', entry('u1'), 60_000);
      expect(lists.status()).toMatchObject({ connected: false, hits: 0, misses: 1, droppedWrites: 1 });
      await expect(app.forgetUser('u1')).rejects.toThrow();
    } finally {
      await lists.close();
    }
  });
});

describe.skipIf(!available)('RedisLists on Redis', () => {
  const prefix = testPrefix();
  let admin: Redis;
  let lists: RedisLists;

  beforeAll(async () => {
    admin = adminConnection();
    lists = new RedisLists({ redisUrl: TEST_REDIS_URL, prefix });
    await until(() => lists.status().connected, 'the lists connection');
  });
  afterAll(async () => {
    await lists.close();
    await deleteKeys(admin, [prefix]);
    admin.disconnect();
  });

  it('keeps a list under its app, user and key until its TTL, and reads it back whole', async () => {
    const shop = lists.forApp('shop');
    const kept = entry('u:1');
    shop.set('u:1', 'key-a', kept, 30_000);
    await until(() => lists.status().writes === 1, 'the write');
    const key = `${prefix}lists:shop:${Buffer.from('u:1').toString('hex')}:key-a`;
    const ttl = await admin.pttl(key);
    expect(ttl).toBeGreaterThan(29_000);
    expect(ttl).toBeLessThanOrEqual(30_000);
    expect(await shop.get('u:1', 'key-a')).toEqual(kept);
    // Another app, another key: misses.
    expect(await lists.forApp('other').get('u:1', 'key-a')).toBeNull();
    expect(await shop.get('u:1', 'key-b')).toBeNull();
  });

  it('counts an unreadable entry as a miss and an error', async () => {
    const shop = lists.forApp('shop');
    await admin.set(`${prefix}lists:shop:${Buffer.from('u2').toString('hex')}:bad`, '{"list":1}');
    const before = lists.status();
    expect(await shop.get('u2', 'bad')).toBeNull();
    expect(lists.status()).toMatchObject({ errors: before.errors + 1, misses: before.misses + 1 });
    expect(lists.status().lastError).toMatch(/unreadable/);
  });

  it("forgetUser deletes that user's lists only, whatever characters the ids have", async () => {
    const shop = lists.forApp('shop');
    const users = ['a*', 'a', 'ab', 'a?[x]\\', 'ü'];
    for (const user of users) for (const key of ['k1', 'k2']) shop.set(user, key, entry(user), 30_000);
    lists.forApp('other').set('a*', 'k1', entry('a*'), 30_000);
    await until(() => lists.status().writes >= 1 + users.length * 2 + 1, 'the writes');
    await shop.forgetUser('a*');
    expect(await shop.get('a*', 'k1')).toBeNull();
    expect(await shop.get('a*', 'k2')).toBeNull();
    for (const user of users.slice(1)) expect(await shop.get(user, 'k1'), user).not.toBeNull();
    expect(await lists.forApp('other').get('a*', 'k1')).not.toBeNull();
  });

  it('skips a write whose list has already expired', async () => {
    const before = lists.status();
    lists.forApp('shop').set('u3', 'k', entry('u3'), 0);
    expect(lists.status()).toEqual(before);
  });
});
