/**
 * How instances of one deployment learn of each other's changes: a bus of small change messages (Redis
 * pub/sub between instances, a local bus for one embedded process) and request limits counted across
 * instances. Everything here keeps serving when Redis is down: messages are dropped and counted, limits fall
 * back to each instance's own, and listeners are told to resync when messages may have been missed.
 */
export {
  LocalClusterBus,
  LocalClusterHub,
  newInstanceId,
  type ClusterBus,
  type ClusterBusStatus,
  type ClusterListener,
  type ClusterNotice,
  type ClusterResync,
  type LocalClusterBusOptions,
} from './bus.js';
export { clusterConfigFromEnv, DEFAULT_REDIS_PREFIX, type ClusterConfig } from './config.js';
export {
  CLUSTER_MESSAGE_VERSION,
  parseClusterWire,
  type BundleChange,
  type CatalogChange,
  type ClusterChange,
  type ClusterChangeType,
  type ClusterMessage,
  type ConsentChange,
  type ErasedChange,
  type EventsChange,
  type MergedChange,
  type UserChange,
} from './messages.js';
export { RedisRateCounter, type RateCounterStatus, type RedisRateCounterOptions } from './rate-counter.js';
export { RedisClusterBus, type RedisClusterBusOptions } from './redis-bus.js';
export { RedisLists, type RedisListsOptions, type SharedListsStatus } from './redis-lists.js';
export {
  RedisFeatureSnapshots,
  type FeatureSnapshotsStatus,
  type RedisFeatureSnapshotsOptions,
} from './redis-feature-snapshots.js';
