/**
 * The event stream's errors, told apart with `instanceof` by the API (503) and the worker (retry later).
 */

/**
 * NATS cannot take the events now: not reachable, connection lost, no acknowledgement in time, the stream
 * missing or full. Nothing was acknowledged, so the caller answers 503 and the sender retries; a retry of
 * events that did reach the stream is harmless (the stream drops repeats of an event id within its duplicate
 * window, the store beyond it). The message never contains the server URL, which may carry credentials.
 */
export class EventStreamUnavailableError extends Error {
  override readonly name = 'EventStreamUnavailableError';
  constructor(
    readonly detail: string,
    options?: ErrorOptions,
  ) {
    super(`The event stream is unavailable (${detail}); try again shortly`, options);
  }
}

/**
 * The stream's configuration is wrong, not its server's health: a malformed `ATTUNE_EVENT_STREAM`, a name
 * NATS cannot hold, an existing stream that does not capture Attune's subjects. Retrying will not help.
 */
export class EventStreamConfigError extends Error {
  override readonly name = 'EventStreamConfigError';
  constructor(
    /** The setting at fault: an environment variable or an option's name. */
    readonly field: string,
    problem: string,
    options?: ErrorOptions,
  ) {
    super(`${field}: ${problem}`, options);
  }
}

/** A stream message that is not an event Attune published (a bad field, a foreign subject). */
export class EventDecodeError extends Error {
  override readonly name = 'EventDecodeError';
  constructor(
    readonly field: string,
    problem: string,
  ) {
    super(`${field}: ${problem}`);
  }
}

/** Says what went wrong without the stack: enough for a 503's message and a log line. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}
