import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  call,
  event,
  get,
  openTestApp,
  postEvents,
  userEvents,
  type ErrorReply,
  type ItemJson,
  type TestApp,
} from './helpers.js';

let t: TestApp;
beforeAll(async () => {
  t = await openTestApp();
});
afterAll(async () => {
  await t.close();
});

const SEED_EXAMPLE = {
  event: 'product_viewed',
  user_id: 'u_83921',
  product_id: 'p_1021',
  timestamp: '2026-01-12T10:22:31Z',
  context: { device: 'mobile', location: 'US' },
};

describe('POST /v1/events: accepted events', () => {
  it('accepts the seed example; product_id becomes item_id and everything sent is kept', async () => {
    const reply = await postEvents(t.app, SEED_EXAMPLE);
    expect(reply.status, reply.text).toBe(200);
    expect(reply.body).toEqual({ accepted: 1, duplicates: 0, rejected: 0, errors: [] });

    const events = await userEvents(t.app, 'u_83921');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      event: 'product_viewed',
      user_id: 'u_83921',
      item_id: 'p_1021',
      timestamp: '2026-01-12T10:22:31.000Z',
      context: { device: 'mobile', location: 'US' },
      properties: {},
    });
    expect(events[0]!.event_id).not.toBe('');
  });

  it('accepts a batch and stores every event of it', async () => {
    const batch = [event('u-batch', 'i-1'), event('u-batch', 'i-2'), event('u-batch', 'i-3', 'purchased')];
    const reply = await postEvents(t.app, { events: batch });
    expect(reply.status, reply.text).toBe(200);
    expect(reply.body).toEqual({ accepted: 3, duplicates: 0, rejected: 0, errors: [] });
    const stored = await userEvents(t.app, 'u-batch');
    expect(stored.map((e) => e.item_id).sort()).toEqual(['i-1', 'i-2', 'i-3']);
  });

  it('accepts epoch milliseconds as the timestamp', async () => {
    const ms = Date.UTC(2026, 5, 1, 12, 0, 0, 250);
    const reply = await postEvents(t.app, event('u-epoch', 'i-1', 'product_viewed', { timestamp: ms }));
    expect(reply.status, reply.text).toBe(200);
    expect(reply.body.accepted).toBe(1);
    const [stored] = await userEvents(t.app, 'u-epoch');
    expect(stored!.timestamp).toBe('2026-06-01T12:00:00.250Z');
  });

  it('creates an unknown item in the catalog when an event names it', async () => {
    expect((await get(t.app, '/v1/items/brand-new-item')).status).toBe(404);
    const reply = await postEvents(t.app, event('u-new-item', 'brand-new-item'));
    expect(reply.status).toBe(200);
    const item = await get<{ item: ItemJson }>(t.app, '/v1/items/brand-new-item');
    expect(item.status, item.text).toBe(200);
    expect(item.body.item).toMatchObject({ id: 'brand-new-item', available: true, categories: [] });
  });
});

describe('POST /v1/events: rejected events name their index, field and reason', () => {
  const future = () => new Date(Date.now() + 10 * 60_000).toISOString();
  const cases: { name: string; body: () => Record<string, unknown>; field: string; message: RegExp }[] = [
    {
      name: 'missing user_id',
      body: () => ({ event: 'product_viewed', item_id: 'i-1' }),
      field: 'user_id',
      message: /user_id is required/,
    },
    {
      name: 'timestamp without an offset',
      body: () => ({ ...event('u-bad', 'i-1'), timestamp: '2026-01-12T10:22:31' }),
      field: 'timestamp',
      message: /offset/,
    },
    {
      name: 'timestamp more than 5 minutes in the future',
      body: () => ({ ...event('u-bad', 'i-1'), timestamp: future() }),
      field: 'timestamp',
      message: /5 minutes in the future/,
    },
    {
      name: 'nested context value',
      body: () => ({ ...event('u-bad', 'i-1'), context: { device: 'mobile', x: { y: 1 } } }),
      field: 'context.x',
      message: /context\.x .*nested/,
    },
    {
      name: 'unknown field',
      body: () => ({ ...event('u-bad', 'i-1'), usr: 'typo' }),
      field: 'usr',
      message: /unknown field "usr"/,
    },
  ];

  for (const c of cases) {
    it(`rejects ${c.name} (field ${c.field})`, async () => {
      // The bad event sits at index 1 between two valid ones, so the index is checked, not assumed 0.
      const reply = await postEvents(t.app, {
        events: [event('u-ok-before', 'i-1'), c.body(), event('u-ok-after', 'i-1')],
      });
      expect(reply.status, reply.text).toBe(200);
      expect(reply.body.accepted).toBe(2);
      expect(reply.body.rejected).toBe(1);
      expect(reply.body.errors).toHaveLength(1);
      const [error] = reply.body.errors;
      expect(error).toMatchObject({ index: 1, field: c.field });
      expect(error!.message).toMatch(c.message);
    });
  }

  it('accepts a timestamp a little (< 5 minutes) in the future: client clock skew', async () => {
    const soon = new Date(Date.now() + 2 * 60_000).toISOString();
    const reply = await postEvents(t.app, event('u-skew', 'i-1', 'product_viewed', { timestamp: soon }));
    expect(reply.status, reply.text).toBe(200);
    expect(reply.body.accepted).toBe(1);
  });

  it('a mixed batch stores exactly the valid events and reports every invalid one', async () => {
    const reply = await postEvents(t.app, {
      events: [
        event('u-mixed', 'm-0', 'product_viewed', { event_id: 'mixed-0' }),
        { event: 'product_viewed', item_id: 'm-1' },
        event('u-mixed', 'm-2', 'product_viewed', { event_id: 'mixed-2' }),
        { ...event('u-mixed', 'm-3'), timestamp: 'yesterday' },
        'not an event',
        event('u-mixed', 'm-5', 'purchased', { event_id: 'mixed-5' }),
      ],
    });
    expect(reply.status, reply.text).toBe(200);
    expect(reply.body.accepted).toBe(3);
    expect(reply.body.rejected).toBe(3);
    expect(reply.body.errors.map((e) => [e.index, e.field])).toEqual([
      [1, 'user_id'],
      [3, 'timestamp'],
      [4, ''],
    ]);
    for (const error of reply.body.errors) expect(error.message.length).toBeGreaterThan(0);
    const stored = await userEvents(t.app, 'u-mixed');
    expect(stored.map((e) => e.event_id).sort()).toEqual(['mixed-0', 'mixed-2', 'mixed-5']);
    expect(stored.map((e) => e.item_id).sort()).toEqual(['m-0', 'm-2', 'm-5']);
  });

  it('answers 400 when no event of the batch is valid, and stores nothing', async () => {
    const reply = await postEvents(t.app, {
      events: [
        { event: 'product_viewed', user_id: 'u-none', timestamp: 'nope' },
        { event: 'product_viewed', user_id: 'u-none', color: 'red' },
      ],
    });
    expect(reply.status, reply.text).toBe(400);
    expect(reply.body.accepted).toBe(0);
    expect(reply.body.rejected).toBe(2);
    expect(reply.body.errors.map((e) => [e.index, e.field])).toEqual([
      [0, 'timestamp'],
      [1, 'color'],
    ]);
    expect(await userEvents(t.app, 'u-none')).toEqual([]);
  });

  it('answers 400 for a single invalid event', async () => {
    const reply = await postEvents(t.app, { event: 'product_viewed' });
    expect(reply.status).toBe(400);
    expect(reply.body.errors).toEqual([expect.objectContaining({ index: 0, field: 'user_id' })]);
  });
});

describe('POST /v1/events: unusable bodies', () => {
  it('answers 400 with a message when the body is not JSON', async () => {
    const reply = await call<ErrorReply>(t.app, 'POST', '/v1/events', '{"event": "product_viewed",');
    expect(reply.status, reply.text).toBe(400);
    expect(reply.body.error.code).toBe('invalid_request');
    expect(reply.body.error.message).toMatch(/json/i);
  });

  it.each([
    ['an array', [1]],
    ['a string', 'x'],
    ['a number', 42],
    ['null', null],
  ])('answers 400 when the body is %s, not an object', async (_name, body) => {
    const reply = await call<ErrorReply>(t.app, 'POST', '/v1/events', JSON.stringify(body));
    expect(reply.status, reply.text).toBe(400);
    expect(reply.body.error.message).toMatch(/must be a JSON object/);
  });

  it('answers 400 when "events" is not an array, or the batch has other fields', async () => {
    const notArray = await call<ErrorReply>(t.app, 'POST', '/v1/events', { events: { a: 1 } });
    expect(notArray.status).toBe(400);
    expect(notArray.body.error.message).toMatch(/"events" must be an array/);
    const extra = await call<ErrorReply>(t.app, 'POST', '/v1/events', {
      events: [event('u-extra', 'i-1')],
      sent_at: 1,
    });
    expect(extra.status).toBe(400);
    expect(extra.body.error.message).toMatch(/unexpected field "sent_at"/);
    expect(await userEvents(t.app, 'u-extra')).toEqual([]);
  });

  it('answers 400 naming the limit for more than 1,000 events, and stores none of them', async () => {
    const events = Array.from({ length: 1001 }, (_, i) => event('u-too-many', `i-${i}`));
    const reply = await call<ErrorReply>(t.app, 'POST', '/v1/events', { events });
    expect(reply.status, reply.text).toBe(400);
    expect(reply.body.error.message).toMatch(/1001/);
    expect(reply.body.error.message).toMatch(/at most 1000/);
    expect(await userEvents(t.app, 'u-too-many')).toEqual([]);

    const exactly = await postEvents(t.app, { events: events.slice(0, 1000) });
    expect(exactly.status, exactly.text).toBe(200);
    expect(exactly.body.accepted).toBe(1000);
  });

  it('answers 413 with a message for a body over 1 MiB, and stores nothing', async () => {
    const padding = 'x'.repeat(2000);
    const events = Array.from({ length: 600 }, (_, i) =>
      event('u-huge', `i-${i}`, 'product_viewed', { properties: { padding } }),
    );
    const body = JSON.stringify({ events });
    expect(body.length).toBeGreaterThan(1024 * 1024);
    const reply = await call<ErrorReply>(t.app, 'POST', '/v1/events', body);
    expect(reply.status, reply.text).toBe(413);
    expect(reply.body.error.code).toBe('payload_too_large');
    expect(reply.body.error.message).toMatch(/1048576 bytes/);
    expect(await userEvents(t.app, 'u-huge')).toEqual([]);
  });
});

describe('POST /v1/events: idempotency by event_id', () => {
  it('counts a repeat across requests as a duplicate and stores it once', async () => {
    const body = event('u-dup', 'i-1', 'product_viewed', { event_id: 'dup-across' });
    const first = await postEvents(t.app, body);
    expect(first.body).toMatchObject({ accepted: 1, duplicates: 0 });
    const second = await postEvents(t.app, body);
    expect(second.status, second.text).toBe(200);
    expect(second.body).toMatchObject({ accepted: 0, duplicates: 1, rejected: 0 });
    const stored = await userEvents(t.app, 'u-dup');
    expect(stored.filter((e) => e.event_id === 'dup-across')).toHaveLength(1);
  });

  it('counts a repeat inside one batch as a duplicate and stores it once', async () => {
    const reply = await postEvents(t.app, {
      events: [
        event('u-dup-batch', 'i-1', 'product_viewed', { event_id: 'dup-within' }),
        event('u-dup-batch', 'i-2', 'product_viewed', { event_id: 'other' }),
        event('u-dup-batch', 'i-1', 'product_viewed', { event_id: 'dup-within' }),
      ],
    });
    expect(reply.status, reply.text).toBe(200);
    expect(reply.body).toMatchObject({ accepted: 2, duplicates: 1, rejected: 0 });
    const stored = await userEvents(t.app, 'u-dup-batch');
    expect(stored.map((e) => e.event_id).sort()).toEqual(['dup-within', 'other']);
  });

  it('counts duplicates in the metrics, apart from stored events', async () => {
    const metric = async (name: string): Promise<number> => {
      const metrics = await get<null>(t.app, '/metrics');
      const line = metrics.text.split('\n').find((l) => l.startsWith(`${name} `));
      expect(line, metrics.text).toBeDefined();
      return Number(line!.slice(name.length + 1));
    };
    const duplicatesBefore = await metric('attune_events_duplicate_total');
    const storedBefore = await metric('attune_events_stored_total');
    const first = event('u-dup-metric', 'i-1', 'product_viewed', { event_id: 'dup-metric' });
    expect((await postEvents(t.app, first)).body).toMatchObject({ accepted: 1, duplicates: 0 });
    // One repeat across requests, one inside the batch, and one new event.
    const again = await postEvents(t.app, {
      events: [first, first, event('u-dup-metric', 'i-2', 'product_viewed', { event_id: 'dup-metric-2' })],
    });
    expect(again.body).toMatchObject({ accepted: 1, duplicates: 2, rejected: 0 });
    expect(await metric('attune_events_duplicate_total')).toBe(duplicatesBefore + 2);
    expect(await metric('attune_events_stored_total')).toBe(storedBefore + 2);
  });
});
