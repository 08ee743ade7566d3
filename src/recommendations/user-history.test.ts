import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { defaultFeedbackConfig, feedbackOf, type TrackedEvent } from '../events/index.js';
import type { UserItemTotal } from '../store/index.js';
import { HistoryTables, UserHistory, isPurchase, type HistorySettings } from './user-history.js';

const T0 = Date.UTC(2026, 0, 1);
const MINUTE = 60_000;
const settings: HistorySettings = {
  feedback: defaultFeedbackConfig,
  windowMs: 30 * MINUTE,
  windowEvents: 1000,
};

function tracked(
  index: number,
  name: string,
  itemId: string | null,
  timestamp: number,
  session?: string,
): TrackedEvent {
  return {
    eventId: `e${index}`,
    name,
    userId: 'u',
    itemId,
    timestamp,
    receivedAt: timestamp,
    context: session === undefined ? {} : { session_id: session },
    properties: {},
    requestId: null,
  };
}

interface Expected {
  weight: number;
  lastAt: number;
  rejected: boolean;
  purchased: boolean;
  action: string | null;
  actionWeight: number;
}

/** What a user's whole history means, computed the plain way: one pass over every event, no windows. */
function reference(events: readonly TrackedEvent[]): Map<string, Expected> {
  const out = new Map<string, Expected>();
  for (const event of events) {
    if (event.itemId === null) continue;
    const kind = feedbackOf(defaultFeedbackConfig, event);
    if (kind.kind !== 'positive' && kind.kind !== 'negative') continue;
    const entry = out.get(event.itemId) ?? {
      weight: 0,
      lastAt: -Infinity,
      rejected: false,
      purchased: false,
      action: null,
      actionWeight: -Infinity,
    };
    entry.lastAt = Math.max(entry.lastAt, event.timestamp);
    if (kind.kind === 'negative') {
      entry.weight -= kind.weight;
      entry.rejected = true;
    } else {
      entry.weight += kind.weight;
      if (isPurchase(event.name)) entry.purchased = true;
      const wins =
        kind.weight > entry.actionWeight ||
        (kind.weight === entry.actionWeight && entry.action !== null && event.name < entry.action);
      if (wins) {
        entry.action = event.name;
        entry.actionWeight = kind.weight;
      }
    }
    out.set(event.itemId, entry);
  }
  return out;
}

function describeHistory(history: UserHistory): Map<string, Omit<Expected, 'actionWeight'>> {
  const out = new Map<string, Omit<Expected, 'actionWeight'>>();
  for (let k = 0; k < history.size; k++) {
    out.set(history.itemId(k), {
      weight: history.weights[k]!,
      lastAt: history.lastAt[k]!,
      rejected: history.rejectedAt(k),
      purchased: history.purchasedAt(k),
      action: history.actionAt(k),
    });
  }
  return out;
}

const withoutActionWeight = (expected: Map<string, Expected>) =>
  new Map([...expected].map(([id, { actionWeight: _, ...rest }]) => [id, rest]));

/** The store's per-(item, name) aggregates of `events`, positions 1, 2, … in order. */
function totalsOf(events: readonly TrackedEvent[]): UserItemTotal[] {
  const totals = new Map<
    string,
    { itemId: string; name: string; count: number; lastAt: number; lastSeq: number }
  >();
  events.forEach((event, index) => {
    if (event.itemId === null) return;
    const key = `${event.itemId}\u0000${event.name}`;
    const total = totals.get(key) ?? {
      itemId: event.itemId,
      name: event.name,
      count: 0,
      lastAt: -Infinity,
      lastSeq: 0,
    };
    total.count += 1;
    total.lastAt = Math.max(total.lastAt, event.timestamp);
    total.lastSeq = index + 1;
    totals.set(key, total);
  });
  return [...totals.values()];
}

const NAMES = [
  'product_viewed',
  'clicked',
  'added_to_cart',
  'purchased',
  'Order Completed',
  'dismissed',
  'not_interested',
  'impression',
  'rated',
  'liked',
  'signed_up',
] as const;

/** Long histories: up to 3,000 events over 400 items, far past any window serving has ever read. */
const histories = fc
  .array(
    fc.record({
      item: fc.option(fc.integer({ min: 0, max: 399 }), { nil: null, freq: 20 }),
      name: fc.constantFrom(...NAMES),
      minutes: fc.integer({ min: 0, max: 60 * 24 * 90 }),
    }),
    { minLength: 0, maxLength: 3000, size: 'max' },
  )
  .map((rows) =>
    rows.map((r, i) => tracked(i, r.name, r.item === null ? null : `i${r.item}`, T0 + r.minutes * MINUTE)),
  );

describe('UserHistory', () => {
  it('keeps the whole history exactly, however long, whether built event by event, in batches or from totals', () => {
    fc.assert(
      fc.property(
        histories,
        fc.array(fc.integer({ min: 1, max: 500 }), { maxLength: 20 }),
        (events, cuts) => {
          const tables = new HistoryTables();
          const want = withoutActionWeight(reference(events));
          const byEvent = UserHistory.fromEvents(tables, events, settings);
          expect(describeHistory(byEvent)).toEqual(want);

          let batched = UserHistory.empty(tables);
          let at = 0;
          for (const cut of [...cuts, events.length]) {
            const end = Math.min(events.length, at + cut);
            const batch = events.slice(at, end).map((event, j) => ({ event, position: at + j + 1 }));
            batched = batched.withEvents(batch, settings);
            at = end;
          }
          expect(describeHistory(batched)).toEqual(want);

          const fromTotals = UserHistory.fromTotals(new HistoryTables(), totalsOf(events), settings);
          expect(describeHistory(fromTotals)).toEqual(want);
          expect(fromTotals.through).toBe(
            events.filter((e) => e.itemId !== null).length > 0 ? lastItemPosition(events) : 0,
          );
          expect(fromTotals.feedbackPosition).toBe(byEvent.feedbackPosition);
        },
      ),
      { numRuns: 60, endOnFailure: true }, // shrinking thousands of events takes minutes
    );
  });

  it('never forgets a dismissal or a purchase, whatever follows it', () => {
    const events = [
      tracked(0, 'dismissed', 'gone', T0),
      tracked(1, 'purchased', 'bought', T0 + MINUTE),
      // 5,000 later events, impressions and views of other items: far more than any window.
      ...Array.from({ length: 5000 }, (_, k) =>
        tracked(
          2 + k,
          k % 2 === 0 ? 'impression' : 'product_viewed',
          `other${k % 700}`,
          T0 + (2 + k) * MINUTE,
        ),
      ),
      tracked(5002, 'impression', 'gone', T0 + 6000 * MINUTE),
    ];
    const history = UserHistory.fromEvents(new HistoryTables(), events, settings);
    expect(history.rejected('gone')).toBe(true);
    expect(history.purchased('bought')).toBe(true);
    expect(history.has('bought')).toBe(true);
    // An impression is not feedback: it neither marks an item seen nor moves its time.
    expect(history.lastSeenAt('gone')).toBe(T0);
    expect(history.has('other1')).toBe(true);
    expect(history.has('other0')).toBe(false);
    expect(history.size).toBe(2 + 350);
  });

  it('applies each committed event once: positions at or below `through` are already in', () => {
    const tables = new HistoryTables();
    const totals: UserItemTotal[] = [
      { itemId: 'a', name: 'product_viewed', count: 2, lastAt: T0, lastSeq: 7 },
    ];
    const read = UserHistory.fromTotals(tables, totals, settings);
    expect(read.through).toBe(7);
    const again = read.withEvents([{ event: tracked(7, 'product_viewed', 'a', T0), position: 7 }], settings);
    expect(again).toBe(read);
    const next = read.withEvents(
      [
        { event: tracked(6, 'purchased', 'a', T0), position: 6 },
        { event: tracked(8, 'purchased', 'a', T0 + MINUTE), position: 8 },
      ],
      settings,
    );
    expect(next.weights[next.find('a')]).toBe(2 * 1 + 8);
    expect(next.feedbackPosition).toBe(8);
    // The history read earlier is untouched: profiles derived from it stay valid.
    expect(read.weights[read.find('a')]).toBe(2);
  });

  it('returns itself for events that change nothing it keeps', () => {
    const history = UserHistory.fromEvents(
      new HistoryTables(),
      [tracked(0, 'product_viewed', 'a', T0)],
      settings,
    );
    const same = history.withEvents(
      [
        { event: tracked(1, 'impression', 'b', T0 + 1), position: 5 },
        { event: tracked(2, 'signed_up', null, T0 + 2), position: 6 },
      ],
      settings,
    );
    expect(same).toBe(history);
  });

  it('keeps the session window: the feedback events within windowMs of the newest, newest first', () => {
    const events = [
      tracked(0, 'product_viewed', 'old', T0, 's1'),
      tracked(1, 'product_viewed', 'a', T0 + 60 * MINUTE, 's2'),
      tracked(2, 'impression', 'x', T0 + 70 * MINUTE, 's2'),
      tracked(3, 'added_to_cart', 'b', T0 + 80 * MINUTE, 's2'),
      tracked(4, 'product_viewed', 'c', T0 + 80 * MINUTE, 's2'),
    ];
    const history = UserHistory.fromEvents(new HistoryTables(), events, settings);
    // Equal times: the later arrival first, as the store orders them.
    expect(history.recent.map((e) => e.itemId)).toEqual(['c', 'b', 'a']);
    expect(history.recent[0]!.sessionId).toBe('s2');
    const capped = UserHistory.fromEvents(new HistoryTables(), events, { ...settings, windowEvents: 2 });
    expect(capped.recent.map((e) => e.itemId)).toEqual(['c', 'b']);
  });

  it('takes the window from stored events on a read, leaving out what is not feedback', () => {
    const events = [
      tracked(0, 'product_viewed', 'a', T0),
      tracked(1, 'impression', 'b', T0 + MINUTE),
      tracked(2, 'purchased', 'c', T0 + 2 * MINUTE),
    ];
    const read = UserHistory.fromTotals(new HistoryTables(), totalsOf(events), settings);
    expect(read.newestAt).toBe(T0 + 2 * MINUTE);
    const withWindow = read.withWindow([...events].reverse(), settings);
    expect(withWindow.recent.map((e) => e.itemId)).toEqual(['c', 'a']);
    expect(describeHistory(withWindow)).toEqual(describeHistory(read));
  });
});

function lastItemPosition(events: readonly TrackedEvent[]): number {
  let last = 0;
  events.forEach((event, index) => {
    if (event.itemId !== null) last = index + 1;
  });
  return last;
}

describe('UserHistory.fingerprint', () => {
  it('is the same for the same events read in another process (other ordinals, other order)', () => {
    fc.assert(
      fc.property(histories, fc.integer({ min: 0, max: 50 }), (events, others) => {
        const here = UserHistory.fromTotals(new HistoryTables(), totalsOf(events), settings);
        // Another process: items it met before, in another order, so every ordinal differs.
        const tables = new HistoryTables();
        for (let i = 0; i < others; i++) tables.items.intern(`other${i}`);
        const there = UserHistory.fromTotals(tables, totalsOf(events).reverse(), settings);
        expect(there.fingerprint).toBe(here.fingerprint);
      }),
      { numRuns: 50 },
    );
  });

  it('changes with an event that changes what the history holds, and only then', () => {
    const events = [tracked(0, 'product_viewed', 'a', T0), tracked(1, 'purchased', 'b', T0 + MINUTE)];
    const history = UserHistory.fromEvents(new HistoryTables(), events, settings);
    const more = (name: string, itemId: string) =>
      history.withEvents([{ event: tracked(2, name, itemId, T0 + 2 * MINUTE), position: 3 }], settings);
    expect(more('product_viewed', 'a').fingerprint).not.toBe(history.fingerprint);
    expect(more('product_viewed', 'c').fingerprint).not.toBe(history.fingerprint);
    expect(more('purchased', 'a').fingerprint).not.toBe(more('product_viewed', 'a').fingerprint);
    expect(more('impression', 'a').fingerprint).toBe(history.fingerprint);
  });
});
