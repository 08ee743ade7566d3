import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  JetStreamApiError,
  ReplayPolicy,
  type Consumer,
  type ConsumerMessages,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import { nanos, type NatsConnection } from '@nats-io/transport-node';

import type { TrackedEvent } from '../types.js';
import { decodeEvents } from './codec.js';
import {
  appOfSubject,
  checkStreamConfig,
  positiveOption,
  streamLimits,
  streamSubjects,
  type EventStreamConfig,
  type StreamLimits,
} from './config.js';
import {
  ConnectionState,
  CONSUMER_NAME,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  drainConnection,
  ensureStream,
  openJetStream,
  readLag,
  streamError,
  type StreamCapacity,
  type StreamLag,
} from './connection.js';
import { describeError, EventDecodeError, EventStreamConfigError } from './errors.js';

/**
 * Where consumed events go: `store.appendEvents` of the app's store in the worker. It must be idempotent by
 * event id (a batch is delivered again when the worker dies before acknowledging it) and resolve only once
 * the events are durable, because the stream forgets them when it resolves.
 */
export type EventSink = (app: string, events: readonly TrackedEvent[]) => Promise<void>;

/** Where the consumer reports what it skips or retries; pino's logger fits. */
export interface StreamLogger {
  warn(details: Record<string, unknown>, message: string): void;
}

export interface EventStreamConsumerOptions {
  /**
   * The most events one sink call gets (default 500), unless one message carries more (an API instance
   * publishes a request's batch as one message, up to 500 events): a message's events are never split.
   */
  readonly batchSize?: number;
  /**
   * How long a delivered event may stay unacknowledged before the stream gives it to a worker again
   * (default 30 s): what a crashed worker's events wait before another worker stores them.
   */
  readonly ackWaitMs?: number;
  /**
   * The most messages delivered and not yet acknowledged, over all workers (default 4 × batchSize): the
   * server stops delivering at this many. At least batchSize. (What a worker holds in memory is bounded
   * apart from it, in events: pulling pauses at 4 batches' worth.)
   */
  readonly maxAckPending?: number;
  /**
   * How long a batch the sink rejected waits before it is delivered again, doubled on each further failure
   * of the same events up to `maxRetryDelayMs` (defaults 1 s and 60 s). Events are never given up on.
   */
  readonly retryDelayMs?: number;
  readonly maxRetryDelayMs?: number;
  /** How long `open` waits for the server (default 2 s). */
  readonly connectTimeoutMs?: number;
  /** How long a JetStream API call (setting up the stream and consumer, `lag`) waits (default 5 s). */
  readonly requestTimeoutMs?: number;
  /** What the stream is created with when no API instance has created it yet (see `StreamLimits`). */
  readonly limits?: Partial<StreamLimits>;
  /** The client's name in the server's monitoring (default `attune-worker`). */
  readonly name?: string;
  /** Default: console.warn. */
  readonly logger?: StreamLogger;
}

/** Counters since the consumer opened, for metrics. */
export interface ConsumerStats {
  /** Messages delivered to this consumer, redeliveries included. */
  readonly received: number;
  /** Of those, messages delivered before (to this worker or another). */
  readonly redelivered: number;
  /** Events the sink accepted (and that were then acknowledged). */
  readonly stored: number;
  /** Sink calls that resolved. */
  readonly batches: number;
  /** Sink calls that rejected; their events were returned to the stream for a later try. */
  readonly failures: number;
  /** Messages that were not events (a foreign subject or payload): logged and removed, never retried. */
  readonly malformed: number;
  /**
   * The backlog not yet delivered, as of the last message received (JetStream sends it with each): a lag
   * gauge without a round trip. `lag()` asks the server.
   */
  readonly pending: number;
}

/**
 * After this many deliveries a message's events go to the sink on their own: one bad message cannot hold
 * back others.
 */
const ISOLATE_AFTER_DELIVERIES = 3;
/** Pulling pauses while the buffer holds this many batches' worth of events (a bound on the worker's memory). */
const BUFFERED_BATCHES = 4;
/** The bytes one pull request asks for at most (unless the stream's largest message is larger). */
const PULL_MAX_BYTES = 1024 ** 2;
/**
 * How long a pull request stays open when fewer messages than asked for are waiting. Messages arriving
 * meanwhile are delivered at once; the bound is what `close` may wait for the open request to end.
 */
const PULL_EXPIRES_MS = 2_000;
const SETUP_RETRY_MS = 2_000;

/**
 * The worker's side of the stream: a durable pull consumer (explicit acknowledgement) that hands the
 * events to the sink in batches — up to `batchSize`, or what has arrived when fewer are waiting — and
 * acknowledges a batch only after the sink resolved. A rejected batch is returned to the stream after a
 * delay; a worker that dies leaves its batch unacknowledged, and the stream delivers it again after
 * `ackWaitMs`. With an idempotent sink every event is stored exactly once. Any number of workers may run:
 * they share the one durable consumer (`CONSUMER_NAME`), each event going to one of them.
 */
export class EventStreamConsumer {
  readonly #nc: NatsConnection;
  readonly #jsm: JetStreamManager;
  readonly #config: EventStreamConfig;
  readonly #sink: EventSink;
  readonly #settings: ConsumerSettings;
  /** What the stream takes, as found when the consumer was last set up. */
  #capacity: StreamCapacity;
  readonly #logger: StreamLogger;
  /** Messages received and not yet handed to the sink, oldest first, read. */
  #buffer: Received[] = [];
  /** The events `#buffer` holds: pulling waits while they are `BUFFERED_BATCHES` batches' worth. */
  #buffered = 0;
  /** Resolves the pull loop's wait for the buffer to drain (or for close). */
  #drained: (() => void) | null = null;
  /** Resolves the batch loop's wait for messages (or for close). */
  #wake: (() => void) | null = null;
  /** Ends the pull loop's pause between attempts to set the consumer up again (on close). */
  #endPause: (() => void) | null = null;
  /** The open pull request, stopped on a disconnect and by `close` when it cannot end by itself. */
  #fetching: ConsumerMessages | null = null;
  readonly #state: ConnectionState;
  #stopping = false;
  #closing: Promise<void> | null = null;
  readonly #pulling: Promise<void>;
  readonly #loop: Promise<void>;
  #stats = { received: 0, redelivered: 0, stored: 0, batches: 0, failures: 0, malformed: 0, pending: 0 };

  /**
   * Connects, creates the stream and the durable consumer when they do not exist (an existing consumer
   * takes this worker's ackWaitMs and maxAckPending), and starts consuming.
   * @throws EventStreamUnavailableError when NATS does not answer within `connectTimeoutMs`;
   *   EventStreamConfigError when the config or options are malformed or the stream does not fit them.
   */
  static async open(
    config: EventStreamConfig,
    sink: EventSink,
    options: EventStreamConsumerOptions = {},
  ): Promise<EventStreamConsumer> {
    checkStreamConfig(config);
    const settings = consumerSettings(options);
    const connectTimeoutMs = positiveOption(
      options.connectTimeoutMs,
      'connectTimeoutMs',
      DEFAULT_CONNECT_TIMEOUT_MS,
    );
    const connection = {
      name: options.name ?? 'attune-worker',
      connectTimeoutMs,
      requestTimeoutMs: settings.requestTimeoutMs,
    };
    return openJetStream(config, connection, async (nc, jsm) => {
      const { consumer, capacity } = await setUpConsumer(nc, jsm, config, settings);
      const logger = options.logger ?? consoleLogger;
      return new EventStreamConsumer(nc, jsm, config, sink, settings, logger, consumer, capacity);
    });
  }

  private constructor(
    nc: NatsConnection,
    jsm: JetStreamManager,
    config: EventStreamConfig,
    sink: EventSink,
    settings: ConsumerSettings,
    logger: StreamLogger,
    pullConsumer: Consumer,
    capacity: StreamCapacity,
  ) {
    this.#nc = nc;
    this.#jsm = jsm;
    this.#config = config;
    this.#sink = sink;
    this.#settings = settings;
    this.#capacity = capacity;
    this.#logger = logger;
    // A pull request must not outlive its connection: after a reconnect the client would ask again while
    // the server may still hold the first request for the same inbox, and the client, counting only one,
    // could end the pull while the server still sends to it (those events would wait ackWaitMs). So a
    // disconnect ends the open request and the next one goes out once the connection is back.
    this.#state = new ConnectionState(nc, () => void this.#fetching?.close());
    this.#pulling = this.#pull(pullConsumer);
    this.#loop = this.#run();
  }

  /** The backlog the workers have yet to store (see `StreamLag`), asked of the server. */
  lag(): Promise<StreamLag> {
    return readLag(this.#jsm, this.#config);
  }

  stats(): ConsumerStats {
    return { ...this.#stats };
  }

  /**
   * Stops pulling and lets the sink finish the batch in hand (acknowledged as usual); the events received
   * but not started go back to the stream at once (another worker takes them without waiting for
   * ackWaitMs). Then closes the connection after sending those acknowledgements. Takes the sink's time for
   * its batch plus at most the open pull request's life (2 s; 5 s when NATS is unreachable).
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#stopping = true;
      this.#wake?.();
      this.#drained?.();
      this.#endPause?.();
      this.#state.release();
      // The open pull request ends (filled, or expired) before anything is returned: a message the server
      // sent to it after an early unsubscribe would be lost until ackWaitMs. Without a connection it cannot
      // end by itself; then it is stopped, and what the server may still send to it waits for ackWaitMs.
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, PULL_EXPIRES_MS + 3_000);
      });
      await Promise.race([this.#pulling, late]);
      clearTimeout(timer);
      await this.#fetching?.close();
      await this.#pulling;
      await this.#loop;
      for (const { msg, app } of this.#buffer.splice(0)) if (app !== null) msg.nak();
      this.#buffered = 0;
      await drainConnection(this.#nc, this.#settings.requestTimeoutMs);
    })();
    return this.#closing;
  }

  /**
   * The largest message the stream can hold: its own limit and the server's, or this worker's limit when
   * neither says (a stream an operator allowed larger messages may hold some from other publishers).
   */
  #largestMessage(): number {
    const largest = Math.min(this.#capacity.maxMessageBytes, this.#nc.info?.max_payload ?? Infinity);
    return Number.isFinite(largest)
      ? Math.max(largest, this.#settings.limits.maxMessageBytes)
      : this.#settings.limits.maxMessageBytes;
  }

  /**
   * Pull requests one after another, each for about a megabyte of messages and open for at most 2 s; the
   * messages are read into the buffer, which the batch loop empties. The next request goes out as soon as
   * one is filled, not when its batch is stored, unless the buffer holds `BUFFERED_BATCHES` batches'
   * worth of events already. When pulling fails (the consumer or the stream was deleted, NATS restarted
   * without its state) it sets both up again; what was unacknowledged comes back, and the sink's
   * idempotency keeps it once.
   */
  async #pull(first: Consumer): Promise<void> {
    let consumer: Consumer | null = first;
    while (!this.#stopping) {
      if (this.#nc.isClosed()) {
        this.#logger.warn({}, 'event stream: the connection to NATS is closed; no longer consuming');
        return;
      }
      if (!this.#state.connected) {
        await this.#state.whenConnected();
        continue;
      }
      if (consumer === null) {
        try {
          const setUp = await setUpConsumer(this.#nc, this.#jsm, this.#config, this.#settings);
          consumer = setUp.consumer;
          this.#capacity = setUp.capacity;
        } catch (error) {
          this.#logger.warn({ error: describeError(error) }, 'event stream: setting the consumer up failed');
          await this.#pause(SETUP_RETRY_MS);
          continue;
        }
      }
      if (this.#buffered >= BUFFERED_BATCHES * this.#settings.batchSize) {
        await new Promise<void>((resolve) => {
          this.#drained = resolve;
        });
        continue;
      }
      try {
        const started = Date.now();
        const messages = await consumer.fetch({
          // Bounded in bytes (messages hold up to 500 events each), never below the largest message: a
          // message over the bound is never delivered, and would stop consumption at it.
          max_bytes: Math.max(PULL_MAX_BYTES, this.#largestMessage() + 64 * 1024),
          expires: PULL_EXPIRES_MS,
        });
        this.#fetching = messages;
        let received = 0;
        for await (const msg of messages) {
          received += 1;
          const read = this.#read(msg);
          this.#buffer.push(read);
          this.#buffered += read.events.length;
          const wake = this.#wake;
          this.#wake = null;
          wake?.();
        }
        this.#fetching = null;
        // A request that ended at once with nothing (which the server should not do) must not become a spin.
        if (received === 0 && Date.now() - started < 100) await this.#pause(100);
      } catch (error) {
        this.#fetching = null;
        if (this.#stopping) break;
        this.#logger.warn(
          { error: describeError(error) },
          'event stream: pulling failed; setting the consumer up again',
        );
        consumer = null;
        await this.#pause(100);
      }
    }
  }

  #pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#endPause = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  async #run(): Promise<void> {
    while (!this.#stopping) {
      if (this.#buffer.length === 0) {
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
        // One turn of the event loop lets the rest of a burst arrive, so a batch is what is waiting rather
        // than the first message of it.
        if (this.#buffered < this.#settings.batchSize) {
          await new Promise((resolve) => setImmediate(resolve));
        }
        continue;
      }
      const batch = this.#takeBatch();
      try {
        await this.#handle(batch);
      } catch (error) {
        // Not the sink (#deliver catches that): unacknowledged, the batch comes back after ackWaitMs.
        this.#logger.warn({ error: describeError(error) }, 'event stream: handling a batch failed');
      }
    }
  }

  /** Messages from the buffer's head holding at most batchSize events (at least one message). */
  #takeBatch(): Received[] {
    let events = 0;
    let taken = 0;
    for (const { events: carried } of this.#buffer) {
      if (taken > 0 && events + carried.length > this.#settings.batchSize) break;
      events += carried.length;
      taken += 1;
    }
    this.#buffered -= events;
    const drained = this.#drained;
    this.#drained = null;
    drained?.();
    return this.#buffer.splice(0, taken);
  }

  /**
   * A message as delivered: its app and events, or none when it is not an event message (a foreign
   * subject or payload, or a newer format this build cannot read): then it is removed at once, since
   * retrying cannot help.
   */
  #read(msg: JsMsg): Received {
    const info = msg.info;
    this.#stats.received += 1;
    if (info.deliveryCount > 1) this.#stats.redelivered += 1;
    this.#stats.pending = info.pending;
    try {
      const app = appOfSubject(this.#config, msg.subject);
      if (app === null) throw new EventDecodeError('subject', `is not ${this.#config.subjectPrefix}.<app>`);
      return { msg, app, events: decodeEvents(msg.data) };
    } catch (error) {
      msg.term();
      this.#stats.malformed += 1;
      this.#logger.warn(
        { subject: msg.subject, streamSequence: info.streamSequence, error: describeError(error) },
        'event stream: removed a message that is not an event',
      );
      return { msg, app: null, events: [] };
    }
  }

  /** Groups a batch by app (each group one sink call, in arrival order) and delivers it. */
  async #handle(batch: readonly Received[]): Promise<void> {
    const groups = new Map<string, Group>();
    const alone: Group[] = [];
    for (const { msg, app, events } of batch) {
      if (app === null) continue;
      const deliveries = msg.info.deliveryCount;
      if (deliveries > ISOLATE_AFTER_DELIVERIES) {
        alone.push({ app, messages: [msg], events: [...events], deliveries });
        continue;
      }
      let group = groups.get(app);
      if (group === undefined) {
        group = { app, messages: [], events: [], deliveries: 1 };
        groups.set(app, group);
      }
      group.messages.push(msg);
      group.events.push(...events);
      group.deliveries = Math.max(group.deliveries, deliveries);
    }
    for (const group of groups.values()) await this.#deliver(group);
    for (const group of alone) await this.#deliver(group);
  }

  async #deliver(group: Group): Promise<void> {
    try {
      await this.#sink(group.app, group.events);
    } catch (error) {
      this.#stats.failures += 1;
      const delay = Math.min(
        this.#settings.retryDelayMs * 2 ** (group.deliveries - 1),
        this.#settings.maxRetryDelayMs,
      );
      for (const msg of group.messages) msg.nak(delay);
      this.#logger.warn(
        { app: group.app, events: group.events.length, retryInMs: delay, error: describeError(error) },
        'event stream: storing a batch failed; it will be delivered again',
      );
      return;
    }
    for (const msg of group.messages) msg.ack();
    this.#stats.stored += group.events.length;
    this.#stats.batches += 1;
  }
}

/** A delivered message, read: `app` is null for one that is not an event message (removed already). */
interface Received {
  readonly msg: JsMsg;
  readonly app: string | null;
  readonly events: readonly TrackedEvent[];
}

interface Group {
  readonly app: string;
  readonly messages: JsMsg[];
  readonly events: TrackedEvent[];
  /** The most deliveries of any of its events, for the retry delay. */
  deliveries: number;
}

interface ConsumerSettings {
  readonly batchSize: number;
  readonly ackWaitMs: number;
  readonly maxAckPending: number;
  readonly retryDelayMs: number;
  readonly maxRetryDelayMs: number;
  readonly requestTimeoutMs: number;
  readonly limits: StreamLimits;
}

function consumerSettings(options: EventStreamConsumerOptions): ConsumerSettings {
  const batchSize = positiveOption(options.batchSize, 'batchSize', 500);
  const maxAckPending = positiveOption(options.maxAckPending, 'maxAckPending', 4 * batchSize);
  if (maxAckPending < batchSize) {
    throw new EventStreamConfigError(
      'maxAckPending',
      `must be at least batchSize (${batchSize}), got ${maxAckPending}: a batch could never fill`,
    );
  }
  const retryDelayMs = positiveOption(options.retryDelayMs, 'retryDelayMs', 1_000);
  return {
    batchSize,
    ackWaitMs: positiveOption(options.ackWaitMs, 'ackWaitMs', 30_000),
    maxAckPending,
    retryDelayMs,
    maxRetryDelayMs: Math.max(
      retryDelayMs,
      positiveOption(options.maxRetryDelayMs, 'maxRetryDelayMs', 60_000),
    ),
    requestTimeoutMs: positiveOption(
      options.requestTimeoutMs,
      'requestTimeoutMs',
      DEFAULT_REQUEST_TIMEOUT_MS,
    ),
    limits: streamLimits(options.limits),
  };
}

/**
 * Makes sure the stream and the durable consumer exist; returns the consumer to pull from and what the
 * stream takes.
 */
async function setUpConsumer(
  nc: NatsConnection,
  jsm: JetStreamManager,
  config: EventStreamConfig,
  settings: ConsumerSettings,
): Promise<{ readonly consumer: Consumer; readonly capacity: StreamCapacity }> {
  const capacity = await ensureStream(jsm, config, settings.limits);
  await ensureConsumer(jsm, config, settings);
  try {
    const consumer = await jetstream(nc, { timeout: settings.requestTimeoutMs }).consumers.get(
      config.stream,
      CONSUMER_NAME,
    );
    return { consumer, capacity };
  } catch (error) {
    throw streamError(`reading the consumer "${CONSUMER_NAME}"`, error);
  }
}

/**
 * Creates the durable consumer, or updates an existing one's ackWait and maxAckPending to this worker's
 * (the last worker to open sets them). It never gives up on an event (`max_deliver: -1`).
 */
async function ensureConsumer(
  jsm: JetStreamManager,
  config: EventStreamConfig,
  settings: ConsumerSettings,
): Promise<void> {
  const updatable = {
    description: 'Attune workers: store each event once, by event id',
    ack_wait: nanos(settings.ackWaitMs),
    max_ack_pending: settings.maxAckPending,
    max_deliver: -1,
  };
  try {
    try {
      await jsm.consumers.add(config.stream, {
        ...updatable,
        durable_name: CONSUMER_NAME,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        replay_policy: ReplayPolicy.Instant,
        filter_subject: streamSubjects(config),
      });
    } catch (error) {
      // Servers from 2.10 refuse to re-create a consumer with other settings; update it instead.
      if (!(error instanceof JetStreamApiError) || error.code !== CONSUMER_EXISTS) throw error;
      await jsm.consumers.update(config.stream, CONSUMER_NAME, updatable);
    }
  } catch (error) {
    throw streamError(`setting up the consumer "${CONSUMER_NAME}" of "${config.stream}"`, error);
  }
}

// JSConsumerAlreadyExists (nats-server 2.10+): the durable exists with a different configuration.
const CONSUMER_EXISTS = 10148;

const consoleLogger: StreamLogger = {
  warn: (details, message) => console.warn(message, details),
};
