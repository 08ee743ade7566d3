import { about, AttuneError } from './errors.js';
import type { PostEventsReply } from './generated/api.js';
import type { Send } from './transport.js';
import type { EventBody, FlushResult, ScalarRecord } from './types.js';

/** A `PUT /v1/users/:id` body waiting to be sent: the latest one per user wins. */
export interface UserUpdate {
  traits?: ScalarRecord;
  consent?: string;
}

/** What is queued and not yet acknowledged, as it is persisted (browser) and handed to a beacon. */
export interface Pending {
  events: EventBody[];
  users: [string, UserUpdate][];
}

export interface QueueSettings {
  readonly send: Send;
  readonly batchSize: number;
  readonly flushIntervalMs: number;
  readonly maxQueueSize: number;
  readonly report: (error: AttuneError) => void;
  /** Called after every change with everything not yet acknowledged (browser: to localStorage). */
  readonly persist?: (pending: Pending) => void;
  /** True while sending is pointless (the browser is offline): events wait. */
  readonly paused?: () => boolean;
  /** What a previous page left unsent. */
  readonly restored?: Pending;
}

export interface Queue {
  addEvent(event: EventBody): void;
  addUser(userId: string, update: UserUpdate): void;
  flush(): Promise<FlushResult>;
  /** A last flush; no timer is set after it, so a Node process can exit (what failed stays unsent). */
  close(): Promise<FlushResult>;
  /** Hands everything queued to `sink` (page hide), which returns what it could not take. */
  drain(sink: (pending: Pending) => Pending): void;
}

const empty = (): FlushResult => ({ accepted: 0, duplicates: 0, rejected: 0, failed: 0 });

/**
 * Events wait here and go in batches: when `batchSize` are queued, when the oldest has waited
 * `flushIntervalMs`, or on `flush()`. Flushes run one at a time, in order. A batch that fails in a way
 * that may pass (no reply, 429, 5xx, after the transport's retries) goes back to the front of the queue;
 * one the engine refused (4xx) is dropped and reported. Each event keeps the id it was given when tracked,
 * so a batch sent twice is stored once.
 */
export function createQueue(settings: QueueSettings): Queue {
  const { send, batchSize, report } = settings;
  let events: EventBody[] = settings.restored?.events ?? [];
  const users = new Map<string, UserUpdate>(settings.restored?.users ?? []);
  /** Batches on the wire: persisted until acknowledged, so a page closed meanwhile re-sends them. */
  const inFlight = new Set<EventBody[]>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let chain: Promise<unknown> = Promise.resolve();
  let closed = false;

  const persist = () =>
    settings.persist?.({ events: [...[...inFlight].flat(), ...events], users: [...users] });

  const schedule = () => {
    if (!closed && timer === undefined && (events.length > 0 || users.size > 0)) {
      timer = setTimeout(() => {
        timer = undefined;
        void flush();
      }, settings.flushIntervalMs);
    }
  };

  function trim(): void {
    const over = events.length - settings.maxQueueSize;
    if (over <= 0) return;
    const dropped = events.splice(0, over);
    report(
      about(
        new AttuneError(
          0,
          'queue_full',
          `${over} queued event(s) dropped: more than ${settings.maxQueueSize} waiting`,
        ),
        dropped,
      ),
    );
  }

  async function sendUsers(): Promise<boolean> {
    for (const [userId, update] of [...users]) {
      try {
        await send('PUT', `/v1/users/${encodeURIComponent(userId)}`, update, { retry: 'all' });
      } catch (error) {
        if ((error as AttuneError).retryable) {
          report(error as AttuneError);
          return false;
        }
        report(error as AttuneError);
      }
      // A newer update queued meanwhile stays.
      if (users.get(userId) === update) users.delete(userId);
      persist();
    }
    return true;
  }

  /** Sends the queue; `fullOnly` (a batch just filled) leaves a partial batch to wait for its interval. */
  async function run(fullOnly: boolean): Promise<FlushResult> {
    // A partial batch keeps the timer its oldest event set.
    if (!fullOnly) {
      clearTimeout(timer);
      timer = undefined;
    }
    const result = empty();
    if (settings.paused?.()) {
      result.failed = events.length;
      return result;
    }
    let delivering = await sendUsers();
    // Halved for this flush when a batch is over the engine's body limit (413).
    let size = batchSize;
    while (delivering && events.length >= (fullOnly ? size : 1)) {
      const batch = events.splice(0, size);
      inFlight.add(batch);
      try {
        const reply = await send<PostEventsReply>('POST', '/v1/events', { events: batch }, { retry: 'all' });
        result.accepted += reply.accepted;
        result.duplicates += reply.duplicates;
        result.rejected += reply.rejected;
        for (const rejection of reply.errors) {
          const event = batch[rejection.index];
          const error = new AttuneError(
            200,
            'event_rejected',
            `event ${rejection.index}: ${rejection.message}`,
          );
          report(about(error, event === undefined ? [] : [event], rejection.field));
        }
      } catch (thrown) {
        const error = about(thrown as AttuneError, batch);
        if (error.status === 413 && batch.length > 1) {
          events = [...batch, ...events];
          size = Math.ceil(batch.length / 2);
          continue;
        }
        if (error.retryable) {
          // Counted below with the rest of the queue.
          events = [...batch, ...events];
          trim();
          delivering = false;
        } else {
          result.failed += batch.length;
        }
        report(error);
      } finally {
        inFlight.delete(batch);
        persist();
      }
    }
    result.failed += delivering ? 0 : events.length;
    schedule();
    return result;
  }

  function flush(fullOnly = false): Promise<FlushResult> {
    const next = chain.then(() => run(fullOnly));
    chain = next.catch(() => undefined);
    return next;
  }

  return {
    addEvent(event) {
      events.push(event);
      trim();
      persist();
      if (events.length >= batchSize) void flush(true);
      else schedule();
    },
    addUser(userId, update) {
      users.set(userId, update);
      persist();
      schedule();
    },
    flush: () => flush(),
    close() {
      closed = true;
      return flush();
    },
    drain(sink) {
      const sending = [...inFlight].flat();
      if (events.length === 0 && users.size === 0 && sending.length === 0) return;
      // Batches on the wire go again too: the page may close before their replies come, and the engine
      // stores an event id once.
      const left = sink({ events: [...sending, ...events], users: [...users] });
      events = left.events.filter((event) => !sending.includes(event));
      users.clear();
      for (const [id, update] of left.users) users.set(id, update);
      persist();
    },
  };
}
