import type { TrackedEvent } from '../events/types.js';
import type { ScalarRecord } from '../shared/types.js';

/** An event as the HTTP API takes it (and as one line of an events JSONL file). */
export interface EventJson {
  readonly event: string;
  readonly user_id: string;
  readonly item_id: string | null;
  /** ISO 8601, UTC. */
  readonly timestamp: string;
  readonly event_id: string;
  readonly context: ScalarRecord;
  readonly properties: ScalarRecord;
}

/** The API shape of an event, for posting demo events and writing them to a file. */
export function toEventJson(e: TrackedEvent): EventJson {
  return {
    event: e.name,
    user_id: e.userId,
    item_id: e.itemId,
    timestamp: new Date(e.timestamp).toISOString(),
    event_id: e.eventId,
    context: e.context,
    // The store lifts `request_id` out of properties; put it back so the JSON round-trips.
    properties: e.requestId === null ? e.properties : { ...e.properties, request_id: e.requestId },
  };
}

/** Events as JSON Lines (one object per line, trailing newline). */
export function toEventJsonLines(events: readonly TrackedEvent[]): string {
  let out = '';
  for (const e of events) out += JSON.stringify(toEventJson(e)) + '\n';
  return out;
}
