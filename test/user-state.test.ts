/**
 * What serving knows of a user covers their whole history, stays exact as events arrive, and survives a
 * restart: the loyal customer with thousands of events is never shown what they have or turned down.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { generateDemoShop } from '../src/demo/index.js';
import { defaultFeedbackConfig, feedbackOf } from '../src/events/index.js';
import {
  event as helperEvent,
  ids,
  ingest,
  openTestApp,
  postEvents,
  recommendOk,
  type EventBody,
  type TestApp,
} from './helpers.js';

const DAY = 86_400_000;
const shop = generateDemoShop({ users: 400, days: 60 });
const NOW = Date.now();

let t: TestApp | null = null;
afterEach(async () => {
  await t?.close();
  t = null;
});

async function openShop(overrides = {}): Promise<TestApp> {
  const app = await openTestApp({ coldStart: false, ...overrides });
  t = app;
  await app.engine.putItems(shop.items.map((item) => ({ item, createdAtGiven: true })));
  for (let start = 0; start < shop.events.length; start += 1000)
    await app.engine.appendEvents(shop.events.slice(start, start + 1000));
  await app.engine.train();
  return app;
}

/** Every item the user gave feedback on (positive or negative), from the whole event log. */
function feedbackItems(userId: string): Set<string> {
  const out = new Set<string>();
  for (const e of shop.events) {
    if (e.userId !== userId || e.itemId === null) continue;
    const kind = feedbackOf(defaultFeedbackConfig, e).kind;
    if (kind === 'positive' || kind === 'negative') out.add(e.itemId);
  }
  return out;
}

/** An event body from its fields, as a client sends it. */
const event = (body: EventBody): EventBody => helperEvent(body.user_id, body.item_id ?? '', body.event, body);
const heavy = shop.truth.heavyUsers[0]!;
const view = (itemId: string, at: number, more: Partial<EventBody> = {}): EventBody =>
  event({
    event: 'product_viewed',
    user_id: heavy,
    item_id: itemId,
    timestamp: new Date(at).toISOString(),
    ...more,
  });

describe('the whole history, for users with thousands of events', () => {
  it('never shows a heavy user an item they interacted with, however long ago', async () => {
    const app = await openShop();
    for (const userId of shop.truth.heavyUsers) {
      const seen = feedbackItems(userId);
      expect(seen.size).toBeGreaterThan(200);
      const list = await recommendOk(app.app, `user_id=${userId}&n=50`);
      expect(list.items.length).toBeGreaterThan(0);
      expect(ids(list.items).filter((id) => seen.has(id))).toEqual([]);
    }
  });

  it('keeps a dismissal, a purchase and its time through hundreds of later events and a restart', async () => {
    const app = await openShop({ retrainIntervalMs: null });
    const candidates = shop.items.map((i) => i.id).filter((id) => !feedbackItems(heavy).has(id));
    const [dismissed, bought] = [candidates[0]!, candidates[1]!];
    await ingest(app.app, [
      event({
        event: 'dismissed',
        user_id: heavy,
        item_id: dismissed,
        timestamp: new Date(NOW - 20 * DAY).toISOString(),
      }),
      event({
        event: 'purchased',
        user_id: heavy,
        item_id: bought,
        timestamp: new Date(NOW - 20 * DAY).toISOString(),
      }),
    ]);
    // 300 impressions of everything, the dismissed item included, then 300 views of other items: far more
    // than the 200 events a window once held.
    const later: EventBody[] = [];
    for (let k = 0; k < 300; k++)
      later.push(view(shop.items[k % shop.items.length]!.id, NOW - DAY + k, { event: 'impression' }));
    for (let k = 0; k < 300; k++) later.push(view(candidates[2 + (k % 40)]!, NOW - DAY + 1000 + k));
    await ingest(app.app, later);

    const category = shop.items.find((i) => i.id === bought)!.categories[0]!;
    const check = async (app: TestApp): Promise<string[]> => {
      // Everything may come back (`reshow=always`) except what the user turned down.
      const all = await recommendOk(app.app, `user_id=${heavy}&n=100&reshow=always`);
      expect(ids(all.items)).not.toContain(dismissed);
      const inCategory = (extra: string) =>
        recommendOk(app.app, `user_id=${heavy}&n=100&category=${category}&${extra}`).then((r) =>
          ids(r.items),
        );
      // The purchase is remembered, and its 20-day-old time is what re-show rules count from.
      expect(await inCategory('reshow=always')).toContain(bought);
      expect(await inCategory('reshow=always&filter=not purchased')).not.toContain(bought);
      expect(await inCategory('reshow=purchased_after_days:10,seen_always')).toContain(bought);
      expect(await inCategory('reshow=purchased_after_days:30,seen_always')).not.toContain(bought);
      return ids(all.items);
    };
    const before = await check(app);
    const dir = app.dir;
    await app.close({ keepData: true });
    t = null;
    const reopened = await openTestApp({ coldStart: false, retrainIntervalMs: null }, dir);
    t = reopened;
    expect(await check(reopened)).toEqual(before);
  });

  it('reflects a purchase at once, also when its batch repeats the event id', async () => {
    const app = await openShop({ retrainIntervalMs: null });
    const list = await recommendOk(app.app, `user_id=${heavy}&n=5`);
    const top = list.items[0]!.item_id;
    const bought = event({ event: 'purchased', user_id: heavy, item_id: top, event_id: 'buy-1' });
    const reply = await postEvents(app.app, { events: [bought, bought] });
    expect(reply.body).toMatchObject({ accepted: 1, duplicates: 1 });
    const next = await recommendOk(app.app, `user_id=${heavy}&n=5`);
    expect(ids(next.items)).not.toContain(top);
  });

  it('any sequence of events keeps served lists clear of seen and dismissed items (property)', async () => {
    const app = await openShop({ retrainIntervalMs: null });
    const items = shop.items.slice(0, 60).map((i) => i.id);
    const names = ['product_viewed', 'dismissed', 'purchased', 'impression', 'added_to_cart'];
    let round = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({ item: fc.constantFrom(...items), name: fc.constantFrom(...names), dup: fc.boolean() }),
          {
            minLength: 1,
            maxLength: 40,
          },
        ),
        async (rows) => {
          const userId = `prop-${round++}`;
          const batch = rows.flatMap((r, k) => {
            const body = event({
              event: r.name,
              user_id: userId,
              item_id: r.item,
              event_id: `${userId}-${k}`,
              timestamp: new Date(NOW - 1000 + k).toISOString(),
            });
            return r.dup ? [body, body] : [body];
          });
          await postEvents(app.app, { events: batch });
          const seen = new Set<string>();
          const dismissed = new Set<string>();
          for (const r of rows) {
            const kind = feedbackOf(defaultFeedbackConfig, { name: r.name, properties: {} }).kind;
            if (kind === 'positive' || kind === 'negative') seen.add(r.item);
            if (kind === 'negative') dismissed.add(r.item);
          }
          const list = ids((await recommendOk(app.app, `user_id=${userId}&n=100`)).items);
          expect(list.filter((id) => seen.has(id))).toEqual([]);
          const again = ids((await recommendOk(app.app, `user_id=${userId}&n=100&reshow=always`)).items);
          expect(again.filter((id) => dismissed.has(id))).toEqual([]);
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe('a request between an append and its record', () => {
  it("counts the event once in the user's features when that request loaded them", async () => {
    // One fixed clock for both engines: features such as recency are read at the engine's time.
    const clock = () => NOW;
    const app = (t = await openTestApp({ coldStart: false }, undefined, undefined, { clock }));
    const { engine } = app;
    const store = engine.store;
    const commit = store.appendEvents.bind(store);
    let loadsBetween = 0;
    // The store answers the append only after another request has loaded the user's features (a miss, so
    // the load reads the committed events), as a request served between the commit and its reply would.
    Object.assign(store, {
      appendEvents: async (...args: Parameters<typeof commit>) => {
        const result = await commit(...args);
        const features = await engine.userFeatures('newcomer');
        if ('user' in features) loadsBetween++;
        return result;
      },
    });
    const views = [0, 1, 2].map((k) =>
      helperEvent('newcomer', shop.items[k]!.id, 'product_viewed', {
        timestamp: new Date(NOW - DAY / 12 + k).toISOString(),
      }),
    );
    await ingest(app.app, views);
    expect(loadsBetween).toBe(1);
    const live = await engine.userFeatures('newcomer');
    const dir = app.dir;
    await app.close({ keepData: true });
    t = null;
    // A fresh engine reads the same user from the store alone.
    const reopened = (t = await openTestApp({ coldStart: false }, dir, undefined, { clock }));
    const fresh = await reopened.engine.userFeatures('newcomer');
    if (!('user' in live) || !('user' in fresh)) throw new Error('the user has features');
    expect(Array.from(live.user.numbers)).toEqual(Array.from(fresh.user.numbers));
  });
});

describe('users nobody has heard of', () => {
  it('cost one store read, then none, however often they are asked for', async () => {
    const app = await openTestApp({ coldStart: true });
    t = app;
    await app.engine.putItems(shop.items.map((item) => ({ item, createdAtGiven: true })));
    for (let start = 0; start < shop.events.length; start += 1000)
      await app.engine.appendEvents(shop.events.slice(start, start + 1000));
    await app.engine.train();
    const histories = vi.spyOn(app.engine.store, 'userItems');
    const users = vi.spyOn(app.engine.store, 'getUser');
    for (let k = 0; k < 20; k++) {
      const list = await recommendOk(app.app, 'user_id=stranger&n=5');
      expect(list.fallback).toBe('unknown_user');
    }
    expect(histories).toHaveBeenCalledTimes(1);
    expect(users.mock.calls.length).toBeLessThanOrEqual(1);
    histories.mockRestore();
    users.mockRestore();
  });
});
