import {
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type JetStreamManager,
} from '@nats-io/jetstream';
import { connect, nanos, type ConnectionOptions, type NatsConnection } from '@nats-io/transport-node';

import { DEFAULT_NATS_PORT, streamSubjects, type EventStreamConfig, type StreamLimits } from './config.js';
import { describeError, EventStreamConfigError, EventStreamUnavailableError } from './errors.js';

/*
 * What the publisher and the consumer share: the connection (timeouts, reconnection, credentials from the
 * URL), the stream they both make sure exists, and the backlog they both can report.
 */

/**
 * The one durable consumer every worker pulls from. One name means one queue: two workers share its
 * messages (each delivered to one of them), never both reading every event.
 */
export const CONSUMER_NAME = 'attune-store-writer';

export const DEFAULT_CONNECT_TIMEOUT_MS = 2_000;
export const DEFAULT_REQUEST_TIMEOUT_MS = 5_000;

/** The backlog between the API and the store, for /health and metrics. */
/** Counted in messages, as JetStream counts: a message is a batch of events (up to 500; one from earlier builds). */
export interface StreamLag {
  /** Messages in the stream not yet delivered to a worker. */
  readonly pending: number;
  /** Messages delivered to a worker and not yet acknowledged (being stored, or waiting for redelivery). */
  readonly ackPending: number;
  /** Of those, messages delivered more than once (a worker died or its store failed). */
  readonly redelivered: number;
  /** Whether a worker ever created the consumer; until then every message in the stream is pending. */
  readonly consumerExists: boolean;
}

export interface ConnectionSettings {
  /** Shown by the server's monitoring for this client, e.g. `attune-api`. */
  readonly name: string;
  readonly connectTimeoutMs: number;
}

/**
 * Connects, failing within `connectTimeoutMs` when the server does not answer. Once connected the client
 * reconnects by itself for as long as it lives (a NATS restart needs no Attune restart), and pings every
 * 10 s, so a silently dead connection is noticed in about 30 s rather than the default four minutes.
 * @throws EventStreamUnavailableError when the server cannot be reached.
 */
export async function openConnection(
  config: EventStreamConfig,
  settings: ConnectionSettings,
): Promise<NatsConnection> {
  const url = new URL(config.url);
  const server = `${url.hostname}:${url.port === '' ? DEFAULT_NATS_PORT : url.port}`;
  const options: ConnectionOptions = {
    servers: server,
    name: settings.name,
    timeout: settings.connectTimeoutMs,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 1_000,
    pingInterval: 10_000,
    maxPingOut: 3,
    // Without it every request builds an Error for its stack trace: most of a JetStream call's CPU.
    noAsyncTraces: true,
  };
  // The client reads no credentials from server URLs: `user:pass@` is a user and password, `token@` a token.
  if (url.username !== '' && url.password !== '') {
    options.user = decodeURIComponent(url.username);
    options.pass = decodeURIComponent(url.password);
  } else if (url.username !== '') {
    options.token = decodeURIComponent(url.username);
  }
  try {
    return await connect(options);
  } catch (error) {
    throw new EventStreamUnavailableError(`cannot connect to NATS at ${server}: ${describeError(error)}`, {
      cause: error,
    });
  }
}

/**
 * The JetStream manager, checking that JetStream is enabled for the account.
 * @throws EventStreamUnavailableError when it is not, or the server does not answer in time.
 */
export async function openManager(nc: NatsConnection, requestTimeoutMs: number): Promise<JetStreamManager> {
  try {
    return await jetstreamManager(nc, { timeout: requestTimeoutMs, checkAPI: true });
  } catch (error) {
    throw new EventStreamUnavailableError(`JetStream does not answer: ${describeError(error)}`, {
      cause: error,
    });
  }
}

/**
 * Connects (`openConnection`), opens the JetStream manager and runs `setUp` on both; the connection is
 * closed again when any step fails, so a failed `open` leaves nothing behind.
 */
export async function openJetStream<T>(
  config: EventStreamConfig,
  settings: ConnectionSettings & { readonly requestTimeoutMs: number },
  setUp: (nc: NatsConnection, jsm: JetStreamManager) => Promise<T>,
): Promise<T> {
  const nc = await openConnection(config, settings);
  try {
    return await setUp(nc, await openManager(nc, settings.requestTimeoutMs));
  } catch (error) {
    await nc.close().catch(() => undefined);
    throw error;
  }
}

/**
 * Creates the stream when it does not exist, with `limits`; an existing one is used as it is (an operator
 * may have tuned it) once it is known to capture the config's subjects. Safe to race: of two processes
 * creating it at once, one creates it and the other finds it. Returns the largest message the stream takes.
 * @throws EventStreamConfigError when the existing stream does not capture `${subjectPrefix}.>` or the server
 *   refuses the limits (e.g. more `maxBytes` than its `max_file_store` has left);
 *   EventStreamUnavailableError when the server does not answer.
 */
export async function ensureStream(
  jsm: JetStreamManager,
  config: EventStreamConfig,
  limits: StreamLimits,
): Promise<StreamCapacity> {
  const subjects = streamSubjects(config);
  try {
    let existing = await streamConfigOf(jsm, config.stream);
    if (existing === null) {
      try {
        await jsm.streams.add({
          name: config.stream,
          description:
            'Attune events, validated and acknowledged by the API, waiting for the worker to store them',
          subjects: [subjects],
          // A work queue: an event leaves the stream once the worker acknowledged it, so the stream holds
          // the backlog, not the history (the store keeps that). It also allows only consumers that do not
          // overlap, which is the one durable consumer.
          retention: RetentionPolicy.Workqueue,
          storage: StorageType.File,
          // Full means refuse, never drop an acknowledged event.
          discard: DiscardPolicy.New,
          max_bytes: limits.maxBytes,
          max_msg_size: limits.maxMessageBytes,
          max_msgs: -1,
          max_age: 0,
          duplicate_window: nanos(limits.duplicateWindowMs),
          num_replicas: limits.replicas,
        });
        return { maxMessageBytes: limits.maxMessageBytes };
      } catch (error) {
        // Another process created it between our look and our add: use theirs.
        if (!(error instanceof JetStreamApiError) || error.code !== STREAM_NAME_IN_USE) throw error;
        existing = await streamConfigOf(jsm, config.stream);
      }
    }
    if (existing === null) {
      // Created and deleted again between our add and our look: nothing to say about it but our limit.
      return { maxMessageBytes: limits.maxMessageBytes };
    }
    if (!existing.subjects.includes(subjects)) {
      throw new EventStreamConfigError(
        'stream',
        `the existing stream "${config.stream}" captures ${JSON.stringify(existing.subjects)}, not ` +
          `"${subjects}"; name another stream or add the subject to it`,
      );
    }
    return { maxMessageBytes: existing.maxMessageBytes };
  } catch (error) {
    throw streamError(`setting up the stream "${config.stream}"`, error);
  }
}

/** The backlog of the stream's consumer, or of the whole stream when no worker has created the consumer. */
export async function readLag(jsm: JetStreamManager, config: EventStreamConfig): Promise<StreamLag> {
  try {
    const info = await jsm.consumers.info(config.stream, CONSUMER_NAME);
    return {
      pending: info.num_pending,
      ackPending: info.num_ack_pending,
      redelivered: info.num_redelivered,
      consumerExists: true,
    };
  } catch (error) {
    if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.ConsumerNotFound) {
      try {
        const stream = await jsm.streams.info(config.stream);
        return { pending: stream.state.messages, ackPending: 0, redelivered: 0, consumerExists: false };
      } catch (streamFailure) {
        throw streamError('reading the stream backlog', streamFailure);
      }
    }
    throw streamError('reading the stream backlog', error);
  }
}

/**
 * A failed JetStream call as one of our errors: the server's refusals of a configuration are configuration
 * errors, everything else (timeouts, lost connections, missing streams) means "not now".
 */
export function streamError(what: string, error: unknown): Error {
  if (error instanceof EventStreamConfigError || error instanceof EventStreamUnavailableError) return error;
  if (error instanceof JetStreamApiError && CONFIG_ERROR_CODES.has(error.code)) {
    return new EventStreamConfigError('stream', `${what}: ${describeError(error)}`, { cause: error });
  }
  return new EventStreamUnavailableError(`${what}: ${describeError(error)}`, { cause: error });
}

/** Closes a connection after flushing what it has to send (acks, naks), within `timeoutMs`. */
export async function drainConnection(nc: NatsConnection, timeoutMs: number): Promise<void> {
  if (nc.isClosed()) return;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), timeoutMs);
  });
  try {
    const outcome = await Promise.race([nc.drain().then(() => 'drained' as const), late]);
    if (outcome === 'late') await nc.close();
  } catch {
    // Already closing, or closed by the server: either way it is closed now.
    if (!nc.isClosed()) await nc.close();
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Tracks whether the connection is up, from the client's status events, so that callers can fail at once
 * while it reconnects instead of waiting for a timeout. `onDisconnect` runs each time it goes down (and when
 * it closes).
 */
export class ConnectionState {
  #connected = true;
  #closed = false;
  #waiting: (() => void)[] = [];

  constructor(nc: NatsConnection, onDisconnect: () => void) {
    void (async () => {
      for await (const status of nc.status()) {
        if (status.type === 'disconnect') {
          this.#connected = false;
          onDisconnect();
        } else if (status.type === 'reconnect') {
          this.#connected = true;
          for (const resolve of this.#waiting.splice(0)) resolve();
        }
      }
    })();
    void nc.closed().then(() => {
      this.#connected = false;
      this.#closed = true;
      onDisconnect();
      // Nothing will reconnect: wake the waiters, who find the connection closed.
      for (const resolve of this.#waiting.splice(0)) resolve();
    });
  }

  get connected(): boolean {
    return this.#connected;
  }

  /** Resolves when the connection is up again (at once if it is), or when it closes. */
  whenConnected(): Promise<void> {
    if (this.#connected || this.#closed) return Promise.resolve();
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  /** Wakes the waiters (on close of the owner). */
  release(): void {
    for (const resolve of this.#waiting.splice(0)) resolve();
  }
}

/**
 * What publishers and the consumer need to know of the stream they use: an operator's stream may take
 * smaller messages than `StreamLimits.maxMessageBytes` (the server refuses a larger one), or larger.
 */
export interface StreamCapacity {
  /** The largest message the stream takes, in bytes; Infinity when it sets no limit of its own. */
  readonly maxMessageBytes: number;
}

async function streamConfigOf(
  jsm: JetStreamManager,
  stream: string,
): Promise<{ readonly subjects: string[]; readonly maxMessageBytes: number } | null> {
  try {
    const { config } = await jsm.streams.info(stream);
    // -1 (or 0 from older servers): no limit of the stream's own; the server's max_payload still holds.
    const max = config.max_msg_size ?? -1;
    return { subjects: config.subjects ?? [], maxMessageBytes: max > 0 ? max : Infinity };
  } catch (error) {
    if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound) return null;
    throw error;
  }
}

// JetStream API error codes (nats-server's errors.json) that are refusals of what was asked, not outages.
const STREAM_NAME_IN_USE = 10058;
const CONFIG_ERROR_CODES = new Set([
  10047, // insufficient storage resources (maxBytes beyond what the server's max_file_store has left)
  10052, // stream configuration invalid
  10058, // stream name already in use with a different configuration
  10065, // subjects overlap with an existing stream
  10074, // replicas > 1 not supported in non-clustered mode
  10093, // consumer filter subject is not a subset of the stream's subjects
  10099, // multiple non-filtered consumers not allowed on a work queue stream
  10100, // filtered consumer not unique on a work queue stream (another consumer reads our subjects)
]);
