import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { redisReachable } from '../src/cluster/redis.testing.js';
import {
  TEST_DATABASE_URL,
  dropSchemas,
  postgresReachable,
  testSchemaName,
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
 * The deployment as an operator runs it, in real processes: two `attune serve` instances and `attune worker`
 * on PostgreSQL and Redis. One worker is active, the next stands by and takes over when it is killed; a
 * worker killed in the middle of training leaves the model that served serving.
 */

const services = (await postgresReachable()) && (await redisReachable());
const schema = testSchemaName('roles');
const env = {
  ...deploymentEnv(schema),
  ATTUNE_RETRAIN_INTERVAL_MS: '1000',
  // Auto selection tunes on validation: runs last seconds, long enough to kill one in the middle.
  ATTUNE_SELECTION: 'auto',
};

async function modelVersion(server: ServerProcess): Promise<number | null> {
  return (await getJson<{ model_version: number | null }>(`${server.url}/health`)).body.model_version;
}

/** Who holds the live training lease now ('' when nobody): a run is under way while someone does. */
async function trainingHolder(): Promise<string> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    const { rows } = await client.query<{ holder: string }>(
      `SELECT holder FROM "${schema}".leases
        WHERE name = 'training' AND expires_at > extract(epoch FROM clock_timestamp()) * 1000`,
    );
    return rows[0]?.holder ?? '';
  } finally {
    await client.end();
  }
}

describe.skipIf(!services)('roles: serve instances and a worker on PostgreSQL and Redis', () => {
  let s1: ServerProcess;
  let s2: ServerProcess;
  const shop = plantedShop();

  beforeAll(async () => {
    assertBuilt();
    [s1, s2] = await Promise.all([startServer('/nonexistent', env), startServer('/nonexistent', env)]);
  }, 60_000);
  afterAll(async () => {
    await killAll();
    await dropSchemas([schema]);
  });

  it('one worker trains, the other stands by and takes over when the first is killed', async () => {
    // No model yet: the API instances say so, and never train themselves.
    expect(await modelVersion(s1)).toBeNull();
    const w1 = startWorker(env);
    await w1.waitFor(/active: this process holds the worker lock/);
    const w2 = startWorker(env);
    await w2.waitFor(/standing by: the active worker is attune worker: \S+ pid (\d+)/);
    expect(w2.log()).toContain(`pid ${w1.child.pid}`);

    for (let i = 0; i < shop.events.length; i += 1000) {
      const reply = await postJson<{ accepted: number }>(`${(i / 1000) % 2 ? s2.url : s1.url}/v1/events`, {
        events: shop.events.slice(i, i + 1000),
      });
      expect(reply.status).toBe(200);
    }
    // The worker's schedule trains; both instances serve its model.
    const first = await until('a model on s1', 30_000, () => modelVersion(s1));
    await until('the same model on s2', 2_000, async () =>
      (await modelVersion(s2)) === first ? first : null,
    );

    const killed = Date.now();
    await stopProcess(w1.child, 'SIGKILL');
    await w2.waitFor(/active: this process holds the worker lock/, 10_000);
    const takeoverMs = Date.now() - killed;
    console.log(`worker takeover after SIGKILL: ${takeoverMs} ms`);
    expect(takeoverMs).toBeLessThan(5_000);

    // The new worker trains on new events; both instances move to its model.
    await postJson(`${s1.url}/v1/events`, { events: [event('newcomer', shop.itemsA[0]!, 'purchased')] });
    const second = await until('a newer model on s2', 30_000, async () => {
      const version = await modelVersion(s2);
      return version !== null && version > first ? version : null;
    });
    await until('the newer model on s1', 2_000, async () =>
      (await modelVersion(s1)) === second ? second : null,
    );

    // Killed in the middle of a run (the training lease is held: a run is under way): nothing half-trained
    // serves, the model that served keeps serving.
    await postJson(`${s2.url}/v1/events`, { events: [event('another', shop.itemsB[0]!, 'purchased')] });
    await until('a training run of the second worker', 30_000, async () =>
      (await trainingHolder()).includes(`pid ${w2.child.pid}`) ? true : null,
    );
    await stopProcess(w2.child, 'SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await modelVersion(s1)).toBe(second);
    expect(await modelVersion(s2)).toBe(second);
    const list = await getJson<{ items: unknown[] }>(
      `${s1.url}/v1/recommendations?user_id=${shop.groupA[0]}&n=5`,
    );
    expect(list.status).toBe(200);
    expect(list.body.items).toHaveLength(5);

    // A worker started afterwards finishes the job.
    const w3 = startWorker(env);
    await w3.waitFor(/active: this process holds the worker lock/, 10_000);
    await until('a model newer than the killed run’s predecessor', 30_000, async () => {
      const version = await modelVersion(s1);
      return version !== null && version > second ? version : null;
    });
    await stopProcess(w3.child, 'SIGTERM');
  }, 180_000);
});
