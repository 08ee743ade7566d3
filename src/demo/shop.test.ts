import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { TrackedEvent } from '../events/types.js';
import { DEMO_EVENTS } from './sessions.js';
import { DEMO_DEFAULTS, generateDemoShop, type DemoShop } from './shop.js';
import { DAY_MS, HOUR_MS } from './time.js';
import { HEAVY_EVERY } from './users.js';

/** Fingerprint of everything generated, truth included (Maps as entry lists). */
function fingerprint(shop: DemoShop): string {
  const hash = createHash('sha256');
  for (const e of shop.events) hash.update(JSON.stringify(e));
  hash.update(JSON.stringify(shop.items));
  hash.update(JSON.stringify(shop.users));
  hash.update(
    JSON.stringify(shop.truth, (_key, value: unknown) => (value instanceof Map ? [...value] : value)),
  );
  return hash.digest('hex');
}

function groupBy<T>(values: readonly T[], key: (value: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const v of values) {
    const k = key(v);
    const list = out.get(k);
    if (list) list.push(v);
    else out.set(k, [v]);
  }
  return out;
}

const sessionOf = (e: TrackedEvent): string => String(e.context.session_id);

describe('generateDemoShop: determinism', () => {
  it('gives the identical shop for the same seed', () => {
    expect(fingerprint(generateDemoShop({ users: 300, seed: 4 }))).toBe(
      fingerprint(generateDemoShop({ users: 300, seed: 4 })),
    );
  });

  it('gives a different shop for a different seed', () => {
    const a = generateDemoShop({ users: 300, seed: 4 });
    const b = generateDemoShop({ users: 300, seed: 5 });
    expect(fingerprint(a)).not.toBe(fingerprint(b));
    expect(a.events.map((e) => e.itemId)).not.toEqual(b.events.map((e) => e.itemId));
  });

  it('keeps the catalog and each user the same when only the user count changes', () => {
    const small = generateDemoShop({ users: 20 });
    const large = generateDemoShop({ users: 200 });
    expect(small.items).toEqual(large.items);
    expect(small.users).toEqual(large.users.slice(0, 20));
    const strip = (events: readonly TrackedEvent[], userId: string) =>
      events.filter((e) => e.userId === userId).map((e) => ({ ...e, eventId: '' }));
    for (const user of small.users)
      expect(strip(small.events, user.id)).toEqual(strip(large.events, user.id));
  });
});

describe('generateDemoShop: the default shop', () => {
  let shop: DemoShop;
  beforeAll(() => {
    shop = generateDemoShop();
  });

  it('has the documented sizes and a period ending at the fixed default end', () => {
    expect(shop.users).toHaveLength(2_000);
    expect(shop.items).toHaveLength(500);
    expect(shop.events.length).toBeGreaterThan(100_000);
    expect(shop.events.length).toBeLessThan(200_000);
    expect(shop.truth.end).toBe(Date.parse('2026-11-01T00:00:00Z'));
    expect(shop.truth.start).toBe(shop.truth.end - DEMO_DEFAULTS.days * DAY_MS);
  });

  it('sends every kind of event in a plausible funnel ratio', () => {
    const counts = new Map<string, number>();
    for (const e of shop.events) counts.set(e.name, (counts.get(e.name) ?? 0) + 1);
    expect([...counts.keys()].sort()).toEqual(Object.values(DEMO_EVENTS).sort());
    const views = counts.get(DEMO_EVENTS.view) ?? 0;
    const carts = counts.get(DEMO_EVENTS.cart) ?? 0;
    const purchases = counts.get(DEMO_EVENTS.purchase) ?? 0;
    expect(carts / views).toBeGreaterThan(0.03);
    expect(carts / views).toBeLessThan(0.2);
    expect(purchases / carts).toBeGreaterThan(0.2);
    expect(purchases / carts).toBeLessThan(0.8);
  });

  // Checks over ~130k events collect offenders and assert once: an expect per event takes seconds.
  it('sorts events by time with sequential ids, inside the period', () => {
    const { start, end } = shop.truth;
    const bad = shop.events.filter(
      (e, n) =>
        e.eventId !== `demo-${n + 1}` ||
        !Number.isInteger(e.timestamp) ||
        e.timestamp < start ||
        e.timestamp >= end ||
        e.receivedAt !== e.timestamp ||
        e.requestId !== null ||
        (n > 0 && e.timestamp < shop.events[n - 1]!.timestamp),
    );
    expect(bad).toEqual([]);
  });

  it('refers only to existing users and items, each live at the time of the event', () => {
    const items = new Map(shop.items.map((i) => [i.id, i]));
    const users = new Map(shop.users.map((u) => [u.id, u]));
    const bad = shop.events.filter((e) => {
      const item = items.get(e.itemId ?? '');
      const user = users.get(e.userId);
      if (!item || !user) return true;
      const buying = e.name === DEMO_EVENTS.cart || e.name === DEMO_EVENTS.purchase;
      return (
        item.createdAt > e.timestamp ||
        (item.expiresAt !== null && e.timestamp >= item.expiresAt) ||
        user.createdAt > e.timestamp ||
        (buying && !item.available)
      );
    });
    expect(bad).toEqual([]);
  });

  it('gives every event a session context matching the user', () => {
    const country = new Map(shop.users.map((u) => [u.id, u.traits.country]));
    const devices = new Set(['mobile', 'desktop', 'tablet']);
    const pages = new Set(['product', 'search', 'home']);
    const bad = shop.events.filter(
      ({ context: c, userId }) =>
        !devices.has(String(c.device)) ||
        c.location !== country.get(userId) ||
        !String(c.session_id).startsWith(`${userId}-s`) ||
        ('page' in c && !pages.has(String(c.page))),
    );
    expect(bad).toEqual([]);
  });

  it('keeps the funnel in order within a session: view, then cart, then purchase', () => {
    const bad: TrackedEvent[] = [];
    for (const events of groupBy(shop.events, sessionOf).values()) {
      const viewed = new Set<string>();
      const carted = new Set<string>();
      for (const e of events) {
        const item = e.itemId ?? '';
        if (e.name === DEMO_EVENTS.view) viewed.add(item);
        if (e.name === DEMO_EVENTS.cart) {
          if (!viewed.has(item)) bad.push(e);
          carted.add(item);
        }
        if (e.name === DEMO_EVENTS.purchase && !(viewed.has(item) && carted.has(item))) bad.push(e);
      }
    }
    expect(bad).toEqual([]);
  });

  it('puts money on carts and purchases that matches the catalog', () => {
    const price = new Map(shop.items.map((i) => [i.id, i.price]));
    const money = shop.events.filter((e) => e.name === DEMO_EVENTS.cart || e.name === DEMO_EVENTS.purchase);
    expect(money.length).toBeGreaterThan(0);
    const bad = money.filter(({ name, itemId, properties: p }) => {
      const quantity = Number(p.quantity);
      return (
        p.price !== price.get(itemId ?? '') ||
        p.currency !== 'USD' ||
        !Number.isInteger(quantity) ||
        quantity < 1 ||
        Math.abs(Number(p.value) - Number(p.price) * quantity) > 1e-6 ||
        (name === DEMO_EVENTS.purchase && typeof p.order_id !== 'string')
      );
    });
    expect(bad).toEqual([]);
  });

  it('rates only items the user bought earlier, with 1–5 stars', () => {
    const bought = new Set<string>();
    const bad: TrackedEvent[] = [];
    let ratings = 0;
    for (const e of shop.events) {
      if (e.name === DEMO_EVENTS.purchase) bought.add(`${e.userId} ${e.itemId}`);
      if (e.name !== DEMO_EVENTS.rate) continue;
      ratings++;
      const stars = e.properties.rating;
      const valid = typeof stars === 'number' && Number.isInteger(stars) && stars >= 1 && stars <= 5;
      if (!valid || !bought.has(`${e.userId} ${e.itemId}`)) bad.push(e);
    }
    expect(ratings).toBeGreaterThan(0);
    expect(bad).toEqual([]);
  });

  it('lapses about 15% of users, who then send nothing', () => {
    const { lapsedUsers, lapsedAt, end } = shop.truth;
    expect(lapsedUsers.length / shop.users.length).toBeGreaterThan(0.1);
    expect(lapsedUsers.length / shop.users.length).toBeLessThan(0.2);
    expect(new Set(lapsedAt.keys())).toEqual(new Set(lapsedUsers));
    const last = new Map<string, number>();
    for (const e of shop.events) last.set(e.userId, e.timestamp);
    let activeBefore = 0;
    for (const id of lapsedUsers) {
      const at = lapsedAt.get(id)!;
      expect(at).toBeLessThanOrEqual(end - 14 * DAY_MS);
      const lastEvent = last.get(id);
      if (lastEvent !== undefined) {
        expect(lastEvent).toBeLessThan(at);
        activeBefore++;
      }
    }
    // Churn prediction needs history to learn from: most lapsed users were seen before they left.
    expect(activeBefore / lapsedUsers.length).toBeGreaterThan(0.7);
  });

  it('has loyal heavy users with thousands of events each, across the whole period', () => {
    const { heavyUsers, start, end } = shop.truth;
    expect(heavyUsers).toHaveLength(shop.users.length / HEAVY_EVERY);
    const counts = new Map<string, { events: number; first: number; last: number; items: Set<string> }>();
    for (const e of shop.events) {
      const c = counts.get(e.userId) ?? {
        events: 0,
        first: e.timestamp,
        last: e.timestamp,
        items: new Set(),
      };
      c.events += 1;
      c.last = e.timestamp;
      if (e.itemId !== null) c.items.add(e.itemId);
      counts.set(e.userId, c);
    }
    for (const id of heavyUsers) {
      const c = counts.get(id)!;
      expect(c.events, id).toBeGreaterThan(2_500);
      expect(c.first - start, id).toBeLessThan(2 * DAY_MS);
      expect(end - c.last, id).toBeLessThan(2 * DAY_MS);
      // More items than any window of 200 events could hold.
      expect(c.items.size, id).toBeGreaterThan(200);
    }
    const others = shop.users
      .filter((u) => !heavyUsers.includes(u.id))
      .map((u) => counts.get(u.id)?.events ?? 0);
    expect(Math.max(...others)).toBeLessThan(1_000);
  });

  it("concentrates each user's views on their favourite categories", () => {
    const { userTaste, itemCategory, categories } = shop.truth;
    const views = groupBy(
      shop.events.filter((e) => e.name === DEMO_EVENTS.view),
      (e) => e.userId,
    );
    let favourite = 0;
    let expected = 0;
    const perUser: number[] = [];
    for (const [userId, events] of views) {
      const favourites = new Set(userTaste.get(userId)!.favourites);
      const hits = events.filter((e) => favourites.has(itemCategory.get(e.itemId ?? '') ?? '')).length;
      favourite += hits;
      expected += (events.length * favourites.size) / categories.length;
      if (events.length >= 20) perUser.push(hits / events.length / (favourites.size / categories.length));
    }
    // Overall, and for the typical active user, far above what uniform browsing would give.
    expect(favourite / expected).toBeGreaterThan(2.5);
    perUser.sort((a, b) => a - b);
    expect(perUser[perUser.length >> 1]).toBeGreaterThan(2.5);
  });

  it('keeps consecutive views in a session often in the same category', () => {
    const { itemCategory } = shop.truth;
    let same = 0;
    let pairs = 0;
    for (const events of groupBy(shop.events, sessionOf).values()) {
      const views = events.filter((e) => e.name === DEMO_EVENTS.view);
      for (let i = 1; i < views.length; i++) {
        pairs++;
        if (itemCategory.get(views[i]!.itemId ?? '') === itemCategory.get(views[i - 1]!.itemId ?? '')) same++;
      }
    }
    expect(same / pairs).toBeGreaterThan(0.5);
  });

  it('has long-tailed item popularity', () => {
    const counts = new Map<string, number>();
    for (const e of shop.events)
      if (e.name === DEMO_EVENTS.view) counts.set(e.itemId ?? '', (counts.get(e.itemId ?? '') ?? 0) + 1);
    const sorted = [...counts.values()].sort((a, b) => b - a);
    const total = sorted.reduce((a, b) => a + b, 0);
    const top = sorted.slice(0, shop.items.length / 5).reduce((a, b) => a + b, 0);
    expect(top / total).toBeGreaterThan(0.5);
  });

  it('starts sessions around each user’s preferred local hour', () => {
    const { userHabits } = shop.truth;
    let near = 0;
    let sessions = 0;
    for (const events of groupBy(shop.events, sessionOf).values()) {
      const first = events[0]!;
      const habits = userHabits.get(first.userId)!;
      const local = ((((first.timestamp % DAY_MS) / HOUR_MS + habits.utcOffsetHours) % 24) + 24) % 24;
      const distance = Math.abs(local - habits.peakHour);
      sessions++;
      if (Math.min(distance, 24 - distance) <= 3) near++;
    }
    expect(near / sessions).toBeGreaterThan(0.6);
  });

  it('builds a catalog with category price levels, stock gaps, expiries and new arrivals', () => {
    const { end, itemCategory, categories } = shop.truth;
    expect(categories.length).toBeGreaterThanOrEqual(8);
    expect(categories.length).toBeLessThanOrEqual(12);
    expect(new Set(shop.items.map((i) => i.id)).size).toBe(shop.items.length);
    for (const item of shop.items) {
      expect(item.categories[0]).toBe(itemCategory.get(item.id));
      expect(item.categories.length).toBeLessThanOrEqual(2);
      expect(item.tags.length).toBeGreaterThanOrEqual(2);
      expect(item.price).toBeGreaterThan(0);
      expect(typeof item.attributes.brand).toBe('string');
      expect(typeof item.attributes.color).toBe('string');
    }
    const unavailable = shop.items.filter((i) => !i.available).length;
    const expired = shop.items.filter((i) => i.expiresAt !== null && i.expiresAt < end).length;
    const fresh = shop.items.filter((i) => i.createdAt >= end - 7 * DAY_MS).length;
    expect(unavailable).toBeGreaterThanOrEqual(3);
    expect(unavailable).toBeLessThanOrEqual(30);
    expect(expired).toBeGreaterThanOrEqual(2);
    expect(expired).toBeLessThanOrEqual(25);
    expect(fresh).toBeGreaterThanOrEqual(5);

    const median = (category: string) => {
      const prices = shop.items
        .filter((i) => i.categories[0] === category)
        .map((i) => i.price ?? 0)
        .sort((a, b) => a - b);
      return prices[prices.length >> 1] ?? 0;
    };
    expect(median('electronics')).toBeGreaterThan(4 * median('books'));
  });

  it('describes users with traits and a taste over 1–3 favourite categories', () => {
    const countries = new Set(['US', 'GB', 'DE', 'FR', 'IN', 'BR']);
    for (const user of shop.users) {
      expect(countries.has(String(user.traits.country))).toBe(true);
      expect(typeof user.traits.signup_channel).toBe('string');
      expect(typeof user.traits.age_band).toBe('string');
      const taste = shop.truth.userTaste.get(user.id)!;
      expect(taste.favourites.length).toBeGreaterThanOrEqual(1);
      expect(taste.favourites.length).toBeLessThanOrEqual(3);
      const weights = Object.values(taste.categoryWeights);
      expect(weights.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
      expect(taste.vector).toHaveLength(8);
    }
  });
});

describe('generateDemoShop: options', () => {
  it('honours sizes, period and end', () => {
    const end = Date.parse('2025-03-01T00:00:00Z');
    const shop = generateDemoShop({ users: 50, items: 40, days: 10, end, seed: 3 });
    expect(shop.users).toHaveLength(50);
    expect(shop.items).toHaveLength(40);
    expect(shop.events.length).toBeGreaterThan(0);
    for (const e of shop.events) {
      expect(e.timestamp).toBeGreaterThanOrEqual(end - 10 * DAY_MS);
      expect(e.timestamp).toBeLessThan(end);
    }
  });

  it('copes with a tiny shop', () => {
    const shop = generateDemoShop({ users: 1, items: 1, days: 1 });
    expect(shop.users).toHaveLength(1);
    expect(shop.items).toHaveLength(1);
  });

  it('rejects sizes that are not positive integers', () => {
    expect(() => generateDemoShop({ users: 0 })).toThrow(RangeError);
    expect(() => generateDemoShop({ items: 2.5 })).toThrow(RangeError);
    expect(() => generateDemoShop({ days: -1 })).toThrow(RangeError);
    expect(() => generateDemoShop({ end: Number.NaN })).toThrow(RangeError);
  });
});
