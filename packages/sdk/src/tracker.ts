import { AttuneError } from './errors.js';
import { uuid } from './ids.js';
import { createQueue, type Pending, type Queue, type UserUpdate } from './queue.js';
import { createTransport, type Send } from './transport.js';
import type {
  CommonOptions,
  EventBody,
  FlushResult,
  IdentifyOptions,
  PageOptions,
  ScalarRecord,
  TrackOptions,
} from './types.js';

export interface TrackerOptions extends CommonOptions {
  /** An ingest key: it can send events, traits and exposures, and nothing else, so a page may hold it. */
  writeKey: string;
  /** The current user from the start (e.g. a logged-in shopper); see `identify`. */
  userId?: string;
}

/**
 * Tracking with an ingest key: events and traits are queued and sent in batches; nothing here reads data
 * back. Every method returns at once; delivery failures go to `onError`.
 */
export interface Tracker {
  /** Queues an event; returns its `event_id`. */
  track(event: string, options?: TrackOptions): string;
  /** Queues a `page_viewed` event with the page's `url`, `path`, `title` and `referrer` as properties. */
  page(options?: PageOptions): string;
  /**
   * Makes `userId` the current user, and queues its traits (they replace the stored ones) and consent
   * when given.
   */
  identify(userId: string, traits?: ScalarRecord, options?: IdentifyOptions): void;
  /** The user events are sent for when a call names none: the identified user, else the anonymous id. */
  readonly userId: string | null;
  /** Forgets the identified user (log-out): later events carry a new anonymous id (browser) or none (Node). */
  reset(): void;
  /** Sends everything queued now. */
  flush(): Promise<FlushResult>;
  /** Sends everything queued and stops the timers; call before a Node process exits. */
  close(): Promise<FlushResult>;
}

/** What an environment adds to the tracker: storage, a first user, and whether it can send now. */
export interface TrackerEnvironment {
  readonly restored?: Pending;
  readonly persist?: (pending: Pending) => void;
  readonly paused?: () => boolean;
  /** The user before any `identify` (a browser's anonymous id). */
  readonly defaultUser?: string;
  readonly onUser?: (userId: string) => void;
  /** Forgets the stored user; returns the new anonymous id. */
  readonly onReset?: () => string;
  /** Fills a page view's url/title/referrer when the call gives none. */
  readonly pageDefaults?: () => { url?: string; title?: string; referrer?: string };
}

export interface TrackerCore extends Tracker {
  readonly queue: Queue;
  readonly send: Send;
  readonly report: (error: AttuneError) => void;
}

function timestampOf(value: TrackOptions['timestamp']): string {
  if (value === undefined) return new Date().toISOString();
  return typeof value === 'string' ? value : new Date(value).toISOString();
}

function pathOf(url: string): string | undefined {
  try {
    return new URL(url).pathname;
  } catch {
    return undefined;
  }
}

/** The page's fields that have a value: an empty title or referrer is left out rather than stored as `""`. */
function defined(record: { [key: string]: string | undefined }): ScalarRecord {
  const out: ScalarRecord = {};
  for (const key in record) if (record[key] !== undefined && record[key] !== '') out[key] = record[key]!;
  return out;
}

/** The tracker over one credential; `browser.ts` and `client.ts` add their environment and methods. */
export function createTrackerCore(
  options: CommonOptions,
  authorization: string,
  environment: TrackerEnvironment = {},
  initialUser?: string,
): TrackerCore {
  const send = createTransport(options, authorization);
  const report = (error: AttuneError) => {
    try {
      options.onError?.(error);
    } catch {
      // A failing error handler must not stop delivery.
    }
  };
  const queue = createQueue({
    send,
    batchSize: Math.min(1000, Math.max(1, options.batchSize ?? 100)),
    flushIntervalMs: options.flushIntervalMs ?? 1000,
    maxQueueSize: options.maxQueueSize ?? 10_000,
    report,
    ...(environment.persist ? { persist: environment.persist } : {}),
    ...(environment.paused ? { paused: environment.paused } : {}),
    ...(environment.restored ? { restored: environment.restored } : {}),
  });
  let current: string | null = initialUser ?? environment.defaultUser ?? null;

  function track(event: string, o: TrackOptions = {}): string {
    const userId = o.userId ?? current;
    if (userId === null) {
      throw new TypeError(`track("${event}"): no user: pass { userId } or call identify(userId) first`);
    }
    const body: EventBody = {
      event,
      user_id: userId,
      timestamp: timestampOf(o.timestamp),
      event_id: o.eventId ?? uuid(),
    };
    if (o.itemId !== undefined) body.item_id = o.itemId;
    if (o.properties !== undefined) body.properties = o.properties;
    if (o.context !== undefined) body.context = o.context;
    queue.addEvent(body);
    return body.event_id;
  }

  return {
    queue,
    send,
    report,
    get userId() {
      return current;
    },
    track,
    page(o = {}) {
      const fallback = environment.pageDefaults?.() ?? {};
      const url = o.url ?? fallback.url;
      const page = defined({
        url,
        path: url === undefined ? undefined : pathOf(url),
        title: o.title ?? fallback.title,
        referrer: o.referrer ?? fallback.referrer,
      });
      return track('page_viewed', { ...o, properties: { ...page, ...o.properties } });
    },
    identify(userId, traits, o = {}) {
      current = userId;
      environment.onUser?.(userId);
      const update: UserUpdate = {};
      if (traits !== undefined) update.traits = traits;
      if (o.consent !== undefined) update.consent = o.consent;
      if (traits !== undefined || o.consent !== undefined) queue.addUser(userId, update);
    },
    reset() {
      current = environment.onReset?.() ?? null;
    },
    flush: () => queue.flush(),
    close: () => queue.close(),
  };
}
