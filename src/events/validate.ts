import { timeOrderedId } from '../shared/time-ordered-id.js';
import type { EpochMs, ScalarRecord } from '../shared/types.js';
import {
  FieldError,
  isPlainObject,
  MAX_ID_LENGTH,
  readId,
  readScalarRecord,
  readString,
  readTime,
} from './fields.js';
import type { TrackedEvent } from './types.js';

/** One rejected event: its position in the batch, the field at fault (a path) and why. */
export interface EventError {
  readonly index: number;
  /** `user_id`, `context.device`, `properties.request_id`, …; `''` when the event itself is not an object. */
  readonly field: string;
  readonly message: string;
}

export interface ValidEvent {
  /** Position in the batch (0 for a single-event body), so responses can say which ones were kept. */
  readonly index: number;
  readonly event: TrackedEvent;
}

/** A field of a valid event that was not stored as sent (`EventValidationOptions.redact`). */
export interface EventRedaction {
  readonly index: number;
  readonly field: string;
  readonly action: 'removed' | 'coarsened';
  readonly reason: string;
}

/** What may be stored of a context or properties record, and what was removed or coarsened from it. */
export type RecordRedactor = (
  record: ScalarRecord,
  field: 'context' | 'properties',
) => {
  readonly record: ScalarRecord;
  readonly redactions: readonly Omit<EventRedaction, 'index'>[];
};

export type EventBatchValidation =
  | {
      readonly events: ValidEvent[];
      readonly errors: EventError[];
      /** Fields of accepted events that were not stored as sent (personal data). */
      readonly redactions: EventRedaction[];
    }
  /** The body as a whole is unusable (not an object, `events` not an array, too many events). */
  | { readonly fatal: string };

export interface EventValidationOptions {
  /** The receiving time: `receivedAt`, the default `timestamp`, and the reference for the future limit. */
  readonly now: EpochMs;
  /** At most this many events per body (default 1,000). */
  readonly maxEvents?: number;
  /** How far ahead of `now` a timestamp may be (default 5 minutes), to absorb client clock skew. */
  readonly maxFutureMs?: number;
  /** Makes event ids for events sent without one (default `timeOrderedId`: UUID version 7). */
  readonly generateId?: () => string;
  /** Applied to each event's context and properties before they are kept (`privacy/`); none by default. */
  readonly redact?: RecordRedactor;
}

export const MAX_EVENTS_PER_REQUEST = 1000;
export const DEFAULT_MAX_FUTURE_MS = 5 * 60_000;
export const MAX_EVENT_NAME_LENGTH = 200;

/** The fields an event may carry; anything else is refused so that typos do not silently drop data. */
export const EVENT_FIELDS: readonly string[] = [
  'event',
  'user_id',
  'item_id',
  'product_id',
  'timestamp',
  'event_id',
  'context',
  'properties',
];
const EVENT_FIELD_LIST = EVENT_FIELDS.join(', ');

/** Shared by every event sent without context or properties; frozen because it is shared. */
const EMPTY_RECORD: ScalarRecord = Object.freeze({});

interface Settings {
  readonly now: EpochMs;
  readonly latest: EpochMs;
  readonly futureText: string;
  readonly generateId: () => string;
  readonly redact: RecordRedactor | null;
  readonly redactions: EventRedaction[];
}

/**
 * Validates an ingestion body: one event object, or `{"events": [...]}`. Valid events are kept and
 * invalid ones reported one error each, so a single bad event does not cost the sender the batch.
 * Duplicate event ids are not an error here: the store counts them.
 */
export function validateEventBatch(body: unknown, opts: EventValidationOptions): EventBatchValidation {
  const maxFutureMs = opts.maxFutureMs ?? DEFAULT_MAX_FUTURE_MS;
  const settings: Settings = {
    now: opts.now,
    latest: opts.now + maxFutureMs,
    futureText: `timestamp is more than ${describeDuration(maxFutureMs)} in the future`,
    generateId: opts.generateId ?? (() => timeOrderedId(opts.now)),
    redact: opts.redact ?? null,
    redactions: [],
  };
  const events: ValidEvent[] = [];
  const errors: EventError[] = [];

  if (!isPlainObject(body)) {
    return { fatal: 'the body must be a JSON object: one event, or {"events": [...]}' };
  }
  if (!Object.hasOwn(body, 'events')) {
    collect(body, 0, settings, events, errors);
    return { events, errors, redactions: settings.redactions };
  }
  for (const key in body) {
    if (key !== 'events') return { fatal: `a batch body holds only "events"; unexpected field "${key}"` };
  }
  const list = body['events'];
  if (!Array.isArray(list)) return { fatal: '"events" must be an array of event objects' };
  const maxEvents = opts.maxEvents ?? MAX_EVENTS_PER_REQUEST;
  if (list.length > maxEvents) {
    return { fatal: `too many events: ${list.length}; at most ${maxEvents} per request` };
  }
  for (let index = 0; index < list.length; index++) {
    collect(list[index], index, settings, events, errors);
  }
  return { events, errors, redactions: settings.redactions };
}

function collect(
  raw: unknown,
  index: number,
  settings: Settings,
  events: ValidEvent[],
  errors: EventError[],
): void {
  const result = validateEvent(raw, settings);
  if (result instanceof FieldError) {
    errors.push({ index, field: result.field, message: result.message });
    return;
  }
  const redact = settings.redact;
  if (redact === null) {
    events.push({ index, event: result });
    return;
  }
  const context = redact(result.context, 'context');
  const properties = redact(result.properties, 'properties');
  for (const r of context.redactions) settings.redactions.push({ index, ...r });
  for (const r of properties.redactions) settings.redactions.push({ index, ...r });
  const unchanged = context.record === result.context && properties.record === result.properties;
  events.push({
    index,
    event: unchanged ? result : { ...result, context: context.record, properties: properties.record },
  });
}

/** Checks one event, stopping at the first problem; `null` counts as absent for optional fields. */
function validateEvent(raw: unknown, settings: Settings): TrackedEvent | FieldError {
  if (!isPlainObject(raw)) return new FieldError('', 'an event must be a JSON object');

  let nameValue: unknown;
  let userValue: unknown;
  let itemValue: unknown;
  let productValue: unknown;
  let timeValue: unknown;
  let idValue: unknown;
  let contextValue: unknown;
  let propertiesValue: unknown;
  // One pass over the keys, not a lookup per known field plus Object.keys for the unknown ones.
  for (const key in raw) {
    const value = raw[key];
    switch (key) {
      case 'event':
        nameValue = value;
        break;
      case 'user_id':
        userValue = value;
        break;
      case 'item_id':
        itemValue = value;
        break;
      case 'product_id':
        productValue = value;
        break;
      case 'timestamp':
        timeValue = value;
        break;
      case 'event_id':
        idValue = value;
        break;
      case 'context':
        contextValue = value;
        break;
      case 'properties':
        propertiesValue = value;
        break;
      default:
        return new FieldError(key, `unknown field "${key}"; accepted fields: ${EVENT_FIELD_LIST}`);
    }
  }

  if (nameValue == null) return new FieldError('event', 'event (the event name) is required');
  const name = readString(nameValue, 'event', MAX_EVENT_NAME_LENGTH);
  if (name instanceof FieldError) return name;

  if (userValue == null) return new FieldError('user_id', 'user_id is required');
  const userId = readId(userValue, 'user_id');
  if (userId instanceof FieldError) return userId;

  let itemId: string | null = null;
  if (itemValue != null) {
    const id = readId(itemValue, 'item_id');
    if (id instanceof FieldError) return id;
    itemId = id;
  }
  if (productValue != null) {
    const id = readId(productValue, 'product_id');
    if (id instanceof FieldError) return id;
    if (itemId !== null && itemId !== id) {
      return new FieldError(
        'product_id',
        `product_id is an alias of item_id, and both were given with different values ("${itemId}", "${id}")`,
      );
    }
    itemId = id;
  }

  let eventId: string;
  if (idValue == null) {
    eventId = settings.generateId();
  } else {
    const id = readString(idValue, 'event_id', MAX_ID_LENGTH);
    if (id instanceof FieldError) return id;
    eventId = id;
  }

  let timestamp = settings.now;
  if (timeValue != null) {
    const time = readTime(timeValue, 'timestamp');
    if (time instanceof FieldError) return time;
    if (time > settings.latest) return new FieldError('timestamp', settings.futureText);
    timestamp = time;
  }

  let context = EMPTY_RECORD;
  if (contextValue != null) {
    const record = readScalarRecord(contextValue, 'context');
    if (record instanceof FieldError) return record;
    context = record;
  }

  let properties = EMPTY_RECORD;
  let requestId: string | null = null;
  if (propertiesValue != null) {
    const record = readScalarRecord(propertiesValue, 'properties');
    if (record instanceof FieldError) return record;
    properties = record;
    // null is accepted as "no request": clients often send the key whether or not a list was served.
    const request = record['request_id'];
    if (request != null) {
      const id = readString(request, 'properties.request_id', MAX_ID_LENGTH);
      if (id instanceof FieldError) return id;
      requestId = id;
    }
  }

  return {
    eventId,
    name,
    userId,
    itemId,
    timestamp,
    receivedAt: settings.now,
    context,
    properties,
    requestId,
  };
}

/** `5 minutes`, `30 seconds`, `1500 ms`: for messages that state a configured limit. */
function describeDuration(ms: number): string {
  if (ms % 60_000 === 0) return plural(ms / 60_000, 'minute');
  if (ms % 1000 === 0) return plural(ms / 1000, 'second');
  return `${ms} ms`;
}

function plural(count: number, unit: string): string {
  return `${count} ${unit}${count === 1 ? '' : 's'}`;
}
