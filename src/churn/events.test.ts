import { describe, expect, it } from 'vitest';
import type { TrackedEvent } from '../events/index.js';
import { FeatureSet, parseFeatureDefinitions } from '../features/index.js';
import { DAY, MONDAY, testItems, trackedEvent } from '../features/test-events.js';
import { churnTable, validationCuts, type ChurnCut, type EventScan } from './events.js';

/** Churn labels and features on a hand-built timeline around one cutoff. */
const CUTOFF = MONDAY + 30 * DAY;
const WINDOW = 14 * DAY;
const cut = (events: readonly string[] | null = null): ChurnCut => ({
  cutoff: CUTOFF,
  windowMs: WINDOW,
  events,
});

const set = new FeatureSet(
  parseFeatureDefinitions({
    user: [
      { name: 'events', kind: 'count', window: '30d' },
      { name: 'recency_days', kind: 'recency' },
      { name: 'spend', kind: 'sum', event: 'purchased', property: 'value', window: 'lifetime' },
    ],
  }),
  'test',
);

async function* scanOf(events: readonly TrackedEvent[]): EventScan {
  // Two batches, newest first: the table must not depend on the log's order.
  const half = Math.floor(events.length / 2);
  yield events.slice(half);
  yield events.slice(0, half);
}

const at = (userId: string, timestamp: number, name = 'product_viewed', value?: number) =>
  trackedEvent({ userId, timestamp, name, properties: value === undefined ? {} : { value } });

const timeline = [
  // silent: active before, nothing in the window → churned.
  at('silent', CUTOFF - 3 * DAY),
  // back: active before and in the window → stays.
  at('back', CUTOFF - 10 * DAY),
  at('back', CUTOFF + 2 * DAY),
  // onCutoff: comes back exactly at the cutoff (the window starts there) → stays.
  at('onCutoff', CUTOFF - DAY),
  at('onCutoff', CUTOFF),
  // edge: comes back exactly at cutoff + window (the window's end is excluded) → churned.
  at('edge', CUTOFF - DAY),
  at('edge', CUTOFF + WINDOW),
  // newcomer: first seen after the cutoff → not in the table.
  at('newcomer', CUTOFF + DAY),
  // viewer: only views in the window; with purchases as the activity, churned.
  at('viewer', CUTOFF - 2 * DAY, 'purchased', 20),
  at('viewer', CUTOFF + DAY),
];

function labels(table: Awaited<ReturnType<typeof churnTable>>): Record<string, number> {
  return Object.fromEntries(table.ids.map((id, r) => [id, table.y[r]!]));
}

describe('churn labels from an inactivity window', () => {
  it('labels users active before the cutoff by whether they came back in [cutoff, cutoff + window)', async () => {
    const table = await churnTable(set, scanOf(timeline), cut(), testItems);
    expect(labels(table)).toEqual({ silent: 1, back: 0, onCutoff: 0, edge: 1, viewer: 0 });
    expect(table.ids).not.toContain('newcomer');
  });

  it('counts only the named events as coming back', async () => {
    const table = await churnTable(set, scanOf(timeline), cut(['purchased']), testItems);
    expect(labels(table)).toMatchObject({ back: 1, onCutoff: 1, viewer: 1 });
    const withViews = await churnTable(
      set,
      scanOf(timeline),
      cut(['purchased', 'product_viewed']),
      testItems,
    );
    expect(labels(withViews)).toMatchObject({ back: 0, viewer: 0 });
  });

  it('gives the recency-only baseline the days from the last event before the cutoff', async () => {
    const table = await churnTable(set, scanOf(timeline), cut(), testItems);
    const recency = Object.fromEntries(table.ids.map((id, r) => [id, table.recencyDays[r]]));
    expect(recency).toMatchObject({ silent: 3, back: 10, onCutoff: 1, edge: 1, viewer: 2 });
  });
});

describe('churn features at the cutoff', () => {
  it('never see an event at or after the cutoff', async () => {
    const before = [at('u', CUTOFF - 5 * DAY, 'purchased', 10), at('u', CUTOFF - 1, 'purchased', 5)];
    const after = [
      at('u', CUTOFF, 'purchased', 1000),
      at('u', CUTOFF + DAY, 'purchased', 1000),
      at('u', CUTOFF + 40 * DAY),
    ];
    const only = await churnTable(set, scanOf(before), cut(), testItems);
    const all = await churnTable(set, scanOf([...after, ...before]), cut(), testItems);
    expect(all.columns).toEqual(['events', 'recency_days', 'spend']);
    // The later events change the label, and nothing else.
    expect(Array.from(all.x)).toEqual(Array.from(only.x));
    expect(Array.from(all.x)).toEqual([2, 1 / 86_400_000, 15]);
    expect(labels(only)).toEqual({ u: 1 });
    expect(labels(all)).toEqual({ u: 0 });
  });
});

describe('time-based validation cuts', () => {
  it('trains one window before the evaluation cut, whose window must have ended by now', () => {
    const now = CUTOFF + WINDOW;
    const cuts = validationCuts(now, WINDOW, null);
    expect(cuts.evaluation.cutoff).toBe(CUTOFF);
    expect(cuts.train.cutoff).toBe(CUTOFF - WINDOW);
    expect(() => validationCuts(now - 1, WINDOW, null, CUTOFF)).toThrow(/labels are not known yet/);
  });
});
