import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import type { TrackedEvent } from '../../events/types.js';
import type { Impression } from '../../recommendations/impression.js';
import { BUILT_IN_METRICS } from './builtins.js';
import { computeMetrics, type ComputeMetricsInput, type ExperimentMetrics } from './compute.js';
import { DAY_MS, HOUR_MS, MetricDefinitionError, type MetricDefinition } from './definitions.js';
import { ExposureConflictError, type ExposedUser } from './exposures.js';
import { inBatches, servedList, T0, trackedEvent, valuesByUser } from './fixtures.js';
import { momentsOf, productOf } from './moments.js';
import { referenceMetric } from './reference.js';
import { syntheticLog } from './synthetic.js';

const H = HOUR_MS;
const NOW = T0 + 60 * DAY_MS;

const purchases: MetricDefinition = {
  name: 'purchases',
  kind: 'conversion',
  event: 'purchase',
  windowHours: 24,
};
const orders: MetricDefinition = { name: 'orders', kind: 'count', event: 'purchase', windowHours: 24 };
const revenue: MetricDefinition = {
  name: 'revenue',
  kind: 'sum',
  event: 'purchase',
  value: 'revenue',
  windowHours: 24,
};

function exposed(...users: [string, string, number][]): ExposedUser[] {
  return users.map(([userId, variant, firstAt]) => ({ userId, variant, firstAt }));
}

async function run(
  metrics: readonly MetricDefinition[],
  events: readonly TrackedEvent[],
  options: Partial<Omit<ComputeMetricsInput, 'events' | 'metrics'>> & {
    readonly lists?: readonly Impression[];
  } = {},
): Promise<ExperimentMetrics> {
  return computeMetrics({
    exposures: options.exposures ?? exposed(['u1', 'a', T0], ['u2', 'b', T0]),
    events: inBatches(events),
    impressions: options.lists ? inBatches(options.lists) : options.impressions,
    metrics,
    now: options.now ?? NOW,
    seriesOrigin: options.seriesOrigin,
  });
}

describe('computeMetrics windows', () => {
  it('counts events from the first exposure up to, not including, the end of the window', async () => {
    const result = await run(
      [purchases, orders],
      [
        trackedEvent('u1', 'purchase', T0), // at the exposure: in
        trackedEvent('u1', 'purchase', T0 + 24 * H - 1), // last millisecond of the window: in
        trackedEvent('u1', 'purchase', T0 + 24 * H), // the window's end: out
        trackedEvent('u2', 'purchase', T0 + 24 * H), // u2's only purchase is just outside
      ],
    );
    expect(valuesByUser(result, 0).get('u1')).toEqual([1, 0]);
    expect(valuesByUser(result, 1).get('u1')).toEqual([2, 0]);
    expect(valuesByUser(result, 0).get('u2')).toEqual([0, 0]);
    expect(valuesByUser(result, 1).get('u2')).toEqual([0, 0]);
  });

  it('does not count events before the first exposure; they form the covariate over the same-length window', async () => {
    const result = await run(
      [orders],
      [
        trackedEvent('u1', 'purchase', T0 - 1), // just before: covariate
        trackedEvent('u1', 'purchase', T0 - 24 * H), // first millisecond of the mirrored window: covariate
        trackedEvent('u1', 'purchase', T0 - 24 * H - 1), // before the mirrored window: nowhere
        trackedEvent('u1', 'purchase', T0 + 5 * H),
      ],
    );
    expect(valuesByUser(result, 0).get('u1')).toEqual([1, 2]);
  });

  it('keeps the first exposure when a user is given again later, and takes an earlier one given late', async () => {
    const events = [trackedEvent('u1', 'purchase', T0 + 30 * H), trackedEvent('u2', 'purchase', T0 + 30 * H)];
    const result = await run([orders], events, {
      exposures: exposed(
        ['u1', 'a', T0],
        ['u1', 'a', T0 + 20 * H],
        ['u2', 'a', T0 + 20 * H],
        ['u2', 'a', T0],
      ),
    });
    // Both first saw the variant at T0, so the purchase 30 h later is outside the 24 h window for both.
    expect(valuesByUser(result, 0).get('u1')).toEqual([0, 0]);
    expect(valuesByUser(result, 0).get('u2')).toEqual([0, 0]);
    expect(result.variants[0]!.firstAt).toEqual(Float64Array.from([T0, T0]));
  });

  it('gives users without events 0 and keeps them in their variant', async () => {
    const result = await run([purchases, orders, revenue], [trackedEvent('u1', 'purchase', T0 + H)], {
      exposures: exposed(['u1', 'a', T0], ['u2', 'a', T0], ['u3', 'b', T0]),
    });
    expect(result.variants.map((v) => [v.name, v.userIds])).toEqual([
      ['a', ['u1', 'u2']],
      ['b', ['u3']],
    ]);
    for (let m = 0; m < 3; m++) {
      expect(valuesByUser(result, m).get('u2')).toEqual([0, 0]);
      expect(valuesByUser(result, m).get('u3')).toEqual([0, 0]);
    }
  });

  it('reads neither events nor exposures at or after now (the analysis as of then)', async () => {
    const now = T0 + 10 * H;
    const result = await run(
      [orders],
      [trackedEvent('u1', 'purchase', now - 1), trackedEvent('u1', 'purchase', now)],
      { exposures: exposed(['u1', 'a', T0], ['u2', 'a', now]), now },
    );
    expect(result.variants[0]!.userIds).toEqual(['u1']);
    expect(valuesByUser(result, 0).get('u1')).toEqual([1, 0]);
  });

  it('ignores events of users who were never exposed', async () => {
    const result = await run([orders], [trackedEvent('stranger', 'purchase', T0 + H)]);
    expect([...valuesByUser(result, 0).values()]).toEqual([
      [0, 0],
      [0, 0],
    ]);
    expect(result.scanned.events).toBe(1);
  });

  it('refuses a user exposed to two variants', async () => {
    await expect(
      run([orders], [], { exposures: exposed(['u1', 'a', T0], ['u1', 'b', T0 + H]) }),
    ).rejects.toThrow(ExposureConflictError);
  });
});

describe('computeMetrics selections', () => {
  it('matches event names as the engine does (normalised) and any of several names', async () => {
    const result = await run(
      [{ name: 'buys', kind: 'count', event: ['Order Completed', 'purchased'], windowHours: 24 }],
      [
        trackedEvent('u1', 'order_completed', T0 + H),
        trackedEvent('u1', 'Order Completed', T0 + H),
        trackedEvent('u1', 'orderCompleted', T0 + H),
        trackedEvent('u1', 'PURCHASED', T0 + H),
        trackedEvent('u1', 'purchase', T0 + H), // not listed
      ],
    );
    expect(valuesByUser(result, 0).get('u1')).toEqual([4, 0]);
  });

  it('tells apart names that share a slot of the name cache (same length, first and last letter)', async () => {
    const result = await run(
      [{ name: 'clicks', kind: 'count', event: 'click', windowHours: 24 }],
      ['click', 'clack', 'click', 'chuck', 'clack', 'click'].map((name) => trackedEvent('u1', name, T0 + H)),
    );
    expect(valuesByUser(result, 0).get('u1')).toEqual([3, 0]);
  });

  it('counts every event when a selection names none', async () => {
    const result = await run(
      [{ name: 'activity', kind: 'count', windowHours: 24 }],
      [trackedEvent('u1', 'a', T0 + H), trackedEvent('u1', 'b', T0 + 2 * H), trackedEvent('u1', 'c', T0 - H)],
    );
    expect(valuesByUser(result, 0).get('u1')).toEqual([2, 1]);
  });

  it('applies property filters as equality on every listed property', async () => {
    const metric: MetricDefinition = {
      name: 'web_orders',
      kind: 'count',
      event: 'purchase',
      windowHours: 24,
      where: { channel: 'web', gift: false },
    };
    const result = await run(
      [metric],
      [
        trackedEvent('u1', 'purchase', T0 + H, { properties: { channel: 'web', gift: false } }),
        trackedEvent('u1', 'purchase', T0 + H, { properties: { channel: 'web', gift: false, extra: 1 } }),
        trackedEvent('u1', 'purchase', T0 + H, { properties: { channel: 'web' } }), // gift absent
        trackedEvent('u1', 'purchase', T0 + H, { properties: { channel: 'app', gift: false } }),
        trackedEvent('u1', 'purchase', T0 + H, { properties: { channel: 'web', gift: 'false' } }), // not false
      ],
    );
    expect(valuesByUser(result, 0).get('u1')).toEqual([2, 0]);
  });

  it('sums revenue from each of the shapes e-commerce events carry it in', async () => {
    const at = T0 + H;
    const events = [
      trackedEvent('u1', 'purchase', at, { properties: { revenue: 10, value: 99, total: 99 } }),
      trackedEvent('u1', 'purchase', at, { properties: { value: 5, total: 99 } }),
      trackedEvent('u1', 'purchase', at, { properties: { price: 3, quantity: 4, total: 99 } }),
      trackedEvent('u1', 'purchase', at, { properties: { price: 2.5 } }), // quantity 1
      trackedEvent('u1', 'purchase', at, { properties: { total: 7 } }),
      trackedEvent('u1', 'purchase', at, { properties: { revenue: '1.5' } }), // a number in a string
      trackedEvent('u1', 'purchase', at, { properties: { revenue: null, value: 'n/a', total: 0.5 } }),
      trackedEvent('u1', 'purchase', at, { properties: { note: 'no amount' } }),
    ];
    const result = await run([revenue], events);
    expect(valuesByUser(result, 0).get('u1')).toEqual([10 + 5 + 12 + 2.5 + 7 + 1.5 + 0.5, 0]);
  });

  it('sums a named numeric property, treating a missing one as 0', async () => {
    const metric: MetricDefinition = {
      name: 'minutes',
      kind: 'sum',
      event: 'video_watched',
      value: { property: 'minutes' },
      windowHours: 24,
    };
    const result = await run(
      [metric],
      [
        trackedEvent('u1', 'video_watched', T0 + H, { properties: { minutes: 12 } }),
        trackedEvent('u1', 'video_watched', T0 + H, { properties: { seconds: 30 } }),
        trackedEvent('u1', 'video_watched', T0 - H, { properties: { minutes: 4 } }),
      ],
    );
    expect(valuesByUser(result, 0).get('u1')).toEqual([12, 4]);
  });
});

describe('computeMetrics retention', () => {
  const day1: MetricDefinition = { name: 'day1', kind: 'retention', day: 1 };

  it('is 1 for activity within day N after the first exposure, and 0 just outside it', async () => {
    const result = await run(
      [day1],
      [
        trackedEvent('u1', 'view', T0 + DAY_MS), // day 1 starts
        trackedEvent('u2', 'view', T0 + 2 * DAY_MS), // day 2 starts: not day 1
        trackedEvent('u2', 'view', T0 + DAY_MS - 1), // day 0's last millisecond: not day 1
        trackedEvent('u2', 'view', T0 - DAY_MS - 1), // the mirrored day −2 (covariate window is day −2)
      ],
    );
    expect(valuesByUser(result, 0).get('u1')).toEqual([1, 0]);
    expect(valuesByUser(result, 0).get('u2')).toEqual([0, 1]);
  });

  it('leaves out users whose day N has not ended by now, rather than counting them as 0', async () => {
    const now = T0 + 2 * DAY_MS + 5 * H;
    const result = await run([day1], [trackedEvent('u1', 'view', T0 + DAY_MS + H)], {
      exposures: exposed(['u1', 'a', T0], ['u2', 'a', T0 + 5 * H], ['u3', 'a', T0 + 5 * H + 1]),
      now,
    });
    const values = result.metrics[0]!.byVariant[0]!;
    if (!('users' in values)) throw new Error('expected scalar values');
    // u2's day 1 ends exactly at now (ended); u3's one millisecond later (not yet).
    expect(values.users).toEqual(Int32Array.from([0, 1]));
    expect(valuesByUser(result, 0)).toEqual(
      new Map([
        ['u1', [1, 0]],
        ['u2', [0, 0]],
        ['u3', null],
      ]),
    );
  });

  it('counts only the named events when given', async () => {
    const metric: MetricDefinition = { name: 'bought_again', kind: 'retention', day: 0, event: 'purchase' };
    const result = await run(
      [metric],
      [trackedEvent('u1', 'view', T0 + H), trackedEvent('u2', 'purchase', T0 + H)],
    );
    expect(valuesByUser(result, 0).get('u1')).toEqual([0, 0]);
    expect(valuesByUser(result, 0).get('u2')).toEqual([1, 0]);
  });
});

describe('computeMetrics ratios', () => {
  const perOrder: MetricDefinition = {
    name: 'revenue_per_order',
    kind: 'ratio',
    numerator: { kind: 'sum', event: 'purchase', value: 'revenue', windowHours: 24 },
    denominator: { kind: 'count', event: 'purchase', windowHours: 24 },
  };

  it('keeps numerator and denominator per user, including users with a zero denominator', async () => {
    const result = await run(
      [perOrder],
      [
        trackedEvent('u1', 'purchase', T0 + H, { properties: { revenue: 30 } }),
        trackedEvent('u1', 'purchase', T0 + 2 * H, { properties: { revenue: 10 } }),
        trackedEvent('u1', 'purchase', T0 - 2 * H, { properties: { revenue: 8 } }),
      ],
    );
    expect(valuesByUser(result, 0).get('u1')).toEqual([40, 2, 8, 1]);
    expect(valuesByUser(result, 0).get('u2')).toEqual([0, 0, 0, 0]);
    const values = result.metrics[0]!.byVariant[1]!;
    if (!('denominator' in values)) throw new Error('expected ratio values');
    expect(values.denominator).toEqual(Float64Array.from([0]));
  });

  it('lets each side keep its own window', async () => {
    const metric: MetricDefinition = {
      name: 'late_share',
      kind: 'ratio',
      numerator: { kind: 'count', event: 'purchase', windowHours: 1 },
      denominator: { kind: 'count', event: 'purchase', windowHours: 48 },
    };
    const result = await run(
      [metric],
      [trackedEvent('u1', 'purchase', T0 + 30 * 60_000), trackedEvent('u1', 'purchase', T0 + 30 * H)],
    );
    expect(valuesByUser(result, 0).get('u1')).toEqual([1, 2, 0, 0]);
  });
});

describe('computeMetrics click-through', () => {
  const clickThrough = BUILT_IN_METRICS['click_through']!;
  const lists = [
    servedList('r1', 'u1', T0 + H, ['i1', 'i2']),
    servedList('r2', 'u1', T0 + 2 * H, ['i3']),
    servedList('r9', 'u2', T0 + H, ['i1']),
  ];

  it('links an event to a list by its request_id, whatever its name, impressions excepted', async () => {
    const result = await run(
      [clickThrough],
      [
        trackedEvent('u1', 'product_clicked', T0 + 3 * H, { itemId: 'i1', properties: { request_id: 'r1' } }),
        trackedEvent('u1', 'added_to_cart', T0 + 3 * H, { itemId: 'i9', properties: { request_id: 'r2' } }),
        trackedEvent('u1', 'Product Impression', T0 + 3 * H, {
          itemId: 'i1',
          properties: { request_id: 'r1' },
        }),
        trackedEvent('u1', 'impression', T0 + 3 * H, { properties: { request_id: 'r2' } }),
      ],
      { lists },
    );
    expect(valuesByUser(result, 0).get('u1')).toEqual([2, 2, 0, 0]);
    expect(result.scanned.servedLists).toBe(3);
  });

  it('falls back to a click on an item of a list served to the same user earlier in the window', async () => {
    const result = await run(
      [clickThrough],
      [
        trackedEvent('u1', 'Product Clicked', T0 + 3 * H, { itemId: 'i3' }), // on r2: a click
        trackedEvent('u1', 'click', T0 + 1.5 * H, { itemId: 'i3' }), // before r2 was served: not a click
        trackedEvent('u1', 'product_clicked', T0 + 3 * H, { itemId: 'i7' }), // on no list: not a click
        trackedEvent('u1', 'product_viewed', T0 + 3 * H, { itemId: 'i1' }), // not a click name
        trackedEvent('u1', 'item_clicked', T0 + 3 * H, { itemId: 'i1', properties: { request_id: 'gone' } }),
        trackedEvent('u2', 'click', T0 + 3 * H, { itemId: 'i2' }), // i2 was served to u1, not u2
      ],
      { lists },
    );
    // The click naming an unknown request falls back to its item (i1 is on r1).
    expect(valuesByUser(result, 0).get('u1')).toEqual([2, 2, 0, 0]);
    expect(valuesByUser(result, 0).get('u2')).toEqual([0, 1, 0, 0]);
  });

  it("does not link a request_id of another user's list, and then matches by item", async () => {
    const result = await run(
      [clickThrough],
      [trackedEvent('u2', 'click', T0 + 3 * H, { itemId: 'i9', properties: { request_id: 'r1' } })],
      { lists },
    );
    expect(valuesByUser(result, 0).get('u2')).toEqual([0, 1, 0, 0]);
    expect(valuesByUser(result, 0).get('u1')).toEqual([0, 2, 0, 0]);
  });

  it('counts a click only when its list was served in the same window as the click', async () => {
    const week = 7 * DAY_MS;
    const result = await run(
      [clickThrough],
      [
        // A list from before the exposure, clicked after it: in neither window's count.
        trackedEvent('u1', 'click', T0 + H, { itemId: 'i5', properties: { request_id: 'old' } }),
        // Before the exposure, on a list also from before: the covariate.
        trackedEvent('u1', 'click', T0 - 2 * H, { itemId: 'i5' }),
        // After the window: nothing.
        trackedEvent('u1', 'click', T0 + week, { itemId: 'i1', properties: { request_id: 'r1' } }),
      ],
      { lists: [servedList('old', 'u1', T0 - 3 * H, ['i5']), ...lists] },
    );
    expect(valuesByUser(result, 0).get('u1')).toEqual([0, 2, 1, 1]);
  });

  it('does not count a click before the exposure on a list served after it (a clock running behind)', async () => {
    const result = await run(
      [clickThrough],
      [trackedEvent('u1', 'click', T0 - H, { itemId: 'i1', properties: { request_id: 'r1' } })],
      { lists },
    );
    expect(valuesByUser(result, 0).get('u1')).toEqual([0, 2, 0, 0]);
  });

  it('does not fall back when the request_id names a list of the user served outside every window', async () => {
    const result = await run(
      [clickThrough],
      [trackedEvent('u1', 'click', T0 + 3 * H, { itemId: 'i1', properties: { request_id: 'ancient' } })],
      { lists: [servedList('ancient', 'u1', T0 - 30 * DAY_MS, ['i1']), ...lists] },
    );
    expect(valuesByUser(result, 0).get('u1')).toEqual([0, 2, 0, 0]);
  });

  it('requires the served lists', async () => {
    await expect(run([clickThrough], [])).rejects.toThrow(/impressions are required/);
  });
});

describe('computeMetrics input checks', () => {
  it('refuses an invalid definition, naming the metric and the field', async () => {
    const bad = { name: 'x', kind: 'count', windowHours: -1 } as MetricDefinition;
    const error = await run([orders, bad], []).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MetricDefinitionError);
    expect((error as MetricDefinitionError).problems).toEqual([
      { field: 'metrics[1].windowHours', message: 'expected number to be greater than 0' },
    ]);
  });
});

describe('computeMetrics daily series', () => {
  it('each snapshot equals the analysis as of the end of its day, and the last one the full result', async () => {
    const metrics: MetricDefinition[] = [
      { name: 'orders', kind: 'count', event: 'purchase', windowHours: 72 },
      { name: 'buyers', kind: 'conversion', event: 'purchase', windowHours: 72 },
      { name: 'revenue', kind: 'sum', event: 'purchase', value: 'revenue', windowHours: 72 },
      { name: 'day1', kind: 'retention', day: 1 },
      BUILT_IN_METRICS['click_through']!,
    ];
    const exposures = exposed(
      ['u1', 'a', T0 + 2 * H],
      ['u2', 'a', T0 + DAY_MS + 3 * H],
      ['u3', 'b', T0 + 5 * H],
    );
    const events = [
      trackedEvent('u1', 'purchase', T0 + 3 * H, { properties: { revenue: 5 } }),
      trackedEvent('u1', 'purchase', T0 + 2 * DAY_MS + 1, { properties: { revenue: 7 } }),
      trackedEvent('u1', 'purchase', T0 - H, { properties: { revenue: 2 } }),
      trackedEvent('u2', 'purchase', T0 + 2 * DAY_MS + 3 * H, { properties: { revenue: 11 } }),
      trackedEvent('u3', 'view', T0 + DAY_MS + 6 * H),
      trackedEvent('u3', 'click', T0 + 3 * DAY_MS, { itemId: 'i1' }),
      trackedEvent('u3', 'purchase', T0 + 3 * DAY_MS, { properties: { price: 4, quantity: 2 } }),
    ];
    const lists = [
      servedList('r1', 'u3', T0 + 6 * H, ['i1']),
      servedList('r2', 'u1', T0 + 3 * DAY_MS, ['i2']),
    ];
    const now = T0 + 4 * DAY_MS + 7 * H;
    const full = await run(metrics, events, { exposures, lists, now });
    expect(full.series).toEqual({ origin: T0, days: 5 });

    for (let day = 0; day < full.series.days; day++) {
      const asOf = Math.min(T0 + (day + 1) * DAY_MS, now);
      const snapshot = await run(metrics, events, { exposures, lists, now: asOf });
      full.metrics.forEach((metric, m) => {
        metric.byVariant.forEach((values, v) => {
          const daily = values.daily[day]!;
          expect(daily.asOf).toBe(asOf);
          const expected = momentsOf(columnsOf(snapshot, m, v));
          expect(daily.moments.n).toBe(expected.n);
          expect([...daily.moments.sums]).toEqual([...expected.sums]);
          expect([...daily.moments.products]).toEqual([...expected.products]);
        });
      });
    }
    // The day-1 retention of u1 (exposed at T0 + 2 h) is known from the end of day 2 on.
    const retention = full.metrics[3]!.byVariant[0]!.daily;
    expect(retention.map((d) => d.moments.n)).toEqual([0, 0, 1, 2, 2]);
    // Orders of variant a: u1 buys on day 0 and day 2, u2 (entering on day 1) on day 2.
    const orderSums = full.metrics[0]!.byVariant[0]!.daily.map((d) => d.moments.sums[0]);
    expect(orderSums).toEqual([1, 1, 3, 3, 3]);
    expect(productOf(full.metrics[0]!.byVariant[0]!.daily[4]!.moments, 0, 0)).toBe(2 * 2 + 1 * 1);
  });

  it('folds the days before the last maxSeriesDays into the first snapshot', async () => {
    const result = await computeMetrics({
      exposures: exposed(['u1', 'a', T0]),
      events: [[trackedEvent('u1', 'purchase', T0 + H)]],
      metrics: [orders],
      now: T0 + 10 * DAY_MS,
      maxSeriesDays: 3,
    });
    expect(result.series).toEqual({ origin: T0 + 7 * DAY_MS, days: 3 });
    const daily = result.metrics[0]!.byVariant[0]!.daily;
    expect(daily.map((d) => [d.moments.n, d.moments.sums[0]])).toEqual([
      [1, 1],
      [1, 1],
      [1, 1],
    ]);
  });
});

function columnsOf(result: ExperimentMetrics, metric: number, variant: number): Float64Array[] {
  const values = result.metrics[metric]!.byVariant[variant]!;
  return 'denominator' in values
    ? [values.numerator, values.denominator, values.covariateNumerator, values.covariateDenominator]
    : [values.value, values.covariate];
}

// --- against the naive reference ---------------------------------------------------------------------

const NAMES = [
  'purchase',
  'Order Completed',
  'product_clicked',
  'click',
  'view',
  'impression',
  'added_to_cart',
];
const ITEMS = ['i0', 'i1', 'i2', 'i3'];
const USERS = ['u0', 'u1', 'u2', 'u3', 'u4', 'u5'];
const HALF_HOUR = 30 * 60_000;

/** Metrics with windows of hours, so that random times at half-hour steps land on every edge. */
const MIXED: MetricDefinition[] = [
  { name: 'buyers', kind: 'conversion', event: ['purchase', 'order_completed'], windowHours: 6 },
  { name: 'buys', kind: 'count', event: ['purchase', 'order_completed'], windowHours: 6 },
  { name: 'spend', kind: 'sum', event: ['purchase', 'Order Completed'], value: 'revenue', windowHours: 12 },
  { name: 'cart_value', kind: 'sum', event: 'added_to_cart', value: { property: 'price' }, windowHours: 12 },
  { name: 'web_buys', kind: 'count', event: 'purchase', windowHours: 12, where: { channel: 'web' } },
  { name: 'back_day1', kind: 'retention', day: 1 },
  { name: 'bought_day0', kind: 'retention', day: 0, event: 'purchase' },
  {
    name: 'ctr',
    kind: 'ratio',
    numerator: { kind: 'count', source: 'clicks', windowHours: 8 },
    denominator: { kind: 'count', source: 'served_lists', windowHours: 8 },
  },
  { name: 'clickers', kind: 'conversion', source: 'clicks', event: 'click', windowHours: 4 },
  {
    name: 'per_order',
    kind: 'ratio',
    numerator: { kind: 'sum', event: 'purchase', value: 'revenue', windowHours: 10 },
    denominator: { kind: 'count', event: 'purchase', windowHours: 5 },
  },
];

const timeArb = fc.integer({ min: -60, max: 90 }).map((steps) => T0 + steps * HALF_HOUR);
const propertiesArb = fc.record(
  {
    revenue: fc.oneof(fc.integer({ min: -5, max: 50 }), fc.constant('12.5'), fc.constant(null)),
    value: fc.integer({ min: 0, max: 9 }),
    price: fc.integer({ min: 1, max: 20 }),
    quantity: fc.integer({ min: 0, max: 3 }),
    total: fc.integer({ min: 0, max: 9 }),
    channel: fc.constantFrom('web', 'app'),
  },
  { requiredKeys: [] },
);
const listArb = fc.record({
  user: fc.constantFrom(...USERS, 'stranger'),
  at: timeArb,
  items: fc.uniqueArray(fc.constantFrom(...ITEMS), { minLength: 1, maxLength: 3 }),
  // Mostly its own request id; sometimes one repeated from an earlier list (not from the store, which keys
  // lists by it, but the analysis must still agree with the reference).
  repeats: fc.option(fc.nat(), { freq: 8 }),
});
const eventArb = (requests: number) =>
  fc.record({
    user: fc.constantFrom(...USERS, 'stranger'),
    name: fc.constantFrom(...NAMES),
    at: timeArb,
    item: fc.option(fc.constantFrom(...ITEMS)),
    request: fc.option(fc.integer({ min: 0, max: requests })),
    properties: propertiesArb,
  });
const logArb = fc
  .record({
    exposures: fc.array(fc.record({ user: fc.constantFrom(...USERS), at: fc.integer({ min: 0, max: 40 }) }), {
      maxLength: 10,
    }),
    lists: fc.array(listArb, { maxLength: 8 }),
    now: fc.integer({ min: 10, max: 100 }).map((steps) => T0 + steps * HALF_HOUR),
  })
  .chain((log) =>
    fc.record({ log: fc.constant(log), events: fc.array(eventArb(log.lists.length), { maxLength: 40 }) }),
  );

type LogSample = typeof logArb extends fc.Arbitrary<infer S> ? S : never;

function buildLog(sample: LogSample) {
  const { log, events } = sample;
  // A user's variant follows from their id, so that repeats never conflict.
  const exposures = log.exposures.map((e) => ({
    userId: e.user,
    variant: Number(e.user.slice(1)) % 2 === 0 ? 'a' : 'b',
    firstAt: T0 + e.at * HALF_HOUR,
  }));
  // Request ids r0..rn-1 name the lists; a request number n names no list.
  const lists = log.lists.map((l, i) =>
    servedList(`r${l.repeats === null || i === 0 ? i : l.repeats % i}`, l.user, l.at, l.items),
  );
  const tracked = events.map((e) =>
    trackedEvent(e.user, e.name, e.at, {
      itemId: e.item,
      properties: e.request === null ? e.properties : { ...e.properties, request_id: `r${e.request}` },
    }),
  );
  return { exposures, lists, events: tracked, now: log.now };
}

describe('computeMetrics against a naive recomputation', () => {
  it('gives every user the naive values of every metric, on random small logs', async () => {
    await fc.assert(
      fc.asyncProperty(logArb, async (sample) => {
        const { exposures, lists, events, now } = buildLog(sample);
        const result = await computeMetrics({
          exposures,
          events: inBatches(events, 4),
          impressions: inBatches(lists, 2),
          metrics: MIXED,
          now,
        });
        MIXED.forEach((metric, m) => {
          const expected = referenceMetric({ exposures, events, impressions: lists, now }, metric);
          expect(valuesByUser(result, m)).toEqual(expected);
        });
      }),
      { numRuns: 300 },
    );
  });

  it('conversion is exactly "count > 0", after exposure and before it', async () => {
    await fc.assert(
      fc.asyncProperty(logArb, async (sample) => {
        const { exposures, lists, events, now } = buildLog(sample);
        const result = await computeMetrics({
          exposures,
          events: [events],
          impressions: [lists],
          metrics: [MIXED[0]!, MIXED[1]!],
          now,
        });
        const conversion = valuesByUser(result, 0);
        for (const [user, counts] of valuesByUser(result, 1)) {
          expect(conversion.get(user)).toEqual(counts!.map((c) => (c > 0 ? 1 : 0)));
        }
      }),
      { numRuns: 200 },
    );
  });

  it('the last daily snapshot holds the moments of the final per-user values', async () => {
    await fc.assert(
      fc.asyncProperty(logArb, async (sample) => {
        const { exposures, lists, events, now } = buildLog(sample);
        const result = await computeMetrics({
          exposures,
          events: [events],
          impressions: [lists],
          metrics: MIXED,
          now,
        });
        result.metrics.forEach((metric, m) =>
          metric.byVariant.forEach((values, v) => {
            const last = values.daily[values.daily.length - 1];
            const expected = momentsOf(columnsOf(result, m, v));
            if (last === undefined) return expect(expected.n).toBe(0);
            expect(last.moments.n).toBe(expected.n);
            last.moments.sums.forEach((s, i) => expect(s).toBeCloseTo(expected.sums[i]!, 9));
            last.moments.products.forEach((p, i) => expect(p).toBeCloseTo(expected.products[i]!, 9));
          }),
        );
      }),
      { numRuns: 200 },
    );
  });
});

describe('computeMetrics at scale', () => {
  it('20,000 users and 200,000 events: the same per-user values and totals as the naive recomputation', async () => {
    const log = syntheticLog({ users: 20_000, events: 200_000, seed: 11, catalog: 2_000 });
    const exposures = [...log.exposures()];
    const events = [...log.events()].flat();
    const impressions = [...log.impressions()].flat();
    const metrics = Object.values(BUILT_IN_METRICS);
    const result = await computeMetrics({
      exposures,
      events: log.events(),
      impressions: log.impressions(),
      metrics,
      now: log.now,
    });
    expect(result.scanned).toEqual({ events: 200_000, servedLists: log.servedListCount });
    metrics.forEach((metric, m) => {
      const expected = referenceMetric({ exposures, events, impressions, now: log.now }, metric);
      const actual = valuesByUser(result, m);
      expect(actual).toEqual(expected);
      // Totals, as a report would show them, and evidence that the log exercises the metric.
      const totals = (values: Map<string, number[] | null>) =>
        [...values.values()].reduce<number[]>(
          (sum, row) => (row ? row.map((x, i) => (sum[i] ?? 0) + x) : sum),
          [],
        );
      expect(totals(actual)).toEqual(totals(expected));
      for (const total of totals(actual)) expect(total).toBeGreaterThan(100);
    });
  });
});
