import { timeOrderedId } from '../../shared/time-ordered-id.js';
import type { EpochMs, Scalar, ScalarRecord } from '../../shared/types.js';
import { FieldError, isPlainObject, MAX_ID_LENGTH, readId, readString, readTime } from '../fields.js';
import type { TrackedEvent } from '../types.js';
import {
  DEFAULT_MAX_FUTURE_MS,
  MAX_EVENT_NAME_LENGTH,
  type EventError,
  type EventRedaction,
  type RecordRedactor,
} from '../validate.js';
import { mapContext } from './context.js';
import { PAGE_ITEM_FIELDS, itemOf, partEventId, trackParts, type EventPart } from './ecommerce.js';
import { flattenRecord } from './flatten.js';

/**
 * Segment's tracking spec (track, identify, page, screen, group, alias; what Segment's and RudderStack's
 * libraries send) turned into what Attune stores: events, trait updates and identity merges. Pure: the
 * route hands the result to the engine, which applies consent, durability and live state as for
 * `POST /v1/events`.
 */

export const MESSAGE_TYPES = ['track', 'identify', 'page', 'screen', 'group', 'alias'] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

/** At most this many messages per batch: Segment's 500 KB batches of small messages stay well within it. */
export const MAX_MESSAGES_PER_BATCH = 5000;

export interface SegmentOptions {
  /** The receiving time: `receivedAt`, the reference for clock-skew correction and the future limit. */
  readonly now: EpochMs;
  /** How far ahead of `now` an explicit timestamp may be (default 5 minutes, as for events). */
  readonly maxFutureMs?: number;
  /** Makes ids for messages sent without a `messageId` (default `timeOrderedId`: UUID version 7). */
  readonly generateId?: () => string;
  /** Applied to each event's context and properties before they are kept (`privacy/`); none by default. */
  readonly redact?: RecordRedactor;
}

/** The traits an `identify` sets: merged over what the user has (Segment's semantics), not replacing it. */
export interface TraitUpdate {
  readonly index: number;
  readonly userId: string;
  readonly traits: ScalarRecord;
  /** The message's time: the user's `created_at` when they are new. */
  readonly at: EpochMs;
}

/** An anonymous id whose history becomes a known user's (identify or any message carrying both, alias). */
export interface IdentityMerge {
  readonly index: number;
  readonly from: string;
  readonly to: string;
}

export interface SegmentTranslation {
  readonly events: readonly { readonly index: number; readonly event: TrackedEvent }[];
  readonly traits: readonly TraitUpdate[];
  /** Distinct pairs, in the order they were first seen. */
  readonly merges: readonly IdentityMerge[];
  /** Messages that were valid (each became events, traits, a merge, or several of these). */
  readonly accepted: number;
  readonly errors: readonly EventError[];
  readonly redactions: readonly EventRedaction[];
}

export type SegmentResult = SegmentTranslation | { readonly fatal: string };

/** What a batch body says for all its messages (Segment's HTTP API: `context`, `sentAt`). */
interface BatchDefaults {
  readonly context: Readonly<Record<string, unknown>> | null;
  readonly sentAt: EpochMs | null;
}

const NO_DEFAULTS: BatchDefaults = { context: null, sentAt: null };

/** `POST /v1/batch`: `{"batch": [...messages of any type], "sentAt", "context", "writeKey", …}`. */
export function translateBatch(body: unknown, options: SegmentOptions): SegmentResult {
  if (!isPlainObject(body)) return { fatal: 'the body must be a JSON object: {"batch": [...messages]}' };
  const list = body['batch'];
  if (!Array.isArray(list)) return { fatal: 'body field "batch" must be an array of messages' };
  if (list.length > MAX_MESSAGES_PER_BATCH) {
    return {
      fatal: `body field "batch" holds ${list.length} messages; at most ${MAX_MESSAGES_PER_BATCH} per request`,
    };
  }
  const context = body['context'];
  if (context != null && !isPlainObject(context)) return { fatal: 'body field "context" must be an object' };
  const sentAt = body['sentAt'] == null ? null : readTime(body['sentAt'], 'sentAt');
  if (sentAt instanceof FieldError) return { fatal: `body field "sentAt": ${sentAt.message}` };
  const defaults = { context: context ?? null, sentAt };
  const out = new Collector(options);
  for (let index = 0; index < list.length; index++) out.add(list[index], null, index, defaults);
  return out.result();
}

/** `POST /v1/track`, `/v1/identify`, `/v1/page`, `/v1/screen`: one message whose type is the route's. */
export function translateMessage(body: unknown, type: MessageType, options: SegmentOptions): SegmentResult {
  if (!isPlainObject(body)) return { fatal: `the body must be a JSON object: one ${type} message` };
  const out = new Collector(options);
  out.add(body, type, 0, NO_DEFAULTS);
  return out.result();
}

/** One message's outcome before it is collected. */
interface Translated {
  readonly events: TrackedEvent[];
  readonly traits: Omit<TraitUpdate, 'index'> | null;
  readonly merges: readonly { readonly from: string; readonly to: string }[];
}

class Collector {
  private readonly events: { index: number; event: TrackedEvent }[] = [];
  private readonly traits: TraitUpdate[] = [];
  private readonly merges: IdentityMerge[] = [];
  private readonly mergeKeys = new Set<string>();
  private readonly errors: EventError[] = [];
  private readonly redactions: EventRedaction[] = [];
  private accepted = 0;
  private readonly latest: EpochMs;
  private readonly generateId: () => string;

  constructor(private readonly options: SegmentOptions) {
    this.latest = options.now + (options.maxFutureMs ?? DEFAULT_MAX_FUTURE_MS);
    this.generateId = options.generateId ?? (() => timeOrderedId(options.now));
  }

  add(raw: unknown, routeType: MessageType | null, index: number, defaults: BatchDefaults): void {
    const result = this.translate(raw, routeType, defaults);
    if (result instanceof FieldError) {
      this.errors.push({ index, field: result.field, message: result.message });
      return;
    }
    this.accepted++;
    for (const event of result.events) this.events.push({ index, event: this.redacted(index, event) });
    if (result.traits !== null) this.traits.push({ index, ...result.traits });
    for (const { from, to } of result.merges) {
      const key = JSON.stringify([from, to]);
      if (this.mergeKeys.has(key)) continue;
      this.mergeKeys.add(key);
      this.merges.push({ index, from, to });
    }
  }

  result(): SegmentTranslation {
    return {
      events: this.events,
      traits: this.traits,
      merges: this.merges,
      accepted: this.accepted,
      errors: this.errors,
      redactions: this.redactions,
    };
  }

  private redacted(index: number, event: TrackedEvent): TrackedEvent {
    const redact = this.options.redact;
    if (redact === undefined) return event;
    const context = redact(event.context, 'context');
    const properties = redact(event.properties, 'properties');
    for (const r of context.redactions) this.redactions.push({ index, ...r });
    for (const r of properties.redactions) this.redactions.push({ index, ...r });
    if (context.record === event.context && properties.record === event.properties) return event;
    return { ...event, context: context.record, properties: properties.record };
  }

  /** One message, stopping at its first problem; `null` counts as absent for optional fields. */
  private translate(
    raw: unknown,
    routeType: MessageType | null,
    defaults: BatchDefaults,
  ): Translated | FieldError {
    if (!isPlainObject(raw)) return new FieldError('', 'a message must be a JSON object');
    const type = messageType(raw['type'], routeType);
    if (type instanceof FieldError) return type;

    const userId = optionalId(raw['userId'], 'userId');
    if (userId instanceof FieldError) return userId;
    const anonymousId = optionalId(raw['anonymousId'], 'anonymousId');
    if (anonymousId instanceof FieldError) return anonymousId;
    const subject = userId ?? anonymousId;
    if (subject === null) {
      return new FieldError('userId', 'userId or anonymousId is required (the user the message is about)');
    }

    let messageId: string;
    if (raw['messageId'] == null) messageId = this.generateId();
    else {
      const id = readString(raw['messageId'], 'messageId', MAX_ID_LENGTH);
      if (id instanceof FieldError) return id;
      messageId = id;
    }

    const at = this.timeOf(raw, defaults);
    if (at instanceof FieldError) return at;
    const context = mapContext(raw['context'], defaults.context);
    if (context instanceof FieldError) return context;

    // Segment links an anonymous id to a user wherever both travel together, not only on identify.
    const merges: { from: string; to: string }[] = [];
    if (userId !== null && anonymousId !== null && userId !== anonymousId) {
      merges.push({ from: anonymousId, to: userId });
    }

    let parts: EventPart[] = [];
    let traits: Omit<TraitUpdate, 'index'> | null = null;
    switch (type) {
      case 'track': {
        if (raw['event'] == null) return new FieldError('event', 'event (the event name) is required');
        const name = readString(raw['event'], 'event', MAX_EVENT_NAME_LENGTH);
        if (name instanceof FieldError) return name;
        const tracked = trackParts(name, raw['properties']);
        if (tracked instanceof FieldError) return tracked;
        parts = tracked;
        break;
      }
      case 'page':
      case 'screen': {
        const viewed = viewPart(type, raw);
        if (viewed instanceof FieldError) return viewed;
        parts = [viewed];
        break;
      }
      case 'identify': {
        const given = raw['traits'] ?? (isPlainObject(raw['context']) ? raw['context']['traits'] : null);
        const flat = given == null ? {} : flattenRecord(given, 'traits');
        if (flat instanceof FieldError) return flat;
        traits = { userId: subject, traits: flat, at };
        break;
      }
      case 'group': {
        const groupId = requiredId(raw['groupId'], 'groupId');
        if (groupId instanceof FieldError) return groupId;
        const flat = raw['traits'] == null ? {} : flattenRecord(raw['traits'], 'traits');
        if (flat instanceof FieldError) return flat;
        parts = [{ name: 'group', itemId: null, properties: { ...flat, group_id: groupId }, part: null }];
        break;
      }
      case 'alias': {
        const previousId = requiredId(raw['previousId'], 'previousId');
        if (previousId instanceof FieldError) return previousId;
        if (userId === null)
          return new FieldError('userId', 'userId (the id that previousId becomes) is required');
        if (previousId !== userId) merges.push({ from: previousId, to: userId });
        break;
      }
    }

    const events: TrackedEvent[] = [];
    for (const part of parts) {
      const requestId = requestIdOf(part.properties);
      if (requestId instanceof FieldError) return requestId;
      events.push({
        eventId: partEventId(messageId, part.part),
        name: part.name,
        userId: subject,
        itemId: part.itemId,
        timestamp: at,
        receivedAt: this.options.now,
        context,
        properties: part.properties,
        requestId,
      });
    }
    return { events, traits, merges };
  }

  /**
   * When it happened, as Segment decides it: an explicit `timestamp` as sent; else `originalTimestamp`
   * corrected for the device's clock skew, `receivedAt - (sentAt - originalTimestamp)` (sentAt from the
   * message or the batch), never later than now; else `originalTimestamp` as sent; else now.
   */
  private timeOf(raw: Readonly<Record<string, unknown>>, defaults: BatchDefaults): EpochMs | FieldError {
    // Each time given is checked, whichever of them decides.
    const timestamp = optionalTime(raw['timestamp'], 'timestamp');
    if (timestamp instanceof FieldError) return timestamp;
    const original = optionalTime(raw['originalTimestamp'], 'originalTimestamp');
    if (original instanceof FieldError) return original;
    const ownSentAt = optionalTime(raw['sentAt'], 'sentAt');
    if (ownSentAt instanceof FieldError) return ownSentAt;
    if (timestamp !== null) return this.notFuture(timestamp, 'timestamp');
    if (original === null) return this.options.now;
    const sentAt = ownSentAt ?? defaults.sentAt;
    if (sentAt === null) return this.notFuture(original, 'originalTimestamp');
    const corrected = Math.min(this.options.now, this.options.now - (sentAt - original));
    if (readTime(corrected, 'originalTimestamp') instanceof FieldError) {
      return new FieldError(
        'originalTimestamp',
        `originalTimestamp is ${sentAt - original} ms before sentAt, which puts the event before 2000-01-01`,
      );
    }
    return corrected;
  }

  private notFuture(time: EpochMs | FieldError, field: string): EpochMs | FieldError {
    if (time instanceof FieldError || time <= this.latest) return time;
    return new FieldError(
      field,
      `${field} is more than ${(this.latest - this.options.now) / 60_000} minutes in the future`,
    );
  }
}

function messageType(value: unknown, routeType: MessageType | null): MessageType | FieldError {
  if (value == null) {
    return routeType ?? new FieldError('type', `type is required: one of ${MESSAGE_TYPES.join(', ')}`);
  }
  if (typeof value !== 'string' || !(MESSAGE_TYPES as readonly string[]).includes(value)) {
    return new FieldError('type', `type must be one of ${MESSAGE_TYPES.join(', ')}`);
  }
  if (routeType !== null && value !== routeType) {
    return new FieldError(
      'type',
      `type "${value}" was sent to the ${routeType} route; send it to /v1/${value} or /v1/batch`,
    );
  }
  return value as MessageType;
}

function optionalTime(value: unknown, field: string): EpochMs | null | FieldError {
  return value == null ? null : readTime(value, field);
}

function optionalId(value: unknown, field: string): string | null | FieldError {
  return value == null ? null : readId(value, field);
}

function requiredId(value: unknown, field: string): string | FieldError {
  return value == null ? new FieldError(field, `${field} is required`) : readId(value, field);
}

/** A page or screen view: `page_viewed` / `screen_viewed`, on the product the properties name, if any. */
function viewPart(type: 'page' | 'screen', raw: Readonly<Record<string, unknown>>): EventPart | FieldError {
  const properties = raw['properties'];
  if (properties != null && !isPlainObject(properties)) {
    return new FieldError('properties', 'properties must be an object');
  }
  const props = properties ?? {};
  const itemId = itemOf(props, PAGE_ITEM_FIELDS, 'properties');
  if (itemId instanceof FieldError) return itemId;
  const flat = flattenRecord(props, 'properties');
  if (flat instanceof FieldError) return flat;
  const out: Record<string, Scalar> = { ...flat };
  for (const field of ['name', 'category'] as const) {
    const value = raw[field];
    if (value == null) continue;
    const text = readString(value, field, MAX_EVENT_NAME_LENGTH);
    if (text instanceof FieldError) return text;
    // The properties' own `name` (Segment copies it there too) wins.
    if (!Object.hasOwn(out, field)) out[field] = text;
  }
  return { name: type === 'page' ? 'page_viewed' : 'screen_viewed', itemId, properties: out, part: null };
}

/** `properties.request_id`, lifted out as `POST /v1/events` does so outcomes link to the served list. */
function requestIdOf(properties: ScalarRecord): string | null | FieldError {
  const value = properties['request_id'];
  return value == null ? null : readString(value, 'properties.request_id', MAX_ID_LENGTH);
}
