import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { redisReachable } from '../src/cluster/redis.testing.js';
import { deleteStreams, natsReachable, TEST_NATS_URL } from '../src/events/stream/stream.testing.js';
import { openPostgresStore } from '../src/store/index.js';
import {
  dropSchemas,
  postgresReachable,
  testSchemaName,
  testStoreUrl,
} from '../src/store/postgres.testing.js';
import { event, plantedShop } from './helpers.js';
import {
  assertBuilt,
  getJson,
  killAll,
  postJson,
  startServer,
  startWorker,
  stopProcess,
  type ServerProcess,
} from './process.js';
import { deploymentEnv, until } from './instances.js';

/*
 * A stream in front of ingestion, in real processes: two `attune serve` instances publish to NATS JetStream
 * and acknowledge once it persisted the events; `attune worker` consumes them into PostgreSQL exactly once by
 * event id, also when it is killed in the middle and another takes over.
 */

const services = (await postgresReachable()) && (await redisReachable()) && (await natsReachable());
const schema = testSchemaName('stream');
const streamName = `ATTUNE_TEST_${randomUUID().slice(0, 8).toUpperCase()}`;
const env = {
  ...deploymentEnv(schema),
  ATTUNE_EVENT_STREAM: TEST_NATS_URL,
  ATTUNE_EVENT_STREAM_NAME: streamName,
  ATTUNE_RETRAIN_INTERVAL_MS: '1000',
  ATTUNE_SELECTION: 'fixed',
};

async function storedIds(): Promise<Map<string, number>> {
  const store = await openPostgresStore({ url: testStoreUrl(schema), readonly: true });
  const counts = new Map<string, number>();
  try {
    for await (const batch of store.scanEvents()) {
      for (const e of batch) counts.set(e.eventId, (counts.get(e.eventId) ?? 0) + 1);
    }
  } finally {
    await store.close();
  }
  return counts;
}

describe.skipIf(!services)('a stream in front of ingestion (NATS JetStream)', () => {
  let s1: ServerProcess;
  let s2: ServerProcess;

  beforeAll(async () => {
    assertBuilt();
    [s1, s2] = await Promise.all([startServer('/nonexistent', env), startServer('/nonexistent', env)]);
  }, 60_000);
  afterAll(async () => {
    await killAll();
    await deleteStreams([streamName]);
    await dropSchemas([schema]);
  });

  it('stores every acknowledged event exactly once, through a worker killed mid-way', async () => {
    expect(s1.log()).toMatch(/ingestion +events go to the NATS stream/);
    const shop = plantedShop({ usersPerGroup: 100, perUser: 10 });
    const events = shop.events.map((e, i) => ({ ...e, event_id: `stream-${i}` }));
    // No worker yet: the instances acknowledge what the stream persisted; nothing is in the store.
    const acknowledged = new Set<string>();
    for (let i = 0; i < events.length; i += 250) {
      const batch = events.slice(i, i + 250);
      const reply = await postJson<{ accepted: number }>(`${i % 500 ? s2.url : s1.url}/v1/events`, {
        events: batch,
      });
      expect(reply.status).toBe(200);
      expect(reply.body.accepted).toBe(batch.length);
      for (const e of batch) acknowledged.add(e.event_id);
    }
    // The same batch again, through the other instance: the stream knows the ids.
    const again = await postJson<{ accepted: number; duplicates: number }>(`${s2.url}/v1/events`, {
      events: events.slice(0, 250),
    });
    expect(events.length).toBe(2_000);
    expect(again.body, JSON.stringify(again.body)).toMatchObject({ accepted: 0, duplicates: 250 });

    const w1 = startWorker(env);
    await w1.waitFor(/consuming the event stream/);
    // Killed while it consumes: what it had not acknowledged goes to the next worker.
    await until('some events stored', 30_000, async () => ((await storedIds()).size > 0 ? true : null));
    await stopProcess(w1.child, 'SIGKILL');
    const w2 = startWorker(env);
    await w2.waitFor(/consuming the event stream/, 10_000);
    const stored = await until('every acknowledged event stored', 60_000, async () => {
      const ids = await storedIds();
      return ids.size >= acknowledged.size ? ids : null;
    });
    expect(stored.size).toBe(acknowledged.size);
    expect([...stored.values()].every((count) => count === 1)).toBe(true);
    for (const id of acknowledged) expect(stored.has(id)).toBe(true);

    // The worker trains on what it stored; then an event sent to one instance reaches the other's next list
    // through the stream, the worker and the bus.
    await until(
      'a model on s2',
      60_000,
      async () => (await getJson<{ model_version: number | null }>(`${s2.url}/health`)).body.model_version,
    );
    const user = shop.groupA[1]!;
    const list = async () =>
      (await getJson<{ items: { item_id: string }[] }>(`${s2.url}/v1/recommendations?user_id=${user}&n=5`))
        .body.items;
    const top = (await list())[0]!.item_id;
    const sent = Date.now();
    await postJson(`${s1.url}/v1/events`, { events: [event(user, top, 'purchased', { timestamp: sent })] });
    await until('the purchase on s2', 5_000, async () =>
      (await list()).every((item) => item.item_id !== top) ? true : null,
    );
    console.log(`stream → worker → bus → other instance: ${Date.now() - sent} ms`);
    await stopProcess(w2.child, 'SIGTERM');
  }, 180_000);
});
