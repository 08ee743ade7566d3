import { PubHeaders, type JetStreamManager } from '@nats-io/jetstream';
import { createInbox, headers, type Msg, type NatsConnection } from '@nats-io/transport-node';

import type { TrackedEvent } from '../types.js';
import { encodeEvents } from './codec.js';
import {
  appSubject,
  batchMessageIdOf,
  checkAppName,
  checkStreamConfig,
  positiveOption,
  streamLimits,
  type EventStreamConfig,
  type StreamLimits,
} from './config.js';
import {
  ConnectionState,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  drainConnection,
  ensureStream,
  openJetStream,
  readLag,
  type StreamCapacity,
  type StreamLag,
} from './connection.js';
import { describeError, EventStreamUnavailableError } from './errors.js';

/** What the stream did with a batch of events; every one of them is persisted when this exists. */
export interface PublishResult {
  /** Events the stream stored now. */
  readonly persisted: number;
  /**
   * Event ids persisted before, not stored again: those of a batch the stream already had within its
   * duplicate window (the same events in the same order: a retried request), and repeats within this
   * batch. Events a partly different batch repeats are persisted again; the store keeps each event once.
   */
  readonly duplicates: readonly string[];
}

/** Counters since the publisher opened, for metrics. */
export interface PublisherStats {
  /** Events acknowledged as newly persisted. */
  readonly persisted: number;
  /** Events acknowledged as duplicates. */
  readonly duplicates: number;
  /** `publish` calls that rejected. */
  readonly failedBatches: number;
}

export interface EventStreamPublisherOptions {
  /** How long `open` waits for the server (default 2 s). */
  readonly connectTimeoutMs?: number;
  /** How long `publish` waits for every acknowledgement of a batch (default 5 s). */
  readonly publishTimeoutMs?: number;
  /** How long a JetStream API call (setting up the stream, `lag`) waits (default 5 s). */
  readonly requestTimeoutMs?: number;
  /** What the stream is created with when it does not exist (see `StreamLimits`). */
  readonly limits?: Partial<StreamLimits>;
  /** The client's name in the server's monitoring (default `attune-api`). */
  readonly name?: string;
}

/**
 * The API's side of the stream: `publish` resolves once JetStream has persisted every event of the batch.
 * One per process; `publish` may be called concurrently.
 */
export class EventStreamPublisher {
  readonly #nc: NatsConnection;
  readonly #jsm: JetStreamManager;
  readonly #config: EventStreamConfig;
  readonly #limits: StreamLimits;
  /** What the stream takes (an operator's may take less than `#limits` says), as last found. */
  #capacity: StreamCapacity;
  readonly #publishTimeoutMs: number;
  readonly #state: ConnectionState;
  /** Replies come to `${inbox}.<token>`, one token per message. */
  readonly #inbox: string;
  readonly #waiting = new Map<string, Waiting>();
  readonly #inFlight = new Set<Promise<unknown>>();
  #nextToken = 0;
  #closed = false;
  #repairing: Promise<void> | null = null;
  #persisted = 0;
  #duplicates = 0;
  #failedBatches = 0;

  /**
   * Connects, and creates the stream when it does not exist (with `options.limits`).
   * @throws EventStreamUnavailableError when NATS does not answer within `connectTimeoutMs`;
   *   EventStreamConfigError when the config is malformed or the existing stream does not fit it.
   */
  static async open(
    config: EventStreamConfig,
    options: EventStreamPublisherOptions = {},
  ): Promise<EventStreamPublisher> {
    checkStreamConfig(config);
    const limits = streamLimits(options.limits);
    const connectTimeoutMs = positiveOption(
      options.connectTimeoutMs,
      'connectTimeoutMs',
      DEFAULT_CONNECT_TIMEOUT_MS,
    );
    const publishTimeoutMs = positiveOption(options.publishTimeoutMs, 'publishTimeoutMs', 5_000);
    const requestTimeoutMs = positiveOption(
      options.requestTimeoutMs,
      'requestTimeoutMs',
      DEFAULT_REQUEST_TIMEOUT_MS,
    );
    const settings = { name: options.name ?? 'attune-api', connectTimeoutMs, requestTimeoutMs };
    return openJetStream(config, settings, async (nc, jsm) => {
      const capacity = await ensureStream(jsm, config, limits);
      return new EventStreamPublisher(nc, jsm, config, limits, capacity, publishTimeoutMs);
    });
  }

  private constructor(
    nc: NatsConnection,
    jsm: JetStreamManager,
    config: EventStreamConfig,
    limits: StreamLimits,
    capacity: StreamCapacity,
    publishTimeoutMs: number,
  ) {
    this.#nc = nc;
    this.#jsm = jsm;
    this.#config = config;
    this.#limits = limits;
    this.#capacity = capacity;
    this.#publishTimeoutMs = publishTimeoutMs;
    this.#inbox = createInbox();
    // Acknowledgements of messages sent before a disconnect may never come: fail their batches now (the
    // caller answers 503 at once and the sender's retry is deduplicated) rather than at the timeout.
    this.#state = new ConnectionState(nc, () => this.#failAll('lost the connection to NATS'));
    nc.subscribe(`${this.#inbox}.*`, {
      callback: (error, msg) => {
        if (error) this.#failAll(`the acknowledgement subscription failed: ${describeError(error)}`);
        else this.#onReply(msg);
      },
    });
  }

  /** Whether the connection is up now (it reconnects by itself when it is not). */
  get connected(): boolean {
    return this.#state.connected && !this.#closed;
  }

  /**
   * Publishes the events on the app's subject and resolves when JetStream has acknowledged them as
   * persisted (or as a repeat of a batch it has). They go as few messages as fit (`MESSAGE_EVENTS` events
   * and the stream's largest message at most), each message's id derived from its event ids
   * (`batchMessageIdOf`), so the same batch sent again within the stream's duplicate window is dropped.
   *
   * On rejection some events may have been persisted: sending the same batch again is the way to retry.
   * @throws EventStreamUnavailableError when not connected, when an acknowledgement is missing after
   *   `publishTimeoutMs`, or when the stream refuses a message (full, missing, too large);
   *   EventStreamConfigError when `app` is not an app name.
   */
  publish(app: string, events: readonly TrackedEvent[]): Promise<PublishResult> {
    if (this.#closed) return Promise.reject(new EventStreamUnavailableError('the publisher is closed'));
    try {
      checkAppName(app);
    } catch (error) {
      return Promise.reject(error);
    }
    if (!this.#state.connected) {
      return Promise.reject(new EventStreamUnavailableError('not connected to NATS; reconnecting'));
    }
    if (events.length === 0) return Promise.resolve({ persisted: 0, duplicates: [] });
    const seen = new Set<string>();
    const unique: TrackedEvent[] = [];
    const repeats: string[] = [];
    for (const event of events) {
      if (seen.has(event.eventId)) repeats.push(event.eventId);
      else {
        seen.add(event.eventId);
        unique.push(event);
      }
    }
    const subject = appSubject(this.#config, app);
    const published = new Promise<PublishResult>((resolve, reject) => {
      const messages = this.#messagesOf(unique); // a throw here rejects `published`
      const batch: Batch = {
        subject,
        remaining: messages.length,
        persisted: 0,
        duplicates: repeats,
        tokens: [],
        settled: false,
        resolve,
        reject,
        timer: setTimeout(
          () =>
            this.#fail(batch, `no acknowledgement from JetStream within ${this.#publishTimeoutMs} ms`, null),
          this.#publishTimeoutMs,
        ),
      };
      // The messages go out back to back and are acknowledged as the server persists them: one round trip
      // for the batch. (`jetstream().publish` is a request per message at ~50 µs of CPU each, most of it an
      // Error built per request.)
      try {
        for (const { data, eventIds } of messages) {
          const token = (this.#nextToken++).toString(36);
          this.#waiting.set(token, { batch, eventIds });
          batch.tokens.push(token);
          const messageHeaders = headers();
          messageHeaders.set(PubHeaders.MsgIdHdr, batchMessageIdOf(eventIds));
          // The server refuses the message unless this stream captures it: never persisted elsewhere.
          messageHeaders.set(PubHeaders.ExpectedStreamHdr, this.#config.stream);
          this.#nc.publish(subject, data, { reply: `${this.#inbox}.${token}`, headers: messageHeaders });
        }
      } catch (error) {
        this.#fail(batch, `publishing failed: ${describeError(error)}`, error);
      }
    });
    const tracked = published.catch(() => undefined).finally(() => this.#inFlight.delete(tracked));
    this.#inFlight.add(tracked);
    return published;
  }

  /**
   * The events as messages in order: runs of at most `MESSAGE_EVENTS`, halved until each fits the largest
   * message the limits, the stream and the server take (an event too large alone goes as it is, for the
   * stream to refuse, naming the limit).
   */
  #messagesOf(events: readonly TrackedEvent[]): Message[] {
    const limit =
      Math.min(
        this.#limits.maxMessageBytes,
        this.#capacity.maxMessageBytes,
        this.#nc.info?.max_payload ?? Infinity,
      ) - HEADER_ROOM;
    const out: Message[] = [];
    const add = (run: readonly TrackedEvent[]): void => {
      const data = encodeEvents(run);
      if (data.length > limit && run.length > 1) {
        const half = Math.ceil(run.length / 2);
        add(run.slice(0, half));
        add(run.slice(half));
      } else out.push({ data, eventIds: run.map((event) => event.eventId) });
    };
    for (let start = 0; start < events.length; start += MESSAGE_EVENTS) {
      add(events.slice(start, start + MESSAGE_EVENTS));
    }
    return out;
  }

  /** The backlog the worker has yet to store (see `StreamLag`). */
  lag(): Promise<StreamLag> {
    return readLag(this.#jsm, this.#config);
  }

  stats(): PublisherStats {
    return { persisted: this.#persisted, duplicates: this.#duplicates, failedBatches: this.#failedBatches };
  }

  /** Waits for the batches in flight to be acknowledged (or to fail), then closes the connection. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([...this.#inFlight]);
    await drainConnection(this.#nc, this.#publishTimeoutMs);
  }

  #onReply(msg: Msg): void {
    const token = msg.subject.slice(this.#inbox.length + 1);
    const waiting = this.#waiting.get(token);
    // A late acknowledgement of a batch that already failed: nothing waits for it.
    if (waiting === undefined) return;
    this.#waiting.delete(token);
    const { batch, eventIds } = waiting;
    const ack = readAck(msg, this.#config.stream);
    if (ack.kind === 'refused') {
      if (ack.streamMissing) this.#repairStream();
      this.#fail(batch, ack.streamMissing ? `${ack.reason} ${batch.subject}` : ack.reason, null);
      return;
    }
    if (ack.kind === 'duplicate') batch.duplicates.push(...eventIds);
    else batch.persisted += eventIds.length;
    batch.remaining -= 1;
    if (batch.remaining === 0 && !batch.settled) {
      batch.settled = true;
      clearTimeout(batch.timer);
      this.#persisted += batch.persisted;
      this.#duplicates += batch.duplicates.length;
      batch.resolve({ persisted: batch.persisted, duplicates: batch.duplicates });
    }
  }

  #fail(batch: Batch, reason: string, cause: unknown): void {
    if (batch.settled) return;
    batch.settled = true;
    clearTimeout(batch.timer);
    for (const token of batch.tokens) this.#waiting.delete(token);
    this.#failedBatches += 1;
    batch.reject(new EventStreamUnavailableError(reason, cause === null ? undefined : { cause }));
  }

  #failAll(reason: string): void {
    const batches = new Set<Batch>();
    for (const { batch } of this.#waiting.values()) batches.add(batch);
    for (const batch of batches) this.#fail(batch, reason, null);
  }

  /**
   * No stream captured the subject: it was deleted, or NATS restarted without its state. Creates it again
   * in the background (one attempt at a time), so the sender's retry finds it.
   */
  #repairStream(): void {
    if (this.#repairing !== null || this.#closed) return;
    this.#repairing = ensureStream(this.#jsm, this.#config, this.#limits)
      .then((capacity) => {
        this.#capacity = capacity;
      })
      .catch(() => undefined)
      .finally(() => {
        this.#repairing = null;
      });
  }
}

interface Batch {
  readonly subject: string;
  remaining: number;
  persisted: number;
  readonly duplicates: string[];
  readonly tokens: string[];
  settled: boolean;
  readonly resolve: (result: PublishResult) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

interface Waiting {
  readonly batch: Batch;
  /** The events of the message waited for. */
  readonly eventIds: readonly string[];
}

/** One message of a batch: its payload (format 2) and its events' ids. */
interface Message {
  readonly data: Uint8Array;
  readonly eventIds: readonly string[];
}

/** The most events one message carries: a request's batch (the API takes 500 at most) is one message. */
const MESSAGE_EVENTS = 500;
/** What the message's headers (id, expected stream) take of the largest payload, with room to spare. */
const HEADER_ROOM = 1024;

type Ack =
  | { readonly kind: 'persisted' | 'duplicate' }
  | { readonly kind: 'refused'; readonly reason: string; readonly streamMissing: boolean };

/**
 * JetStream's answer to one published message: `{"stream", "seq", "duplicate"?}` when persisted,
 * `{"error": {"code", "err_code", "description"}}` when refused, or an empty 503 status message when no
 * stream captures the subject.
 */
function readAck(msg: Msg, stream: string): Ack {
  if (msg.headers !== undefined && msg.headers.code >= 300) {
    return msg.headers.code === 503
      ? { kind: 'refused', reason: 'no JetStream stream captures the subject', streamMissing: true }
      : { kind: 'refused', reason: `NATS answered ${msg.headers.status}`, streamMissing: false };
  }
  let reply: unknown;
  try {
    reply = msg.json();
  } catch {
    return { kind: 'refused', reason: 'JetStream sent an unreadable acknowledgement', streamMissing: false };
  }
  if (typeof reply !== 'object' || reply === null) {
    return { kind: 'refused', reason: 'JetStream sent an unreadable acknowledgement', streamMissing: false };
  }
  const {
    error,
    stream: storedIn,
    duplicate,
  } = reply as {
    readonly error?: { readonly description?: string; readonly err_code?: number };
    readonly stream?: string;
    readonly duplicate?: boolean;
  };
  if (error !== undefined) {
    const description = error.description ?? 'no description';
    return {
      kind: 'refused',
      reason: `the stream refused a batch of events: ${description}`,
      streamMissing: false,
    };
  }
  if (storedIn !== stream) {
    return {
      kind: 'refused',
      reason: `a batch of events was acknowledged by stream "${String(storedIn)}"`,
      streamMissing: false,
    };
  }
  return { kind: duplicate === true ? 'duplicate' : 'persisted' };
}
