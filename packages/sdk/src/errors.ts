import type { EventBody } from './types.js';

/**
 * Every failure the SDK reports, thrown by the request methods and passed to `onError` for queued events.
 * `status` is the HTTP status (0 when no reply came: network error or timeout); `code` is the engine's
 * error code (`invalid_request`, `unauthorized`, `rate_limited`, …) or one of the SDK's own:
 * `network_error`, `timeout`, `event_rejected` (one event of an accepted batch was refused: `field` names
 * why), `queue_full` (the oldest queued events were dropped to stay within `maxQueueSize`).
 */
export class AttuneError extends Error {
  readonly status: number;
  readonly code: string;
  /** The engine's `error.details`, when it sent any. */
  readonly details: unknown;
  /** Worth trying again later: no reply, 429 or 5xx. Queued events that failed so are kept, not dropped. */
  readonly retryable: boolean;
  /** The queued events this error is about (a failed batch, a rejected or dropped event). */
  events: readonly EventBody[] = [];
  /** For `event_rejected`: the field at fault (`user_id`, `properties.price`, …). */
  field: string | undefined;

  constructor(status: number, code: string, message: string, details?: unknown) {
    super(message);
    this.name = 'AttuneError';
    this.status = status;
    this.code = code;
    this.details = details;
    this.retryable = status === 0 || status === 429 || status >= 500;
  }
}

/** An error with the events it concerns attached. */
export function about(error: AttuneError, events: readonly EventBody[], field?: string): AttuneError {
  error.events = events;
  error.field = field;
  return error;
}
