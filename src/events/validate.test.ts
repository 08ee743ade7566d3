import { describe, expect, it } from 'vitest';

import type { TrackedEvent } from './types.js';
import { validateEventBatch, type EventBatchValidation, type EventValidationOptions } from './validate.js';

const NOW = Date.UTC(2026, 0, 12, 10, 22, 31);
let counter = 0;
const OPTS: EventValidationOptions = { now: NOW, generateId: () => `gen-${++counter}` };

function ok(result: EventBatchValidation): { events: { index: number; event: TrackedEvent }[] } & {
  errors: { index: number; field: string; message: string }[];
} {
  if ('fatal' in result) throw new Error(`unexpected fatal: ${result.fatal}`);
  return result;
}

/** Validates one event and returns it, failing the test if it was rejected. */
function accept(event: Record<string, unknown>, opts: EventValidationOptions = OPTS): TrackedEvent {
  const result = ok(validateEventBatch(event, opts));
  expect(result.errors).toEqual([]);
  expect(result.events).toHaveLength(1);
  return result.events[0]!.event;
}

/** Validates one event and returns its single error. */
function reject(event: unknown, opts: EventValidationOptions = OPTS): { field: string; message: string } {
  const result = ok(validateEventBatch({ events: [event] }, opts));
  expect(result.events).toEqual([]);
  expect(result.errors).toHaveLength(1);
  const error = result.errors[0]!;
  expect(error.index).toBe(0);
  return { field: error.field, message: error.message };
}

const base = { event: 'product_viewed', user_id: 'u1' };

describe('validateEventBatch: a minimal event', () => {
  it('fills defaults: generated id, now as time, empty context and properties', () => {
    const event = accept(base, { now: NOW, generateId: () => 'fixed' });
    expect(event).toEqual({
      eventId: 'fixed',
      name: 'product_viewed',
      userId: 'u1',
      itemId: null,
      timestamp: NOW,
      receivedAt: NOW,
      context: {},
      properties: {},
      requestId: null,
    });
  });

  it('generates time-ordered UUIDs (version 7) by default', () => {
    const event = accept(base, { now: NOW });
    expect(event.eventId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('keeps everything given', () => {
    const event = accept({
      event: 'Product Clicked',
      user_id: 7,
      item_id: 99,
      timestamp: '2026-01-12T12:00:00.250+02:00',
      event_id: 'e-1',
      context: { device: 'ios', screen_width: 390, app_open: true, campaign: null },
      properties: { request_id: 'r-1', position: 3 },
    });
    expect(event).toEqual({
      eventId: 'e-1',
      name: 'Product Clicked',
      userId: '7',
      itemId: '99',
      timestamp: Date.UTC(2026, 0, 12, 10, 0, 0, 250),
      receivedAt: NOW,
      context: { device: 'ios', screen_width: 390, app_open: true, campaign: null },
      properties: { request_id: 'r-1', position: 3 },
      requestId: 'r-1',
    });
  });

  it('treats null as absent for optional fields', () => {
    const event = accept({
      ...base,
      item_id: null,
      product_id: null,
      timestamp: null,
      event_id: null,
      context: null,
      properties: { request_id: null },
    });
    expect(event).toMatchObject({ itemId: null, timestamp: NOW, requestId: null, context: {} });
    expect(event.eventId).toMatch(/^gen-/);
  });
});

describe('validateEventBatch: event name', () => {
  it.each([
    [{ user_id: 'u1' }, 'event', 'event (the event name) is required'],
    [{ event: null, user_id: 'u1' }, 'event', 'event (the event name) is required'],
    [{ event: '', user_id: 'u1' }, 'event', 'event must not be empty'],
    [{ event: '  ', user_id: 'u1' }, 'event', 'event must not be blank'],
    [{ event: 3, user_id: 'u1' }, 'event', 'event must be a string'],
    [{ event: 'x'.repeat(201), user_id: 'u1' }, 'event', 'event is longer than 200 characters'],
  ])('%j → %s', (event, field, message) => {
    expect(reject(event)).toEqual({ field, message });
  });

  it('accepts 200 characters', () => {
    expect(accept({ event: 'x'.repeat(200), user_id: 'u' }).name).toHaveLength(200);
  });
});

describe('validateEventBatch: user_id', () => {
  it.each([
    [{ event: 'e' }, 'user_id is required'],
    [{ event: 'e', user_id: '' }, 'user_id must not be empty'],
    [{ event: 'e', user_id: 1.5 }, 'user_id must be a string or an integer'],
    [{ event: 'e', user_id: { id: 1 } }, 'user_id must be a string or an integer'],
    [{ event: 'e', user_id: 'u'.repeat(257) }, 'user_id is longer than 256 characters'],
    [{ event: 'e', user_id: 2 ** 53 }, 'user_id is an integer too large to be exact; send it as a string'],
  ])('%j → %s', (event, message) => {
    expect(reject(event)).toEqual({ field: 'user_id', message });
  });

  it('turns integers into strings so 42 and "42" are the same user', () => {
    expect(accept({ event: 'e', user_id: 42 }).userId).toBe('42');
    expect(accept({ event: 'e', user_id: 0 }).userId).toBe('0');
  });
});

describe('validateEventBatch: item_id and its alias product_id', () => {
  it('takes product_id as item_id', () => {
    expect(accept({ ...base, product_id: 'sku-1' }).itemId).toBe('sku-1');
    expect(accept({ ...base, product_id: 12 }).itemId).toBe('12');
  });

  it('accepts both when they agree, also across string and integer', () => {
    expect(accept({ ...base, item_id: 'a', product_id: 'a' }).itemId).toBe('a');
    expect(accept({ ...base, item_id: 5, product_id: '5' }).itemId).toBe('5');
  });

  it('refuses both when they differ', () => {
    expect(reject({ ...base, item_id: 'a', product_id: 'b' })).toEqual({
      field: 'product_id',
      message: 'product_id is an alias of item_id, and both were given with different values ("a", "b")',
    });
  });

  it('names the field at fault', () => {
    expect(reject({ ...base, item_id: '' }).field).toBe('item_id');
    expect(reject({ ...base, product_id: false }).field).toBe('product_id');
  });
});

describe('validateEventBatch: timestamp', () => {
  it('takes ISO 8601 with Z or an offset, and epoch milliseconds', () => {
    const t = Date.UTC(2026, 0, 12, 10, 0, 0);
    expect(accept({ ...base, timestamp: '2026-01-12T10:00:00Z' }).timestamp).toBe(t);
    expect(accept({ ...base, timestamp: '2026-01-12T11:00:00.000+01:00' }).timestamp).toBe(t);
    expect(accept({ ...base, timestamp: '2026-01-12T04:30:00-05:30' }).timestamp).toBe(t);
    expect(accept({ ...base, timestamp: t }).timestamp).toBe(t);
  });

  it('refuses a time without an offset', () => {
    expect(reject({ ...base, timestamp: '2026-01-12T10:00:00' })).toEqual({
      field: 'timestamp',
      message: 'timestamp has no UTC offset; end it with Z or ±hh:mm (e.g. 2026-01-12T10:22:31Z)',
    });
  });

  it('refuses other strings and types', () => {
    for (const timestamp of ['yesterday', '1736677351000', '2026-01-12', true, [NOW], { ms: NOW }]) {
      const error = reject({ ...base, timestamp });
      expect(error.field).toBe('timestamp');
      expect(error.message).toMatch(/^timestamp must be an ISO 8601 time with an offset/);
    }
  });

  it('allows up to 5 minutes in the future, and not a millisecond more', () => {
    expect(accept({ ...base, timestamp: NOW + 5 * 60_000 }).timestamp).toBe(NOW + 5 * 60_000);
    expect(reject({ ...base, timestamp: NOW + 5 * 60_000 + 1 })).toEqual({
      field: 'timestamp',
      message: 'timestamp is more than 5 minutes in the future',
    });
    expect(reject({ ...base, timestamp: '2026-01-12T10:30:00Z' }).message).toBe(
      'timestamp is more than 5 minutes in the future',
    );
  });

  it('states a configured future limit in its message', () => {
    const opts = { ...OPTS, maxFutureMs: 30_000 };
    expect(reject({ ...base, timestamp: NOW + 30_001 }, opts).message).toBe(
      'timestamp is more than 30 seconds in the future',
    );
    expect(accept({ ...base, timestamp: NOW + 30_000 }, opts).timestamp).toBe(NOW + 30_000);
  });

  it('refuses the absurd past and epoch seconds, each with its own message', () => {
    expect(reject({ ...base, timestamp: '1999-12-31T23:59:59Z' })).toEqual({
      field: 'timestamp',
      message:
        'timestamp is before 2000-01-01 (1999-12-31T23:59:59.000Z): times before 2000-01-01 are not accepted',
    });
    expect(reject({ ...base, timestamp: Math.floor(NOW / 1000) })).toEqual({
      field: 'timestamp',
      message:
        'timestamp 1768213351 looks like epoch seconds (2026-01-12T10:22:31.000Z), but numbers are read as ' +
        'epoch milliseconds (1970-01-21T11:10:13.351Z); send milliseconds (1768213351000) or ISO 8601 text',
    });
    expect(accept({ ...base, timestamp: Date.UTC(2000, 0, 1) }).timestamp).toBe(Date.UTC(2000, 0, 1));
    expect(reject({ ...base, timestamp: Date.UTC(2000, 0, 1) - 1 }).message).toMatch(
      /times before 2000-01-01 are not accepted$/,
    );
  });

  it('guards against non-finite numbers', () => {
    expect(reject({ ...base, timestamp: Number.NaN }).message).toBe('timestamp must be a finite number');
    expect(reject({ ...base, timestamp: Number.NEGATIVE_INFINITY }).message).toBe(
      'timestamp must be a finite number',
    );
  });
});

describe('validateEventBatch: event_id', () => {
  it.each([
    ['', 'event_id must not be empty'],
    [12, 'event_id must be a string'],
    ['e'.repeat(257), 'event_id is longer than 256 characters'],
  ])('%j → %s', (eventId, message) => {
    expect(reject({ ...base, event_id: eventId })).toEqual({ field: 'event_id', message });
  });
});

describe('validateEventBatch: context and properties', () => {
  it('names the nested key', () => {
    expect(reject({ ...base, context: { device: { os: 'ios' } } })).toEqual({
      field: 'context.device',
      message:
        'context.device must be a string, number, boolean or null; nested objects and arrays are not allowed',
    });
    expect(reject({ ...base, properties: { ok: 1, items: ['a'] } }).field).toBe('properties.items');
    expect(reject({ ...base, context: { n: Number.POSITIVE_INFINITY } })).toEqual({
      field: 'context.n',
      message: 'context.n must be a finite number',
    });
  });

  it('refuses non-object context and properties', () => {
    expect(reject({ ...base, context: 'web' }).field).toBe('context');
    expect(reject({ ...base, properties: [1, 2] }).field).toBe('properties');
  });

  it('lifts properties.request_id, which must be a string', () => {
    expect(accept({ ...base, properties: { request_id: 'req-9' } }).requestId).toBe('req-9');
    expect(reject({ ...base, properties: { request_id: 9 } })).toEqual({
      field: 'properties.request_id',
      message: 'properties.request_id must be a string',
    });
    expect(reject({ ...base, properties: { request_id: '' } }).field).toBe('properties.request_id');
  });
});

describe('validateEventBatch: ill-formed Unicode (lone surrogates)', () => {
  // What JSON.parse makes of "\ud800": a string that UTF-8 (and so SQLite) cannot hold.
  const lone = JSON.parse('"x\\ud800"') as string;
  const cases: [string, Record<string, unknown>][] = [
    ['event', { ...base, event: lone }],
    ['user_id', { ...base, user_id: lone }],
    ['item_id', { ...base, item_id: lone }],
    ['product_id', { ...base, product_id: lone }],
    ['event_id', { ...base, event_id: lone }],
    ['timestamp', { ...base, timestamp: `2026-01-12T10:22:31Z${lone}` }],
    ['context.device', { ...base, context: { device: lone } }],
    [`context.${lone}`, { ...base, context: { [lone]: 'mobile' } }],
    ['properties.price_tier', { ...base, properties: { price_tier: lone } }],
    [`properties.${lone}`, { ...base, properties: { [lone]: 1 } }],
    ['properties.request_id', { ...base, properties: { request_id: lone } }],
  ];

  it.each(cases)('refuses one in %s and keeps the valid events beside it', (field, bad) => {
    const result = ok(
      validateEventBatch(
        { events: [{ ...base, event_id: 'before' }, bad, { ...base, event_id: 'after' }] },
        OPTS,
      ),
    );
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]).toMatchObject({ index: 1, field });
    expect(result.errors[0]!.message).toMatch(
      field === 'timestamp' ? /^timestamp must be/ : /not well-formed Unicode/,
    );
    expect(result.events.map((e) => [e.index, e.event.eventId])).toEqual([
      [0, 'before'],
      [2, 'after'],
    ]);
  });

  it('accepts well-formed non-ASCII everywhere, astral characters included', () => {
    const text = '\u00e9\u4e2d\ud83d\ude00';
    const event = accept({
      event: text,
      user_id: text,
      item_id: text,
      event_id: text,
      context: { [text]: text },
      properties: { request_id: text },
    });
    expect(event).toMatchObject({ name: text, userId: text, itemId: text, eventId: text, requestId: text });
    expect(event.context).toEqual({ [text]: text });
  });
});

describe('validateEventBatch: unknown fields', () => {
  it('refuses them by name and lists the accepted ones', () => {
    expect(reject({ ...base, userId: 'u1' })).toEqual({
      field: 'userId',
      message:
        'unknown field "userId"; accepted fields: event, user_id, item_id, product_id, timestamp, event_id, ' +
        'context, properties',
    });
    expect(reject({ ...base, messageId: 'm' }).field).toBe('messageId');
  });

  it('refuses an own __proto__ key as JSON.parse makes it', () => {
    const event: unknown = JSON.parse('{"event":"e","user_id":"u","__proto__":{"x":1}}');
    expect(reject(event).field).toBe('__proto__');
  });
});

describe('validateEventBatch: batches', () => {
  it('keeps the valid events of a mixed batch, with their indexes', () => {
    const result = ok(
      validateEventBatch(
        {
          events: [
            { ...base, event_id: 'a' },
            { ...base, user_id: '' },
            'not an event',
            { ...base, event_id: 'b', item_id: 'i1' },
            null,
          ],
        },
        OPTS,
      ),
    );
    expect(result.events.map((e) => [e.index, e.event.eventId])).toEqual([
      [0, 'a'],
      [3, 'b'],
    ]);
    expect(result.errors).toEqual([
      { index: 1, field: 'user_id', message: 'user_id must not be empty' },
      { index: 2, field: '', message: 'an event must be a JSON object' },
      { index: 4, field: '', message: 'an event must be a JSON object' },
    ]);
  });

  it('reports one error per event, the first found', () => {
    const result = ok(validateEventBatch({ events: [{ event: '', user_id: '', timestamp: 'x' }] }, OPTS));
    expect(result.errors).toEqual([{ index: 0, field: 'event', message: 'event must not be empty' }]);
  });

  it('does not treat duplicate event ids as an error: the store counts them', () => {
    const result = ok(
      validateEventBatch(
        {
          events: [
            { ...base, event_id: 'same' },
            { ...base, event_id: 'same' },
          ],
        },
        OPTS,
      ),
    );
    expect(result.events).toHaveLength(2);
    expect(result.errors).toEqual([]);
  });

  it('accepts an empty batch', () => {
    expect(validateEventBatch({ events: [] }, OPTS)).toEqual({ events: [], errors: [], redactions: [] });
  });

  it('gives a single-event body index 0', () => {
    const result = ok(validateEventBatch({ event: 'e' }, OPTS));
    expect(result.errors).toEqual([{ index: 0, field: 'user_id', message: 'user_id is required' }]);
  });

  it('accepts up to 1,000 events and refuses more, naming the limit', () => {
    const events = Array.from({ length: 1000 }, () => base);
    expect(ok(validateEventBatch({ events }, OPTS)).events).toHaveLength(1000);
    expect(validateEventBatch({ events: [...events, base] }, OPTS)).toEqual({
      fatal: 'too many events: 1001; at most 1000 per request',
    });
    expect(validateEventBatch({ events: [base, base] }, { ...OPTS, maxEvents: 1 })).toEqual({
      fatal: 'too many events: 2; at most 1 per request',
    });
  });

  it('is fatal when events is not an array', () => {
    expect(validateEventBatch({ events: { 0: base } }, OPTS)).toEqual({
      fatal: '"events" must be an array of event objects',
    });
    expect(validateEventBatch({ events: null }, OPTS)).toHaveProperty('fatal');
  });

  it('is fatal when the body is not an object', () => {
    for (const body of [null, undefined, 'x', 3, [base], true]) {
      expect(validateEventBatch(body, OPTS)).toEqual({
        fatal: 'the body must be a JSON object: one event, or {"events": [...]}',
      });
    }
  });

  it('is fatal when a batch body has other fields', () => {
    expect(validateEventBatch({ events: [base], sent_at: 'now' }, OPTS)).toEqual({
      fatal: 'a batch body holds only "events"; unexpected field "sent_at"',
    });
  });
});
