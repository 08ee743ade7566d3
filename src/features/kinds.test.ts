import { describe, expect, it } from 'vitest';
import { featuresAt, pairFeaturesAt, rowToJson } from './batch.js';
import { parseFeatureDefinitions } from './definitions.js';
import { FeatureSet } from './feature-set.js';
import { DAY, HOUR, MINUTE, MONDAY, testItems, trackedEvent as ev } from './test-events.js';

const set = new FeatureSet(
  parseFeatureDefinitions({
    user: [
      { name: 'views', kind: 'count', event: 'product_viewed', windows: ['1h', '1d', '7d', 'lifetime'] },
      { name: 'spend', kind: 'sum', event: 'purchased', property: 'value', windows: ['1d', 'lifetime'] },
      { name: 'recency_days', kind: 'recency' },
      { name: 'purchase_recency_days', kind: 'recency', event: 'purchased' },
      { name: 'frequency', kind: 'frequency', event: 'purchased' },
      { name: 'monetary', kind: 'monetary', event: 'purchased' },
      { name: 'tenure_days', kind: 'tenure' },
      { name: 'category', kind: 'category_affinity' },
      { name: 'category_listed', kind: 'category_affinity', values: ['shoes', 'books'] },
      { name: 'sessions', kind: 'distinct_sessions', window: '7d' },
      { name: 'device', kind: 'share', field: 'context.device', values: ['mobile', 'desktop'], window: '7d' },
      { name: 'location', kind: 'share', field: 'context.location', window: '7d' },
      { name: 'activity', kind: 'hour_of_week' },
      { name: 'usual_price', kind: 'usual_price' },
      { name: 'conversion', kind: 'conversion_rate', window: '7d' },
    ],
    item: [
      { name: 'popularity', kind: 'popularity', window: '7d' },
      { name: 'conversion', kind: 'conversion_rate', window: '7d' },
      { name: 'trend', kind: 'trend', event: 'product_viewed', window: '1d' },
      { name: 'views', kind: 'count', event: 'product_viewed', window: '1d' },
    ],
    user_item: [
      { name: 'views', kind: 'count', event: 'product_viewed', window: '7d' },
      { name: 'recency_days', kind: 'recency', window: '7d' },
      { name: 'category_affinity', kind: 'category_affinity' },
      { name: 'price_ratio', kind: 'price_ratio' },
    ],
  }),
);

// u1: a first view 10 days before T, then three sessions in the last two days. T is Monday + 10 days 12:00.
const T = MONDAY + 10 * DAY + 12 * HOUR;
const userLog = [
  ev({
    timestamp: T - 10 * DAY,
    itemId: 'i3',
    context: { device: 'desktop', location: 'DE', session_id: 's0' },
  }),
  ev({
    timestamp: T - 30 * HOUR,
    itemId: 'i1',
    context: { device: 'mobile', location: 'FR', session_id: 's1' },
  }),
  ev({
    timestamp: T - 29 * HOUR,
    itemId: 'i2',
    context: { device: 'mobile', location: 'FR', session_id: 's1' },
  }),
  ev({
    timestamp: T - 28 * HOUR,
    name: 'purchased',
    itemId: 'i2',
    context: { device: 'mobile', location: 'FR', session_id: 's1' },
    properties: { value: 100.1, price: 100.1 },
  }),
  // No session id: two runs split by a gap over 30 minutes.
  ev({ timestamp: T - 3 * HOUR, itemId: 'i1', context: { device: 'desktop', location: 'DE' } }),
  ev({ timestamp: T - 3 * HOUR + 10 * MINUTE, itemId: 'i1', context: { location: 'DE' } }),
  ev({ timestamp: T - 30 * MINUTE, itemId: 'i1', context: { device: 'mobile', location: 'DE' } }),
  ev({
    timestamp: T - 10 * MINUTE,
    name: 'purchased',
    itemId: 'i3',
    context: { device: 'mobile', location: 'DE' },
    properties: { value: 9.9 },
  }),
  // At T exactly and after: never counted at T.
  ev({ timestamp: T, itemId: 'i1', context: { device: 'tablet', location: 'US' } }),
  ev({ timestamp: T + DAY, name: 'purchased', itemId: 'i1', properties: { value: 1000 } }),
];

describe('feature kinds on a hand-built log', () => {
  const user = rowToJson(featuresAt(set, 'user', userLog, T, testItems));

  it('counts events of a name in each window, [t − w, t)', () => {
    expect(user).toMatchObject({ views_1h: 1, views_1d: 3, views_7d: 5, views_lifetime: 6 });
  });

  it('sums a property (exactly, in units) and gives RFM: recency, frequency, monetary, tenure', () => {
    expect(user['spend_1d']).toBe(9.9);
    expect(user['spend_lifetime']).toBe(110);
    expect(user['recency_days']).toBeCloseTo(10 / (24 * 60), 12);
    expect(user['purchase_recency_days']).toBeCloseTo(10 / (24 * 60), 12);
    expect(user['frequency']).toBe(2);
    expect(user['monetary']).toBe(110);
    expect(user['monetary_mean']).toBe(55);
    expect(user['tenure_days']).toBe(10);
  });

  it('gives category shares from the catalog (or the event), top value and distinct count', () => {
    // Categories before T: books, shoes, shoes, shoes(i2 purchase), shoes, shoes, shoes, books → 6 shoes of 8.
    expect(user['category_top_share']).toBe(6 / 8);
    expect(user['category_distinct']).toBe(2);
    expect(user['category_top']).toBe('shoes');
    expect(user['category_listed_shoes']).toBe(6 / 8);
    expect(user['category_listed_books']).toBe(2 / 8);
  });

  it('counts distinct sessions: session ids, and gap-separated runs of events without one', () => {
    // s1, then (T−3h, T−2h50) one run, (T−30m) another, (T−10m) the same run as T−30m: 1 + 2 = 3.
    expect(user['sessions']).toBe(3);
  });

  it('gives device shares per listed value and the top location among events that have one', () => {
    // Devices within 7 days: mobile ×5 (s1 ×3, T−30m, T−10m), desktop ×1 → of 6 with a device.
    expect(user['device_mobile']).toBe(5 / 6);
    expect(user['device_desktop']).toBe(1 / 6);
    // Locations within 7 days: FR ×3, DE ×4.
    expect(user['location_top']).toBe('DE');
    expect(user['location_top_share']).toBe(4 / 7);
    expect(user['location_distinct']).toBe(2);
  });

  it('places activity in the hour of the week (UTC)', () => {
    // T is Thursday (Monday + 10 days = Thursday of the next week) 12:00; events at 06:00 Wed … 11:50 Thu.
    expect(user['activity_weekend_share']).toBe(0);
    expect(user['activity_peak_hour']).toBe(3 * 24 + 9); // Thursday 09:00–10:00 holds two (T−3h, T−2h50)
    const parts = ['night', 'morning', 'afternoon', 'evening'].map(
      (p) => user[`activity_${p}_share`] as number,
    );
    expect(parts.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
  });

  it('gives the usual price (event price, else catalog price) and the conversion rate', () => {
    // Prices: i3 10, i1 50, i2 100, purchase 100.1, i1 50, i1 50, i1 50, i3 10 → mean 420.1 / 8.
    expect(user['usual_price']).toBeCloseTo(420.1 / 8, 12);
    // Within 7 days: 5 views, 2 purchases.
    expect(user['conversion']).toBe(2 / 5);
  });

  it("gives the pair's counts and recency on its item, its category's share and its price ratio", () => {
    const pair = rowToJson(pairFeaturesAt(set, userLog, 'i2', T, testItems));
    expect(pair['views']).toBe(1);
    expect(pair['recency_days']).toBe(28 / 24);
    expect(pair['category_affinity']).toBe(6 / 8);
    expect(pair['price_ratio']).toBeCloseTo(100 / (420.1 / 8), 12);
    const unknown = rowToJson(pairFeaturesAt(set, userLog, 'i4', T, testItems));
    expect(unknown).toMatchObject({
      views: 0,
      recency_days: null,
      category_affinity: null,
      price_ratio: null,
    });
  });

  it('gives item popularity (distinct users), conversion and trend (this window over the one before)', () => {
    const itemLog = [
      ev({ itemId: 'i1', userId: 'a', timestamp: T - 36 * HOUR }),
      ev({ itemId: 'i1', userId: 'b', timestamp: T - 30 * HOUR }),
      ev({ itemId: 'i1', userId: 'a', timestamp: T - 5 * HOUR }),
      ev({ itemId: 'i1', userId: 'c', timestamp: T - 4 * HOUR }),
      ev({ itemId: 'i1', userId: 'c', timestamp: T - 3 * HOUR }),
      ev({ itemId: 'i1', userId: 'c', timestamp: T - 2 * HOUR, name: 'purchased' }),
      ev({ itemId: 'i1', userId: 'd', timestamp: T + HOUR }),
    ];
    const item = rowToJson(featuresAt(set, 'item', itemLog, T, testItems));
    expect(item).toMatchObject({ popularity: 3, conversion: 1 / 5, trend: 3 / 2, views: 3 });
    const before = rowToJson(featuresAt(set, 'item', itemLog.slice(2), T, testItems));
    expect(before['trend']).toBeNull(); // nothing in the earlier day to compare with
  });

  it('gives NaN (null in JSON) where a value has no events behind it', () => {
    const empty = rowToJson(featuresAt(set, 'user', [], T, testItems));
    expect(empty).toMatchObject({
      views_1d: 0,
      recency_days: null,
      monetary: 0,
      monetary_mean: null,
      category_top: null,
      category_top_share: null,
      activity_peak_hour: null,
      usual_price: null,
      conversion: null,
    });
  });
});
