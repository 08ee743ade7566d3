import {
  clusterConfigFromEnv,
  RedisClusterBus,
  RedisRateCounter,
  type ClusterBus,
} from '../cluster/index.js';
import type { RateCounter } from '../api/index.js';
import type { ClusterLink } from '../engine/index.js';
import { DEFAULT_APP } from '../access/index.js';

/** What a process of a deployment shares with the others through Redis, when `REDIS_URL` is set. */
export interface ClusterServices {
  /** The default app's link; `EngineHost` derives the other apps' from it. */
  readonly link: ClusterLink;
  readonly bus: ClusterBus;
  /** Rate limits counted across instances (the API only). */
  readonly rateCounter: RateCounter & { close(): Promise<void> };
  close(): Promise<void>;
}

/**
 * The cluster services from the environment (`REDIS_URL`, `ATTUNE_REDIS_PREFIX`), or null without Redis: one
 * instance alone needs none. Waits briefly for Redis so the start-up line can say whether it answered, but
 * starts either way: a process whose Redis is down keeps serving from memory and catches up once it is back.
 */
export async function openClusterServices(
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ services: ClusterServices; connected: boolean } | null> {
  const config = clusterConfigFromEnv(env);
  if (config.redisUrl === null) return null;
  const bus = new RedisClusterBus({ redisUrl: config.redisUrl, prefix: config.prefix });
  const rateCounter = new RedisRateCounter({ redisUrl: config.redisUrl, prefix: config.prefix });
  const connected = await bus.ready(2_000);
  return {
    connected,
    services: {
      link: { bus, app: DEFAULT_APP },
      bus,
      rateCounter,
      async close() {
        await Promise.all([bus.close(), rateCounter.close()]);
      },
    },
  };
}
