/**
 * `@attune/sdk`: Attune's client for Node.js (and any runtime with `fetch`). `createClient` with a server
 * key does everything; `createTracker` with an ingest key only tracks. Pages import
 * `@attune/sdk/browser`, whose tracker also keeps an offline queue and sends it on page hide.
 */
import { createTrackerCore, type Tracker, type TrackerOptions } from './tracker.js';

export { AttuneError } from './errors.js';
export {
  createClient,
  type Client,
  type ClientOptions,
  type DecideOptions,
  type ExposureOptions,
  type RecommendationsOptions,
  type SimilarOptions,
} from './client.js';
export type { Tracker, TrackerOptions } from './tracker.js';
export type * from './types.js';
// The replies the methods return by name; every type of the API (generated from its OpenAPI document) as
// `Api.*`, in a namespace so that a schema named like one of the SDK's own types cannot clash with it.
export type {
  GetAssignmentsReply,
  GetItemsSimilarReply,
  GetRecommendationsReply,
  PostDecisionsByIdReply,
  PostDecisionsRewardReply,
  PostEventsReply,
  PostExposuresReply,
  PutUsersByIdReply,
} from './generated/api.js';
export type * as Api from './generated/api.js';

/** A tracker with an ingest key, without browser storage: for scripts, workers and server-side tracking. */
export function createTracker(options: TrackerOptions): Tracker {
  return createTrackerCore(options, `Bearer ${options.writeKey}`, {}, options.userId);
}
