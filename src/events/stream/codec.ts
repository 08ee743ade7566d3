import type { Scalar, ScalarRecord } from '../../shared/types.js';
import type { TrackedEvent } from '../types.js';
import { EventDecodeError } from './errors.js';

/**
 * Stream messages are JSON arrays led by a format version, each event's fields in a fixed order:
 *
 *     format 1, one event:  [1, eventId, name, userId, itemId, timestamp, receivedAt, context, properties,
 *                            requestId]
 *     format 2, a batch:    [2, [eventId, …, requestId], [eventId, …, requestId], …]
 *
 * The API publishes format 2, one message per batch (`encodeEvents`): JetStream's work per message
 * (parsing, storing, deduplicating, acknowledging) was most of what the stream cost, ~17 µs of the NATS
 * server per event when every event was a message. Format 1 is what earlier builds published; consumers
 * still read it (`decodeEvents`), so a stream holding both drains across a rolling upgrade.
 *
 * Positional rather than keyed, so field names are not repeated for every event, and versioned, so that a
 * later format can be told apart by a consumer that outlives a rolling upgrade. Every field round-trips
 * exactly: ids and names are strings, times finite numbers, context and properties flat records of
 * scalars — what JSON holds losslessly (the one exception, -0, comes back as 0, as it does from the
 * store's own JSON columns).
 */
export const EVENT_FORMAT_VERSION = 1;
export const BATCH_FORMAT_VERSION = 2;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

function fieldsOf(event: TrackedEvent): unknown[] {
  return [
    event.eventId,
    event.name,
    event.userId,
    event.itemId,
    event.timestamp,
    event.receivedAt,
    event.context,
    event.properties,
    event.requestId,
  ];
}

/** One event in format 1 (what builds before batches published). */
export function encodeEvent(event: TrackedEvent): Uint8Array {
  return encoder.encode(JSON.stringify([EVENT_FORMAT_VERSION, ...fieldsOf(event)]));
}

/** A batch of events in one message, format 2. */
export function encodeEvents(events: readonly TrackedEvent[]): Uint8Array {
  return encoder.encode(JSON.stringify([BATCH_FORMAT_VERSION, ...events.map(fieldsOf)]));
}

/**
 * Reads a message of either format: its events, in the order published.
 * @throws EventDecodeError naming the field (with the event's index, in a batch) that is missing or of the
 *   wrong type, or the version this build does not read.
 */
export function decodeEvents(data: Uint8Array): TrackedEvent[] {
  const fields = parseMessage(data);
  if (fields[0] === EVENT_FORMAT_VERSION) return [eventOf(fields.slice(1), '')];
  if (fields[0] !== BATCH_FORMAT_VERSION) throw unreadableVersion(fields[0]);
  if (fields.length < 2) throw new EventDecodeError('payload', 'holds no events');
  return fields.slice(1).map((event, index) => {
    if (!Array.isArray(event)) throw new EventDecodeError(`events[${index}]`, 'is not a JSON array');
    return eventOf(event, `events[${index}].`);
  });
}

/**
 * Reads a format-1 message (one event).
 * @throws EventDecodeError naming the field that is missing or of the wrong type.
 */
export function decodeEvent(data: Uint8Array): TrackedEvent {
  const fields = parseMessage(data);
  if (fields[0] !== EVENT_FORMAT_VERSION) throw unreadableVersion(fields[0]);
  return eventOf(fields.slice(1), '');
}

function parseMessage(data: Uint8Array): readonly unknown[] {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(data));
  } catch {
    throw new EventDecodeError('payload', 'is not UTF-8 JSON');
  }
  if (!Array.isArray(value)) throw new EventDecodeError('payload', 'is not a JSON array');
  return value;
}

function unreadableVersion(version: unknown): EventDecodeError {
  return new EventDecodeError(
    'version',
    `is ${JSON.stringify(version)}; this build reads ${EVENT_FORMAT_VERSION} and ${BATCH_FORMAT_VERSION}`,
  );
}

/** An event from its nine fields; `at` prefixes the field names errors give (`events[3].`). */
function eventOf(fields: readonly unknown[], at: string): TrackedEvent {
  if (fields.length !== 9) {
    throw new EventDecodeError(
      at === '' ? 'payload' : at.slice(0, -1),
      `has ${fields.length} fields, expected 9`,
    );
  }
  return {
    eventId: text(fields[0], `${at}eventId`),
    name: text(fields[1], `${at}name`),
    userId: text(fields[2], `${at}userId`),
    itemId: textOrNull(fields[3], `${at}itemId`),
    timestamp: time(fields[4], `${at}timestamp`),
    receivedAt: time(fields[5], `${at}receivedAt`),
    context: record(fields[6], `${at}context`),
    properties: record(fields[7], `${at}properties`),
    requestId: textOrNull(fields[8], `${at}requestId`),
  };
}

function text(value: unknown, field: string): string {
  if (typeof value !== 'string') throw new EventDecodeError(field, 'must be a string');
  return value;
}

function textOrNull(value: unknown, field: string): string | null {
  if (value !== null && typeof value !== 'string')
    throw new EventDecodeError(field, 'must be a string or null');
  return value;
}

function time(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new EventDecodeError(field, 'must be a finite number');
  }
  return value;
}

function record(value: unknown, field: string): ScalarRecord {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new EventDecodeError(field, 'must be an object');
  }
  // JSON.parse made it: a plain object whose own keys are the JSON's (a "__proto__" key included, as data).
  const entries = value as Record<string, unknown>;
  for (const key in entries) {
    if (!isScalar(entries[key]))
      throw new EventDecodeError(`${field}.${key}`, 'must be a string, number, boolean or null');
  }
  return entries as Record<string, Scalar>;
}

function isScalar(value: unknown): value is Scalar {
  return (
    value === null ||
    typeof value === 'string' ||
    typeof value === 'boolean' ||
    (typeof value === 'number' && Number.isFinite(value))
  );
}
