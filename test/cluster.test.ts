import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { LocalClusterBus, LocalClusterHub, RedisClusterBus, RedisLists } from '../src/cluster/index.js';
import { adminConnection, redisReachable, TEST_REDIS_URL } from '../src/cluster/redis.testing.js';
import {
  dropSchemas,
  postgresReachable,
  testSchemaName,
  testStoreUrl,
} from '../src/store/postgres.testing.js';
import { openInstance, type Instance } from './instances.js';
import { call, event, get, ids, ingest, loadShop, plantedShop, recommendOk, train } from './helpers.js';

/*
 * Two API instances over one store, each with its own caches, told of each other's changes by the cluster
 * bus: what one acknowledges, the other serves from within a second. Run on the embedded store with an
 * in-process bus everywhere, and on PostgreSQL with Redis where they run (CI).
 */

/** Polls `check` every 10 ms until it holds; returns how long that took, or fails after `limitMs`. */
async function within(limitMs: number, check: () => Promise<boolean>): Promise<number> {
  const started = performance.now();
  for (;;) {
    if (await check()) return performance.now() - started;
    if (performance.now() - started > limitMs) throw new Error(`not within ${limitMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

interface Deployment {
  readonly a: Instance;
  readonly b: Instance;
  close(): Promise<void>;
}

/** How many lists the instance served from `result` ('hit', 'miss', 'shared_hit'). */
async function served(instance: Instance, result: string): Promise<number> {
  const metric = await instance.engine.metrics.recommendationCache.get();
  return metric.values.find((v) => v.labels.result === result)?.value ?? 0;
}

/** The Redis keys of the user's shared lists under `prefix`. */
async function sharedListKeys(prefix: string, user: string): Promise<string[]> {
  const admin = adminConnection();
  try {
    const hex = Buffer.from(user, 'utf8').toString('hex');
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await admin.scan(cursor, 'MATCH', `${prefix}lists:*:${hex}:*`, 'COUNT', 1_000);
      keys.push(...batch);
      cursor = next;
    } while (cursor !== '0');
    return keys;
  } finally {
    admin.disconnect();
  }
}

function describeTwoInstances(
  name: string,
  skip: boolean,
  deploy: () => Promise<Deployment>,
  /** The Redis prefix under which the instances share served lists; null when they share none. */
  sharedLists: string | null = null,
) {
  describe.skipIf(skip)(`two instances: ${name}`, () => {
    const shop = plantedShop();
    let d: Deployment;

    beforeAll(async () => {
      d = await deploy();
      await loadShop(d.a.app, shop);
      const version = await train(d.a.app);
      // The training instance announced the version; the other loads it.
      await within(2_000, async () => d.b.engine.servingBundle?.version === version);
    }, 60_000);
    afterAll(async () => {
      await d?.close();
    });

    it("an event acknowledged by one instance changes the other's next list within 1 s", async () => {
      const user = shop.groupA[3]!;
      const before = await recommendOk(d.b.app, `user_id=${user}&n=5`);
      const top = before.items[0]!.item_id;
      // B now holds the user's history in memory; A stores a purchase of B's first item.
      await ingest(d.a.app, [event(user, top, 'purchased', { timestamp: Date.now() })]);
      const ms = await within(1_000, async () =>
        ids((await recommendOk(d.b.app, `user_id=${user}&n=5`)).items).every((id) => id !== top),
      );
      expect(ms).toBeLessThan(1_000);
    });

    it('a model trained on one instance serves on the other within 2 s', async () => {
      const before = d.b.engine.servingBundle!.version;
      await ingest(d.b.app, [event('late-user', shop.itemsB[2]!, 'purchased')]);
      const version = await train(d.a.app);
      expect(version).toBeGreaterThan(before);
      const ms = await within(2_000, async () => {
        const health = await get<{ model_version: number }>(d.b.app, '/health');
        return health.body.model_version === version;
      });
      expect(ms).toBeLessThan(2_000);
    });

    it('an item deleted on one instance leaves the other’s lists within 1 s', async () => {
      const user = shop.groupB[5]!;
      const top = (await recommendOk(d.b.app, `user_id=${user}&n=5`)).items[0]!.item_id;
      const deleted = await call(d.a.app, 'DELETE', `/v1/items/${top}`);
      expect(deleted.status, deleted.text).toBe(204);
      await within(1_000, async () =>
        ids((await recommendOk(d.b.app, `user_id=${user}&n=5`)).items).every((id) => id !== top),
      );
    });

    it('a user erased on one instance is unknown to the other at once', async () => {
      const user = shop.groupA[8]!;
      expect((await recommendOk(d.b.app, `user_id=${user}&n=5`)).fallback).toBeNull();
      const erased = await call(d.a.app, 'DELETE', `/v1/users/${user}`);
      expect(erased.status, erased.text).toBe(200);
      await within(1_000, async () => (await recommendOk(d.b.app, `user_id=${user}&n=5`)).fallback !== null);
    });

    // Only where the instances share lists (Redis): registered there alone, so nothing is skipped.
    if (sharedLists !== null) {
      it('a list one instance computed serves the other from the lists they share, shape by shape', async () => {
        const user = shop.groupB[2]!;
        const first = await recommendOk(d.a.app, `user_id=${user}&n=5`);
        await within(1_000, async () => (await sharedListKeys(sharedLists, user)).length > 0);
        const before = { shared: await served(d.b, 'shared_hit'), computed: await served(d.b, 'miss') };
        const second = await recommendOk(d.b.app, `user_id=${user}&n=5`);
        expect(await served(d.b, 'shared_hit')).toBe(before.shared + 1);
        expect(second.items).toEqual(first.items);
        expect(second.request_id).not.toBe(first.request_id);
        // Another shape is another list: computed, not taken from the shared one.
        expect((await recommendOk(d.b.app, `user_id=${user}&n=3`)).items).toHaveLength(3);
        expect(await served(d.b, 'shared_hit')).toBe(before.shared + 1);
        expect(await served(d.b, 'miss')).toBe(before.computed + 1);
      });

      it('an erasure deletes the user’s shared lists', async () => {
        const user = shop.groupB[4]!;
        await recommendOk(d.a.app, `user_id=${user}&n=5`);
        await within(1_000, async () => (await sharedListKeys(sharedLists, user)).length > 0);
        const erased = await call(d.b.app, 'DELETE', `/v1/users/${user}`);
        expect(erased.status, erased.text).toBe(200);
        expect(await sharedListKeys(sharedLists, user)).toEqual([]);
      });
    }

    it('consent withdrawn on one instance stops personalization on the other', async () => {
      const user = shop.groupB[9]!;
      expect((await recommendOk(d.b.app, `user_id=${user}&n=5`)).model).not.toBe('popularity');
      const set = await call(d.a.app, 'PUT', `/v1/users/${user}`, { consent: 'analytics' });
      expect(set.status, set.text).toBe(200);
      await within(
        1_000,
        async () => (await recommendOk(d.b.app, `user_id=${user}&n=5`)).model === 'popularity',
      );
    });
  });
}

describeTwoInstances('embedded store, in-process bus', false, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'attune-cluster-'));
  const hub = new LocalClusterHub();
  const a = await openInstance(`sqlite:${dir}`, new LocalClusterBus({ hub }));
  const b = await openInstance(`sqlite:${dir}`, new LocalClusterBus({ hub }));
  return {
    a,
    b,
    async close() {
      await a.close();
      await b.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

const services = (await postgresReachable()) && (await redisReachable());
const sharedPrefixSchema = testSchemaName('cluster');
describeTwoInstances(
  'PostgreSQL and Redis',
  !services,
  async () => {
    const schema = sharedPrefixSchema;
    const prefix = `attune-test:${schema}:`;
    const bus = () => new RedisClusterBus({ redisUrl: TEST_REDIS_URL, prefix });
    const busA = bus();
    const busB = bus();
    await Promise.all([busA.ready(2_000), busB.ready(2_000)]);
    // Each instance with its own connection to the shared lists, as separate processes have.
    const lists = () => ({ lists: new RedisLists({ redisUrl: TEST_REDIS_URL, prefix }) });
    const a = await openInstance(testStoreUrl(schema), busA, lists());
    const b = await openInstance(testStoreUrl(schema), busB, lists());
    return {
      a,
      b,
      async close() {
        await a.close();
        await b.close();
        await dropSchemas([schema]);
      },
    };
  },
  `attune-test:${sharedPrefixSchema}:`,
);
