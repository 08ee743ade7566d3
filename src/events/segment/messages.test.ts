import { describe, expect, it } from 'vitest';

import { redactPersonalData, DEFAULT_PERSONAL_DATA_POLICY } from '../../privacy/personal-data.js';
import type { RecordRedactor } from '../validate.js';
import {
  translateBatch,
  translateMessage,
  type SegmentOptions,
  type SegmentTranslation,
} from './messages.js';

const NOW = Date.UTC(2026, 0, 12, 10, 0, 0);
let counter = 0;
const OPTS: SegmentOptions = { now: NOW, generateId: () => `gen-${++counter}` };
const redact: RecordRedactor = (record, field) =>
  redactPersonalData(record, field, DEFAULT_PERSONAL_DATA_POLICY);

function ok(result: ReturnType<typeof translateBatch>): SegmentTranslation {
  if ('fatal' in result) throw new Error(`unexpected fatal: ${result.fatal}`);
  return result;
}

const batch = (...messages: unknown[]) => ok(translateBatch({ batch: messages }, OPTS));

describe('translateMessage: track', () => {
  it('stores a spec event under its Attune name, on its product, with the message id as event id', () => {
    const result = ok(
      translateMessage(
        {
          userId: 'u1',
          event: 'Product Viewed',
          messageId: 'm-1',
          timestamp: '2026-01-12T09:00:00Z',
          properties: { product_id: 'p1', price: 5 },
          context: { locale: 'fr-FR', page: { path: '/p/1' } },
        },
        'track',
        OPTS,
      ),
    );
    expect(result.errors).toEqual([]);
    expect(result.accepted).toBe(1);
    expect(result.events).toEqual([
      {
        index: 0,
        event: {
          eventId: 'm-1',
          name: 'product_viewed',
          userId: 'u1',
          itemId: 'p1',
          timestamp: Date.UTC(2026, 0, 12, 9),
          receivedAt: NOW,
          context: { locale: 'fr-FR', 'page.path': '/p/1' },
          properties: { product_id: 'p1', price: 5 },
          requestId: null,
        },
      },
    ]);
  });

  it('stores events with only an anonymous id under it, and lifts properties.request_id', () => {
    const { event } = batch({
      type: 'track',
      anonymousId: 'anon-1',
      event: 'Product Clicked',
      properties: { product_id: 7, request_id: 'req-1' },
    }).events[0]!;
    expect(event).toMatchObject({ userId: 'anon-1', itemId: '7', requestId: 'req-1' });
  });

  it('refuses a message without event, user or a sound field, naming the field', () => {
    const result = batch(
      { type: 'track', userId: 'u1' },
      { type: 'track', event: 'x' },
      { type: 'track', userId: '', event: 'x' },
      { type: 'track', userId: 'u1', event: 'x', properties: [1] },
      { type: 'track', userId: 'u1', event: 'x', timestamp: 1_700_000_000 },
      { type: 'track', userId: 'u1', event: 'x', context: 'mobile' },
      { type: 'track', userId: 'u1', event: 'x', messageId: 5 },
      { type: 'alias', userId: 'u1' },
      { type: 'group', userId: 'u1' },
      { type: 'wave', userId: 'u1' },
      'text',
    );
    expect(result.events).toEqual([]);
    expect(result.errors.map((e) => [e.index, e.field])).toEqual([
      [0, 'event'],
      [1, 'userId'],
      [2, 'userId'],
      [3, 'properties'],
      [4, 'timestamp'],
      [5, 'context'],
      [6, 'messageId'],
      [7, 'previousId'],
      [8, 'groupId'],
      [9, 'type'],
      [10, ''],
    ]);
    expect(result.errors[4]!.message).toMatch(/epoch seconds/);
  });

  it('refuses a type that is not the route’s', () => {
    const result = ok(translateMessage({ type: 'page', userId: 'u1', event: 'x' }, 'track', OPTS));
    expect(result.errors[0]).toMatchObject({ field: 'type' });
  });
});

describe('translateBatch: time as Segment decides it', () => {
  const at = (message: Record<string, unknown>, sentAt?: string) =>
    ok(translateBatch({ batch: [{ type: 'track', userId: 'u', event: 'e', ...message }], sentAt }, OPTS))
      .events[0]?.event.timestamp;

  it('takes an explicit timestamp as sent, and refuses one too far ahead', () => {
    expect(at({ timestamp: '2026-01-12T08:00:00Z' })).toBe(Date.UTC(2026, 0, 12, 8));
    const far = ok(
      translateBatch(
        { batch: [{ type: 'track', userId: 'u', event: 'e', timestamp: NOW + 3_600_000 }] },
        OPTS,
      ),
    );
    expect(far.errors[0]).toMatchObject({ field: 'timestamp' });
  });

  it('corrects originalTimestamp by the device’s skew: receivedAt - (sentAt - originalTimestamp)', () => {
    // The device's clock is an hour fast: it says 11:00 for an event and sent it at 11:00:30.
    const original = '2026-01-12T11:00:00Z';
    expect(at({ originalTimestamp: original, sentAt: '2026-01-12T11:00:30Z' })).toBe(NOW - 30_000);
    // The batch's sentAt serves messages without their own.
    expect(at({ originalTimestamp: original }, '2026-01-12T11:00:30Z')).toBe(NOW - 30_000);
    // Never later than it was received.
    expect(at({ originalTimestamp: original, sentAt: '2026-01-12T10:59:00Z' })).toBe(NOW);
    // No sentAt: the original as sent; nothing at all: now.
    expect(at({ originalTimestamp: '2026-01-12T09:30:00Z' })).toBe(Date.UTC(2026, 0, 12, 9, 30));
    expect(at({})).toBe(NOW);
  });
});

describe('translateBatch: context', () => {
  it('maps device, country and session, and keeps no traits, library, user agent or device ids', () => {
    const { event } = batch({
      type: 'page',
      userId: 'u1',
      context: {
        ip: '203.0.113.9',
        library: { name: 'analytics.js', version: '1' },
        traits: { email: 'a@b.example' },
        userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148',
        device: { id: 'dev-1', advertisingId: 'ad-1', model: 'iPhone15,2' },
        location: { country: 'FR', city: 'Lyon' },
        sessionId: 1_700_000_000_123,
        campaign: { source: 'newsletter' },
      },
    }).events[0]!;
    expect(event.context).toEqual({
      ip: '203.0.113.9',
      'device.model': 'iPhone15,2',
      device: 'mobile',
      'location.country': 'FR',
      'location.city': 'Lyon',
      location: 'FR',
      session_id: '1700000000123',
      'campaign.source': 'newsletter',
    });
  });

  it('redacts with the engine’s rules: the IP address is removed and reported', () => {
    const result = ok(
      translateBatch(
        { batch: [{ type: 'track', userId: 'u', event: 'e', context: { ip: '203.0.113.9', locale: 'de' } }] },
        { ...OPTS, redact },
      ),
    );
    expect(result.events[0]!.event.context).toEqual({ locale: 'de' });
    expect(result.redactions).toEqual([
      { index: 0, field: 'context.ip', action: 'removed', reason: 'ip_address' },
    ]);
  });

  it('puts the batch’s context under each message’s own', () => {
    const result = ok(
      translateBatch(
        {
          context: { locale: 'en-GB', timezone: 'Europe/London' },
          batch: [{ type: 'track', userId: 'u', event: 'e', context: { locale: 'fr-FR' } }],
        },
        OPTS,
      ),
    );
    expect(result.events[0]!.event.context).toEqual({ locale: 'fr-FR', timezone: 'Europe/London' });
  });
});

describe('translateBatch: identify, page, screen, group, alias', () => {
  it('turns identify traits into a trait update and links the anonymous id to the user', () => {
    const result = batch({
      type: 'identify',
      userId: 'u1',
      anonymousId: 'anon-1',
      traits: { plan: 'pro', address: { city: 'Lyon' }, tags: ['a', 'b'] },
      timestamp: '2026-01-12T09:00:00Z',
    });
    expect(result.events).toEqual([]);
    expect(result.traits).toEqual([
      {
        index: 0,
        userId: 'u1',
        traits: { plan: 'pro', 'address.city': 'Lyon', tags: '["a","b"]' },
        at: Date.UTC(2026, 0, 12, 9),
      },
    ]);
    expect(result.merges).toEqual([{ index: 0, from: 'anon-1', to: 'u1' }]);
  });

  it('reads RudderStack’s context.traits when traits are absent; an anonymous identify sets the anonymous profile', () => {
    const result = batch({ type: 'identify', anonymousId: 'anon-2', context: { traits: { plan: 'free' } } });
    expect(result.traits).toEqual([{ index: 0, userId: 'anon-2', traits: { plan: 'free' }, at: NOW }]);
    expect(result.merges).toEqual([]);
  });

  it('links ids wherever both travel together, each pair once per batch; alias links previousId', () => {
    const result = batch(
      { type: 'track', userId: 'u1', anonymousId: 'a1', event: 'x' },
      { type: 'page', userId: 'u1', anonymousId: 'a1' },
      { type: 'alias', userId: 'u2', previousId: 'old-u2' },
    );
    expect(result.merges).toEqual([
      { index: 0, from: 'a1', to: 'u1' },
      { index: 2, from: 'old-u2', to: 'u2' },
    ]);
    expect(result.events.map(({ event }) => event.userId)).toEqual(['u1', 'u1']);
  });

  it('makes page and screen views, on a product when they name one', () => {
    const result = batch(
      {
        type: 'page',
        userId: 'u',
        name: 'Mug',
        category: 'Product',
        properties: { product_id: 'p9', url: 'https://shop.example/p9' },
      },
      { type: 'screen', userId: 'u', name: 'Home' },
      { type: 'page', userId: 'u', properties: { id: 'not-a-product' } },
    );
    expect(result.events.map(({ event }) => [event.name, event.itemId, event.properties])).toEqual([
      [
        'page_viewed',
        'p9',
        { product_id: 'p9', url: 'https://shop.example/p9', name: 'Mug', category: 'Product' },
      ],
      ['screen_viewed', null, { name: 'Home' }],
      ['page_viewed', null, { id: 'not-a-product' }],
    ]);
  });

  it('stores a group call as a `group` event with its traits', () => {
    const result = batch({ type: 'group', userId: 'u', groupId: 'acme', traits: { employees: 40 } });
    expect(result.events[0]!.event).toMatchObject({
      name: 'group',
      properties: { employees: 40, group_id: 'acme' },
    });
  });

  it('gives each product of an order its own id derived from the message id', () => {
    const result = batch({
      type: 'track',
      userId: 'u',
      event: 'Order Completed',
      messageId: 'order-msg',
      properties: {
        revenue: 30,
        products: [
          { product_id: 'a', price: 10 },
          { product_id: 'b', price: 20 },
        ],
      },
    });
    expect(
      result.events.map(({ index, event }) => [
        index,
        event.eventId,
        event.itemId,
        event.properties['revenue'],
      ]),
    ).toEqual([
      [0, 'order-msg#0', 'a', 10],
      [0, 'order-msg#1', 'b', 20],
    ]);
  });
});

describe('translateBatch: the body', () => {
  it('refuses a body that is no batch as a whole', () => {
    expect(translateBatch([], OPTS)).toEqual({ fatal: expect.stringMatching(/JSON object/) });
    expect(translateBatch({ batch: 'x' }, OPTS)).toEqual({
      fatal: expect.stringMatching(/"batch" must be an array/),
    });
    expect(translateBatch({ batch: [], context: 5 }, OPTS)).toEqual({
      fatal: expect.stringMatching(/"context"/),
    });
    expect(translateBatch({ batch: Array.from({ length: 5001 }, () => ({})) }, OPTS)).toEqual({
      fatal: expect.stringMatching(/at most 5000/),
    });
  });

  it('keeps the valid messages beside the invalid ones', () => {
    const result = batch(
      { type: 'track', userId: 'u', event: 'ok' },
      { type: 'track' },
      { type: 'page', userId: 'u' },
    );
    expect(result.accepted).toBe(2);
    expect(result.events.map((e) => e.index)).toEqual([0, 2]);
    expect(result.errors.map((e) => e.index)).toEqual([1]);
  });
});
