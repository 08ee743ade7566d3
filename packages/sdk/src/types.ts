import type { AttuneError } from './errors.js';

/** What event properties, context and user traits may hold: flat values only (the engine refuses nesting). */
export type Scalar = string | number | boolean | null;
export type ScalarRecord = { [key: string]: Scalar };

/** A consent state as `PUT /v1/users/:id` takes it. */
export type Consent = 'full' | 'analytics' | 'none';

/** One event as it is queued and sent to `POST /v1/events`. */
export interface EventBody {
  event: string;
  user_id: string;
  item_id?: string;
  /** ISO 8601, set when the event was tracked, so an event sent later keeps its time. */
  timestamp: string;
  /** Made by the SDK when tracked, so a batch sent twice (a retry) is stored once. */
  event_id: string;
  properties?: ScalarRecord;
  context?: ScalarRecord;
}

export interface TrackOptions {
  /** The user; the tracker's current user (`identify`, or the browser's anonymous id) when absent. */
  userId?: string;
  /** The item the event is about (`product_viewed`, `purchased`, …). */
  itemId?: string;
  properties?: ScalarRecord;
  context?: ScalarRecord;
  /** When it happened; now by default. */
  timestamp?: Date | number | string;
  /** An id of your own, to make re-sending the same event harmless; a random UUID by default. */
  eventId?: string;
}

export interface PageOptions extends Omit<TrackOptions, 'properties'> {
  /** The page's URL; `location.href` in a browser. */
  url?: string;
  /** `document.title` in a browser. */
  title?: string;
  /** `document.referrer` in a browser. */
  referrer?: string;
  /** More properties, beside `url`, `path`, `title` and `referrer`. */
  properties?: ScalarRecord;
}

export interface IdentifyOptions {
  /** Recorded with the traits; sent alone (no traits) it changes the consent only. */
  consent?: Consent;
}

/** What a flush did with the events it sent. */
export interface FlushResult {
  /** Stored by the engine. */
  accepted: number;
  /** Already stored (sent before, e.g. by a retry or a page-hide beacon): not stored again. */
  duplicates: number;
  /** Refused one by one (each reported to `onError` with its field). */
  rejected: number;
  /** Not delivered: kept in the queue for a later flush when the failure may pass, dropped otherwise. */
  failed: number;
}

/** Settings shared by the tracker and the client. */
export interface CommonOptions {
  /** The engine's base URL, e.g. `https://attune.example.com`. */
  host: string;
  /** Events per request (default 100, at most 1,000). A full batch is sent at once. */
  batchSize?: number;
  /** How long an event may wait for its batch to fill (ms, default 1,000 in Node, 5,000 in browsers). */
  flushIntervalMs?: number;
  /** Events held at most while the engine cannot be reached; the oldest go first (default 10,000; 1,000 in browsers). */
  maxQueueSize?: number;
  /** Tries after the first for a failed request: network error, 429 or 5xx (default 4). */
  maxRetries?: number;
  /** First backoff (ms, default 200), doubled each try, with jitter, capped by `maxRetryDelayMs`. */
  retryDelayMs?: number;
  /** Longest wait between tries (ms, default 30,000), `Retry-After` included. */
  maxRetryDelayMs?: number;
  /** One request's time limit (ms, default 10,000). */
  timeoutMs?: number;
  /** Failures of queued events and identify calls (nothing is thrown for them). */
  onError?: (error: AttuneError) => void;
  /** A `fetch` of your own (a proxy agent, a test double); the global one by default. */
  fetch?: typeof fetch;
}
