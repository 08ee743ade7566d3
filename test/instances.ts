import type { FastifyInstance } from 'fastify';

import { buildApp } from '../src/api/index.js';
import type { ClusterBus, RedisLists } from '../src/cluster/index.js';
import { Engine, engineConfig, EngineHost, type EngineOptions } from '../src/engine/index.js';
import { defaultStages } from '../src/recommendations/index.js';
import { TEST_REDIS_URL } from '../src/cluster/redis.testing.js';
import { testStoreUrl } from '../src/store/postgres.testing.js';

/** The environment of `attune serve` and `attune worker` processes sharing the test schema and Redis. */
export function deploymentEnv(schema: string): Record<string, string> {
  return {
    DATABASE_URL: testStoreUrl(schema),
    REDIS_URL: TEST_REDIS_URL,
    ATTUNE_REDIS_PREFIX: `attune-test:${schema}:`,
  };
}

/** One API instance of a deployment, in this process: its engine (own caches) and app on a shared store. */
export interface Instance {
  readonly app: FastifyInstance;
  readonly engine: Engine;
  /** Closes app, apps, engine and the bus. */
  close(): Promise<void>;
}

/**
 * An instance on the store at `storeUrl` (no schedule, no poll: what reaches it from other instances comes
 * over `bus`, or nothing without one), sharing served lists through `shared` when given.
 */
export async function openInstance(
  storeUrl: string,
  bus?: ClusterBus,
  shared?: { readonly lists: RedisLists },
): Promise<Instance> {
  const config = engineConfig(storeUrl, { retrainIntervalMs: null, bundlePollMs: null, selection: 'fixed' });
  const options: EngineOptions = {
    ...(bus ? { cluster: bus } : {}),
    ...(shared ? { sharedLists: shared.lists } : {}),
  };
  const engine = await Engine.open(config, defaultStages, options);
  const host = new EngineHost(engine, defaultStages, options);
  const app = buildApp({ engine, host });
  await app.ready();
  return {
    app,
    engine,
    async close() {
      await app.close();
      await host.close();
      await engine.close();
      await bus?.close();
      await shared?.lists.close();
    },
  };
}

/** Polls `read` every 50 ms until it gives a value (not null); fails naming `what` after `timeoutMs`. */
export async function until<T>(what: string, timeoutMs: number, read: () => Promise<T | null>): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await read();
    if (value !== null) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
