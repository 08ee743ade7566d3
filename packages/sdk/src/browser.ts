/**
 * The browser tracking build (`@attune/sdk/browser`): `createTracker` with an ingest key, an offline queue
 * in localStorage, and delivery on page hide by `navigator.sendBeacon`. It imports nothing of the server
 * client, so the bundle stays small (test/size.test.ts keeps it under 5 KB gzipped).
 */
import { uuid } from './ids.js';
import type { Pending } from './queue.js';
import { createTrackerCore, type Tracker, type TrackerOptions } from './tracker.js';

export { AttuneError } from './errors.js';
export type { Tracker, TrackerOptions } from './tracker.js';
export type * from './types.js';

export interface BrowserTrackerOptions extends TrackerOptions {
  /** localStorage key prefix of the queue and the user ids (default `attune`). */
  storageKey?: string;
}

/** A beacon's body: the events with the key beside them, since a beacon cannot carry an Authorization header. */
function beaconBody(writeKey: string, events: unknown[]): string {
  return JSON.stringify({ write_key: writeKey, events });
}

/** Beacons share a 64 KB budget per page; a batch this size leaves room for several. */
const BEACON_BYTES = 60_000;

function read<T>(key: string): T | null {
  try {
    const text = localStorage.getItem(key);
    return text === null ? null : (JSON.parse(text) as T);
  } catch {
    return null;
  }
}

function write(key: string, value: unknown): void {
  try {
    if (value === null) localStorage.removeItem(key);
    else localStorage.setItem(key, JSON.stringify(value));
  } catch {
    // Storage full or disabled (private mode): the queue still works in memory.
  }
}

/**
 * A tracker for pages. Events persist in localStorage until the engine acknowledges them (bounded by
 * `maxQueueSize`, default 1,000), so what is tracked offline, or just before the tab closes, is sent by
 * this page when the browser is back online, by a beacon when the page is hidden, or by the next page of
 * the site otherwise. Before `identify`, events carry an anonymous id kept in localStorage.
 */
export function createTracker(options: BrowserTrackerOptions): Tracker {
  const prefix = options.storageKey ?? 'attune';
  const queueKey = `${prefix}.queue`;
  const userKey = `${prefix}.user`;
  const anonymousKey = `${prefix}.anonymous_id`;
  const newAnonymous = () => {
    const id = `anon-${uuid()}`;
    write(anonymousKey, id);
    return id;
  };
  const anonymous = read<string>(anonymousKey) ?? newAnonymous();
  const restored = read<Pending>(queueKey);
  const tracker = createTrackerCore(
    {
      flushIntervalMs: 5000,
      maxQueueSize: 1000,
      ...options,
    },
    `Bearer ${options.writeKey}`,
    {
      ...(restored && Array.isArray(restored.events) && Array.isArray(restored.users) ? { restored } : {}),
      persist: (pending) =>
        write(queueKey, pending.events.length + pending.users.length > 0 ? pending : null),
      paused: () => !navigator.onLine,
      defaultUser: read<string>(userKey) ?? anonymous,
      onUser: (userId) => write(userKey, userId),
      onReset: () => {
        write(userKey, null);
        return newAnonymous();
      },
      pageDefaults: () => ({ url: location.href, title: document.title, referrer: document.referrer }),
    },
    options.userId,
  );
  const url = `${options.host.replace(/\/+$/, '')}/v1/events`;

  // Page hide: events go by beacon (a text/plain body: no CORS preflight, which a closing page could not
  // wait for), traits by a keepalive fetch (a beacon cannot PUT). What a beacon does not take stays in
  // storage for the next page.
  const hide = () =>
    tracker.queue.drain(({ events, users }) => {
      let left = events;
      // Offline, a beacon is accepted and then lost: keep everything for the next page.
      while (left.length > 0 && navigator.onLine) {
        let count = Math.min(left.length, options.batchSize ?? 100);
        let body = beaconBody(options.writeKey, left.slice(0, count));
        while (new Blob([body]).size > BEACON_BYTES && count > 1) {
          count = Math.ceil(count / 2);
          body = beaconBody(options.writeKey, left.slice(0, count));
        }
        if (!navigator.sendBeacon(url, body)) break;
        left = left.slice(count);
      }
      for (const [userId, update] of navigator.onLine ? users : []) {
        void tracker
          .send('PUT', `/v1/users/${encodeURIComponent(userId)}`, update, { keepalive: true })
          .catch(tracker.report);
      }
      // Traits stay queued until a flush sees them acknowledged: sending them twice is harmless.
      return { events: left, users };
    });
  addEventListener('pagehide', hide);
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'hidden') hide();
  });
  addEventListener('online', () => void tracker.flush());
  // What an earlier page left: send it now.
  if (restored) void tracker.flush();
  return tracker;
}
