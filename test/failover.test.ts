import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { RedisClusterBus, RedisLists } from '../src/cluster/index.js';
import type { Exposure } from '../src/experiments/types.js';
import type { Impression } from '../src/recommendations/index.js';
import { openPostgresStore, StoreUnavailableError } from '../src/store/index.js';
import { decision } from '../src/store/store.contract.js';
import {
  postgresReachable,
  dropSchemas,
  testSchemaName,
  testStoreUrl,
} from '../src/store/postgres.testing.js';
import { call, event, ingest, loadShop, plantedShop, recommend, train, type EventBody } from './helpers.js';
import { openInstance } from './instances.js';
import {
  canRunPrivatePostgres,
  startPrivatePostgres,
  startPrivateRedis,
  type PrivatePostgres,
  type PrivateRedis,
} from './private-services.js';

/*
 * What an operator sees when a service goes away under load: the database stopped and started again (no
 * acknowledged event lost, fast 503s meanwhile, recovery without a restart), and Redis stopped (lists
 * still served from memory). Each test runs its own server of the failing kind: the machine's shared ones
 * serve every other test and are never stopped.
 */

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(!canRunPrivatePostgres())('PostgreSQL stopped and started again under load', () => {
  let pg: PrivatePostgres;
  beforeAll(async () => {
    pg = await startPrivatePostgres();
  }, 30_000);
  afterAll(() => pg?.destroy());

  it('answers 503 at once while it is down, recovers by itself, and loses no acknowledged event', async () => {
    const api = await openInstance(pg.url);
    const acknowledged = new Set<string>();
    const statuses = new Map<number, number>();
    let slowest = 0;
    let stop = false;
    // Eight clients sending small batches back to back: some are in flight at the moment of the crash.
    const client = async (c: number) => {
      for (let n = 0; !stop; n++) {
        const events: EventBody[] = Array.from({ length: 20 }, (_, i) => ({
          ...event(`u${c}-${(n * 20 + i) % 50}`, `i${i % 30}`),
          event_id: randomUUID(),
        }));
        const started = performance.now();
        const reply = await call<{ accepted: number }>(api.app, 'POST', '/v1/events', { events });
        slowest = Math.max(slowest, performance.now() - started);
        statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
        if (reply.status === 200) for (const e of events) acknowledged.add(e.event_id!);
        else {
          expect(reply.status, reply.text).toBe(503);
          expect(reply.body).toMatchObject({ error: { code: 'unavailable' } });
          await sleep(20);
        }
      }
    };
    const clients = Array.from({ length: 8 }, (_, c) => client(c));
    await sleep(1_000);
    const before = acknowledged.size;
    pg.stop('immediate');
    await sleep(2_000);
    const down = statuses.get(503) ?? 0;
    pg.start();
    // Recovery: the same engine, never restarted, stores again.
    const restarted = performance.now();
    const target = acknowledged.size + 200;
    while (acknowledged.size < target) {
      if (performance.now() - restarted > 15_000) throw new Error('no recovery within 15 s');
      await sleep(50);
    }
    const recoveredMs = performance.now() - restarted;
    stop = true;
    await Promise.all(clients);
    await api.close();

    expect(before).toBeGreaterThan(100);
    expect(down).toBeGreaterThan(10);
    // Never a hung request: each answered within the store's connect timeout and then some.
    expect(slowest).toBeLessThan(5_000);
    expect([...statuses.keys()].sort()).toEqual([200, 503]);

    const store = await openPostgresStore({ url: pg.url });
    const stored = new Set<string>();
    for await (const batch of store.scanEvents()) for (const e of batch) stored.add(e.eventId);
    await store.close();
    const lost = [...acknowledged].filter((id) => !stored.has(id));
    console.log(
      `PostgreSQL restart: ${acknowledged.size} acknowledged, ${stored.size} stored, ${lost.length} lost; ` +
        `${down} fast 503s while down; slowest reply ${Math.round(slowest)} ms; recovered in ${Math.round(recoveredMs)} ms`,
    );
    expect(lost).toEqual([]);
  }, 60_000);

  it('writes the impression, exposure and decision logs again once it is back, from the same store', async () => {
    // These logs go through the store's writer thread (store/postgres-writer.ts), which holds connections of
    // its own: they must fail fast while the database is away and recover with it, the thread never restarted.
    const store = await openPostgresStore({ url: pg.url });
    const impression = (requestId: string): Impression => ({
      requestId,
      userId: 'u1',
      createdAt: 1_700_000_000_000,
      surface: 'recommendations',
      model: 'als',
      modelVersion: 1,
      fallback: false,
      items: [{ itemId: 'i1', position: 0, score: 0.5 }],
    });
    const exposure = (userId: string): Exposure => ({
      experiment: 'e',
      userId,
      variant: 'treatment',
      at: 1_700_000_000_000,
    });
    const close = { id: 'before', outcome: { reward: 1, at: 1_700_000_060_000, source: 'event' as const } };
    const writes = (tag: string): (() => Promise<void>)[] => [
      () => store.appendImpressions([impression(tag)]),
      () => store.appendExposures([exposure(tag)]),
      () => store.writeDecisionLog([decision({ id: tag })], tag === 'before' ? [] : [close]),
    ];
    /** Runs each write, each settled (none left in flight to land later); the failed ones, with why. */
    const attempt = async (pending: readonly (() => Promise<void>)[]) => {
      const settled = await Promise.allSettled(pending.map((write) => write()));
      return pending.flatMap((write, i) => {
        const result = settled[i]!;
        return result.status === 'rejected' ? [{ write, reason: result.reason as unknown }] : [];
      });
    };
    try {
      expect(await attempt(writes('before'))).toEqual([]);
      pg.stop('immediate');
      const started = performance.now();
      const refused = await attempt(writes('during'));
      expect(performance.now() - started).toBeLessThan(5_000);
      expect(refused).toHaveLength(3);
      for (const { reason } of refused) expect(reason).toBeInstanceOf(StoreUnavailableError);
      pg.start();
      // What failed is retried, as the batch logs retry, until the database takes it: no new store, no new
      // thread.
      const restarted = performance.now();
      let failed = await attempt(writes('after'));
      while (failed.length > 0) {
        for (const { reason } of failed) expect(reason).toBeInstanceOf(StoreUnavailableError);
        if (performance.now() - restarted > 15_000) throw new Error('no recovery within 15 s');
        await sleep(100);
        failed = await attempt(failed.map(({ write }) => write));
      }
      expect(await store.getImpression('after')).toEqual(impression('after'));
      expect(await store.userExposures('after')).toEqual([exposure('after')]);
      expect(await store.getDecision('after')).toEqual(decision({ id: 'after' }));
      expect((await store.getDecision('before'))?.outcome).toEqual(close.outcome);
      expect(await store.getDecision('during')).toBeNull();
    } finally {
      await store.close();
    }
  }, 60_000);
});

const sharedPostgres = await postgresReachable();
describe.skipIf(!sharedPostgres)('Redis stopped under load', () => {
  let redis: PrivateRedis;
  const schema = testSchemaName('redis-down');
  beforeAll(async () => {
    redis = await startPrivateRedis();
  });
  afterAll(async () => {
    await redis?.stop();
    await dropSchemas([schema]);
  });

  it('keeps serving lists and storing events from both instances, and catches up once Redis is back', async () => {
    const bus = () => new RedisClusterBus({ redisUrl: redis.url, prefix: 'attune:' });
    const lists = () => ({ lists: new RedisLists({ redisUrl: redis.url, prefix: 'attune:' }) });
    const sharedA = lists();
    const a = await openInstance(testStoreUrl(schema), bus(), sharedA);
    const b = await openInstance(testStoreUrl(schema), bus(), lists());
    try {
      const shop = plantedShop();
      await loadShop(a.app, shop);
      const version = await train(a.app);
      for (let i = 0; i < 100 && b.engine.servingBundle?.version !== version; i++) await sleep(20);
      expect(b.engine.servingBundle?.version).toBe(version);

      await redis.stop();
      const failures: string[] = [];
      const started = performance.now();
      for (let round = 0; performance.now() - started < 2_000; round++) {
        for (const instance of [a, b]) {
          const user = shop.groupA[round % shop.groupA.length]!;
          const reply = await recommend(instance.app, `user_id=${user}&n=5`);
          if (reply.status !== 200 || reply.body.fallback !== null)
            failures.push(`${reply.status} ${reply.text}`);
        }
        await ingest(a.app, [event(shop.groupB[round % shop.groupB.length]!, shop.itemsB[round % 10]!)]);
      }
      expect(failures).toEqual([]);
      expect(sharedA.lists.status()).toMatchObject({ connected: false });
      expect(sharedA.lists.status().droppedWrites).toBeGreaterThan(0);

      // Back: the bus resubscribes and says messages were missed, so B drops what it held.
      await redis.start();
      const user = shop.groupA[2]!;
      const top = (await recommend(b.app, `user_id=${user}&n=5`)).body.items[0]!.item_id;
      let fresh = false;
      for (let i = 0; i < 200 && !fresh; i++) {
        await ingest(a.app, [event(user, top, 'purchased', { timestamp: Date.now() })]);
        await sleep(50);
        fresh = (await recommend(b.app, `user_id=${user}&n=5`)).body.items.every(
          (item) => item.item_id !== top,
        );
      }
      expect(fresh).toBe(true);
      // The shared lists are written again.
      const writes = sharedA.lists.status().writes;
      for (let i = 0; i < 100 && sharedA.lists.status().writes === writes; i++) {
        await recommend(a.app, `user_id=${shop.groupB[i % shop.groupB.length]!}&n=4`);
        await sleep(20);
      }
      expect(sharedA.lists.status().writes).toBeGreaterThan(writes);
    } finally {
      await a.close();
      await b.close();
    }
  }, 60_000);
});
