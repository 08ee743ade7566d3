import {
  clusterConfigFromEnv,
  RedisClusterBus,
  RedisFeatureSnapshots,
  RedisLists,
  RedisRateCounter,
  type ClusterBus,
} from '../cluster/index.js';
import type { RateCounter } from '../api/index.js';
import type { EngineHost } from '../engine/index.js';
import {
  EventStreamConsumer,
  EventStreamPublisher,
  streamConfigFromEnv,
  type StreamLogger,
} from '../events/stream/index.js';

/** What a process of a deployment shares with the others through Redis, when `REDIS_URL` is set. */
export interface ClusterServices {
  readonly bus: ClusterBus;
  /** Rate limits counted across instances (the API only). */
  readonly rateCounter: RateCounter & { close(): Promise<void> };
  /** Served lists shared by the API instances, per app (`EngineOptions.sharedLists`); null when off. */
  readonly lists: RedisLists | null;
  /** Users' feature accumulators shared by every process (`EngineOptions.featureSnapshots`). */
  readonly featureSnapshots: RedisFeatureSnapshots;
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
  const lists = config.sharedLists
    ? new RedisLists({ redisUrl: config.redisUrl, prefix: config.prefix })
    : null;
  const featureSnapshots = new RedisFeatureSnapshots({ redisUrl: config.redisUrl, prefix: config.prefix });
  const connected = await bus.ready(2_000);
  return {
    connected,
    services: {
      bus,
      rateCounter,
      lists,
      featureSnapshots,
      async close() {
        await Promise.all([bus.close(), rateCounter.close(), lists?.close(), featureSnapshots.close()]);
      },
    },
  };
}

/**
 * The publisher of the event stream in front of ingestion (`ATTUNE_EVENT_STREAM`), or null without one. An
 * API instance whose stream does not answer at start-up does not start: it could acknowledge nothing.
 */
export async function openStreamPublisher(
  env: NodeJS.ProcessEnv = process.env,
): Promise<EventStreamPublisher | null> {
  const config = streamConfigFromEnv(env);
  return config === null ? null : EventStreamPublisher.open(config);
}

/** The most events the worker appends from the stream at once. */
const WORKER_APPEND_BATCH = 2_000;

/**
 * The worker's side of the stream: consumes what the API instances published into each app's store through
 * its engine (consent, live state, the bus), acknowledging a batch only once it is stored.
 */
export async function openStreamConsumer(
  host: EngineHost,
  logger: StreamLogger,
  env: NodeJS.ProcessEnv = process.env,
): Promise<EventStreamConsumer | null> {
  const config = streamConfigFromEnv(env);
  if (config === null) return null;
  return EventStreamConsumer.open(
    config,
    async (app, events) => {
      await (await host.engine(app)).appendEvents(events);
    },
    // Four API batches per append: fewer, larger statements drain a backlog faster (PostgreSQL stored
    // ~32,800 events/s in batches of 2,000 against ~28,500 in batches of 500).
    { logger, batchSize: WORKER_APPEND_BATCH },
  );
}
