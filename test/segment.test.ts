import { gzipSync } from 'node:zlib';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { revenueOf } from '../src/experiments/metrics/values.js';
import { call, openTestApp, type ErrorReply, type TestApp } from './helpers.js';

// Segment's tracking API (issue 13): the routes Segment's and RudderStack's libraries post to, over the real
// app and a real SQLite store. test/segment-libraries.test.ts sends through the libraries themselves.

interface SegmentReply {
  readonly success: boolean;
  readonly accepted: number;
  readonly rejected: number;
  readonly events: number;
  readonly duplicates: number;
  readonly merged: number;
  readonly errors: { index: number; field: string; message: string }[];
  readonly withheld?: number;
  readonly redacted?: { index: number; field: string; action: string; reason: string }[];
  readonly error?: { code: string; message: string };
}

const basic = (key: string) => ({ authorization: `Basic ${Buffer.from(`${key}:`).toString('base64')}` });
const HOUR = 3_600_000;
const recent = (hoursAgo: number) => new Date(Date.now() - hoursAgo * HOUR).toISOString();

describe('Segment tracking API', () => {
  let t: TestApp;
  let ingest: string;
  let admin: string;
  let serverKey: string;
  let n = 0;
  /** A fresh id per test, so tests do not see each other's users. */
  const fresh = (prefix: string) => `${prefix}-${++n}`;

  beforeAll(async () => {
    t = await openTestApp();
    ingest = (await t.engine.access.create({ scope: 'ingest', name: 'segment' })).key;
    admin = (await t.engine.access.create({ scope: 'admin', name: 'reader' })).key;
    serverKey = (await t.engine.access.create({ scope: 'server', name: 'backend' })).key;
  });
  afterAll(() => t.close());

  const send = (path: string, body: unknown, headers: Record<string, string> = basic(ingest)) =>
    call<SegmentReply>(t.app, 'POST', path, body, headers);
  const eventsOf = async (userId: string) => {
    const reply = await call<{
      events: {
        event: string;
        item_id: string | null;
        event_id: string;
        properties: Record<string, unknown>;
        context: Record<string, unknown>;
        timestamp: string;
      }[];
    }>(t.app, 'GET', `/v1/users/${encodeURIComponent(userId)}/events?limit=1000`, undefined, {
      authorization: `Bearer ${admin}`,
    });
    expect(reply.status, reply.text).toBe(200);
    return reply.body.events;
  };

  describe('keys', () => {
    it('takes the write key as the HTTP Basic user, as the libraries send it', async () => {
      const user = fresh('u');
      const reply = await send('/v1/track', { userId: user, event: 'Signed Up' });
      expect(reply.status, reply.text).toBe(200);
      expect(reply.body).toMatchObject({ success: true, accepted: 1, events: 1, rejected: 0, errors: [] });
    });

    it('takes it as writeKey in a text/plain body (analytics.js), and refuses what is not an ingest key there', async () => {
      const user = fresh('u');
      const body = JSON.stringify({ writeKey: ingest, userId: user, event: 'Signed Up' });
      const plain = await t.app.inject({
        method: 'POST',
        url: '/v1/track',
        payload: body,
        headers: { 'content-type': 'text/plain' },
      });
      expect(plain.statusCode, plain.body).toBe(200);
      expect((await eventsOf(user)).map((e) => e.event)).toEqual(['Signed Up']);

      const secret = await send('/v1/track', { writeKey: admin, userId: user, event: 'x' }, {});
      expect(secret.status).toBe(401);
      expect((secret.body as unknown as ErrorReply).error.message).toMatch(/ingest keys only/);
      const none = await send('/v1/batch', { batch: [] }, {});
      expect(none.status).toBe(401);
      const wrong = await send('/v1/page', { writeKey: 'attune_ingest_nope', userId: user }, {});
      expect(wrong.status).toBe(401);
      const notText = await send('/v1/page', { writeKey: 5, userId: user }, {});
      expect(notText.status).toBe(401);
      expect((notText.body as unknown as ErrorReply).error.message).toMatch(/writeKey/);
      // A server key is a Bearer key; through Basic it is refused like an admin key.
      expect((await send('/v1/track', { userId: user, event: 'x' }, basic(serverKey))).status).toBe(401);
      // Nothing of the refused requests was stored.
      expect(await eventsOf(user)).toHaveLength(1);
    });

    it('serves analytics.js’s one-letter paths (/v1/t, /p, /i, /s, /b) with the key in a text/plain body', async () => {
      const user = fresh('u');
      const anonymous = fresh('anon');
      // What analytics.js sends: the message with writeKey, sentAt and _metadata, as text/plain.
      const post = (path: string, message: Record<string, unknown>) =>
        t.app.inject({
          method: 'POST',
          url: path,
          payload: JSON.stringify({
            writeKey: ingest,
            sentAt: new Date().toISOString(),
            _metadata: { bundled: ['Segment.io'], unbundled: [] },
            integrations: {},
            context: {
              page: { path: '/p/sku-1' },
              library: { name: 'analytics.js', version: 'next-1.70.0' },
            },
            ...message,
          }),
          headers: { 'content-type': 'text/plain' },
        });
      const replies = [
        await post('/v1/p', {
          type: 'page',
          anonymousId: anonymous,
          messageId: `${anonymous}-p`,
          properties: {},
        }),
        await post('/v1/t', {
          type: 'track',
          event: 'Product Viewed',
          anonymousId: anonymous,
          messageId: `${anonymous}-t`,
          properties: { product_id: 'sku-1' },
        }),
        await post('/v1/s', { type: 'screen', anonymousId: anonymous, messageId: `${anonymous}-s` }),
        await post('/v1/i', {
          type: 'identify',
          userId: user,
          anonymousId: anonymous,
          messageId: `${anonymous}-i`,
          traits: { plan: 'pro' },
        }),
        await post('/v1/b', {
          batch: [
            {
              type: 'track',
              event: 'Product Added',
              userId: user,
              messageId: `${user}-b0`,
              properties: { product_id: 'sku-1' },
            },
          ],
        }),
      ];
      for (const reply of replies) expect(reply.statusCode, reply.body).toBe(200);
      // The anonymous page, view and screen became the user's on identify; the batch's add to cart too.
      expect((await eventsOf(user)).map((e) => e.event).sort()).toEqual([
        'added_to_cart',
        'page_viewed',
        'product_viewed',
        'screen_viewed',
      ]);
      expect(await eventsOf(anonymous)).toHaveLength(0);
    });

    it('reads gzip bodies labelled as form data, as RudderStack’s Node library sends them', async () => {
      const user = fresh('u');
      const body = gzipSync(
        JSON.stringify({
          batch: [{ type: 'track', userId: user, event: 'Product Viewed', properties: { product_id: 'p1' } }],
        }),
      );
      const reply = await t.app.inject({
        method: 'POST',
        url: '/v1/batch',
        payload: body,
        headers: {
          ...basic(ingest),
          'content-type': 'application/x-www-form-urlencoded',
          'content-encoding': 'gzip',
        },
      });
      expect(reply.statusCode, reply.body).toBe(200);
      expect((await eventsOf(user)).map((e) => [e.event, e.item_id])).toEqual([['product_viewed', 'p1']]);

      const broken = await t.app.inject({
        method: 'POST',
        url: '/v1/batch',
        payload: Buffer.from('not gzip at all'),
        headers: { ...basic(ingest), 'content-type': 'application/json', 'content-encoding': 'gzip' },
      });
      expect(broken.statusCode).toBe(400);
      expect(broken.body).toMatch(/gzip/);
      const brotli = await t.app.inject({
        method: 'POST',
        url: '/v1/batch',
        payload: '{}',
        headers: { ...basic(ingest), 'content-type': 'application/json', 'content-encoding': 'br' },
      });
      expect(brotli.statusCode).toBe(415);
      const form = await t.app.inject({
        method: 'POST',
        url: '/v1/batch',
        payload: 'a=1',
        headers: { ...basic(ingest), 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(form.statusCode).toBe(400);
      expect(form.body).toMatch(/content type application\/x-www-form-urlencoded.*not valid JSON/);
    });

    it('takes batches of Segment’s 500 KB limit', async () => {
      const user = fresh('u');
      const batch = Array.from({ length: 1000 }, (_, i) => ({
        type: 'track',
        userId: user,
        event: 'Product Viewed',
        messageId: `${user}-big-${i}`,
        properties: { product_id: `p${i % 50}`, note: 'x'.repeat(400) },
      }));
      expect(JSON.stringify({ batch }).length).toBeGreaterThan(500_000);
      const reply = await send('/v1/batch', { batch });
      expect(reply.status, reply.text.slice(0, 300)).toBe(200);
      expect(reply.body.events).toBe(1000);
    });
  });

  describe('e-commerce events', () => {
    it('makes Product Viewed / Added interactions on the product, under the engine’s names', async () => {
      const user = fresh('shopper');
      const reply = await send('/v1/batch', {
        batch: [
          {
            type: 'track',
            userId: user,
            event: 'Product Viewed',
            timestamp: recent(3),
            properties: { product_id: 'mug', price: 12 },
          },
          {
            type: 'track',
            userId: user,
            event: 'Product Added',
            timestamp: recent(2),
            properties: { sku: 'mug', quantity: 1 },
          },
          {
            type: 'track',
            userId: user,
            event: 'Product Added to Wishlist',
            timestamp: recent(1),
            properties: { product_id: 'tea' },
          },
        ],
      });
      expect(reply.body).toMatchObject({ accepted: 3, events: 3 });
      const events = await eventsOf(user);
      expect(events.map((e) => [e.event, e.item_id])).toEqual([
        ['added_to_wishlist', 'tea'],
        ['added_to_cart', 'mug'],
        ['product_viewed', 'mug'],
      ]);
      // The live features count them under the names the default definitions use.
      const features = await call<{ features: Record<string, unknown> }>(
        t.app,
        'GET',
        `/v1/users/${user}/features`,
        undefined,
        {
          authorization: `Bearer ${serverKey}`,
        },
      );
      expect(features.status, features.text).toBe(200);
      expect(features.body.features).toMatchObject({ views_1d: 1, carts_1d: 1 });
    });

    it('makes an order one purchase per product, revenue counted once, and a retry stores nothing twice', async () => {
      const user = fresh('buyer');
      const order = {
        type: 'track',
        userId: user,
        event: 'Order Completed',
        messageId: `${user}-order`,
        timestamp: recent(1),
        properties: {
          order_id: 'o-77',
          revenue: 90,
          currency: 'EUR',
          products: [
            { product_id: 'a', price: 20, quantity: 3 },
            { product_id: 'b', price: 30 },
          ],
        },
      };
      const first = await send('/v1/batch', { batch: [order] });
      expect(first.body).toMatchObject({ accepted: 1, events: 2, duplicates: 0 });
      const retry = await send('/v1/batch', { batch: [order] });
      expect(retry.body).toMatchObject({ accepted: 1, events: 0, duplicates: 2 });
      const events = await eventsOf(user);
      expect(events.map((e) => [e.event, e.item_id, e.event_id]).sort()).toEqual([
        ['purchased', 'a', `${user}-order#0`],
        ['purchased', 'b', `${user}-order#1`],
      ]);
      expect(events.reduce((sum, e) => sum + revenueOf(e.properties as never), 0)).toBe(90);
      expect(events.every((e) => e.properties['order_id'] === 'o-77')).toBe(true);
    });
  });

  describe('identify', () => {
    it('merges traits into the profile, redacting personal data and saying so', async () => {
      const user = fresh('known');
      const put = await call(
        t.app,
        'PUT',
        `/v1/users/${user}`,
        { traits: { plan: 'free', country: 'FR' } },
        {
          authorization: `Bearer ${admin}`,
        },
      );
      expect(put.status).toBe(200);
      const reply = await send('/v1/identify', {
        userId: user,
        traits: { plan: 'pro', email: 'ada@example.com', address: { city: 'Lyon' } },
      });
      expect(reply.status, reply.text).toBe(200);
      expect(reply.body.redacted).toEqual([
        { index: 0, field: 'traits.email', action: 'removed', reason: 'email' },
      ]);
      const stored = await call<{ user: { traits: Record<string, unknown> } }>(
        t.app,
        'GET',
        `/v1/users/${user}`,
        undefined,
        {
          authorization: `Bearer ${admin}`,
        },
      );
      expect(stored.body.user.traits).toEqual({ plan: 'pro', country: 'FR', 'address.city': 'Lyon' });
    });

    it('makes the anonymous history the user’s, and what serving holds of both is read again', async () => {
      const anon = fresh('anon');
      const user = fresh('member');
      await send('/v1/batch', {
        batch: [
          {
            type: 'track',
            anonymousId: anon,
            event: 'Product Viewed',
            timestamp: recent(3),
            properties: { product_id: 'lamp' },
          },
          { type: 'page', anonymousId: anon, timestamp: recent(2), properties: { product_id: 'desk' } },
        ],
      });
      await send('/v1/track', {
        userId: user,
        event: 'Product Viewed',
        timestamp: recent(2),
        properties: { product_id: 'chair' },
      });
      const featuresOf = async (id: string) =>
        (
          await call<{ features: Record<string, number> }>(
            t.app,
            'GET',
            `/v1/users/${id}/features`,
            undefined,
            {
              authorization: `Bearer ${serverKey}`,
            },
          )
        ).body.features;
      // Read now, so that both are held in memory before the merge.
      expect((await featuresOf(user))['events_1d']).toBe(1);
      expect((await featuresOf(anon))['events_1d']).toBe(2);

      const reply = await send('/v1/identify', { userId: user, anonymousId: anon, traits: { plan: 'pro' } });
      expect(reply.body).toMatchObject({ accepted: 1, events: 0, merged: 2 });
      expect(await eventsOf(anon)).toEqual([]);
      expect((await eventsOf(user)).map((e) => e.item_id)).toEqual(['chair', 'desk', 'lamp']);
      expect((await featuresOf(user))['events_1d']).toBe(3);
      const gone = await call(t.app, 'GET', `/v1/users/${anon}/features`, undefined, {
        authorization: `Bearer ${serverKey}`,
      });
      expect(gone.status).toBe(404);

      // Later messages carrying both ids move what the anonymous id still gets (a straggler), once.
      await send('/v1/track', {
        anonymousId: anon,
        event: 'Product Viewed',
        timestamp: recent(1),
        properties: { product_id: 'rug' },
      });
      const both = await send('/v1/page', { userId: user, anonymousId: anon, name: 'Home' });
      expect(both.body.merged).toBe(1);
      expect((await eventsOf(user)).map((e) => e.item_id)).toContain('rug');
    });

    it('moves no history to a user whose consent is none, and stores none of their events', async () => {
      const anon = fresh('anon');
      const user = fresh('private');
      await call(
        t.app,
        'PUT',
        `/v1/users/${user}`,
        { consent: 'none' },
        { authorization: `Bearer ${admin}` },
      );
      await send('/v1/track', {
        anonymousId: anon,
        event: 'Product Viewed',
        properties: { product_id: 'x' },
      });
      const reply = await send('/v1/track', {
        userId: user,
        anonymousId: anon,
        event: 'Product Viewed',
        properties: { product_id: 'y' },
      });
      expect(reply.body).toMatchObject({ accepted: 1, events: 0, withheld: 1, merged: 0 });
      expect(await eventsOf(user)).toEqual([]);
      expect(await eventsOf(anon)).toHaveLength(1);
    });
  });

  describe('page, screen and context', () => {
    it('makes page and screen views, with the context mapped and the IP address never stored', async () => {
      const user = fresh('visitor');
      const reply = await send('/v1/page', {
        userId: user,
        name: 'Mug',
        properties: { product_id: 'mug', url: 'https://shop.example/mug' },
        context: {
          ip: '203.0.113.7',
          locale: 'fr-FR',
          userAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64)',
          page: { path: '/mug' },
        },
      });
      expect(reply.status, reply.text).toBe(200);
      expect(reply.body.redacted).toEqual([
        { index: 0, field: 'context.ip', action: 'removed', reason: 'ip_address' },
      ]);
      await send('/v1/screen', { userId: user, name: 'Cart' });
      const events = await eventsOf(user);
      expect(events.map((e) => [e.event, e.item_id])).toEqual([
        ['screen_viewed', null],
        ['page_viewed', 'mug'],
      ]);
      expect(events[1]!.context).toEqual({ locale: 'fr-FR', device: 'desktop', 'page.path': '/mug' });
      expect(JSON.stringify(events)).not.toContain('203.0.113.7');
    });
  });

  describe('refusals', () => {
    it('reports each bad message of a batch by index and field, and stores the good ones beside it', async () => {
      const user = fresh('u');
      const reply = await send('/v1/batch', {
        batch: [
          { type: 'track', userId: user, event: 'Product Viewed', properties: { product_id: 'ok-1' } },
          { type: 'track', userId: user },
          {
            type: 'track',
            userId: user,
            event: 'Order Completed',
            properties: { products: [{ product_id: '' }] },
          },
          { type: 'identify', traits: { plan: 'pro' } },
          { type: 'teleport', userId: user },
          { type: 'page', userId: user, properties: { product_id: 'ok-2' } },
        ],
      });
      expect(reply.status).toBe(200);
      expect(reply.body).toMatchObject({ success: true, accepted: 2, rejected: 4, events: 2 });
      expect(reply.body.errors.map((e) => [e.index, e.field])).toEqual([
        [1, 'event'],
        [2, 'properties.products[0].product_id'],
        [3, 'userId'],
        [4, 'type'],
      ]);
      expect((await eventsOf(user)).map((e) => e.item_id).sort()).toEqual(['ok-1', 'ok-2']);
    });

    it('answers 400 naming the field when nothing in the body is valid', async () => {
      const batch = await send('/v1/batch', { batch: [{ type: 'track', event: 'x' }] });
      expect(batch.status).toBe(400);
      expect(batch.body.error?.message).toMatch(/"batch".*field "userId"/);
      expect(batch.body.errors).toHaveLength(1);
      const single = await send('/v1/track', { userId: 'u', event: 'x', timestamp: 'yesterday' });
      expect(single.status).toBe(400);
      expect((single.body as unknown as ErrorReply).error.message).toMatch(/timestamp/);
      const missing = await send('/v1/track', { userId: 'u' });
      expect(missing.status).toBe(400);
      expect((missing.body as unknown as ErrorReply).error.message).toMatch(/event/);
      const notArray = await send('/v1/batch', { batch: 'x' });
      expect(notArray.status).toBe(400);
      expect((notArray.body as unknown as ErrorReply).error.message).toMatch(/batch/);
      // An empty batch refuses nothing.
      expect((await send('/v1/batch', { batch: [] })).body).toMatchObject({ success: true, accepted: 0 });
    });
  });
});
