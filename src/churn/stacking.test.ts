import { describe, expect, it } from 'vitest';
import type { TrackedEvent } from '../events/index.js';
import { FeatureSet, parseFeatureDefinitions } from '../features/index.js';
import { DAY, MONDAY, trackedEvent } from '../features/test-events.js';
import { churnMonotone } from './constraints.js';
import { columnMeanings } from './drivers.js';
import { stackedChurnTable, stackedCuts, type ChurnCut, type EventScan } from './events.js';

/** Stacked training cutoffs and the churn constraints, on a hand-built timeline. */
const WINDOW = 10 * DAY;
const STEP = 10 * DAY;
const NEWEST = MONDAY + 40 * DAY;

const set = new FeatureSet(
  parseFeatureDefinitions({
    user: [
      { name: 'recency_days', kind: 'recency', event: 'purchased' },
      { name: 'any_recency', kind: 'recency' },
      { name: 'purchases', kind: 'count', event: 'purchased', window: 'lifetime' },
      { name: 'frequency', kind: 'frequency', event: 'purchased' },
      { name: 'views', kind: 'count', event: 'product_viewed', window: '30d' },
      { name: 'spend', kind: 'sum', event: 'purchased', property: 'value', window: 'lifetime' },
      { name: 'tenure_days', kind: 'tenure' },
    ],
  }),
  'test',
);

const buy = (userId: string, day: number): TrackedEvent =>
  trackedEvent({ userId, timestamp: MONDAY + day * DAY, name: 'purchased', properties: { value: 5 } });

// Cutoffs at days 40, 30, 20, 10, 0 (each window 10 days).
const timeline = [
  // a: buys on days 5, 15, 25 and never again: in the window after 10 and 20, silent after 30 and 40.
  buy('a', 5),
  buy('a', 15),
  buy('a', 25),
  // b: first buys on day 22, again on day 45: absent before 20, back in [40, 50), silent in [30, 40).
  buy('b', 22),
  buy('b', 45),
];

async function* scanOf(): EventScan {
  yield timeline;
}

const newest: ChurnCut = { cutoff: NEWEST, windowMs: WINDOW, events: ['purchased'] };

describe('stacked training cutoffs', () => {
  it('steps back from the newest cutoff by the step, keeping window and events', () => {
    const cuts = stackedCuts(newest, STEP, 3);
    expect(cuts.map((c) => (c.cutoff - MONDAY) / DAY)).toEqual([40, 30, 20]);
    expect(cuts.every((c) => c.windowMs === WINDOW && c.events === newest.events)).toBe(true);
    expect(() => stackedCuts(newest, 0, 3)).toThrow(RangeError);
  });

  it('has one row per user and cutoff, with features before and the label after that cutoff', async () => {
    const { stacked, newest: latest } = await stackedChurnTable(
      set,
      scanOf,
      newest,
      () => undefined,
      stackedCuts(newest, STEP, 5),
    );
    const days = (t: number) => (t - MONDAY) / DAY;
    // Day 0 has nobody before it: the stack stops at day 10.
    expect(stacked.cutoffs?.map(days)).toEqual([40, 30, 20, 10]);
    const col = (name: string) => stacked.columns.indexOf(name);
    const rows = stacked.ids.map((id, r) => ({
      id,
      churned: stacked.y[r],
      purchases: stacked.x[r * stacked.columns.length + col('purchases')],
      recency: stacked.x[r * stacked.columns.length + col('recency_days')],
    }));
    expect(rows).toEqual([
      // cutoff 40: a silent since 25, b came back on 45.
      { id: 'a', churned: 1, purchases: 3, recency: 15 },
      { id: 'b', churned: 0, purchases: 1, recency: 18 },
      // cutoff 30: neither buys in [30, 40).
      { id: 'a', churned: 1, purchases: 3, recency: 5 },
      { id: 'b', churned: 1, purchases: 1, recency: 8 },
      // cutoff 20: a (two purchases so far) buys on 25; b not yet a customer.
      { id: 'a', churned: 0, purchases: 2, recency: 5 },
      // cutoff 10: a buys on 15.
      { id: 'a', churned: 0, purchases: 1, recency: 5 },
    ]);
    // The newest cutoff's own table is its users once each.
    expect(latest.ids).toEqual(['a', 'b']);
    expect(latest.cut.cutoff).toBe(NEWEST);
  });
});

describe('churnMonotone', () => {
  it('constrains recency up and counts down only for the activity that defines churn', () => {
    const columns = columnMeanings(set);
    const by = (activity: readonly string[] | null) => {
      const m = churnMonotone(columns, activity);
      return Object.fromEntries(columns.map((c, j) => [c.column, m[j]]));
    };
    expect(by(['purchased'])).toEqual({
      recency_days: 1,
      // Any event is more than purchases: not the activity whose absence is churn here.
      any_recency: 0,
      purchases: -1,
      frequency: -1,
      views: 0,
      spend: 0,
      tenure_days: 0,
    });
    // When every event counts as activity, views and the any-event recency are that activity too.
    expect(by(null)).toEqual({
      recency_days: 1,
      any_recency: 1,
      purchases: -1,
      frequency: -1,
      views: -1,
      spend: 0,
      tenure_days: 0,
    });
  });
});
