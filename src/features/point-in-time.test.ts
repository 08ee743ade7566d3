import { describe, expect, it } from 'vitest';
import type { TrackedEvent } from '../events/index.js';
import { FeatureAccumulator } from './accumulator.js';
import { featuresAt, replayFeatures, rowToJson } from './batch.js';
import { FeatureSet } from './feature-set.js';
import { DAY, HOUR, MINUTE, MONDAY, testItems, trackedEvent as ev } from './test-events.js';

const set = new FeatureSet();
const T = MONDAY + 40 * DAY;

/** A log over 40 days with a purchase far in the past, recent views, one at T and ones after T. */
function handBuiltLog(): TrackedEvent[] {
  return [
    ev({ timestamp: T - 39 * DAY, name: 'purchased', itemId: 'i2', properties: { value: 100 } }),
    ev({ timestamp: T - 2 * DAY, itemId: 'i1' }),
    ev({ timestamp: T - 2 * HOUR, itemId: 'i3' }),
    ev({ timestamp: T - MINUTE, itemId: 'i1', name: 'added_to_cart', properties: { value: 50 } }),
    ev({ timestamp: T, itemId: 'i1', name: 'purchased', properties: { value: 50 } }),
    ev({ timestamp: T + HOUR, itemId: 'i2', name: 'purchased', properties: { value: 999 } }),
  ];
}

describe('point-in-time correctness', () => {
  it('never sees an event at or after t: the value equals the value without the future', () => {
    const log = handBuiltLog();
    const past = log.filter((e) => e.timestamp < T);
    const withFuture = rowToJson(featuresAt(set, 'user', log, T, testItems));
    expect(withFuture).toEqual(rowToJson(featuresAt(set, 'user', past, T, testItems)));
    // The purchase at T is not in: one lifetime purchase, the one 39 days before.
    expect(withFuture['frequency']).toBe(1);
    expect(withFuture['monetary']).toBe(100);
    expect(withFuture['purchases_1d']).toBe(0);
    expect(withFuture['carts_1d']).toBe(1);
    expect(withFuture['recency_days']).toBe(1 / (24 * 60));
    // One millisecond later the purchase at T counts.
    const after = rowToJson(featuresAt(set, 'user', log, T + 1, testItems));
    expect(after['frequency']).toBe(2);
    expect(after['purchases_1d']).toBe(1);
  });

  it('counts a late event (sent after newer ones) in every window its timestamp falls in, and no other', () => {
    const accumulator = new FeatureAccumulator(set.userPlan);
    const reader = set.eventReader(testItems);
    const log = handBuiltLog().filter((e) => e.timestamp < T);
    // Arrives in time order, the online store's clock moving with it, up to T.
    for (const event of log.slice(1)) accumulator.add(reader.read(event));
    accumulator.advance(T);
    const before = rowToJson(accumulator.read(set.user, T));
    expect(before['frequency']).toBe(0);
    // The 39-day-old purchase arrives last, older than the 30-day horizon: into the lifetime summaries.
    accumulator.add(reader.read(log[0]!));
    const late = rowToJson(accumulator.read(set.user, T));
    expect(late['frequency']).toBe(1);
    expect(late['monetary']).toBe(100);
    expect(late['purchases_30d']).toBe(0);
    expect(late['tenure_days']).toBe(39);
    // A late event inside the windows: two days old, sent now.
    accumulator.add(
      reader.read(ev({ timestamp: T - 2 * DAY + HOUR, name: 'purchased', properties: { value: 7 } })),
    );
    const inside = rowToJson(accumulator.read(set.user, T));
    expect(inside).toMatchObject({
      purchases_1d: 0,
      purchases_7d: 1,
      purchases_30d: 1,
      frequency: 2,
      monetary: 107,
    });
    // Events at T and after it are held but not counted at T; at T + 1 ms the one at T is.
    accumulator.add(reader.read(ev({ timestamp: T, name: 'purchased', properties: { value: 1 } })));
    accumulator.add(reader.read(ev({ timestamp: T + DAY, name: 'purchased', properties: { value: 1 } })));
    expect(rowToJson(accumulator.read(set.user, T))).toEqual(inside);
    expect(rowToJson(accumulator.read(set.user, T + 1))).toMatchObject({ purchases_1d: 1, frequency: 3 });
  });

  it('gives, in any arrival order, exactly the values a from-scratch recompute gives at every time', () => {
    // 300 events over 60 days, two users' worth, shuffled deterministically; read at 40 times.
    const events: TrackedEvent[] = [];
    for (let k = 0; k < 300; k++) {
      const timestamp = MONDAY + ((k * 7919) % 60) * DAY + ((k * 104_729) % 86_400) * 1000;
      const name = k % 7 === 0 ? 'purchased' : k % 3 === 0 ? 'added_to_cart' : 'product_viewed';
      events.push(
        ev({
          timestamp,
          name,
          itemId: `i${1 + (k % 4)}`,
          context: { device: ['mobile', 'desktop', 'tablet'][k % 3]!, location: k % 5 ? 'DE' : 'FR' },
          properties: name === 'purchased' ? { value: 10 + (k % 13) * 0.37 } : {},
        }),
      );
    }
    const shuffled = [...events].sort((a, b) => ((a.timestamp * 31) % 97) - ((b.timestamp * 31) % 97));
    const times = Array.from({ length: 40 }, (_, k) => MONDAY + 20 * DAY + k * 22 * HOUR + 17);
    const accumulator = new FeatureAccumulator(set.userPlan);
    const reader = set.eventReader(testItems);
    // Online: everything known so far is added (including events stamped after the read time), then read.
    let delivered = 0;
    times.forEach((t, k) => {
      const upTo = Math.round(((k + 1) / times.length) * shuffled.length);
      for (; delivered < upTo; delivered++) accumulator.add(reader.read(shuffled[delivered]!));
      accumulator.advance(t);
      const online = accumulator.read(set.user, t);
      const batch = featuresAt(set, 'user', shuffled.slice(0, delivered), t, testItems);
      expect(Array.from(online.numbers)).toEqual(Array.from(batch.numbers));
      expect(online.labels).toEqual(batch.labels);
    });
    // And a replay at all the times agrees with one recompute per time.
    const replayed = replayFeatures(set, 'user', events, times, testItems);
    replayed.forEach((row, k) =>
      expect(Array.from(row.numbers)).toEqual(
        Array.from(featuresAt(set, 'user', events, times[k]!, testItems).numbers),
      ),
    );
  });

  it('refuses to read before what it summarised', () => {
    const accumulator = new FeatureAccumulator(set.userPlan);
    accumulator.advance(T);
    expect(() => accumulator.read(set.user, T - HOUR)).toThrow(/cannot be read/);
  });
});
