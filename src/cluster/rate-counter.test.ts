import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { RateWindows } from '../api/limits.js';
import { RedisRateCounter } from './rate-counter.js';
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
const sleepUntil = (at: number) =>
  new Promise((resolve) => setTimeout(resolve, Math.max(0, at - Date.now())));

describe('RedisRateCounter with Redis down', () => {
  it('counts like the in-memory windows: per-instance limits, at once', async () => {
    const counter = new RedisRateCounter({ redisUrl: CLOSED_REDIS_URL, prefix: testPrefix() });
    const windows = new RateWindows();
    try {
      const t0 = 1_700_000_000_000;
      const takes: [string, number, number][] = [
        ['a', 2, t0],
        ['a', 2, t0 + 100],
        ['a', 2, t0 + 250],
        ['b', 2, t0 + 250],
        ['a', 2, t0 + 1000],
        ['z', 0, t0 + 1000],
      ];
      for (const [key, max, now] of takes) {
        expect(counter.take(key, max, now), `${key} at ${now - t0}`).toBe(windows.take(key, max, now));
      }
      await counter.sync();
      expect(counter.status()).toMatchObject({ connected: false, syncs: 0 });
    } finally {
      await counter.close();
    }
  });
});

describe.skipIf(!available)('RedisRateCounter', () => {
  let admin: Redis;
  const prefixes: string[] = [];
  const open: RedisRateCounter[] = [];
  const counter = (prefix: string, syncIntervalMs = 50) => {
    const made = new RedisRateCounter({ redisUrl: TEST_REDIS_URL, prefix, syncIntervalMs });
    open.push(made);
    return made;
  };
  const prefix = () => {
    const made = testPrefix();
    prefixes.push(made);
    return made;
  };

  beforeAll(() => {
    admin = adminConnection();
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((made) => made.close()));
  });
  afterAll(async () => {
    await deleteKeys(admin, prefixes);
    await admin.quit();
  });

  it('holds one limit across two instances within the documented bound', async () => {
    const shared = prefix();
    const intervalMs = 50;
    const counters = [counter(shared, intervalMs), counter(shared, intervalMs)];
    await until(() => counters.every((made) => made.status().connected), 'both counters connected');
    // 300 takes, alternating between the instances, spread evenly over 400 ms of one second.
    const max = 100;
    const takes = 300;
    const spanMs = 400;
    const start = Math.ceil((Date.now() + 50) / 1000) * 1000 + 5;
    let admitted = 0;
    const seconds = new Set<number>();
    for (let i = 0; i < takes; i++) {
      await sleepUntil(start + (i * spanMs) / takes);
      const now = Date.now();
      seconds.add(Math.floor(now / 1000));
      if (counters[i % 2]!.take('key-1', max, now) === null) admitted++;
    }
    expect(seconds.size, 'all takes fell in one window').toBe(1);
    // The bound: each other instance's admissions within 2T + RTT. One instance here takes one request
    // every 2 × 400 / 300 ms; 10 ms covers the round trip and timer lateness.
    const perInstancePerMs = takes / 2 / spanMs;
    const bound = Math.ceil(perInstancePerMs * (2 * intervalMs + 10));
    console.log(
      `limit ${max}/s over 2 instances: ${admitted} admitted of ${takes} (documented bound ${max + bound})`,
    );
    expect(admitted).toBeGreaterThanOrEqual(max);
    expect(admitted).toBeLessThanOrEqual(max + bound);
    // What reached Redis is the deployment's count of the window.
    await Promise.all(counters.map((made) => made.sync()));
    const key = `${shared}rate:key-1:${[...seconds][0]!}`;
    expect(Number(await admin.get(key))).toBe(admitted);
    const ttl = await admin.pttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(5_000);
  });

  it('sees the other instance once synced, and counts keys and windows apart', async () => {
    const shared = prefix();
    // No timer in the way: syncs happen when the test says.
    const [a, b] = [counter(shared, 60_000), counter(shared, 60_000)];
    await until(() => a.status().connected && b.status().connected, 'both counters connected');
    const now = Date.now();
    for (let i = 0; i < 8; i++) expect(a.take('k', 10, now)).toBeNull();
    expect(b.take('k', 10, now)).toBeNull(); // b has not heard of a's 8 yet
    await a.sync();
    await b.sync();
    // b now knows of 9 in all: one more is admitted, the next is not.
    expect(b.take('k', 10, now)).toBeNull();
    expect(b.take('k', 10, now)).toBe(1000 - (now % 1000));
    expect(b.take('other', 10, now)).toBeNull();
    await b.sync();
    // a's view is as of its last sync, 8 of 10 (the lag the bound allows for); its sync brings b's in.
    expect(a.take('k', 10, now)).toBeNull();
    await a.sync();
    expect(a.take('k', 10, now)).toBe(1000 - (now % 1000));
    expect(Number(await admin.get(`${shared}rate:k:${Math.floor(now / 1000)}`))).toBe(11);
    // A new second is a new window.
    expect(a.take('k', 10, now + 1000)).toBeNull();
    expect(a.status()).toMatchObject({ connected: true, syncFailures: 0 });
    expect(a.status().syncs).toBeGreaterThanOrEqual(2);
  });
});
