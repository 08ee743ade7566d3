import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { FeatureAccumulator, type AccumulatorSnapshot } from './accumulator.js';
import { pairItem } from './batch.js';
import { parseFeatureDefinitions } from './definitions.js';
import type { EventReader } from './feature-event.js';
import { FeatureSet } from './feature-set.js';
import { DAY, HOUR, MONDAY, testItems, trackedEvent } from './test-events.js';

/** The built-in definitions, and lifetime versions of every kind that has one (those keep summaries). */
const sets = {
  'built-in': new FeatureSet(),
  lifetime: new FeatureSet(
    parseFeatureDefinitions(
      {
        user: [
          { name: 'events', kind: 'count', window: 'lifetime' },
          { name: 'spend', kind: 'sum', event: 'purchased', property: 'value', window: 'lifetime' },
          { name: 'recency', kind: 'recency' },
          { name: 'tenure', kind: 'tenure' },
          { name: 'frequency', kind: 'frequency', event: 'purchased' },
          { name: 'monetary', kind: 'monetary', event: 'purchased' },
          { name: 'category', kind: 'category_affinity' },
          { name: 'device', kind: 'share', field: 'context.device', values: ['mobile'], window: 'lifetime' },
          { name: 'location', kind: 'share', field: 'context.location', window: 'lifetime' },
          { name: 'activity', kind: 'hour_of_week' },
          { name: 'usual_price', kind: 'usual_price' },
          { name: 'conversion', kind: 'conversion_rate', window: 'lifetime' },
        ],
        item: [],
        user_item: [{ name: 'price_ratio', kind: 'price_ratio' }],
      },
      'lifetime test definitions',
    ),
  ),
};
const reader = sets['built-in'].eventReader(testItems);
const NAMES = ['product_viewed', 'added_to_cart', 'purchased', 'signed_up'] as const;

/** Events over 60 days, in any order, some with sessions, devices, locations, values and prices. */
const events = fc.array(
  fc.record({
    minutes: fc.integer({ min: 0, max: 60 * 24 * 60 }),
    name: fc.constantFrom(...NAMES),
    item: fc.constantFrom('i1', 'i2', 'i3', 'i4', null),
    session: fc.option(fc.constantFrom('s1', 's2', 's3'), { nil: undefined }),
    device: fc.option(fc.constantFrom('mobile', 'desktop', 'tablet'), { nil: undefined }),
    location: fc.option(fc.constantFrom('DE', 'FR'), { nil: undefined }),
    value: fc.option(fc.integer({ min: 1, max: 50_000 }), { nil: undefined }),
  }),
  { maxLength: 300 },
);

function toFeatureEvents(rows: readonly Row[], reader: EventReader) {
  return rows.map((row) =>
    reader.read(
      trackedEvent({
        name: row.name,
        itemId: row.item,
        timestamp: MONDAY + row.minutes * 60_000,
        context: {
          ...(row.session === undefined ? {} : { session_id: row.session }),
          ...(row.device === undefined ? {} : { device: row.device }),
          ...(row.location === undefined ? {} : { location: row.location }),
        },
        properties: row.value === undefined ? {} : { value: row.value / 100 },
      }),
    ),
  );
}

interface Row {
  readonly minutes: number;
  readonly name: (typeof NAMES)[number];
  readonly item: string | null;
  readonly session?: string | undefined;
  readonly device?: string | undefined;
  readonly location?: string | undefined;
  readonly value?: number | undefined;
}

/** Every value the accumulator gives at `t`: the user's, and the pair's with each item. */
function valuesAt(accumulator: FeatureAccumulator, t: number, set: FeatureSet) {
  const rows = [accumulator.read(set.user, t)];
  for (const item of ['i1', 'i2', 'i3']) {
    rows.push(accumulator.read(set.userItem, t, pairItem(item, testItems)));
  }
  return rows.map((row) => ({ numbers: Array.from(row.numbers), labels: row.labels }));
}

describe('FeatureAccumulator snapshots', () => {
  it.each(Object.entries(sets))(
    'give back, through JSON, every value, now and after more events (%s)',
    (_, set) => {
      fc.assert(
        fc.property(events, events, fc.integer({ min: 0, max: 70 }), (before, after, day) => {
          const now = MONDAY + day * DAY;
          const original = new FeatureAccumulator(set.userPlan);
          for (const event of toFeatureEvents(before, set.eventReader(testItems))) original.add(event);
          original.advance(now);
          const text = JSON.stringify(original.snapshot());
          const restored = FeatureAccumulator.restore(set.userPlan, JSON.parse(text) as AccumulatorSnapshot);
          expect(restored.eventCount).toBe(original.eventCount);
          expect(restored.readableFrom).toBe(original.readableFrom);
          expect(valuesAt(restored, now, set)).toEqual(valuesAt(original, now, set));
          // Later events, late ones included, fold into both alike.
          for (const event of toFeatureEvents(after, set.eventReader(testItems))) {
            original.add(event);
            restored.add(event);
          }
          const later = now + 3 * HOUR;
          original.advance(later);
          restored.advance(later);
          expect(valuesAt(restored, later, set)).toEqual(valuesAt(original, later, set));
        }),
        { numRuns: 60 },
      );
    },
  );

  it('refuses a snapshot of other feature definitions, or one out of order', () => {
    const set = sets['built-in'];
    const accumulator = new FeatureAccumulator(set.userPlan);
    accumulator.add(reader.read(trackedEvent({ timestamp: MONDAY })));
    accumulator.add(reader.read(trackedEvent({ timestamp: MONDAY + HOUR })));
    const snapshot = accumulator.snapshot();
    expect(() => FeatureAccumulator.restore(set.itemPlan, snapshot)).toThrow(/feature definitions/);
    const shuffled = { ...snapshot, events: [...snapshot.events].reverse() };
    expect(() => FeatureAccumulator.restore(set.userPlan, shuffled)).toThrow(/time order/);
  });
});
