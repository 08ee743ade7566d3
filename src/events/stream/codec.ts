import type { Scalar, ScalarRecord } from '../../shared/types.js';
import type { TrackedEvent } from '../types.js';
import { EventDecodeError } from './errors.js';

/**
 * One event per stream message, as a JSON array in a fixed field order led by a format version:
 *
 *     [1, eventId, name, userId, itemId, timestamp, receivedAt, context, properties, requestId]
 *
 * Positional rather than keyed, so field names are not repeated in every message, and versioned, so that
 * a later format can be told apart from this one by a consumer that outlives a rolling upgrade. Every
 * field round-trips exactly: ids and names are strings, times finite numbers, context and properties flat
 * records of scalars — what JSON holds losslessly (the one exception, -0, comes back as 0, as it does from
 * the store's own JSON columns).
 */
export const EVENT_FORMAT_VERSION = 1;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function encodeEvent(event: TrackedEvent): Uint8Array {
  return encoder.encode(
    JSON.stringify([
      EVENT_FORMAT_VERSION,
      event.eventId,
      event.name,
      event.userId,
      event.itemId,
      event.timestamp,
      event.receivedAt,
      event.context,
      event.properties,
      event.requestId,
    ]),
  );
}

/**
 * Reads a message `encodeEvent` wrote.
 * @throws EventDecodeError naming the field that is missing or of the wrong type.
 */
export function decodeEvent(data: Uint8Array): TrackedEvent {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(data));
  } catch {
    throw new EventDecodeError('payload', 'is not UTF-8 JSON');
  }
  if (!Array.isArray(value)) throw new EventDecodeError('payload', 'is not a JSON array');
  const fields: readonly unknown[] = value;
  if (fields[0] !== EVENT_FORMAT_VERSION) {
    throw new EventDecodeError(
      'version',
      `is ${JSON.stringify(fields[0])}; this build reads ${EVENT_FORMAT_VERSION}`,
    );
  }
  if (fields.length !== 10) throw new EventDecodeError('payload', `has ${fields.length} fields, expected 10`);
  return {
    eventId: text(fields[1], 'eventId'),
    name: text(fields[2], 'name'),
    userId: text(fields[3], 'userId'),
    itemId: textOrNull(fields[4], 'itemId'),
    timestamp: time(fields[5], 'timestamp'),
    receivedAt: time(fields[6], 'receivedAt'),
    context: record(fields[7], 'context'),
    properties: record(fields[8], 'properties'),
    requestId: textOrNull(fields[9], 'requestId'),
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
