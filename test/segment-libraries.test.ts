import { createRequire } from 'node:module';

import { Analytics as SegmentAnalytics } from '@segment/analytics-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { TrackedEvent } from '../src/events/index.js';
import { revenueOf } from '../src/experiments/metrics/values.js';
import { openTestApp, type TestApp } from './helpers.js';

// Issue 13's target: Segment's and RudderStack's official Node.js libraries, configured with nothing but
// Attune's address as their host, deliver 10,000 messages each, none lost and none stored twice, through
// the engine's real HTTP server on a loopback port with its default limits (rate limits included: the
// libraries back off on 429 as they do with Segment). RudderStack's library sends gzip by default.

const require = createRequire(import.meta.url);
// RudderStack's package is CommonJS with `export =` typings.
const RudderAnalytics =
  require('@rudderstack/rudder-sdk-node') as typeof import('@rudderstack/rudder-sdk-node');

const USERS = 500;
const HOUR = 3_600_000;

/** One message as both libraries take it (their parameter shapes agree on these fields). */
interface Message {
  readonly type: 'track' | 'page' | 'identify';
  readonly userId?: string;
  readonly anonymousId?: string;
  readonly messageId: string;
  readonly event?: string;
  readonly name?: string;
  readonly properties?: Record<string, unknown>;
  readonly traits?: Record<string, unknown>;
  readonly timestamp: Date;
}

/**
 * 10,000 messages over 500 shoppers in three phases, as a shop sends them: browsing while anonymous (8 each:
 * views, clicks, a cart add, product pages), signing in (an identify with both ids), then shopping as a known
 * user (11 each, among them an order of two products and a checkout of one). The events they must become:
 * every message but the identifies, an order as one event per product: 10,000 events as well.
 */
function scenario(prefix: string): { phases: Message[][]; expected: Map<string, string> } {
  const now = Date.now();
  // Within the last two hours, in the order each shopper did things.
  const at = (step: number) => new Date(now - 2 * HOUR + step * 1000);
  const expected = new Map<string, string>(); // event id → `${userId} ${name} ${itemId}`
  const anonymous: Message[] = [];
  const identify: Message[] = [];
  const known: Message[] = [];
  for (let u = 0; u < USERS; u++) {
    const userId = `${prefix}-user-${u}`;
    const anonymousId = `${prefix}-anon-${u}`;
    const item = (k: number) => `${prefix}-item-${(u * 7 + k * 13) % 300}`;
    let m = 0;
    const add = (
      list: Message[],
      message: Omit<Message, 'messageId' | 'timestamp'>,
      events: [string, string | null][],
    ) => {
      const messageId = `${prefix}-m-${u}-${m++}`;
      list.push({ ...message, messageId, timestamp: at(m) });
      const suffix = events.length > 1 || message.event === 'Checkout Started';
      events.forEach(([name, itemId], i) =>
        expected.set(suffix ? `${messageId}#${i}` : messageId, `${userId} ${name} ${itemId}`),
      );
    };
    for (let k = 0; k < 4; k++)
      add(
        anonymous,
        {
          type: 'track',
          anonymousId,
          event: 'Product Viewed',
          properties: { product_id: item(k), price: 10 + k },
        },
        [['product_viewed', item(k)]],
      );
    add(
      anonymous,
      { type: 'track', anonymousId, event: 'Product Clicked', properties: { product_id: item(1) } },
      [['product_clicked', item(1)]],
    );
    add(
      anonymous,
      { type: 'track', anonymousId, event: 'Product Added', properties: { sku: item(2), quantity: 1 } },
      [['added_to_cart', item(2)]],
    );
    add(
      anonymous,
      { type: 'page', anonymousId, name: 'Product', properties: { product_id: item(3), path: '/p' } },
      [['page_viewed', item(3)]],
    );
    add(anonymous, { type: 'page', anonymousId, name: 'Home', properties: { path: '/' } }, [
      ['page_viewed', null],
    ]);

    add(
      identify,
      {
        type: 'identify',
        userId,
        anonymousId,
        traits: { plan: u % 2 ? 'pro' : 'free', email: `s${u}@shop.example` },
      },
      [],
    );

    for (let k = 0; k < 6; k++)
      add(
        known,
        {
          type: 'track',
          userId,
          anonymousId,
          event: 'Product Viewed',
          properties: { product_id: item(k + 4) },
        },
        [['product_viewed', item(k + 4)]],
      );
    for (let k = 0; k < 2; k++)
      add(
        known,
        {
          type: 'track',
          userId,
          anonymousId,
          event: 'Product Added',
          properties: { product_id: item(k + 4), price: 20 },
        },
        [['added_to_cart', item(k + 4)]],
      );
    add(
      known,
      {
        type: 'track',
        userId,
        anonymousId,
        event: 'Checkout Started',
        properties: { products: [{ product_id: item(4), price: 20 }] },
      },
      [['checkout_started', item(4)]],
    );
    add(
      known,
      {
        type: 'track',
        userId,
        anonymousId,
        event: 'Order Completed',
        properties: {
          order_id: `${prefix}-o-${u}`,
          revenue: 50,
          products: [
            { product_id: item(4), price: 20 },
            { product_id: item(5), price: 30 },
          ],
        },
      },
      [
        ['purchased', item(4)],
        ['purchased', item(5)],
      ],
    );
    add(known, { type: 'page', userId, anonymousId, name: 'Thanks', properties: { path: '/thanks' } }, [
      ['page_viewed', null],
    ]);
  }
  return { phases: [anonymous, identify, known], expected };
}

/** What a library's calls share: a send per message type and a way to wait until all was delivered. */
interface Library {
  send(message: Message, done: (error?: unknown) => void): void;
  flush(): Promise<void>;
  close(): Promise<void>;
}

function segmentLibrary(host: string, writeKey: string, errors: unknown[]): Library {
  // Only the host differs from what an app instrumented for Segment has.
  const analytics = new SegmentAnalytics({ writeKey, host });
  analytics.on('error', (error) => errors.push(error));
  return {
    send(message, done) {
      const { type, ...params } = message;
      const callback = (error?: unknown) => done(error);
      if (type === 'track') analytics.track(params as Parameters<typeof analytics.track>[0], callback);
      else if (type === 'page') analytics.page(params as Parameters<typeof analytics.page>[0], callback);
      else analytics.identify(params as Parameters<typeof analytics.identify>[0], callback);
    },
    flush: () => analytics.flush(),
    close: () => analytics.closeAndFlush(),
  };
}

function rudderLibrary(host: string, writeKey: string): Library {
  // RudderStack's data plane URL is the host; its default path is /v1/batch and it compresses with gzip.
  const analytics = new RudderAnalytics(writeKey, { dataPlaneUrl: host, logLevel: 'error' });
  // The library's queue (not in its typings): a flush sends at most `flushAt` messages, so it is called
  // until the queue is empty.
  const queue = (analytics as unknown as { queue: unknown[] }).queue;
  const flush = async () => {
    for (let i = 0; i < 10_000 && queue.length > 0; i++) await analytics.flush();
    await analytics.flush();
  };
  return {
    send(message, done) {
      const { type, ...params } = message;
      // Typed as taking no argument; it is called with the delivery error, if any.
      const callback = (...args: unknown[]) => done(args[0]);
      // messageId is not in the typings' parameters; the library keeps one it is given.
      if (type === 'track') analytics.track(params as Parameters<typeof analytics.track>[0], callback);
      else if (type === 'page') analytics.page(params as Parameters<typeof analytics.page>[0], callback);
      else analytics.identify(params as Parameters<typeof analytics.identify>[0], callback);
    },
    flush,
    close: flush,
  };
}

describe('Segment’s and RudderStack’s libraries, configured with only a different host (issue 13)', () => {
  let t: TestApp;
  let host = '';
  let writeKey = '';

  beforeAll(async () => {
    t = await openTestApp();
    writeKey = (await t.engine.access.create({ scope: 'ingest', name: 'segment source' })).key;
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const address = t.app.server.address();
    if (address === null || typeof address === 'string') throw new Error('no TCP address');
    host = `http://127.0.0.1:${address.port}`;
  });
  afterAll(() => t.close());

  /** Sends the scenario through a library, phase by phase, and checks what the store holds. */
  async function deliver(prefix: string, open: (libraryErrors: unknown[]) => Library): Promise<void> {
    const { phases, expected } = scenario(prefix);
    expect(phases.flat()).toHaveLength(10_000);
    expect(expected.size).toBe(10_000);
    const errors: unknown[] = [];
    const library = open(errors);
    const before = await t.engine.store.countEvents();
    let acknowledged = 0;
    let sent = 0;
    let settled = 0;
    let wake: (() => void) | null = null;
    for (const phase of phases) {
      const delivered: Promise<void>[] = [];
      for (const message of phase) {
        sent++;
        delivered.push(
          new Promise<void>((resolve) =>
            library.send(message, (error) => {
              if (error !== undefined && error !== null) errors.push(error);
              else acknowledged++;
              settled++;
              wake?.();
              resolve();
            }),
          ),
        );
        // An app's events arrive over time, not 10,000 in one turn of the event loop: every 100 the library
        // gets to send, and at most 200 wait for delivery at once (RudderStack's library measures its whole
        // queue on every call, so a queue of thousands costs it a minute).
        if (sent % 100 === 0) await new Promise((resolve) => setImmediate(resolve));
        while (sent - settled > 200) await new Promise<void>((resolve) => (wake = resolve));
      }
      // Then what is left is the library's last, partial batch (Segment's sends full batches of 15 as they
      // fill; a flush while one is in flight would leave the rest to its 10-second timer), sent by flush.
      while (sent - settled >= 15) await new Promise<void>((resolve) => (wake = resolve));
      await library.flush();
      await Promise.all(delivered);
    }
    await library.close();
    expect(errors).toEqual([]);
    expect(acknowledged).toBe(10_000);

    // Every message stored exactly once: the ids are the ones the messages had (an order's products one each).
    expect((await t.engine.store.countEvents()) - before).toBe(10_000);
    const stored = new Map<string, TrackedEvent>();
    for await (const batch of t.engine.store.scanEvents()) {
      for (const event of batch) if (event.eventId.startsWith(`${prefix}-`)) stored.set(event.eventId, event);
    }
    expect(stored.size).toBe(10_000);
    const mismatches = [...expected].filter(([id, what]) => {
      const event = stored.get(id);
      return event === undefined || `${event.userId} ${event.name} ${event.itemId}` !== what;
    });
    // Anonymous browsing is the known user's (identify merged it), and spec events are interactions.
    expect(mismatches.slice(0, 5)).toEqual([]);
    expect(await t.engine.store.userEvents(`${prefix}-anon-0`)).toEqual([]);
    const shopper = await t.engine.store.userEvents(`${prefix}-user-0`, { limit: 100 });
    expect(shopper).toHaveLength(20);
    const purchases = shopper.filter((e) => e.name === 'purchased');
    expect(purchases.reduce((sum, e) => sum + revenueOf(e.properties), 0)).toBe(50);
    // Traits went to the profile, the e-mail address not.
    const profile = await t.engine.getUser(`${prefix}-user-1`);
    expect(profile?.traits).toEqual({ plan: 'pro' });
  }

  it('Segment’s @segment/analytics-node delivers 10,000 messages, none lost, none twice', async () => {
    await deliver('seg', (errors) => segmentLibrary(host, writeKey, errors));
  }, 90_000);

  it('RudderStack’s @rudderstack/rudder-sdk-node delivers 10,000 messages, none lost, none twice', async () => {
    await deliver('rud', () => rudderLibrary(host, writeKey));
  }, 90_000);
});
