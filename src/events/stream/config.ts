import { createHash } from 'node:crypto';

import { EventStreamConfigError } from './errors.js';

/** The variable that turns the stream on: `nats://host:port` (unset or empty: events go to the store). */
export const EVENT_STREAM_ENV = 'ATTUNE_EVENT_STREAM';
/** The variable naming the JetStream stream (default `ATTUNE_EVENTS`). */
export const EVENT_STREAM_NAME_ENV = 'ATTUNE_EVENT_STREAM_NAME';
export const DEFAULT_STREAM_NAME = 'ATTUNE_EVENTS';
/** The subjects of the default stream: app `shop`'s events go to `attune.events.shop`. */
export const DEFAULT_SUBJECT_PREFIX = 'attune.events';
export const DEFAULT_NATS_PORT = 4222;

/** Where the event stream is. Plain data: `streamConfigFromEnv` makes one, tests make their own. */
export interface EventStreamConfig {
  /** `nats://host:port`, optionally with `user:password@` or `token@` before the host. */
  readonly url: string;
  /** The JetStream stream's name. */
  readonly stream: string;
  /** Events of app `A` are published on `${subjectPrefix}.A`; the stream captures `${subjectPrefix}.>`. */
  readonly subjectPrefix: string;
}

/**
 * The event stream's settings from the environment, or `null` when `ATTUNE_EVENT_STREAM` is unset or empty
 * (ingestion writes to the store directly). A custom `ATTUNE_EVENT_STREAM_NAME` gets subjects of its own,
 * `attune.stream.<name>`, because two streams of one NATS server may not capture the same subjects: two
 * deployments (production, staging) can share a server by naming their streams apart.
 * @throws EventStreamConfigError naming the variable when a value is malformed (the URL is never repeated:
 *   it may carry a password).
 */
export function streamConfigFromEnv(
  env: Readonly<Record<string, string | undefined>>,
): EventStreamConfig | null {
  const url = env[EVENT_STREAM_ENV]?.trim() ?? '';
  if (url === '') return null;
  checkNatsUrl(url, EVENT_STREAM_ENV);
  const named = env[EVENT_STREAM_NAME_ENV]?.trim() ?? '';
  const stream = named === '' ? DEFAULT_STREAM_NAME : named;
  checkStreamName(stream, EVENT_STREAM_NAME_ENV);
  const subjectPrefix = stream === DEFAULT_STREAM_NAME ? DEFAULT_SUBJECT_PREFIX : `attune.stream.${stream}`;
  return { url, stream, subjectPrefix };
}

/** Checks a config made by hand (tests, the CLI) as `streamConfigFromEnv` checks the environment's. */
export function checkStreamConfig(config: EventStreamConfig): void {
  checkNatsUrl(config.url, 'url');
  checkStreamName(config.stream, 'stream');
  if (!SUBJECT_PREFIX.test(config.subjectPrefix)) {
    throw new EventStreamConfigError(
      'subjectPrefix',
      `"${config.subjectPrefix}" is not a subject prefix: dot-separated tokens of letters, digits, "_" ` +
        'and "-" (e.g. attune.events)',
    );
  }
}

/**
 * What a JetStream stream is created with when it does not exist yet. An existing stream is used as it is:
 * an operator tunes these with `nats stream edit` and Attune never overwrites them.
 */
export interface StreamLimits {
  /**
   * The most the backlog (events persisted, not yet consumed) may hold on disk. The stream is a work queue
   * (an event leaves it once the worker acknowledged it) that discards *new* messages when full: a full
   * stream refuses publishes, which the API answers with 503, rather than dropping acknowledged events. NATS
   * reserves this much of the server's `max_file_store` for the stream. Default 8 GiB (~25 million events).
   */
  readonly maxBytes: number;
  /** The largest message accepted. Default 1 MiB, NATS's default `max_payload`. */
  readonly maxMessageBytes: number;
  /**
   * How long JetStream remembers an event id to drop a repeat (a client retrying a batch it got no reply
   * for). Beyond it the store's idempotency by event id still stores each event once. Default 2 minutes.
   */
  readonly duplicateWindowMs: number;
  /** Copies kept on a JetStream cluster (1, 3 or 5). Default 1: a single server. */
  readonly replicas: number;
}

export const DEFAULT_STREAM_LIMITS: StreamLimits = {
  maxBytes: 8 * 1024 ** 3,
  maxMessageBytes: 1024 ** 2,
  duplicateWindowMs: 2 * 60_000,
  replicas: 1,
};

export function streamLimits(overrides: Partial<StreamLimits> = {}): StreamLimits {
  const limits = { ...DEFAULT_STREAM_LIMITS, ...overrides };
  for (const [field, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new EventStreamConfigError(`limits.${field}`, `must be a positive integer, got ${String(value)}`);
    }
  }
  if (![1, 3, 5].includes(limits.replicas)) {
    throw new EventStreamConfigError('limits.replicas', `must be 1, 3 or 5, got ${limits.replicas}`);
  }
  return limits;
}

/** An option that must be a positive integer, or its default when not given. */
export function positiveOption(value: number | undefined, field: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new EventStreamConfigError(field, `must be a positive integer, got ${String(value)}`);
  }
  return value;
}

/** The subject an app's events are published on. */
export function appSubject(config: EventStreamConfig, app: string): string {
  return `${config.subjectPrefix}.${app}`;
}

/** The subjects the stream captures: every app's. */
export function streamSubjects(config: EventStreamConfig): string {
  return `${config.subjectPrefix}.>`;
}

/**
 * The app a message's subject names, or `null` when the subject is not one of ours. App names are those of
 * `access/` (lowercase letters, digits, "_", "-"), all single subject tokens.
 */
export function appOfSubject(config: EventStreamConfig, subject: string): string | null {
  const prefix = `${config.subjectPrefix}.`;
  if (!subject.startsWith(prefix)) return null;
  const app = subject.slice(prefix.length);
  return APP_NAME.test(app) ? app : null;
}

export function checkAppName(app: string): void {
  if (!APP_NAME.test(app)) {
    throw new EventStreamConfigError(
      'app',
      `"${app}" is not an app name (lowercase letters, digits, "-" and "_", at most 63)`,
    );
  }
}

/**
 * The JetStream message id of a batch of events published as one message: "~~" and the SHA-256 of its
 * event ids in order, base64url. The same batch sent again (a client retrying a request it got no reply
 * for) has the same id, so the stream drops the repeat. Earlier builds sent a message per event, its id the event id
 * when printable ASCII without "~", else "~" and base64url: none starts with "~~".
 */
export function batchMessageIdOf(eventIds: readonly string[]): string {
  return `~~${createHash('sha256').update(JSON.stringify(eventIds)).digest('base64url')}`;
}

// The same rule as access/'s app names.
const APP_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const SUBJECT_PREFIX = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;
// Letters, digits, "_" and "-": NATS stream names may not hold ".", "*", ">", path separators or spaces.
const STREAM_NAME = /^[A-Za-z0-9_-]{1,64}$/;

function checkStreamName(name: string, field: string): void {
  if (!STREAM_NAME.test(name)) {
    throw new EventStreamConfigError(
      field,
      `"${name}" is not a stream name: 1–64 letters, digits, "_" and "-" (e.g. ${DEFAULT_STREAM_NAME})`,
    );
  }
}

function checkNatsUrl(value: string, field: string): void {
  const hint = 'expected nats://host:port (e.g. nats://127.0.0.1:4222)';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new EventStreamConfigError(field, `not a URL; ${hint}`);
  }
  if (url.protocol !== 'nats:') {
    throw new EventStreamConfigError(field, `unsupported scheme "${url.protocol}"; ${hint}`);
  }
  if (url.hostname === '') throw new EventStreamConfigError(field, `the URL names no host; ${hint}`);
  if ((url.pathname !== '' && url.pathname !== '/') || url.search !== '' || url.hash !== '') {
    throw new EventStreamConfigError(field, `the URL has a path, query or fragment; ${hint}`);
  }
}
