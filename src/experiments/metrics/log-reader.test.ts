import type { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';

import type { TrackedEvent } from '../../events/types.js';
import { mulberry32 } from '../../models/random.js';
import type { Impression } from '../../recommendations/impression.js';
import type { ScalarRecord } from '../../shared/types.js';
import { startWorker } from '../../shared/worker.js';
import { BUILT_IN_METRICS } from './builtins.js';
import { computeMetrics, computeMetricsComparingKeys, type ExperimentMetrics } from './compute.js';
import { HOUR_MS, type MetricDefinition } from './definitions.js';
import { ExposureConflictError, type ExposedUser } from './exposures.js';
import type { FixtureLog } from './fixture-reader.worker.js';
import { inBatches, servedList, T0, trackedEvent, valuesByUser } from './fixtures.js';
import { LogReader } from './log-reader.js';
import { syntheticExposures, syntheticLog, type SyntheticOptions } from './synthetic.js';

/**
 * The two-thread analysis (a reader thread converting the log, `log-reader.ts`) against the one-thread one
 * on the same logs: the same `ExperimentMetrics`, every double bit for bit.
 */

const H = HOUR_MS;

function readerThread(log: FixtureLog): Worker {
  return startWorker(import.meta.url, './fixture-reader.worker.js', { workerData: log });
}

function readerOf(log: FixtureLog): LogReader {
  return new LogReader(readerThread(log));
}

/** A result with every number as its bits, so that `toEqual` compares doubles exactly (−0, NaN included). */
function bits(value: unknown): unknown {
  if (value instanceof Float64Array) {
    return Array.from(new BigUint64Array(new Float64Array(value).buffer), (word) => word.toString(16));
  }
  if (ArrayBuffer.isView(value)) return Array.from(value as unknown as ArrayLike<number>);
  if (typeof value === 'number') return bits(Float64Array.of(value));
  if (Array.isArray(value)) return value.map(bits);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, field]) => [key, bits(field)]));
  }
  return value;
}

/** Metrics of every kind and source: filters, revenue and property sums, retention, ratios, clicks. */
const METRICS: MetricDefinition[] = [
  ...Object.values(BUILT_IN_METRICS),
  { name: 'buyers', kind: 'conversion', event: ['purchase', 'order_completed'], windowHours: 6 },
  { name: 'spend', kind: 'sum', event: ['purchase', 'Order Completed'], value: 'revenue', windowHours: 12 },
  { name: 'cart_value', kind: 'sum', event: 'added_to_cart', value: { property: 'price' }, windowHours: 12 },
  {
    name: 'web_buys',
    kind: 'count',
    event: 'purchase',
    windowHours: 12,
    where: { channel: 'web', gift: false },
  },
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
    denominator: { kind: 'count', event: 'purchase', windowHours: 5, where: { channel: 'web' } },
  },
];

const NAMES = [
  'purchase',
  'Order Completed',
  'product_clicked',
  'Product Clicked',
  'click',
  'view',
  'impression',
  'added_to_cart',
];

/**
 * A seeded log of a few hundred users over three days around their exposures: lists of a small catalog,
 * clicks that name a list's request (a user's own, another's, an unknown one) or only an item, purchases in
 * each revenue shape (numbers and numeric strings), filtered properties, strangers, events after `now`.
 */
function fixtureLog(seed: number) {
  const random = mulberry32(seed);
  const pick = (n: number) => Math.floor(random() * n);
  const users = Array.from({ length: 300 }, (_, u) => `user-${u}`);
  const exposures: ExposedUser[] = users
    .filter(() => random() < 0.8)
    .map((userId) => ({ userId, variant: random() < 0.5 ? 'a' : 'b', firstAt: T0 + pick(48) * H }));
  exposures.push({ ...exposures[0]!, firstAt: exposures[0]!.firstAt + 5 * H }); // a repeat: the first counts
  const someone = () => (random() < 0.05 ? 'stranger' : users[pick(users.length)]!);
  const at = () => T0 - 24 * H + pick(120 * 60) * 60_000;
  const lists: Impression[] = Array.from({ length: 600 }, (_, l) =>
    servedList(
      `r${l}`,
      someone(),
      at(),
      Array.from({ length: 1 + pick(4) }, () => `i${pick(40)}`),
    ),
  );
  const properties = (): ScalarRecord => {
    const shape = pick(6);
    const base: Record<string, string | number | boolean | null> =
      shape === 0
        ? { revenue: pick(80) - 5 }
        : shape === 1
          ? { value: `${pick(50)}.5` }
          : shape === 2
            ? { price: 1 + pick(20), quantity: pick(4) }
            : shape === 3
              ? { total: pick(9), revenue: null }
              : shape === 4
                ? { price: '3.25' }
                : {};
    if (random() < 0.6) base['channel'] = random() < 0.7 ? 'web' : 'app';
    if (random() < 0.5) base['gift'] = random() < 0.8 ? false : 'false';
    return base;
  };
  const events: TrackedEvent[] = Array.from({ length: 6000 }, () => {
    if (random() < 0.2) {
      // A click on a list, by its user, soon after it was served: naming its request or only its item.
      const list = lists[pick(lists.length)]!;
      const properties: ScalarRecord = random() < 0.6 ? { request_id: list.requestId } : {};
      const itemId = list.items[pick(list.items.length)]!.itemId;
      const name = random() < 0.5 ? 'click' : 'product_clicked';
      return trackedEvent(list.userId, name, list.createdAt + pick(180) * 60_000, { itemId, properties });
    }
    const name = NAMES[pick(NAMES.length)]!;
    const fields: { itemId?: string | null; properties: ScalarRecord } = { properties: properties() };
    if (random() < 0.7) fields.itemId = `i${pick(40)}`;
    const link = pick(5);
    if (link === 0) fields.properties = { ...fields.properties, request_id: `r${pick(lists.length)}` };
    if (link === 1) fields.properties = { ...fields.properties, request_id: 'gone' };
    return trackedEvent(someone(), name, at(), fields);
  });
  return { exposures, lists, events, now: T0 + 80 * H };
}

interface Log {
  readonly exposures: readonly ExposedUser[];
  readonly lists: readonly Impression[];
  readonly events: readonly TrackedEvent[];
  readonly now: number;
}

/** The one-thread and the two-thread analysis of `log`, with batches of `size`. */
async function bothWays(
  log: Log,
  metrics: readonly MetricDefinition[],
  size: number,
  analyse = computeMetrics,
): Promise<[ExperimentMetrics, ExperimentMetrics, LogReader]> {
  const oneThread = await computeMetrics({
    exposures: log.exposures,
    events: inBatches(log.events, size),
    impressions: inBatches(log.lists, size),
    metrics,
    now: log.now,
  });
  const reader = readerOf({
    kind: 'records',
    events: inBatches(log.events, size),
    impressions: inBatches(log.lists, size),
  });
  const twoThreads = await analyse({ exposures: log.exposures, events: reader, metrics, now: log.now });
  return [oneThread, twoThreads, reader];
}

describe('computeMetrics with a reader thread', () => {
  it('gives the one-thread result bit for bit on seeded logs of every metric kind', async () => {
    for (const [seed, size] of [
      [1, 7],
      [2, 100],
      [3, 10_000],
    ] as const) {
      const log = fixtureLog(seed);
      const [oneThread, twoThreads] = await bothWays(log, METRICS, size);
      expect(bits(twoThreads)).toEqual(bits(oneThread));
      // Evidence that the log exercises what it should: clicks both ways, filtered sums, retention.
      expect(twoThreads.scanned).toEqual({ events: 6000, servedLists: oneThread.scanned.servedLists });
      for (const m of [0, 4, 5, 6, 7, 8, 9, 10, 11, 12]) {
        const total = [...valuesByUser(twoThreads, m).values()].reduce(
          (sum, row) => sum + (row?.[0] ?? 0),
          0,
        );
        expect(total, METRICS[m]!.name).toBeGreaterThan(0);
      }
    }
  });

  it('links clicks by request id and, without one or with an unknown one, by item name', async () => {
    const log: Log = {
      exposures: [
        { userId: 'u1', variant: 'a', firstAt: T0 },
        { userId: 'u2', variant: 'b', firstAt: T0 },
      ],
      lists: [
        servedList('r1', 'u1', T0 + H, ['i1', 'i2']),
        servedList('r2', 'u1', T0 + 2 * H, ['i3']),
        servedList('r9', 'u2', T0 + H, ['i1']),
      ],
      events: [
        trackedEvent('u1', 'product_clicked', T0 + 3 * H, { itemId: 'i1', properties: { request_id: 'r1' } }),
        trackedEvent('u1', 'added_to_cart', T0 + 3 * H, { itemId: 'i9', properties: { request_id: 'r2' } }),
        trackedEvent('u1', 'impression', T0 + 3 * H, { properties: { request_id: 'r2' } }),
        trackedEvent('u1', 'Product Clicked', T0 + 3 * H, { itemId: 'i3' }),
        trackedEvent('u1', 'click', T0 + 1.5 * H, { itemId: 'i3' }),
        trackedEvent('u1', 'item_clicked', T0 + 3 * H, { itemId: 'i1', properties: { request_id: 'gone' } }),
        trackedEvent('u2', 'click', T0 + 3 * H, { itemId: 'i2' }),
        trackedEvent('u2', 'click', T0 + 3 * H, { itemId: 'i9', properties: { request_id: 'r1' } }),
      ],
      now: T0 + 30 * 24 * H,
    };
    const [oneThread, twoThreads] = await bothWays(log, [BUILT_IN_METRICS['click_through']!], 2);
    expect(bits(twoThreads)).toEqual(bits(oneThread));
    expect(valuesByUser(twoThreads, 0).get('u1')).toEqual([4, 2, 0, 0]);
    expect(valuesByUser(twoThreads, 0).get('u2')).toEqual([0, 1, 0, 0]);
  });

  it('gives the one-thread result on a synthetic log in small batches (the buffers go round)', async () => {
    const options: SyntheticOptions = {
      users: 5_000,
      events: 100_000,
      seed: 7,
      catalog: 500,
      batchSize: 500,
    };
    const log = syntheticLog(options);
    const metrics = Object.values(BUILT_IN_METRICS);
    const oneThread = await computeMetrics({
      exposures: log.exposures(),
      events: log.events(),
      impressions: log.impressions(),
      metrics,
      now: log.now,
    });
    // The exposures drawn without the log, as the benchmark's analysis thread draws them.
    const exposed = syntheticExposures(options);
    const reader = readerOf({ kind: 'synthetic', options });
    const twoThreads = await computeMetrics({
      exposures: exposed.exposures(),
      events: reader,
      metrics,
      now: exposed.now,
    });
    expect(bits(twoThreads)).toEqual(bits(oneThread));
    expect(reader.stats.events?.batches).toBe(200);
  });

  it('tells users sharing hashes apart by their ids: the reader reads again with ids', async () => {
    const log = fixtureLog(4);
    const [oneThread, twoThreads, reader] = await bothWays(log, METRICS, 50, computeMetricsComparingKeys);
    expect(bits(twoThreads)).toEqual(bits(oneThread));
    expect(reader.stats.reads).toBe(2);
    const comparing = await computeMetricsComparingKeys({
      exposures: log.exposures,
      events: inBatches(log.events, 50),
      impressions: inBatches(log.lists, 50),
      metrics: METRICS,
      now: log.now,
    });
    expect(bits(comparing)).toEqual(bits(oneThread));
  });

  it("fails with the reader's failure, and ends the reader when the analysis fails", async () => {
    const log = fixtureLog(5);
    const failing = readerOf({
      kind: 'records',
      events: inBatches(log.events, 100),
      impressions: inBatches(log.lists, 100),
      failAtBatch: 3,
    });
    await expect(
      computeMetrics({ exposures: log.exposures, events: failing, metrics: METRICS, now: log.now }),
    ).rejects.toThrow(/reading the log failed: Error: the scan failed at batch 3/);

    const thread = readerThread({ kind: 'records', events: [log.events], impressions: [log.lists] });
    const conflicting = new LogReader(thread);
    const exited = new Promise((resolve) => thread.once('exit', resolve));
    await expect(
      computeMetrics({
        exposures: [
          { userId: 'u1', variant: 'a', firstAt: T0 },
          { userId: 'u1', variant: 'b', firstAt: T0 },
        ],
        events: conflicting,
        metrics: METRICS,
        now: log.now,
      }),
    ).rejects.toThrow(ExposureConflictError);
    expect(await exited).toBe(0);
  });

  it('refuses served lists given beside a reader, which reads them itself', async () => {
    const reader = readerOf({ kind: 'records', events: [], impressions: [] });
    await expect(
      computeMetrics({ exposures: [], events: reader, impressions: [], metrics: METRICS, now: T0 }),
    ).rejects.toThrow(/read by the log reader/);
  });
});
