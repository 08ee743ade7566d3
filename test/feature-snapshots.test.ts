import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { LocalClusterBus, LocalClusterHub, RedisFeatureSnapshots } from '../src/cluster/index.js';
import {
  adminConnection,
  CLOSED_REDIS_URL,
  deleteKeys,
  redisReachable,
  TEST_REDIS_URL,
  testPrefix,
  until,
} from '../src/cluster/redis.testing.js';
import { Engine, engineConfig } from '../src/engine/index.js';
import type { TrackedEvent } from '../src/events/index.js';
import { FeatureSnapshotsUnavailableError, SNAPSHOT_AFTER_EVENTS } from '../src/features/index.js';

/*
 * Users' feature accumulators shared through Redis: an instance meeting a heavy user reads the snapshot
 * another took and only the events after it, and gives exactly the values a load of the whole history
 * gives. Three engines on one embedded store, one clock: A and B share snapshots, C reads the store only.
 */

const available = await redisReachable();
const T0 = Date.UTC(2026, 10, 2, 9);
const HOUR = 3_600_000;
const NAMES = ['product_viewed', 'product_viewed', 'added_to_cart', 'purchased'] as const;

let serial = 0;
function events(userId: string, count: number, from: number): TrackedEvent[] {
  return Array.from({ length: count }, (_, k): TrackedEvent => {
    const at = from + k * 7 * 60_000;
    serial++;
    return {
      eventId: `fs-${serial}`,
      name: NAMES[k % NAMES.length]!,
      userId,
      itemId: `item-${k % 13}`,
      timestamp: at,
      receivedAt: at,
      context: { device: k % 3 === 0 ? 'mobile' : 'desktop', session_id: `s${Math.floor(k / 9)}` },
      properties: NAMES[k % NAMES.length] === 'purchased' ? { value: 10 + (k % 7) } : {},
      requestId: null,
    };
  });
}

describe.skipIf(!available)('feature snapshots shared through Redis', () => {
  const prefix = testPrefix();
  let dir: string;
  let now = T0;
  const clock = () => now;
  const hub = new LocalClusterHub();
  let admin: Redis;
  let snapshotsA: RedisFeatureSnapshots;
  let snapshotsB: RedisFeatureSnapshots;
  let a: Engine;
  let b: Engine;
  let c: Engine;

  const open = (snapshots?: RedisFeatureSnapshots) =>
    Engine.open(
      engineConfig(`sqlite:${dir}`, { retrainIntervalMs: null, bundlePollMs: null, selection: 'fixed' }),
      undefined,
      {
        clock,
        cluster: new LocalClusterBus({ hub }),
        ...(snapshots ? { featureSnapshots: snapshots } : {}),
      },
    );

  /** What the engine counted in `attune_feature_snapshots_total{what}`. */
  async function observed(engine: Engine, what: string): Promise<number> {
    const metric = await engine.metrics.featureSnapshots.get();
    return metric.values.find((v) => v.labels.what === what)?.value ?? 0;
  }

  /** The user's feature values on an engine, as the route reads them. */
  async function values(engine: Engine, userId: string) {
    const read = await engine.userFeatures(userId);
    if (!('user' in read)) throw new Error(`no features for ${userId}`);
    return { numbers: Array.from(read.user.numbers), labels: read.user.labels };
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'attune-snapshots-'));
    admin = adminConnection();
    snapshotsA = new RedisFeatureSnapshots({ redisUrl: TEST_REDIS_URL, prefix });
    snapshotsB = new RedisFeatureSnapshots({ redisUrl: TEST_REDIS_URL, prefix });
    await until(() => snapshotsA.status().connected && snapshotsB.status().connected, 'Redis');
    a = await open(snapshotsA);
    b = await open(snapshotsB);
    c = await open();
  });
  afterAll(async () => {
    for (const engine of [a, b, c]) await engine?.close();
    await snapshotsA?.close();
    await snapshotsB?.close();
    await deleteKeys(admin, [prefix]);
    admin?.disconnect();
    await rm(dir, { recursive: true, force: true });
  });

  it('a heavy user read on one instance is snapshotted; another loads the snapshot and gets the same values', async () => {
    await a.appendEvents(events('heavy', 3 * SNAPSHOT_AFTER_EVENTS, T0 - 40 * 24 * HOUR));
    await a.appendEvents(events('light', 5, T0 - 2 * HOUR));
    now = T0;
    const onA = await values(a, 'heavy');
    await until(() => snapshotsA.status().kept === 1, 'the snapshot');
    // The light user read few events: no snapshot of theirs.
    await values(a, 'light');
    expect(snapshotsA.status().kept).toBe(1);

    const hits = snapshotsB.status().hits;
    const onB = await values(b, 'heavy');
    expect(snapshotsB.status().hits).toBe(hits + 1);
    expect(await observed(b, 'loaded_from_snapshot')).toBe(1);
    expect(await observed(a, 'taken')).toBe(1);
    expect(onB).toEqual(onA);
    expect(onB).toEqual(await values(c, 'heavy'));
  });

  it('events after the snapshot are read from the store and folded in, on the instances that did not see them', async () => {
    now = T0 + 2 * HOUR;
    // B appends: A and C are told and forget the user; A loads the snapshot and the events after it.
    await b.appendEvents(events('heavy', 17, T0 + HOUR));
    await new Promise((resolve) => setImmediate(resolve)); // the in-process bus delivers on the next turn
    const hits = snapshotsA.status().hits;
    const onA = await values(a, 'heavy');
    expect(snapshotsA.status().hits).toBe(hits + 1);
    expect(onA).toEqual(await values(c, 'heavy'));
    expect(onA).toEqual(await values(b, 'heavy'));
  });

  it('an erasure deletes the snapshot first, so no instance can fold the erased events again', async () => {
    const key = `${prefix}features:default:${Buffer.from('heavy').toString('hex')}`;
    expect(await admin.exists(key)).toBe(1);
    await a.eraseUser('heavy');
    expect(await admin.exists(key)).toBe(0);
    expect(await b.userFeatures('heavy')).toEqual({ unknown: 'user' });
  });

  it('with Redis down, features load from the store and an erasure fails without erasing', async () => {
    const down = new RedisFeatureSnapshots({ redisUrl: CLOSED_REDIS_URL, prefix });
    const engine = await open(down);
    try {
      await engine.appendEvents(events('kept', 2 * SNAPSHOT_AFTER_EVENTS, T0 - 10 * 24 * HOUR));
      expect(await values(engine, 'kept')).toEqual(await values(c, 'kept'));
      await expect(engine.eraseUser('kept')).rejects.toBeInstanceOf(FeatureSnapshotsUnavailableError);
      expect((await engine.store.userEvents('kept', { limit: 1 })).length).toBe(1);
    } finally {
      await engine.close();
      await down.close();
    }
  });
});
