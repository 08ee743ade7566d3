import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import type { Item, User } from '../catalog/types.js';
import type { DecisionOutcome, LoggedDecision } from '../decisions/points/log-types.js';
import { explored, HOUR_MS } from '../decisions/timeline.js';
import type { AppendResult, TrackedEvent } from '../events/types.js';
import type { Impression } from '../recommendations/impression.js';
import type { JsonValue, ScalarRecord } from '../shared/types.js';
import { StoreClosedError } from './errors.js';
import type {
  NewArtifact,
  RecentEventsOptions,
  Store,
  StoredApiKey,
  StoredArtifact,
  UserEventsOptions,
  UserItemTotal,
} from './types.js';

/*
 * The behaviour every `Store` backend must have, written once. A backend's test file calls
 * `describeStoreContract('sqlite', open)` with an `open` that returns a fresh, empty store each time; the
 * suite closes it after every test (so `close()` must be idempotent).
 */

const T0 = Date.UTC(2025, 0, 1);
const MINUTE = 60_000;

/** Scalars whose JSON round trip is easy to get subtly wrong (type coercion, precision, escaping). */
const TRICKY_SCALARS: ScalarRecord = {
  zero: 0,
  negative: -42,
  fraction: 0.1 + 0.2,
  tiny: 5e-324,
  huge: 1.7976931348623157e308,
  maxSafe: Number.MAX_SAFE_INTEGER,
  minSafe: Number.MIN_SAFE_INTEGER,
  yes: true,
  no: false,
  nothing: null,
  empty: '',
  numeric: '007',
  boolish: 'true',
  nullish: 'null',
  unicode: 'Größe 日本語 🎉',
  escapes: 'quote " backslash \\ newline \n tab \t nul \u0000',
};

export function event(overrides: Partial<TrackedEvent> & { readonly eventId: string }): TrackedEvent {
  return {
    name: 'product_viewed',
    userId: 'u1',
    itemId: 'i1',
    timestamp: T0,
    receivedAt: T0 + 5,
    context: {},
    properties: {},
    requestId: null,
    ...overrides,
  };
}

export function item(overrides: Partial<Item> & { readonly id: string }): Item {
  return {
    categories: ['shoes'],
    tags: ['sale'],
    price: 19.99,
    available: true,
    createdAt: T0,
    expiresAt: null,
    attributes: { brand: 'acme' },
    updatedAt: T0,
    ...overrides,
  };
}

function events(count: number, make: (index: number) => Partial<TrackedEvent> = () => ({})): TrackedEvent[] {
  return Array.from({ length: count }, (_, index) =>
    event({ eventId: `e${String(index).padStart(4, '0')}`, timestamp: T0 + index * MINUTE, ...make(index) }),
  );
}

function artifact(name: string, payload: Uint8Array, meta: JsonValue = {}, createdAt = T0): NewArtifact {
  return { name, createdAt, meta, payload };
}

const stored = (version: number, saved: NewArtifact): StoredArtifact => ({ ...saved, version });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function collect<T>(batches: AsyncIterable<T[]>): Promise<T[][]> {
  const out: T[][] = [];
  for await (const batch of batches) out.push(batch);
  return out;
}

const ids = (list: readonly TrackedEvent[]): string[] => list.map((e) => e.eventId);

/** The position an append gave its `index`th event (which must not have been a duplicate). */
function positionOf(result: AppendResult, index: number): number {
  const position = result.positions[index];
  if (position === null || position === undefined) throw new Error(`event ${index} has no position`);
  return position;
}

/**
 * Three appends of "own" events (a, b, c: `u1`'s or `i1`'s in the tests) interleaved with others (x), as
 * `shape` makes them, and the log position after each. Times, own events newest first:
 * b2 (+5 min), c2 (+4), c1 (+3, after a1), a1 (+3), a2 (+1), b1 (+0); b1 is older than the first batch.
 */
async function appendPositioned(
  store: Store,
  shape: (owner: 'u1' | 'other', index: number) => Partial<TrackedEvent>,
): Promise<{
  readonly first: AppendResult;
  readonly second: AppendResult;
  readonly third: AppendResult;
  readonly p1: number;
  readonly p2: number;
  readonly p3: number;
}> {
  const batch = async (
    list: readonly [id: string, owner: 'u1' | 'other', minutes: number][],
  ): Promise<[AppendResult, number]> => {
    const result = await store.appendEvents(
      list.map(([eventId, owner, minutes], index) =>
        event({ eventId, timestamp: T0 + minutes * MINUTE, ...shape(owner, index) }),
      ),
      { createMissingItems: false },
    );
    expect(result.stored).toBe(list.length);
    return [result, await store.lastEventSeq()];
  };
  const [first, p1] = await batch([
    ['x1', 'other', 3],
    ['a1', 'u1', 3],
    ['a2', 'u1', 1],
  ]);
  const [second, p2] = await batch([
    ['b1', 'u1', 0],
    ['x2', 'other', 4],
    ['b2', 'u1', 5],
  ]);
  const [third, p3] = await batch([
    ['c1', 'u1', 3],
    ['x3', 'other', 6],
    ['c2', 'u1', 4],
  ]);
  return { first, second, third, p1, p2, p3 };
}

export function decision(overrides: Partial<LoggedDecision> & { readonly id: string }): LoggedDecision {
  return {
    point: 'checkout-offer',
    userId: 'u1',
    at: T0,
    context: { device: 'mobile' },
    features: new Float64Array([1, 0.5, -2]),
    offered: ['none', 'discount', 'shipping'],
    probabilities: [0.2, 0.5, 0.3],
    action: 'discount',
    propensity: 0.5,
    policy: 'learner',
    experiment: null,
    deadline: T0 + 60 * MINUTE,
    outcome: null,
    ...overrides,
  };
}

/** The bytes of a feature row: what "bit for bit" compares (`toEqual` on numbers would let -0 pass as 0). */
const featureBytes = (features: Float64Array): number[] =>
  Array.from(new Uint8Array(features.buffer, features.byteOffset, features.byteLength));

const decisionIds = (list: readonly LoggedDecision[]): string[] => list.map((d) => d.id);

export function describeStoreContract(name: string, open: () => Promise<Store>): void {
  describe(`Store contract: ${name}`, () => {
    let store: Store;

    beforeEach(async () => {
      store = await open();
    });

    afterEach(async () => {
      await store.close();
    });

    it('names its backend', () => {
      expect(store.backend).toBe(name);
    });

    describe('appendEvents', () => {
      it('gives concurrent appends the results they would have had one after the other', async () => {
        const [first, second, third] = await Promise.all([
          store.appendEvents([event({ eventId: 'c1' }), event({ eventId: 'c2' })], {
            createMissingItems: false,
          }),
          store.appendEvents([event({ eventId: 'c2' }), event({ eventId: 'c3' })], {
            createMissingItems: false,
          }),
          store.appendEvents([event({ eventId: 'c3', itemId: 'new-item' })], { createMissingItems: true }),
        ]);
        expect(first).toMatchObject({ stored: 2, duplicates: [], createdItems: [] });
        expect(second).toMatchObject({ stored: 1, duplicates: ['c2'], createdItems: [] });
        expect(third).toEqual({ stored: 0, duplicates: ['c3'], createdItems: [], positions: [null] });
        // Positions increase in commit order: the three calls committed one after the other.
        const [p1, p2] = first!.positions;
        expect(second!.positions[0]).toBeNull();
        expect(p1).toBeTypeOf('number');
        expect(p2).toBeGreaterThan(p1!);
        expect(second!.positions[1]).toBeGreaterThan(p2!);
        expect(await store.countEvents()).toBe(3);
        expect(await store.getItem('new-item')).toBeNull();
      });

      it('stores a batch and returns the events unchanged', async () => {
        const batch = [
          event({
            eventId: 'a',
            context: { ip: '10.0.0.1', mobile: true },
            properties: { request_id: 'r1', price: 12.5, qty: 2 },
            requestId: 'r1',
          }),
          event({ eventId: 'b', name: 'Signed Up', itemId: null, timestamp: T0 + MINUTE }),
        ];
        expect(await store.appendEvents(batch, { createMissingItems: false })).toMatchObject({
          stored: 2,
          duplicates: [],
          createdItems: [],
        });
        expect(await store.countEvents()).toBe(2);
        expect(await store.userEvents('u1')).toEqual([batch[1], batch[0]]);
      });

      it('accepts an empty batch', async () => {
        expect(await store.appendEvents([], { createMissingItems: true })).toEqual({
          stored: 0,
          duplicates: [],
          createdItems: [],
          positions: [],
        });
        expect(await store.countEvents()).toBe(0);
      });

      it('skips event ids stored by an earlier batch and keeps the first version', async () => {
        await store.appendEvents([event({ eventId: 'a' }), event({ eventId: 'b' })], {
          createMissingItems: false,
        });
        const result = await store.appendEvents(
          [event({ eventId: 'b', name: 'changed' }), event({ eventId: 'c' }), event({ eventId: 'a' })],
          { createMissingItems: false },
        );
        expect(result.stored).toBe(1);
        expect(result.duplicates).toEqual(['b', 'a']);
        expect(await store.countEvents()).toBe(3);
        const stored = await store.userEvents('u1');
        expect(stored.find((e) => e.eventId === 'b')?.name).toBe('product_viewed');
      });

      it('skips a repeat inside the same batch', async () => {
        const result = await store.appendEvents(
          [event({ eventId: 'a' }), event({ eventId: 'b' }), event({ eventId: 'a', name: 'again' })],
          { createMissingItems: false },
        );
        expect(result).toMatchObject({ stored: 2, duplicates: ['a'], createdItems: [] });
        // The first copy is the one stored: it has a position, the repeat has none.
        expect(result.positions[0]).toBeTypeOf('number');
        expect(result.positions[1]).toBeGreaterThan(result.positions[0]!);
        expect(result.positions[2]).toBeNull();
        expect(await store.countEvents()).toBe(2);
        expect((await store.userEvents('u1')).map((e) => e.name)).toEqual([
          'product_viewed',
          'product_viewed',
        ]);
      });

      it('creates missing items once each, with placeholder fields, when asked', async () => {
        await store.putItems([item({ id: 'known', categories: ['kept'] })]);
        const result = await store.appendEvents(
          [
            event({ eventId: 'a', itemId: 'new1', timestamp: T0 + 1000, receivedAt: T0 + 2000 }),
            event({ eventId: 'b', itemId: 'known' }),
            event({ eventId: 'c', itemId: 'new1', timestamp: T0 + 9000 }),
            event({ eventId: 'd', itemId: null }),
            event({ eventId: 'e', itemId: 'new2' }),
          ],
          { createMissingItems: true },
        );
        expect(result.stored).toBe(5);
        expect(result.createdItems).toEqual(['new1', 'new2']);
        expect(await store.countItems()).toBe(3);
        const created = await store.getItem('new1');
        expect(created).toMatchObject({
          id: 'new1',
          categories: [],
          tags: [],
          price: null,
          available: true,
          createdAt: T0 + 1000,
          expiresAt: null,
          attributes: {},
        });
        expect((await store.getItem('known'))?.categories).toEqual(['kept']);
      });

      it('creates no items unless asked', async () => {
        await store.appendEvents([event({ eventId: 'a', itemId: 'x' })], { createMissingItems: false });
        expect(await store.getItem('x')).toBeNull();
        expect(await store.countItems()).toBe(0);
      });

      it('does not create items for duplicate events', async () => {
        await store.appendEvents([event({ eventId: 'a', itemId: 'x' })], { createMissingItems: true });
        await store.deleteItem('x');
        const result = await store.appendEvents([event({ eventId: 'a', itemId: 'x' })], {
          createMissingItems: true,
        });
        expect(result).toMatchObject({ stored: 0, duplicates: ['a'], createdItems: [] });
        expect(await store.getItem('x')).toBeNull();
      });

      it('creates a deleted item again for a new event that names it, and a put item never', async () => {
        await store.appendEvents([event({ eventId: 'a', itemId: 'x' })], { createMissingItems: true });
        expect(await store.deleteItem('x')).toBe(true);
        const again = await store.appendEvents([event({ eventId: 'b', itemId: 'x' })], {
          createMissingItems: true,
        });
        expect(again.createdItems).toEqual(['x']);
        expect(await store.getItem('x')).toMatchObject({ id: 'x', categories: [] });
        await store.putItems([item({ id: 'y', categories: ['shoes'] })]);
        const put = await store.appendEvents([event({ eventId: 'c', itemId: 'y' })], {
          createMissingItems: true,
        });
        expect(put.createdItems).toEqual([]);
        expect((await store.getItem('y'))?.categories).toEqual(['shoes']);
      });

      it('stores all of a batch or none of it', async () => {
        await store.appendEvents([event({ eventId: 'before' })], { createMissingItems: false });
        const unserialisable = { big: 1n } as unknown as ScalarRecord;
        const batch = [
          event({ eventId: 'a', itemId: 'new' }),
          event({ eventId: 'b', properties: unserialisable }),
          event({ eventId: 'c', itemId: null }),
        ];
        await expect(store.appendEvents(batch, { createMissingItems: true })).rejects.toThrow();
        expect(await store.countEvents()).toBe(1);
        expect(await store.countItems()).toBe(0);
        // The failed batch left no transaction open behind it: the good events go in afterwards.
        const retry = await store.appendEvents([batch[0]!, batch[2]!], { createMissingItems: true });
        expect(retry).toMatchObject({ stored: 2, duplicates: [], createdItems: ['new'] });
        // The rolled-back attempt counted nothing: each item once, from the events that went in.
        const totals = await store.userItems('u1');
        expect(totals.map((t) => [t.itemId, t.count]).sort()).toEqual([
          ['i1', 1],
          ['new', 1],
        ]);
      });
    });

    describe('userItems', () => {
      const byKey = (list: readonly UserItemTotal[]) =>
        [...list].sort((a, b) => (a.itemId + a.name < b.itemId + b.name ? -1 : 1));

      it("sums a user's events per item and name, with the latest time and position", async () => {
        const first = await store.appendEvents(
          [
            event({ eventId: 'a', itemId: 'i1', timestamp: T0 + 2 * MINUTE }),
            event({ eventId: 'b', itemId: 'i1', timestamp: T0 }),
            event({ eventId: 'c', itemId: 'i1', name: 'purchased', timestamp: T0 + MINUTE }),
            event({ eventId: 'd', itemId: 'i2', timestamp: T0 }),
            event({ eventId: 'e', itemId: null, name: 'Signed Up', timestamp: T0 }),
            event({ eventId: 'f', userId: 'u2', itemId: 'i1', timestamp: T0 }),
          ],
          { createMissingItems: false },
        );
        // Repeats count once, whether from an earlier batch or within this one.
        const second = await store.appendEvents(
          [
            event({ eventId: 'a', itemId: 'i1' }),
            event({ eventId: 'g', itemId: 'i2', timestamp: T0 - MINUTE }),
          ],
          { createMissingItems: false },
        );
        const [a, b, c, d] = first.positions;
        expect(b).toBeGreaterThan(a!);
        expect(byKey(await store.userItems('u1'))).toEqual([
          { itemId: 'i1', name: 'product_viewed', count: 2, lastAt: T0 + 2 * MINUTE, lastSeq: b },
          { itemId: 'i1', name: 'purchased', count: 1, lastAt: T0 + MINUTE, lastSeq: c },
          // An older event arriving later keeps the latest time but moves the position on.
          { itemId: 'i2', name: 'product_viewed', count: 2, lastAt: T0, lastSeq: second.positions[1] },
        ]);
        expect(d).toBeGreaterThan(c!);
        expect(await store.userItems('u2')).toEqual([
          { itemId: 'i1', name: 'product_viewed', count: 1, lastAt: T0, lastSeq: first.positions[5] },
        ]);
        expect(await store.userItems('nobody')).toEqual([]);
      });

      it('covers the whole history, however long', async () => {
        const many = events(3000, (index) => ({ itemId: `i${index % 700}` }));
        for (let start = 0; start < many.length; start += 1000)
          await store.appendEvents(many.slice(start, start + 1000), { createMissingItems: false });
        const totals = await store.userItems('u1');
        expect(totals).toHaveLength(700);
        expect(totals.reduce((sum, t) => sum + t.count, 0)).toBe(3000);
        const first = totals.find((t) => t.itemId === 'i0')!;
        // i0 is events 0, 700, 1400, 2100 and 2800: the last one's time.
        expect(first).toMatchObject({ count: 5, lastAt: T0 + 2800 * MINUTE });
      });
    });

    describe('userEvents', () => {
      it('returns newest first by timestamp, then by insertion order', async () => {
        await store.appendEvents(
          [
            event({ eventId: 'old', timestamp: T0 }),
            event({ eventId: 'new', timestamp: T0 + 2 * MINUTE }),
            event({ eventId: 'tie1', timestamp: T0 + MINUTE }),
            event({ eventId: 'tie2', timestamp: T0 + MINUTE }),
            event({ eventId: 'other-user', userId: 'u2', timestamp: T0 + 3 * MINUTE }),
          ],
          { createMissingItems: false },
        );
        await store.appendEvents([event({ eventId: 'late-but-older', timestamp: T0 - MINUTE })], {
          createMissingItems: false,
        });
        expect(ids(await store.userEvents('u1'))).toEqual(['new', 'tie2', 'tie1', 'old', 'late-but-older']);
        expect(ids(await store.userEvents('u2'))).toEqual(['other-user']);
        expect(await store.userEvents('nobody')).toEqual([]);
      });

      it('returns at most 100 by default, the newest ones', async () => {
        await store.appendEvents(events(120), { createMissingItems: false });
        const got = await store.userEvents('u1');
        expect(got).toHaveLength(100);
        expect(got[0]?.eventId).toBe('e0119');
        expect(got.at(-1)?.eventId).toBe('e0020');
      });

      it('honours limit and since (inclusive)', async () => {
        await store.appendEvents(events(10), { createMissingItems: false });
        expect(ids(await store.userEvents('u1', { limit: 3 }))).toEqual(['e0009', 'e0008', 'e0007']);
        expect(ids(await store.userEvents('u1', { since: T0 + 7 * MINUTE }))).toEqual([
          'e0009',
          'e0008',
          'e0007',
        ]);
        expect(ids(await store.userEvents('u1', { since: T0 + 2 * MINUTE, limit: 2 }))).toEqual([
          'e0009',
          'e0008',
        ]);
        expect(await store.userEvents('u1', { since: T0 + 10 * MINUTE })).toEqual([]);
      });

      it('keeps the positions after afterSeq and through throughSeq, per user, with since and limit', async () => {
        const { first, second, third, p1, p2, p3 } = await appendPositioned(store, (x) => ({
          userId: x === 'u1' ? 'u1' : 'u2',
          itemId: 'i1',
        }));
        // Every event of u1, newest first: c1 and a1 tie on time, and c1 came later.
        const all = ['b2', 'c2', 'c1', 'a1', 'a2', 'b1'];
        const window = async (options: UserEventsOptions) => ids(await store.userEvents('u1', options));
        expect(await window({})).toEqual(all);
        expect(await window({ afterSeq: 0 })).toEqual(all);
        expect(await window({ throughSeq: p3 })).toEqual(all);
        expect(await window({ afterSeq: p1 })).toEqual(['b2', 'c2', 'c1', 'b1']);
        expect(await window({ throughSeq: p1 })).toEqual(['a1', 'a2']);
        expect(await window({ afterSeq: p1, throughSeq: p2 })).toEqual(['b2', 'b1']);
        expect(await window({ afterSeq: p2, throughSeq: p3 })).toEqual(['c2', 'c1']);
        // Positions of single events (another user's included) from the append results.
        const x2 = positionOf(second, 1);
        expect(await window({ afterSeq: x2 })).toEqual(['b2', 'c2', 'c1']);
        expect(await window({ throughSeq: x2 })).toEqual(['a1', 'a2', 'b1']);
        expect(await window({ afterSeq: positionOf(first, 1), throughSeq: positionOf(third, 0) })).toEqual([
          'b2',
          'c1',
          'a2',
          'b1',
        ]);
        // With since and limit: the bounds first, then the newest of what is left.
        expect(await window({ afterSeq: p1, since: T0 + 3 * MINUTE })).toEqual(['b2', 'c2', 'c1']);
        expect(await window({ throughSeq: p2, since: T0 + 3 * MINUTE })).toEqual(['b2', 'a1']);
        expect(await window({ afterSeq: p1, limit: 2 })).toEqual(['b2', 'c2']);
        expect(await window({ throughSeq: p1, limit: 1 })).toEqual(['a1']);
        expect(
          await window({ afterSeq: positionOf(first, 1), throughSeq: p2, since: T0 + MINUTE, limit: 2 }),
        ).toEqual(['b2', 'a2']);
        // Empty ranges.
        expect(await window({ afterSeq: p3 })).toEqual([]);
        expect(await window({ throughSeq: 0 })).toEqual([]);
        expect(await window({ afterSeq: p2, throughSeq: p2 })).toEqual([]);
        expect(await window({ afterSeq: p2, throughSeq: p1 })).toEqual([]);
        // The other user's events by the same bounds.
        expect(ids(await store.userEvents('u2', { afterSeq: p1 }))).toEqual(['x3', 'x2']);
        expect(ids(await store.userEvents('u2', { throughSeq: p2 }))).toEqual(['x2', 'x1']);
        expect(ids(await store.userEvents('u2', { afterSeq: p1, throughSeq: p2 }))).toEqual(['x2']);
        expect(await store.userEvents('nobody', { afterSeq: 0, throughSeq: p3 })).toEqual([]);
      });

      it('refuses position bounds that are not integers ≥ 0, naming the option', async () => {
        await store.appendEvents(events(2), { createMissingItems: false });
        const reads: [string, (options: UserEventsOptions) => Promise<TrackedEvent[]>][] = [
          ['u1', (options) => store.userEvents('u1', options)],
          ['i1', (options) => store.itemEvents('i1', options)],
        ];
        for (const [id, read] of reads) {
          expect(ids(await read({ afterSeq: 0, throughSeq: await store.lastEventSeq() })), id).toEqual([
            'e0001',
            'e0000',
          ]);
          await expect(read({ afterSeq: -1 })).rejects.toThrow(/afterSeq/);
          await expect(read({ afterSeq: 1.5 })).rejects.toThrow(/afterSeq/);
          await expect(read({ afterSeq: Number.NaN })).rejects.toThrow(/afterSeq/);
          await expect(read({ throughSeq: -1 })).rejects.toThrow(/throughSeq/);
          await expect(read({ throughSeq: 0.5 })).rejects.toThrow(/throughSeq/);
          await expect(read({ throughSeq: Number.POSITIVE_INFINITY })).rejects.toThrow(/throughSeq/);
          await expect(read({ afterSeq: 0, throughSeq: -3 })).rejects.toThrow(RangeError);
        }
      });
    });

    describe('itemEvents', () => {
      it("returns an item's events newest first, honouring since (inclusive) and limit", async () => {
        await store.appendEvents(
          [
            event({ eventId: 'a', itemId: 'i1', timestamp: T0 }),
            event({ eventId: 'b', itemId: 'i1', userId: 'u2', timestamp: T0 + 2 * MINUTE }),
            event({ eventId: 'other-item', itemId: 'i2', timestamp: T0 + MINUTE }),
            event({ eventId: 'no-item', itemId: null, timestamp: T0 + MINUTE }),
          ],
          { createMissingItems: false },
        );
        await store.appendEvents([event({ eventId: 'late', itemId: 'i1', timestamp: T0 + MINUTE })], {
          createMissingItems: false,
        });
        expect(ids(await store.itemEvents('i1'))).toEqual(['b', 'late', 'a']);
        expect(ids(await store.itemEvents('i1', { since: T0 + MINUTE }))).toEqual(['b', 'late']);
        expect(ids(await store.itemEvents('i1', { limit: 1 }))).toEqual(['b']);
        expect(await store.itemEvents('nothing')).toEqual([]);
      });

      it('keeps the positions after afterSeq and through throughSeq, per item, with since and limit', async () => {
        // i1's events come from several users; i2's and item-less events are interleaved with them.
        const { first, second, third, p1, p2, p3 } = await appendPositioned(store, (x, index) => ({
          userId: `u${index % 3}`,
          itemId: x === 'u1' ? 'i1' : index === 0 ? null : 'i2',
        }));
        const all = ['b2', 'c2', 'c1', 'a1', 'a2', 'b1'];
        const window = async (options: UserEventsOptions) => ids(await store.itemEvents('i1', options));
        expect(await window({})).toEqual(all);
        expect(await window({ afterSeq: 0, throughSeq: p3 })).toEqual(all);
        expect(await window({ afterSeq: p1 })).toEqual(['b2', 'c2', 'c1', 'b1']);
        expect(await window({ throughSeq: p1 })).toEqual(['a1', 'a2']);
        expect(await window({ afterSeq: p1, throughSeq: p2 })).toEqual(['b2', 'b1']);
        expect(await window({ afterSeq: p2, throughSeq: p3 })).toEqual(['c2', 'c1']);
        const x2 = positionOf(second, 1);
        expect(await window({ afterSeq: x2 })).toEqual(['b2', 'c2', 'c1']);
        expect(await window({ throughSeq: x2 })).toEqual(['a1', 'a2', 'b1']);
        expect(await window({ afterSeq: positionOf(first, 1), throughSeq: positionOf(third, 0) })).toEqual([
          'b2',
          'c1',
          'a2',
          'b1',
        ]);
        expect(await window({ afterSeq: p1, since: T0 + 3 * MINUTE })).toEqual(['b2', 'c2', 'c1']);
        expect(await window({ throughSeq: p2, since: T0 + 3 * MINUTE })).toEqual(['b2', 'a1']);
        expect(await window({ afterSeq: p1, limit: 2 })).toEqual(['b2', 'c2']);
        expect(
          await window({ afterSeq: positionOf(first, 1), throughSeq: p2, since: T0 + MINUTE, limit: 2 }),
        ).toEqual(['b2', 'a2']);
        expect(await window({ afterSeq: p3 })).toEqual([]);
        expect(await window({ throughSeq: 0 })).toEqual([]);
        expect(await window({ afterSeq: p2, throughSeq: p1 })).toEqual([]);
        // The other item by the same bounds (x1 names no item).
        expect(ids(await store.itemEvents('i2', { afterSeq: p1 }))).toEqual(['x3', 'x2']);
        expect(ids(await store.itemEvents('i2', { throughSeq: p2 }))).toEqual(['x2']);
        expect(await store.itemEvents('nothing', { afterSeq: 0, throughSeq: p3 })).toEqual([]);
      });
    });

    describe('scanEvents', () => {
      it('streams every event in insertion order, in batches of the asked size', async () => {
        // Timestamps run backwards, so an order by time would show.
        const all = events(10, (i) => ({ timestamp: T0 - i * MINUTE, userId: `u${i % 3}` }));
        await store.appendEvents(all.slice(0, 4), { createMissingItems: false });
        await store.appendEvents(all.slice(4), { createMissingItems: false });
        const batches = await collect(store.scanEvents({ batchSize: 3 }));
        expect(batches.map((b) => b.length)).toEqual([3, 3, 3, 1]);
        expect(batches.flat()).toEqual(all);
      });

      it('yields no empty batch when the count is a multiple of the batch size', async () => {
        await store.appendEvents(events(6), { createMissingItems: false });
        expect((await collect(store.scanEvents({ batchSize: 3 }))).map((b) => b.length)).toEqual([3, 3]);
      });

      it('yields nothing for an empty log', async () => {
        expect(await collect(store.scanEvents())).toEqual([]);
      });

      it('uses large batches by default', async () => {
        await store.appendEvents(events(25), { createMissingItems: false });
        expect((await collect(store.scanEvents())).map((b) => b.length)).toEqual([25]);
      });

      it('keeps only events that name an item with withItemOnly', async () => {
        const all = events(9, (i) => ({ itemId: i % 3 === 0 ? null : `i${i}` }));
        await store.appendEvents(all, { createMissingItems: false });
        const batches = await collect(store.scanEvents({ withItemOnly: true, batchSize: 4 }));
        expect(batches.map((b) => b.length)).toEqual([4, 2]);
        expect(ids(batches.flat())).toEqual(['e0001', 'e0002', 'e0004', 'e0005', 'e0007', 'e0008']);
      });

      it('keeps going while events are appended mid-scan, without repeating or skipping', async () => {
        const first = events(6);
        await store.appendEvents(first, { createMissingItems: false });
        const later = events(3, (i) => ({ eventId: `late${i}` }));
        const seen: string[] = [];
        for await (const batch of store.scanEvents({ batchSize: 2 })) {
          seen.push(...ids(batch));
          if (seen.length === 2) await store.appendEvents(later, { createMissingItems: false });
        }
        expect(seen.slice(0, 6)).toEqual(ids(first));
        expect(new Set(seen).size).toBe(seen.length);
        expect(ids(later)).toEqual(expect.arrayContaining(seen.slice(6)));
      });

      it('reads exactly the events up to a fixed position, whatever is appended during the scan', async () => {
        const first = events(7, (i) => ({ itemId: i === 3 ? null : `i${i}` }));
        await store.appendEvents(first, { createMissingItems: false });
        const position = await store.lastEventSeq();
        const later = events(4, (i) => ({ eventId: `late${i}` }));
        const seen: string[] = [];
        for await (const batch of store.scanEvents({ batchSize: 2, throughSeq: position })) {
          seen.push(...ids(batch));
          if (seen.length === 2) await store.appendEvents(later, { createMissingItems: false });
        }
        expect(seen).toEqual(ids(first));
        // The same bound with withItemOnly, after the appends: still the prefix, minus the item-less event.
        const withItems = (
          await collect(store.scanEvents({ withItemOnly: true, throughSeq: position }))
        ).flat();
        expect(ids(withItems)).toEqual(ids(first).filter((_, i) => i !== 3));
        expect(await collect(store.scanEvents({ throughSeq: 0 }))).toEqual([]);
        expect((await collect(store.scanEvents())).flat()).toHaveLength(11);
      });

      it('resumes after a position, alone or up to another', async () => {
        await store.appendEvents(events(3), { createMissingItems: false });
        const first = await store.lastEventSeq();
        await store.appendEvents(
          events(2, (i) => ({ eventId: `mid${i}` })),
          { createMissingItems: false },
        );
        const second = await store.lastEventSeq();
        await store.appendEvents([event({ eventId: 'last' })], { createMissingItems: false });
        const after = async (options: Parameters<Store['scanEvents']>[0]) =>
          ids((await collect(store.scanEvents({ batchSize: 1, ...options }))).flat());
        expect(await after({ afterSeq: first })).toEqual(['mid0', 'mid1', 'last']);
        expect(await after({ afterSeq: first, throughSeq: second })).toEqual(['mid0', 'mid1']);
        expect(await after({ afterSeq: await store.lastEventSeq() })).toEqual([]);
      });
    });

    describe('lastEventSeq', () => {
      it('is 0 for an empty log and grows with every stored event', async () => {
        expect(await store.lastEventSeq()).toBe(0);
        await store.appendEvents(events(3), { createMissingItems: false });
        const three = await store.lastEventSeq();
        expect(three).toBeGreaterThanOrEqual(3);
        // Exactly the three events are at or below it.
        expect((await collect(store.scanEvents({ throughSeq: three }))).flat()).toHaveLength(3);
        // Duplicates store nothing (a backend may still spend seq numbers on them: seqs can have gaps).
        await store.appendEvents(events(3), { createMissingItems: false });
        const same = await store.lastEventSeq();
        expect(same).toBeGreaterThanOrEqual(three);
        expect((await collect(store.scanEvents({ throughSeq: same }))).flat()).toHaveLength(3);
        await store.appendEvents([event({ eventId: 'next' })], { createMissingItems: false });
        const four = await store.lastEventSeq();
        expect(four).toBeGreaterThan(same);
        expect(ids((await collect(store.scanEvents({ throughSeq: four }))).flat().slice(3))).toEqual([
          'next',
        ]);
      });

      it('does not move for a batch that failed', async () => {
        await store.appendEvents([event({ eventId: 'a' })], { createMissingItems: false });
        const before = await store.lastEventSeq();
        const unserialisable = { big: 1n } as unknown as ScalarRecord;
        await expect(
          store.appendEvents([event({ eventId: 'b' }), event({ eventId: 'c', properties: unserialisable })], {
            createMissingItems: false,
          }),
        ).rejects.toThrow();
        expect(await store.lastEventSeq()).toBe(before);
      });
    });

    describe('eventsForRequest', () => {
      it('returns the events of one served list in insertion order', async () => {
        await store.appendEvents(
          [
            event({
              eventId: 'click',
              requestId: 'r1',
              properties: { request_id: 'r1' },
              timestamp: T0 + MINUTE,
            }),
            event({ eventId: 'other', requestId: 'r2', properties: { request_id: 'r2' } }),
            event({ eventId: 'plain' }),
            event({ eventId: 'buy', requestId: 'r1', properties: { request_id: 'r1' }, timestamp: T0 }),
          ],
          { createMissingItems: false },
        );
        expect(ids(await store.eventsForRequest('r1'))).toEqual(['click', 'buy']);
        expect(await store.eventsForRequest('missing')).toEqual([]);
      });
    });

    describe('catalog', () => {
      it('puts and gets items with every field intact', async () => {
        const full = item({
          id: 'a',
          categories: ['shoes', 'running'],
          tags: [],
          price: 0.1 + 0.2,
          available: false,
          expiresAt: T0 + 1000,
          attributes: TRICKY_SCALARS,
          updatedAt: T0 + 7,
        });
        const bare = item({ id: 'b', price: null, attributes: {} });
        await store.putItems([full, bare]);
        expect(await store.getItem('a')).toEqual(full);
        expect(await store.getItem('b')).toEqual(bare);
        expect(await store.getItem('missing')).toBeNull();
        expect(await store.countItems()).toBe(2);
      });

      it('replaces an item wholesale, the last copy in a batch winning', async () => {
        await store.putItems([item({ id: 'a', categories: ['x', 'y'], attributes: { colour: 'red' } })]);
        const replacement = item({
          id: 'a',
          categories: ['z'],
          attributes: {},
          price: null,
          updatedAt: T0 + 1,
        });
        await store.putItems([item({ id: 'a', categories: ['ignored'] }), replacement]);
        expect(await store.getItem('a')).toEqual(replacement);
        expect(await store.countItems()).toBe(1);
      });

      it('puts all of a batch or none of it', async () => {
        const bad = item({ id: 'b', attributes: { big: 1n } as unknown as ScalarRecord });
        await expect(store.putItems([item({ id: 'a' }), bad])).rejects.toThrow();
        expect(await store.countItems()).toBe(0);
      });

      it('lists items by id with keyset pagination', async () => {
        await store.putItems(['d', 'a', 'c', 'e', 'b'].map((id) => item({ id })));
        const itemIds = (list: Item[]) => list.map((i) => i.id);
        expect(itemIds(await store.listItems({ limit: 2 }))).toEqual(['a', 'b']);
        expect(itemIds(await store.listItems({ after: 'b', limit: 2 }))).toEqual(['c', 'd']);
        expect(itemIds(await store.listItems({ after: 'bb', limit: 10 }))).toEqual(['c', 'd', 'e']);
        expect(await store.listItems({ after: 'e', limit: 2 })).toEqual([]);
        expect(await store.listItems({ limit: 0 })).toEqual([]);
      });

      it('scans the whole catalog in id order', async () => {
        const all = Array.from({ length: 7 }, (_, i) => item({ id: `item${i}` }));
        await store.putItems([...all].reverse());
        const batches = await collect(store.scanItems({ batchSize: 3 }));
        expect(batches.map((b) => b.length)).toEqual([3, 3, 1]);
        expect(batches.flat()).toEqual(all);
        expect((await collect(store.scanItems())).flat()).toEqual(all);
      });

      it('deletes items and says whether they existed', async () => {
        await store.putItems([item({ id: 'a' }), item({ id: 'b' })]);
        expect(await store.deleteItem('a')).toBe(true);
        expect(await store.deleteItem('a')).toBe(false);
        expect(await store.getItem('a')).toBeNull();
        expect(await store.countItems()).toBe(1);
      });
    });

    describe('users', () => {
      it('puts, replaces and gets users', async () => {
        const user: User = { id: 'u1', traits: TRICKY_SCALARS, createdAt: T0, updatedAt: T0 };
        await store.putUser(user);
        expect(await store.getUser('u1')).toEqual(user);
        const replaced: User = { id: 'u1', traits: { plan: 'pro' }, createdAt: T0, updatedAt: T0 + 1 };
        await store.putUser(replaced);
        expect(await store.getUser('u1')).toEqual(replaced);
        expect(await store.getUser('u2')).toBeNull();
      });
    });

    describe('impressions', () => {
      const served = (requestId: string, overrides: Partial<Impression> = {}): Impression => ({
        requestId,
        userId: 'u1',
        createdAt: T0,
        surface: 'recommendations',
        model: 'als',
        modelVersion: 3,
        fallback: false,
        items: [
          { itemId: 'i9', position: 0, score: 0.987654321 },
          { itemId: 'i2', position: 1, score: -0.5 },
        ],
        ...overrides,
      });

      it('round-trips impressions', async () => {
        const a = served('r1');
        const b = served('r2', { surface: 'similar', fallback: true, model: 'popularity', items: [] });
        await store.appendImpressions([a, b]);
        expect(await store.getImpression('r1')).toEqual(a);
        expect(await store.getImpression('r2')).toEqual(b);
        expect(await store.getImpression('r3')).toBeNull();
      });

      it('scans every impression once, in the order stored, across batches', async () => {
        const all = Array.from({ length: 11 }, (_, i) => served(`r${10 - i}`));
        await store.appendImpressions(all.slice(0, 6));
        await store.appendImpressions(all.slice(6));
        const scanned: Impression[] = [];
        for await (const batch of store.scanImpressions({ batchSize: 4 })) scanned.push(...batch);
        expect(scanned).toEqual(all);
      });

      it('stores each impression of a list served again, and only the declared item fields', async () => {
        // The engine logs a list served again from its result cache with the same frozen items array.
        const items = Object.freeze([{ itemId: 'i9', position: 0, score: 0.25, reason: 'not logged' }]);
        const first = served('r1', { items });
        const again = served('r2', { items, createdAt: T0 + 1000 });
        await store.appendImpressions([first]);
        await store.appendImpressions([again]);
        const stored = { itemId: 'i9', position: 0, score: 0.25 };
        expect(await store.getImpression('r1')).toEqual({ ...first, items: [stored] });
        expect(await store.getImpression('r2')).toEqual({ ...again, items: [stored] });
      });

      it('keeps the first impression logged under a request id', async () => {
        await store.appendImpressions([served('r1')]);
        await store.appendImpressions([served('r1', { model: 'itemknn' })]);
        expect((await store.getImpression('r1'))?.model).toBe('als');
      });

      it("reads one user's recent impressions on one surface, newest first, from a time, at most a limit", async () => {
        await store.appendImpressions([
          served('old', { createdAt: T0 - 1 }),
          served('a', { createdAt: T0 }),
          served('c', { createdAt: T0 + 20 }),
          served('b', { createdAt: T0 + 20 }),
          served('d', { createdAt: T0 + 30 }),
          served('similar', { createdAt: T0 + 40, surface: 'similar' }),
          served('other', { createdAt: T0 + 50, userId: 'u2' }),
        ]);
        const ids = async (options: { since: number; limit: number; surface?: string }) =>
          (await store.recentImpressions('u1', { surface: 'recommendations', ...options })).map(
            (i) => i.requestId,
          );
        expect(await ids({ since: T0, limit: 10 })).toEqual(['d', 'c', 'b', 'a']);
        expect(await ids({ since: T0, limit: 2 })).toEqual(['d', 'c']);
        expect(await ids({ since: T0 - 1, limit: 10 })).toEqual(['d', 'c', 'b', 'a', 'old']);
        expect(await ids({ since: T0, limit: 10, surface: 'similar' })).toEqual(['similar']);
        const [newest] = await store.recentImpressions('u1', {
          surface: 'recommendations',
          since: T0,
          limit: 1,
        });
        expect(newest).toEqual(served('d', { createdAt: T0 + 30 }));
        expect(
          await store.recentImpressions('nobody', { surface: 'recommendations', since: 0, limit: 5 }),
        ).toEqual([]);
        await expect(
          store.recentImpressions('u1', { surface: 'recommendations', since: T0, limit: 0 }),
        ).rejects.toThrow(/limit/);
      });
    });

    describe('experiments', () => {
      it('creates once and updates only the revision the writer read', async () => {
        const first = { id: 'exp-1', revision: 1, body: { name: 'first', weights: [0.5, 0.5] } };
        expect(await store.saveExperiment(first, null)).toBe(true);
        // A second create of the same id is refused and changes nothing.
        expect(await store.saveExperiment({ ...first, body: { name: 'other' } }, null)).toBe(false);
        expect(await store.getExperiment('exp-1')).toEqual(first);
        const second = { id: 'exp-1', revision: 2, body: { name: 'second' } };
        expect(await store.saveExperiment(second, 1)).toBe(true);
        // A writer that read revision 1 lost the race: refused, the newer body stays.
        expect(await store.saveExperiment({ id: 'exp-1', revision: 2, body: { name: 'stale' } }, 1)).toBe(
          false,
        );
        expect(await store.getExperiment('exp-1')).toEqual(second);
        expect(await store.getExperiment('nope')).toBeNull();
      });

      it('lists experiments by id', async () => {
        for (const id of ['b', 'a', 'c']) await store.saveExperiment({ id, revision: 1, body: { id } }, null);
        expect((await store.listExperiments()).map((e) => e.id)).toEqual(['a', 'b', 'c']);
      });
    });

    describe('exposures', () => {
      const exposure = (userId: string, variant: string, at: number, experiment = 'e1') => ({
        experiment,
        userId,
        variant,
        at,
      });
      const scanAll = async (experiment: string, batchSize?: number) => {
        const all = [];
        for await (const batch of store.scanExposures(experiment, batchSize ? { batchSize } : {}))
          all.push(...batch);
        return all;
      };

      it('keeps each user’s earliest exposure per experiment, whatever order batches arrive in', async () => {
        await store.appendExposures([exposure('u1', 'a', T0 + 10), exposure('u2', 'b', T0)]);
        // Later exposures change nothing; an earlier one arriving late (another instance) replaces.
        await store.appendExposures([exposure('u1', 'b', T0 + 20), exposure('u1', 'a', T0 + 20)]);
        await store.appendExposures([exposure('u2', 'a', T0 - 5), exposure('u1', 'a', T0 + 10, 'e2')]);
        expect(await scanAll('e1')).toEqual([exposure('u1', 'a', T0 + 10), exposure('u2', 'a', T0 - 5)]);
        expect(await scanAll('e2')).toEqual([exposure('u1', 'a', T0 + 10, 'e2')]);
        expect(await store.countExposures('e1')).toEqual({ a: 2 });
        expect(await store.countExposures('none')).toEqual({});
      });

      it('scans every exposed user exactly once across batches', async () => {
        const users = Array.from({ length: 25 }, (_, i) =>
          exposure(`u${i}`, i % 3 === 0 ? 'a' : 'b', T0 + i),
        );
        await store.appendExposures(users);
        const scanned = await scanAll('e1', 7);
        expect(scanned).toHaveLength(25);
        expect(new Set(scanned.map((e) => e.userId)).size).toBe(25);
        expect(await store.countExposures('e1')).toEqual({ a: 9, b: 16 });
      });
    });

    describe('decision points', () => {
      it('creates once and updates only the revision the writer read', async () => {
        const first = { id: 'checkout', revision: 1, body: { actions: ['a', 'b'], rewardWindowMs: 3600 } };
        expect(await store.saveDecisionPoint(first, null)).toBe(true);
        expect(await store.saveDecisionPoint({ ...first, body: { other: true } }, null)).toBe(false);
        expect(await store.getDecisionPoint('checkout')).toEqual(first);
        const second = { id: 'checkout', revision: 2, body: { actions: ['a', 'b', 'c'] } };
        expect(await store.saveDecisionPoint(second, 1)).toBe(true);
        // A writer that read revision 1 lost the race: refused, the newer body stays.
        expect(await store.saveDecisionPoint({ id: 'checkout', revision: 2, body: 'stale' }, 1)).toBe(false);
        // An update of a point that does not exist creates nothing.
        expect(await store.saveDecisionPoint({ id: 'ghost', revision: 2, body: {} }, 1)).toBe(false);
        expect(await store.getDecisionPoint('checkout')).toEqual(second);
        expect(await store.getDecisionPoint('ghost')).toBeNull();
        // Experiments are another namespace: the same id there is unaffected.
        expect(await store.getExperiment('checkout')).toBeNull();
      });

      it('lists decision points by id', async () => {
        for (const id of ['b', 'a', 'c'])
          await store.saveDecisionPoint({ id, revision: 1, body: { id } }, null);
        expect(await store.listDecisionPoints()).toEqual([
          { id: 'a', revision: 1, body: { id: 'a' } },
          { id: 'b', revision: 1, body: { id: 'b' } },
          { id: 'c', revision: 1, body: { id: 'c' } },
        ]);
        expect(await store.listExperiments()).toEqual([]);
      });

      it("deletes the definition and the point's log, and nothing else", async () => {
        await store.saveDecisionPoint({ id: 'p', revision: 3, body: {} }, null);
        await store.saveDecisionPoint({ id: 'other', revision: 1, body: {} }, null);
        await store.appendDecisions([
          decision({ id: 'd1', point: 'p' }),
          decision({ id: 'd2', point: 'p' }),
          decision({ id: 'o1', point: 'other' }),
        ]);
        await store.closeDecisions([{ id: 'd1', outcome: { reward: 1, at: T0 + 1, source: 'explicit' } }]);

        expect(await store.deleteDecisionPoint('p')).toBe(true);
        expect(await store.getDecisionPoint('p')).toBeNull();
        expect(await store.getDecision('d1')).toBeNull();
        expect(await store.getDecision('d2')).toBeNull();
        expect(await collect(store.scanDecisions('p'))).toEqual([]);
        expect(await store.decisionStats('p')).toEqual({ decisions: 0, closed: 0, rewardSum: 0 });
        // The open decision went with it: nothing left to expire.
        expect(decisionIds(await store.expiredDecisions(T0 + 1000 * MINUTE, 10))).toEqual(['o1']);
        expect((await store.listDecisionPoints()).map((p) => p.id)).toEqual(['other']);
        expect((await store.getDecision('o1'))?.point).toBe('other');
        expect(await store.deleteDecisionPoint('p')).toBe(false);
        expect(await store.deleteDecisionPoint('never')).toBe(false);

        // Created again under the same id it starts from an empty log, and a decision id can be reused.
        expect(await store.saveDecisionPoint({ id: 'p', revision: 1, body: {} }, null)).toBe(true);
        await store.appendDecisions([decision({ id: 'd1', point: 'p' })]);
        expect(await store.decisionStats('p')).toEqual({ decisions: 1, closed: 0, rewardSum: 0 });
      });

      it("deletes a point's log even when its definition is gone, and says the definition did not exist", async () => {
        await store.appendDecisions([decision({ id: 'stray', point: 'p' })]);
        expect(await store.deleteDecisionPoint('p')).toBe(false);
        expect(await store.getDecision('stray')).toBeNull();
      });
    });

    describe('decision log', () => {
      const outcome = (reward: number, at = T0 + MINUTE, source: DecisionOutcome['source'] = 'explicit') => ({
        reward,
        at,
        source,
      });

      it("writes the serving path's batches: appends before closes, a closed decision left as it was", async () => {
        await store.appendDecisions([decision({ id: 'old' })]);
        await store.closeDecisions([{ id: 'old', outcome: outcome(7) }]);
        const features = new Float64Array([-0, 0.1, 3]);
        // The close of `new` comes in the same batch as its append; the close of `old` finds it closed.
        const writes = [
          store.writeDecisionLog(
            [decision({ id: 'new', features }), decision({ id: 'other' })],
            [
              { id: 'new', outcome: outcome(2, T0 + 2 * MINUTE, 'event') },
              { id: 'old', outcome: outcome(9) },
              { id: 'nobody', outcome: outcome(1) },
            ],
          ),
          // Not awaited in between: a later batch still applies after the earlier one.
          store.writeDecisionLog([], [{ id: 'other', outcome: outcome(0, T0 + 3 * MINUTE, 'timeout') }]),
        ];
        await Promise.all(writes);
        expect((await store.getDecision('new'))?.outcome).toEqual(outcome(2, T0 + 2 * MINUTE, 'event'));
        expect(featureBytes((await store.getDecision('new'))!.features)).toEqual(featureBytes(features));
        expect((await store.getDecision('old'))?.outcome).toEqual(outcome(7));
        expect((await store.getDecision('other'))?.outcome).toEqual(outcome(0, T0 + 3 * MINUTE, 'timeout'));
        expect(await store.getDecision('nobody')).toBeNull();
        expect(await store.decisionStats('checkout-offer')).toEqual({
          decisions: 3,
          closed: 3,
          rewardSum: 9,
        });
      });

      it('refuses a batch whole when one of its appends repeats a stored id: none of its closes apply', async () => {
        await store.appendDecisions([decision({ id: 'kept' }), decision({ id: 'open' })]);
        await expect(
          store.writeDecisionLog(
            [decision({ id: 'fresh' }), decision({ id: 'kept' })],
            [{ id: 'open', outcome: outcome(4) }],
          ),
        ).rejects.toThrow();
        expect(await store.getDecision('fresh')).toBeNull();
        expect((await store.getDecision('open'))?.outcome).toBeNull();
        // The log goes on: the next batch applies.
        await store.writeDecisionLog([decision({ id: 'fresh' })], [{ id: 'open', outcome: outcome(4) }]);
        expect((await store.getDecision('open'))?.outcome).toEqual(outcome(4));
        expect(await store.decisionStats('checkout-offer')).toMatchObject({ decisions: 3, closed: 1 });
      });

      it('returns appended decisions as they were, with feature rows bit for bit', async () => {
        const values = [
          0.1,
          -0,
          0,
          1e-300,
          5e-324,
          1.7976931348623157e308,
          -123456789.125,
          Infinity,
          -Infinity,
        ];
        // A view into a larger buffer, at an offset: only the viewed values belong to the decision.
        const backing = new Float64Array([99, ...values, 99]);
        const rich = decision({
          id: 'rich',
          userId: 'user "quoted" 日本',
          at: T0 + 7,
          context: {
            device: 'ios',
            nested: { list: [1, 'two', null, { deep: true }], empty: {} },
            ...TRICKY_SCALARS,
          },
          features: backing.subarray(1, 1 + values.length),
          offered: ['a', 'b', 'c', 'd'],
          probabilities: [0.1, 0.2, 0.3, 0.4],
          action: 'c',
          propensity: 0.3,
          policy: 'uniform',
          experiment: { id: 'exp-7', variant: 'treatment' },
          deadline: T0 + 30 * MINUTE,
        });
        const plain = decision({
          id: 'plain',
          features: new Float64Array(0),
          context: {},
          policy: 'default',
        });
        await store.appendDecisions([rich, plain]);

        const got = await store.getDecision('rich');
        expect(got).toEqual({ ...rich, features: new Float64Array(values) });
        expect(got!.features).toBeInstanceOf(Float64Array);
        expect(featureBytes(got!.features)).toEqual(featureBytes(new Float64Array(values)));
        expect(Object.is(got!.features[1], -0)).toBe(true);
        expect(got!.features[3]).toBe(1e-300);
        expect(got!.context).toEqual(rich.context);
        for (const [key, value] of Object.entries(TRICKY_SCALARS))
          expect(Object.is(got!.context[key], value), key).toBe(true);

        const gotPlain = await store.getDecision('plain');
        expect(gotPlain).toEqual(plain);
        expect(gotPlain!.features).toHaveLength(0);
        expect(gotPlain!.outcome).toBeNull();
        expect(await store.getDecision('missing')).toBeNull();
      });

      it('rejects a repeated decision id and stores none of its batch', async () => {
        await store.appendDecisions([decision({ id: 'a' })]);
        await expect(store.appendDecisions([decision({ id: 'b' }), decision({ id: 'a' })])).rejects.toThrow();
        await expect(
          store.appendDecisions([decision({ id: 'c' }), decision({ id: 'c', action: 'none' })]),
        ).rejects.toThrow();
        expect(await store.getDecision('b')).toBeNull();
        expect(await store.getDecision('c')).toBeNull();
        expect(await store.getDecision('a')).toEqual(decision({ id: 'a' }));
        expect(await store.decisionStats('checkout-offer')).toEqual({
          decisions: 1,
          closed: 0,
          rewardSum: 0,
        });
        // Nothing was left open behind the failures.
        await store.appendDecisions([decision({ id: 'b' })]);
        expect(await store.decisionStats('checkout-offer')).toEqual({
          decisions: 2,
          closed: 0,
          rewardSum: 0,
        });
      });

      it('accepts empty batches', async () => {
        await store.appendDecisions([]);
        expect(await store.closeDecisions([])).toEqual([]);
        expect(await store.decisionStats('checkout-offer')).toEqual({
          decisions: 0,
          closed: 0,
          rewardSum: 0,
        });
      });

      it('says per close, in order, whether it recorded, found an outcome already, or knew no decision', async () => {
        const open1 = decision({ id: 'open1' });
        const open2 = decision({ id: 'open2', point: 'other', action: 'none', propensity: 0.2 });
        await store.appendDecisions([open1, open2, decision({ id: 'done' })]);
        await store.closeDecisions([{ id: 'done', outcome: outcome(0, T0 + 2, 'timeout') }]);

        const results = await store.closeDecisions([
          { id: 'done', outcome: outcome(1) },
          { id: 'open1', outcome: outcome(0.75, T0 + 5, 'event') },
          { id: 'nope', outcome: outcome(1) },
          { id: 'open1', outcome: outcome(0.25, T0 + 6, 'explicit') },
          { id: 'open2', outcome: outcome(-1.5, T0 + 9, 'explicit') },
        ]);
        expect(results).toEqual([
          { status: 'closed', outcome: outcome(0, T0 + 2, 'timeout') },
          { status: 'recorded', decision: { ...open1, outcome: outcome(0.75, T0 + 5, 'event') } },
          { status: 'unknown' },
          // The same id again in the batch: the first close took it.
          { status: 'closed', outcome: outcome(0.75, T0 + 5, 'event') },
          { status: 'recorded', decision: { ...open2, outcome: outcome(-1.5, T0 + 9, 'explicit') } },
        ]);
        expect((await store.getDecision('open1'))?.outcome).toEqual(outcome(0.75, T0 + 5, 'event'));
        expect((await store.getDecision('done'))?.outcome).toEqual(outcome(0, T0 + 2, 'timeout'));
        expect(await store.getDecision('nope')).toBeNull();
      });

      it('keeps the first outcome when a decision is closed again later', async () => {
        await store.appendDecisions([decision({ id: 'd' })]);
        const [first] = await store.closeDecisions([{ id: 'd', outcome: outcome(0, T0 + 3, 'timeout') }]);
        expect(first?.status).toBe('recorded');
        const [second] = await store.closeDecisions([{ id: 'd', outcome: outcome(1, T0 + 4, 'explicit') }]);
        expect(second).toEqual({ status: 'closed', outcome: outcome(0, T0 + 3, 'timeout') });
        expect(await store.getDecision('d')).toEqual(
          decision({ id: 'd', outcome: outcome(0, T0 + 3, 'timeout') }),
        );
        expect(await store.decisionStats('checkout-offer')).toEqual({
          decisions: 1,
          closed: 1,
          rewardSum: 0,
        });
      });

      it('records exactly one of several concurrent closes of one decision', async () => {
        await store.appendDecisions([decision({ id: 'd' })]);
        const results = await Promise.all(
          [1, 2, 3, 4].map((reward) => store.closeDecisions([{ id: 'd', outcome: outcome(reward) }])),
        );
        const recorded = results.flat().filter((r) => r.status === 'recorded');
        expect(recorded).toHaveLength(1);
        const kept = (await store.getDecision('d'))?.outcome;
        expect(recorded[0]!.status === 'recorded' && recorded[0]!.decision.outcome).toEqual(kept);
        for (const result of results.flat())
          if (result.status !== 'recorded') expect(result).toEqual({ status: 'closed', outcome: kept });
      });

      it('applies appends and closes in the order they were issued, without awaiting in between', async () => {
        const append = store.appendDecisions([decision({ id: 'd' })]);
        const close = store.closeDecisions([{ id: 'd', outcome: outcome(1) }]);
        const reappend = store.appendDecisions([decision({ id: 'e' })]);
        const closeBoth = store.closeDecisions([
          { id: 'e', outcome: outcome(0.5) },
          { id: 'd', outcome: outcome(0) },
        ]);
        await append;
        await reappend;
        expect((await close).map((r) => r.status)).toEqual(['recorded']);
        expect((await closeBoth).map((r) => r.status)).toEqual(['recorded', 'closed']);
      });

      it('lists expired open decisions, earliest deadline first, at most limit', async () => {
        await store.appendDecisions([
          decision({ id: 'd30', deadline: T0 + 30 }),
          decision({ id: 'd10', deadline: T0 + 10, point: 'other' }),
          decision({ id: 'd50', deadline: T0 + 50 }),
          decision({ id: 'closed20', deadline: T0 + 20 }),
          decision({ id: 'd40', deadline: T0 + 40 }),
          decision({ id: 'at60', deadline: T0 + 60 }),
          decision({ id: 'later', deadline: T0 + 90 }),
        ]);
        await store.closeDecisions([{ id: 'closed20', outcome: outcome(1) }]);

        // Strictly before: a deadline equal to `before` has not ended yet.
        expect(decisionIds(await store.expiredDecisions(T0 + 60, 100))).toEqual(['d10', 'd30', 'd40', 'd50']);
        expect(decisionIds(await store.expiredDecisions(T0 + 60, 2))).toEqual(['d10', 'd30']);
        expect(await store.expiredDecisions(T0 + 60, 0)).toEqual([]);
        expect(await store.expiredDecisions(T0 + 10, 100)).toEqual([]);
        const [first] = await store.expiredDecisions(T0 + 11, 1);
        expect(first).toEqual(decision({ id: 'd10', deadline: T0 + 10, point: 'other' }));

        // Closing them (as the engine does with the default reward) takes them off the list.
        await store.closeDecisions([
          { id: 'd10', outcome: outcome(0, T0 + 61, 'timeout') },
          { id: 'd30', outcome: outcome(0, T0 + 61, 'timeout') },
        ]);
        expect(decisionIds(await store.expiredDecisions(T0 + 1000, 100))).toEqual([
          'd40',
          'd50',
          'at60',
          'later',
        ]);
      });

      it("scans a point's decisions in append order, across batch boundaries", async () => {
        // Ids out of alphabetical order and deadlines out of order: the scan follows neither.
        const mine = Array.from({ length: 11 }, (_, i) =>
          decision({
            id: `z${10 - i}`,
            userId: `u${i}`,
            deadline: T0 + (i % 3) * MINUTE,
            features: new Float64Array([i, -i]),
          }),
        );
        await store.appendDecisions(mine.slice(0, 5));
        await store.appendDecisions([decision({ id: 'other1', point: 'other' })]);
        await store.appendDecisions(mine.slice(5, 9));
        await store.appendDecisions([decision({ id: 'other2', point: 'other' })]);
        await store.appendDecisions(mine.slice(9));
        await store.closeDecisions([{ id: 'z7', outcome: outcome(1) }]);

        const batches = await collect(store.scanDecisions('checkout-offer', { batchSize: 4 }));
        expect(batches.map((batch) => batch.length)).toEqual([4, 4, 3]);
        const scanned = batches.flat();
        expect(decisionIds(scanned)).toEqual(decisionIds(mine));
        expect(scanned[3]).toEqual({ ...mine[3], outcome: outcome(1) });
        expect(scanned[10]).toEqual(mine[10]);
        expect(decisionIds((await collect(store.scanDecisions('other'))).flat())).toEqual([
          'other1',
          'other2',
        ]);
        // A batch size that divides the log: full batches and no empty one after them.
        const even = await collect(store.scanDecisions('checkout-offer', { batchSize: 11 }));
        expect(even.map((batch) => batch.length)).toEqual([11]);
        expect(await collect(store.scanDecisions('none'))).toEqual([]);
      });

      it('counts decisions, closed ones and their rewards per point', async () => {
        await store.appendDecisions([
          decision({ id: 'a' }),
          decision({ id: 'b' }),
          decision({ id: 'c' }),
          decision({ id: 'd' }),
          decision({ id: 'x', point: 'other' }),
        ]);
        await store.closeDecisions([
          { id: 'a', outcome: outcome(1) },
          { id: 'b', outcome: outcome(0.25, T0 + 2, 'event') },
          { id: 'c', outcome: outcome(-0.5, T0 + 3, 'timeout') },
          { id: 'x', outcome: outcome(8) },
        ]);
        expect(await store.decisionStats('checkout-offer')).toEqual({
          decisions: 4,
          closed: 3,
          rewardSum: 0.75,
        });
        expect(await store.decisionStats('other')).toEqual({ decisions: 1, closed: 1, rewardSum: 8 });
        expect(await store.decisionStats('none')).toEqual({ decisions: 0, closed: 0, rewardSum: 0 });
      });
    });

    describe('expireEvents (retention)', () => {
      it('deletes the expired head of the log in order, with the item index, and reports whose events went', async () => {
        const day = 24 * 60 * MINUTE;
        await store.appendEvents(
          [
            event({ eventId: 'a', userId: 'u1', itemId: 'i1', timestamp: T0 }),
            event({ eventId: 'b', userId: 'u2', itemId: 'i1', timestamp: T0 + day }),
            event({ eventId: 'c', userId: 'u1', itemId: 'i2', timestamp: T0 + 10 * day }),
            // Old, but logged after a newer one: it waits for that one.
            event({ eventId: 'd', userId: 'u3', itemId: 'i1', timestamp: T0 }),
          ],
          { createMissingItems: false },
        );
        const first = await store.expireEvents(T0 + 5 * day, 1);
        expect(first).toEqual({ deleted: 1, users: ['u1'] });
        const rest = await store.expireEvents(T0 + 5 * day, 100);
        expect(rest).toEqual({ deleted: 1, users: ['u2'] });
        expect(ids((await collect(store.scanEvents())).flat())).toEqual(['c', 'd']);
        expect((await store.itemEvents('i1')).map((e) => e.eventId)).toEqual(['d']);
        expect(await store.userItems('u2')).toEqual([]);
        expect(await store.expireEvents(T0 + 5 * day, 100)).toEqual({ deleted: 0, users: [] });
        expect(await store.expireEvents(T0 + 20 * day, 100)).toEqual({ deleted: 2, users: ['u1', 'u3'] });
        expect(await store.countEvents()).toBe(0);
      });
    });

    describe("one person's data", () => {
      /** Two users' impressions, exposures and decisions: u1's and, to be left alone, u2's. */
      async function twoPeople(): Promise<void> {
        const served = (requestId: string, userId: string, createdAt: number): Impression => ({
          requestId,
          userId,
          createdAt,
          surface: 'recommendations',
          model: 'als',
          modelVersion: 1,
          fallback: false,
          items: [{ itemId: 'i1', position: 0, score: 1 }],
        });
        await store.appendImpressions([
          served('r2', 'u1', T0 + 5),
          served('r1', 'u1', T0),
          served('r3', 'u2', T0),
        ]);
        await store.appendExposures([
          { experiment: 'e2', userId: 'u1', variant: 'b', at: T0 },
          { experiment: 'e1', userId: 'u1', variant: 'a', at: T0 + 1 },
          { experiment: 'e1', userId: 'u2', variant: 'a', at: T0 },
        ]);
        await store.appendDecisions([
          decision({ id: 'd1', userId: 'u1' }),
          decision({ id: 'd2', userId: 'u2' }),
          decision({ id: 'd3', userId: 'u1' }),
        ]);
      }

      it("reads a user's impressions (oldest first), exposures and decisions, and nobody else's", async () => {
        await twoPeople();
        expect((await store.userImpressions('u1')).map((i) => i.requestId)).toEqual(['r1', 'r2']);
        expect(await store.userExposures('u1')).toEqual([
          { experiment: 'e1', userId: 'u1', variant: 'a', at: T0 + 1 },
          { experiment: 'e2', userId: 'u1', variant: 'b', at: T0 },
        ]);
        expect((await store.userDecisions('u1')).map((d) => d.id)).toEqual(['d1', 'd3']);
        expect(await store.userImpressions('nobody')).toEqual([]);
        expect(await store.userExposures('nobody')).toEqual([]);
        expect(await store.userDecisions('nobody')).toEqual([]);
      });

      it('erases every row of one person in one call, rewrites the named artifacts, and leaves others', async () => {
        await twoPeople();
        await store.appendEvents(
          [
            event({ eventId: 'a1', userId: 'u1', itemId: 'i1' }),
            event({ eventId: 'a2', userId: 'u2', itemId: 'i1' }),
            event({ eventId: 'a3', userId: 'u1', itemId: 'i2', timestamp: T0 + MINUTE }),
            event({ eventId: 'a4', userId: 'u1', itemId: null, name: 'app_opened' }),
          ],
          { createMissingItems: true },
        );
        await store.putUser({ id: 'u1', traits: { plan: 'pro' }, createdAt: T0, updatedAt: T0 });
        await store.putUser({ id: 'u2', traits: {}, createdAt: T0, updatedAt: T0 });
        await store.setConsent('u1', 'full', T0);
        const v1 = await store.saveArtifact(artifact('bundle', new Uint8Array([1, 2, 3])));
        const v2 = await store.saveArtifact(artifact('bundle', new Uint8Array([4, 5, 6])));
        expect(await store.lastErasureAt()).toBeNull();

        const erased = await store.eraseUser('u1', {
          at: T0 + 9,
          artifacts: [
            { name: 'bundle', version: v1, payload: new Uint8Array([9, 9]) },
            { name: 'bundle', version: 99, payload: new Uint8Array([7]) },
          ],
        });
        expect({ ...erased, items: [...erased.items].sort() }).toEqual({
          events: 3,
          impressions: 2,
          exposures: 2,
          decisions: 2,
          profile: true,
          consent: true,
          artifacts: 1,
          items: ['i1', 'i2'],
          diskCleared: name === 'sqlite',
        });
        expect(await store.userEvents('u1')).toEqual([]);
        expect(await store.userItems('u1')).toEqual([]);
        expect(await store.itemEvents('i2')).toEqual([]);
        expect((await store.itemEvents('i1')).map((e) => e.eventId)).toEqual(['a2']);
        expect(await store.countEvents()).toBe(1);
        expect(await store.userImpressions('u1')).toEqual([]);
        expect(await store.getImpression('r1')).toBeNull();
        expect(await store.userExposures('u1')).toEqual([]);
        expect(await store.userDecisions('u1')).toEqual([]);
        expect(await store.getDecision('d1')).toBeNull();
        expect(await store.getUser('u1')).toBeNull();
        expect(await store.getConsent('u1')).toBeNull();
        expect((await store.loadArtifact('bundle', v1))?.payload).toEqual(new Uint8Array([9, 9]));
        expect((await store.loadArtifact('bundle', v2))?.payload).toEqual(new Uint8Array([4, 5, 6]));
        expect(await store.loadArtifact('bundle', 99)).toBeNull();
        expect(await store.lastErasureAt()).toBe(T0 + 9);
        // The other person is untouched.
        expect((await store.userImpressions('u2')).map((i) => i.requestId)).toEqual(['r3']);
        expect(await store.userExposures('u2')).toHaveLength(1);
        expect((await store.userDecisions('u2')).map((d) => d.id)).toEqual(['d2']);
        expect(await store.getUser('u2')).not.toBeNull();
        // A second erasure of the same person finds nothing; the log position never goes back.
        const again = await store.eraseUser('u1', { at: T0 + 10, artifacts: [] });
        expect(again).toMatchObject({ events: 0, impressions: 0, profile: false, consent: false });
        expect(await store.lastEventSeq()).toBeGreaterThanOrEqual(4);
        await expect(store.setMeta('last_erasure_at', 1)).rejects.toThrow();
      });
    });

    describe('mergeUser (identity)', () => {
      it("makes one user's events another's, keeping ids, times and positions; repeats stay duplicates", async () => {
        const appended = await store.appendEvents(
          [
            event({ eventId: 'anon-1', userId: 'anon', itemId: 'i1', timestamp: T0 }),
            event({ eventId: 'known-1', userId: 'u1', itemId: 'i2', timestamp: T0 + MINUTE }),
            event({
              eventId: 'anon-2',
              userId: 'anon',
              itemId: 'i2',
              name: 'added_to_cart',
              timestamp: T0 + 2 * MINUTE,
            }),
            event({
              eventId: 'anon-3',
              userId: 'anon',
              itemId: null,
              name: 'Signed Up',
              timestamp: T0 + 3 * MINUTE,
            }),
            event({ eventId: 'other', userId: 'u2', itemId: 'i1', timestamp: T0 }),
          ],
          { createMissingItems: false },
        );
        const before = await collect(store.scanEvents());
        const merged = await store.mergeUser('anon', 'u1');
        expect(merged.events).toBe(3);
        expect([...merged.items].sort()).toEqual(['i1', 'i2']);

        expect(await store.userEvents('anon')).toEqual([]);
        expect(await store.userItems('anon')).toEqual([]);
        expect(ids(await store.userEvents('u1'))).toEqual(['anon-3', 'anon-2', 'known-1', 'anon-1']);
        const totals = await store.userItems('u1');
        expect(totals.reduce((sum, t) => sum + t.count, 0)).toBe(3);
        expect(totals.find((t) => t.name === 'added_to_cart')).toMatchObject({
          itemId: 'i2',
          lastSeq: appended.positions[2],
        });
        // The log keeps its order and positions; only the owner changed.
        const after = await collect(store.scanEvents());
        expect(after.flat().map((e) => e.eventId)).toEqual(before.flat().map((e) => e.eventId));
        expect(after.flat().filter((e) => e.userId === 'u1')).toHaveLength(4);
        expect(ids(await store.userEvents('u2'))).toEqual(['other']);
        expect(await store.countEvents()).toBe(5);
        // A sender's retry of an event that moved is still the same event.
        const retry = await store.appendEvents([event({ eventId: 'anon-1', userId: 'anon' })], {
          createMissingItems: false,
        });
        expect(retry.duplicates).toEqual(['anon-1']);
        expect(await store.userEvents('anon')).toEqual([]);
      });

      it('includes appends still waiting to commit, and moves nothing for an unknown or the same id', async () => {
        const pending = store.appendEvents([event({ eventId: 'late', userId: 'anon' })], {
          createMissingItems: false,
        });
        const merged = await store.mergeUser('anon', 'u1');
        await pending;
        expect(merged.events).toBe(1);
        expect(ids(await store.userEvents('u1'))).toEqual(['late']);
        expect(await store.mergeUser('nobody', 'u1')).toEqual({ events: 0, items: [] });
        expect(await store.mergeUser('u1', 'u1')).toEqual({ events: 0, items: [] });
        expect(ids(await store.userEvents('u1'))).toEqual(['late']);
      });
    });

    describe('consent', () => {
      it('records, replaces and lists consents; an unrecorded user has none', async () => {
        expect(await store.getConsent('u1')).toBeNull();
        await store.setConsent('u1', 'analytics', T0);
        await store.setConsent('u2', 'none', T0);
        await store.setConsent('u3', 'full', T0);
        expect(await store.getConsent('u1')).toBe('analytics');
        await store.setConsent('u1', 'full', T0 + 1);
        expect(await store.getConsent('u1')).toBe('full');
        expect(await store.getConsents(['u3', 'nobody', 'u1', 'u2', 'u1'])).toEqual(
          new Map([
            ['u3', 'full'],
            ['u1', 'full'],
            ['u2', 'none'],
          ]),
        );
        expect(await store.getConsents([])).toEqual(new Map());
        expect(await store.listConsents('full')).toEqual(new Map([['u2', 'none']]));
        expect(await store.listConsents('analytics')).toEqual(
          new Map([
            ['u1', 'full'],
            ['u2', 'none'],
            ['u3', 'full'],
          ]),
        );
      });
    });

    describe('API keys', () => {
      const key = (id: string, overrides: Partial<StoredApiKey> = {}): StoredApiKey => ({
        id,
        app: 'default',
        scope: 'server',
        name: null,
        hash: 'ab'.repeat(32),
        createdAt: T0,
        revokedAt: null,
        ...overrides,
      });

      it('stores, reads and lists keys oldest first; a repeated id is an error', async () => {
        await store.createApiKey(
          key('k2', { createdAt: T0 + 1, scope: 'ingest', name: 'web shop', app: 'shop' }),
        );
        await store.createApiKey(key('k1', { scope: 'admin' }));
        expect(await store.getApiKey('k2')).toEqual(
          key('k2', { createdAt: T0 + 1, scope: 'ingest', name: 'web shop', app: 'shop' }),
        );
        expect(await store.getApiKey('nope')).toBeNull();
        expect((await store.listApiKeys()).map((k) => k.id)).toEqual(['k1', 'k2']);
        await expect(store.createApiKey(key('k1'))).rejects.toThrow();
        expect(await store.countApiKeys()).toBe(2);
      });

      it('revokes once: the first revocation time stays, and an unknown id is null', async () => {
        await store.createApiKey(key('k1'));
        expect(await store.revokeApiKey('k1', T0 + 10)).toEqual(key('k1', { revokedAt: T0 + 10 }));
        expect((await store.revokeApiKey('k1', T0 + 20))?.revokedAt).toBe(T0 + 10);
        expect(await store.revokeApiKey('nope', T0)).toBeNull();
        expect(await store.countApiKeys()).toBe(1);
        expect((await store.getApiKey('k1'))?.revokedAt).toBe(T0 + 10);
      });
    });

    describe('audit log', () => {
      it('numbers entries in append order and pages after a position', async () => {
        const entry = (action: string, target: string | null) => ({
          at: T0,
          app: 'default',
          actor: 'k1',
          action,
          target,
          status: 200,
        });
        await store.appendAudit([entry('POST /v1/keys', 'k2'), entry('DELETE /v1/keys/:id', 'k2')]);
        await store.appendAudit([entry('POST /v1/admin/train', null)]);
        const all = await store.listAudit({ limit: 10 });
        expect(all.map((e) => e.action)).toEqual([
          'POST /v1/keys',
          'DELETE /v1/keys/:id',
          'POST /v1/admin/train',
        ]);
        expect(all[0]).toEqual({ seq: all[0]!.seq, ...entry('POST /v1/keys', 'k2') });
        expect(all[1]!.seq).toBeGreaterThan(all[0]!.seq);
        const rest = await store.listAudit({ afterSeq: all[0]!.seq, limit: 1 });
        expect(rest.map((e) => e.action)).toEqual(['DELETE /v1/keys/:id']);
      });

      it("lists one app's entries only when asked", async () => {
        const entry = (app: string, action: string) => ({
          at: T0,
          app,
          actor: 'k',
          action,
          target: null,
          status: 200,
        });
        await store.appendAudit([entry('shop', 'POST /v1/items'), entry('blog', 'POST /v1/keys')]);
        await store.appendAudit([entry('shop', 'POST /v1/admin/train')]);
        const shop = await store.listAudit({ limit: 10, app: 'shop' });
        expect(shop.map((e) => e.action)).toEqual(['POST /v1/items', 'POST /v1/admin/train']);
        expect(await store.listAudit({ limit: 1, app: 'shop', afterSeq: shop[0]!.seq })).toEqual([shop[1]]);
        expect(await store.listAudit({ limit: 10, app: 'none' })).toEqual([]);
        expect(await store.listAudit({ limit: 10 })).toHaveLength(3);
      });
    });

    describe('artifacts', () => {
      it('numbers versions per name from 1, and says which version it saved', async () => {
        expect(await store.saveArtifact(artifact('als', new Uint8Array([1])))).toBe(1);
        expect(await store.saveArtifact(artifact('als', new Uint8Array([2])))).toBe(2);
        expect(await store.saveArtifact(artifact('itemknn', new Uint8Array([3])))).toBe(1);
        expect(await store.saveArtifact(artifact('als', new Uint8Array([4])))).toBe(3);
        expect(Array.from((await store.loadArtifact('als', 2))?.payload ?? [])).toEqual([2]);
      });

      it('gives concurrent saves distinct versions and loses none of them', async () => {
        const saves = Array.from({ length: 12 }, (_, i) =>
          store.saveArtifact(artifact(i % 2 === 0 ? 'bundle' : 'other', new Uint8Array([i]), { i })),
        );
        const versions = await Promise.all(saves);
        const bundles = versions.filter((_, i) => i % 2 === 0);
        expect([...bundles].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6]);
        expect(new Set(versions.filter((_, i) => i % 2 === 1)).size).toBe(6);
        // Each version holds what its own save wrote.
        for (const [i, version] of versions.entries()) {
          const loaded = await store.loadArtifact(i % 2 === 0 ? 'bundle' : 'other', version);
          expect(loaded?.meta).toEqual({ i });
          expect(Array.from(loaded?.payload ?? [])).toEqual([i]);
        }
      });

      it('loads a given version, or the highest one', async () => {
        const first = artifact('als', new Uint8Array([1]), { ndcg: 0.1 }, T0 + 1);
        const second = artifact('als', new Uint8Array([2, 2]), { ndcg: 0.2 }, T0 + 2);
        await store.saveArtifact(first);
        await store.saveArtifact(second);
        await store.saveArtifact(artifact('itemknn', new Uint8Array([7])));
        expect(await store.loadArtifact('als', 1)).toEqual(stored(1, first));
        expect(await store.loadArtifact('als')).toEqual(stored(2, second));
        expect((await store.loadArtifact('itemknn'))?.version).toBe(1);
        expect(await store.loadArtifact('als', 3)).toBeNull();
        expect(await store.loadArtifact('popularity')).toBeNull();
      });

      it('keeps binary payloads byte for byte, in a buffer of their own', async () => {
        const big = new Uint8Array(1 << 20);
        for (let i = 0; i < big.length; i++) big[i] = (i * 2654435761) >>> 24;
        const floats = new Float32Array([Math.PI, -0, Number.NaN, Infinity, 1e-40]);
        // A view into a larger buffer: only the viewed bytes belong to the artifact.
        const backing = new Uint8Array([9, 9, 9, 0, 1, 2, 255, 0, 9, 9]);
        await store.saveArtifact(artifact('big', big));
        await store.saveArtifact(artifact('floats', new Uint8Array(floats.buffer)));
        await store.saveArtifact(artifact('view', backing.subarray(3, 8)));
        await store.saveArtifact(artifact('empty', new Uint8Array(0)));

        const loadedBig = (await store.loadArtifact('big'))?.payload;
        expect(loadedBig).toBeInstanceOf(Uint8Array);
        expect(Buffer.from(loadedBig!).equals(Buffer.from(big))).toBe(true);
        const loadedFloats = (await store.loadArtifact('floats'))!.payload;
        // Models read payloads through typed-array views, which need offset 0 (or at least alignment).
        expect(loadedFloats.byteOffset).toBe(0);
        expect(new Float32Array(loadedFloats.buffer, 0, floats.length)).toEqual(floats);
        expect(Array.from((await store.loadArtifact('view'))!.payload)).toEqual([0, 1, 2, 255, 0]);
        expect((await store.loadArtifact('empty'))!.payload).toHaveLength(0);
      });

      it('never changes a saved version: saving again makes a new one', async () => {
        const first = artifact('als', new Uint8Array([1]), { first: true });
        await store.saveArtifact(first);
        expect(await store.saveArtifact(artifact('als', new Uint8Array([2]), { first: false }))).toBe(2);
        expect(await store.loadArtifact('als', 1)).toEqual(stored(1, first));
      });

      it('lists versions highest first, with sizes and without payloads', async () => {
        await store.saveArtifact(artifact('als', new Uint8Array(10), { params: { factors: 8 } }, T0 + 1));
        await store.saveArtifact(artifact('als', new Uint8Array(2048), { params: { factors: 64 } }, T0 + 2));
        await store.saveArtifact(artifact('itemknn', new Uint8Array(3)));
        expect(await store.listArtifacts('als')).toEqual([
          { name: 'als', version: 2, createdAt: T0 + 2, meta: { params: { factors: 64 } }, bytes: 2048 },
          { name: 'als', version: 1, createdAt: T0 + 1, meta: { params: { factors: 8 } }, bytes: 10 },
        ]);
        expect(await store.listArtifacts('popularity')).toEqual([]);
      });
    });

    describe('leases', () => {
      const TTL = 60_000;

      it('go to one holder at a time and tell the others who holds them since when', async () => {
        const before = Date.now();
        const first = await store.acquireLease('training', 'server', TTL);
        expect(first.acquired).toBe(true);
        if (!first.acquired) return;
        expect(first.lease).toMatchObject({ name: 'training', holder: 'server' });
        expect(first.lease.acquiredAt).toBeGreaterThanOrEqual(before);
        expect(first.lease.expiresAt).toBe(first.lease.acquiredAt + TTL);

        const second = await store.acquireLease('training', 'cli', TTL);
        expect(second).toEqual({ acquired: false, held: first.lease });
        // Another name is another lease.
        expect((await store.acquireLease('other', 'cli', TTL)).acquired).toBe(true);
      });

      it('let exactly one of several concurrent claimants win', async () => {
        const attempts = await Promise.all(
          ['a', 'b', 'c', 'd', 'e'].map((holder) => store.acquireLease('training', holder, TTL)),
        );
        const winners = attempts.filter((a) => a.acquired);
        expect(winners).toHaveLength(1);
        const winner = winners[0]!.acquired ? winners[0]!.lease.holder : '';
        for (const attempt of attempts) {
          if (!attempt.acquired) expect(attempt.held.holder).toBe(winner);
        }
      });

      it('are renewed by their holder only, keeping when they were taken', async () => {
        const taken = await store.acquireLease('training', 'server', 50);
        if (!taken.acquired) throw new Error('not acquired');
        await sleep(5);
        const renewed = await store.renewLease('training', 'server', TTL);
        expect(renewed?.acquiredAt).toBe(taken.lease.acquiredAt);
        expect(renewed!.expiresAt).toBeGreaterThan(taken.lease.expiresAt);
        expect(await store.renewLease('training', 'cli', TTL)).toBeNull();
        // Taking one's own lease again is a renewal too.
        const again = await store.acquireLease('training', 'server', TTL);
        expect(again.acquired && again.lease.acquiredAt).toBe(taken.lease.acquiredAt);
        // Renewed past its first expiry: still held.
        await sleep(60);
        expect((await store.acquireLease('training', 'cli', TTL)).acquired).toBe(false);
      });

      it('are freed by their holder, and a release by anyone else changes nothing', async () => {
        await store.acquireLease('training', 'server', TTL);
        expect(await store.releaseLease('training', 'cli')).toBe(false);
        expect((await store.acquireLease('training', 'cli', TTL)).acquired).toBe(false);
        expect(await store.releaseLease('training', 'server')).toBe(true);
        expect(await store.releaseLease('training', 'server')).toBe(false);
        const taken = await store.acquireLease('training', 'cli', TTL);
        expect(taken.acquired && taken.lease.holder).toBe('cli');
        expect(await store.renewLease('training', 'server', TTL)).toBeNull();
      });

      it('can be taken over once expired, so a crashed holder does not block forever', async () => {
        // 300 ms, not less: on a loaded machine two calls can be further apart than a shorter lease.
        await store.acquireLease('training', 'crashed', 300);
        expect((await store.acquireLease('training', 'next', TTL)).acquired).toBe(false);
        await sleep(350);
        const taken = await store.acquireLease('training', 'next', TTL);
        expect(taken.acquired && taken.lease.holder).toBe('next');
        // The old holder, back from a stall, has lost it: it can neither renew nor free the new lease.
        expect(await store.renewLease('training', 'crashed', TTL)).toBeNull();
        expect(await store.releaseLease('training', 'crashed')).toBe(false);
        expect((await store.acquireLease('training', 'crashed', TTL)).acquired).toBe(false);
      });
    });

    describe('activity', () => {
      const DAY = 24 * 60 * MINUTE;
      /** The dashboard's "now": the fixture's events lie before it. */
      const NOW = T0 + 30 * DAY;
      let serial = 0;
      const at = (userId: string, timestamp: number, itemId: string | null = 'i1', name = 'viewed') =>
        event({ eventId: `act-${serial++}`, userId, timestamp, receivedAt: timestamp, itemId, name });

      /** Four users over nine days; returns the events' log positions in append order. */
      async function fixture(): Promise<number[]> {
        const appended = await store.appendEvents(
          [
            at('u1', NOW - 5 * MINUTE),
            at('u1', NOW - 5 * MINUTE + 1000, null, 'searched'),
            at('u2', NOW - 2 * MINUTE),
            at('u3', NOW - 2 * DAY),
            at('u4', NOW - 9 * DAY),
          ],
          { createMissingItems: true },
        );
        return appended.positions.map((p) => p!);
      }

      /** What the activity reads answer around NOW. */
      async function snapshot() {
        const totals = await store.activityTotals();
        // The kept total is always the log's own count.
        expect(totals.events).toBe(await store.countEvents());
        return {
          minutes: await store.eventCounts(NOW - 10 * MINUTE, NOW + MINUTE, MINUTE),
          days: await store.eventCounts(NOW - 3 * DAY, NOW + MINUTE, DAY),
          hour: await store.activeUsers(NOW - 60 * MINUTE),
          week: await store.activeUsers(NOW - 7 * DAY),
          ...totals,
          recent: await store.recentUsers({ limit: 10 }),
        };
      }

      /** Every page of a recent-events search, following `nextBefore` until it is null. */
      async function allPages(options: Omit<RecentEventsOptions, 'beforeSeq'>): Promise<number[][]> {
        const pages: number[][] = [];
        let beforeSeq: number | undefined;
        for (let guard = 0; guard < 1000; guard++) {
          const page = await store.recentEvents(
            beforeSeq === undefined ? options : { ...options, beforeSeq },
          );
          pages.push(page.events.map((e) => e.seq));
          if (page.nextBefore === null) return pages;
          expect(page.nextBefore).toBeLessThan(beforeSeq ?? Infinity);
          beforeSeq = page.nextBefore;
        }
        throw new Error('recentEvents never said it was done');
      }

      it('counts events per bucket, active users, totals and users by their newest event', async () => {
        const empty = await snapshot();
        expect(empty).toMatchObject({ hour: 0, week: 0, events: 0, users: 0, recent: [] });
        expect(empty.minutes).toEqual(new Array(11).fill(0));
        await fixture();
        const first = await snapshot();
        expect(first.minutes).toHaveLength(11);
        expect(first.minutes[5]).toBe(2);
        expect(first.minutes[8]).toBe(1);
        expect(first.minutes.reduce((a, b) => a + b, 0)).toBe(3);
        // Days counted from `from`, not from midnight: the caller aligns it.
        expect(first.days).toEqual([0, 1, 3, 0]);
        expect(first.hour).toBe(2);
        expect(first.week).toBe(3);
        expect(first).toMatchObject({ events: 5, users: 4 });
        expect(first.recent).toEqual([
          { userId: 'u2', lastSeen: NOW - 2 * MINUTE, events: 1 },
          { userId: 'u1', lastSeen: NOW - 5 * MINUTE + 1000, events: 2 },
          { userId: 'u3', lastSeen: NOW - 2 * DAY, events: 1 },
          { userId: 'u4', lastSeen: NOW - 9 * DAY, events: 1 },
        ]);
        // An event timestamped earlier than the user's newest one leaves their last-seen time.
        await store.appendEvents([at('u2', NOW - 3 * DAY)], { createMissingItems: true });
        expect((await store.recentUsers({ limit: 1 }))[0]).toEqual({
          userId: 'u2',
          lastSeen: NOW - 2 * MINUTE,
          events: 2,
        });
        // A user with older events and a new one: one user, events summed, the newest time.
        await store.appendEvents([at('u1', NOW)], { createMissingItems: true });
        const mixed = await snapshot();
        expect(mixed).toMatchObject({ events: 7, users: 4, hour: 2 });
        expect(mixed.recent[0]).toEqual({ userId: 'u1', lastSeen: NOW, events: 3 });
        expect(await store.recentUsers({ prefix: 'u', limit: 2 })).toEqual(mixed.recent.slice(0, 2));
        expect(await store.recentUsers({ prefix: 'u3', limit: 5 })).toEqual([
          { userId: 'u3', lastSeen: NOW - 2 * DAY, events: 1 },
        ]);
        expect(await store.recentUsers({ prefix: 'x', limit: 5 })).toEqual([]);
      });

      it('refuses buckets that are not whole minutes and limits below one', async () => {
        await expect(store.eventCounts(NOW - DAY, NOW, 90_000)).rejects.toThrow(RangeError);
        await expect(store.eventCounts(NOW - DAY, NOW, 0)).rejects.toThrow(RangeError);
        await expect(store.recentUsers({ limit: 0 })).rejects.toThrow(RangeError);
        await expect(store.recentEvents({ limit: 0 })).rejects.toThrow(RangeError);
        await expect(store.decisionActivity('p', NOW, 0, 3)).rejects.toThrow(RangeError);
        await expect(store.decisionActivity('p', NOW, HOUR_MS, 0)).rejects.toThrow(RangeError);
      });

      it('takes out what retention deletes', async () => {
        await fixture();
        await store.appendEvents([at('u5', NOW - 8 * DAY)], { createMissingItems: true });
        // In log order u1, u1 and u2 are newer and come first, so nothing goes until they are old enough.
        expect((await store.expireEvents(NOW - 7 * DAY, 100)).deleted).toBe(0);
        expect((await store.expireEvents(NOW + DAY, 100)).deleted).toBe(6);
        const after = await snapshot();
        expect(after).toMatchObject({ events: 0, users: 0, hour: 0, week: 0, recent: [] });
        expect(after.minutes.every((n) => n === 0)).toBe(true);
        expect(after.days.every((n) => n === 0)).toBe(true);
      });

      it('forgets an erased user and merges a merged one', async () => {
        await fixture();
        await store.appendEvents([at('anon', NOW - MINUTE), at('u2', NOW - MINUTE)], {
          createMissingItems: true,
        });
        await store.eraseUser('u1', { at: NOW, artifacts: [] });
        let now = await snapshot();
        expect(now).toMatchObject({ events: 5, users: 4 });
        expect(now.minutes.reduce((a, b) => a + b, 0)).toBe(3);
        expect(now.recent.map((u) => u.userId)).not.toContain('u1');
        await store.appendEvents([at('anon', NOW)], { createMissingItems: true });
        expect((await store.mergeUser('anon', 'u3')).events).toBe(2);
        now = await snapshot();
        expect(now).toMatchObject({ events: 6, users: 3 });
        expect(now.recent.find((u) => u.userId === 'u3')).toEqual({ userId: 'u3', lastSeen: NOW, events: 3 });
        expect(now.recent.find((u) => u.userId === 'anon')).toBeUndefined();
      });

      it('lists events newest first by position, filtered, with their positions', async () => {
        const [p1, p2, p3, p4, p5] = await fixture();
        const newest = at('u9', NOW, 'i1');
        const last = await store.appendEvents([newest], { createMissingItems: true });
        const p6 = last.positions[0]!;
        const all = await store.recentEvents({ limit: 10 });
        expect(all.events.map((e) => e.seq)).toEqual([p6, p5, p4, p3, p2, p1]);
        expect(all.events[0]!.event).toEqual(newest);
        expect(all.nextBefore).toBeNull();
        expect((await store.recentEvents({ limit: 10, itemId: 'i1' })).events.map((e) => e.seq)).toEqual([
          p6,
          p5,
          p4,
          p3,
          p1,
        ]);
        expect(
          (await store.recentEvents({ limit: 2, itemId: 'i1', beforeSeq: p5 })).events.map((e) => e.seq),
        ).toEqual([p4, p3]);
        expect(
          (await store.recentEvents({ limit: 10, itemId: 'i1', afterSeq: p4 })).events.map((e) => e.seq),
        ).toEqual([p6, p5]);
        expect((await store.recentEvents({ limit: 10, userId: 'u1' })).events.map((e) => e.seq)).toEqual([
          p2,
          p1,
        ]);
        expect((await allPages({ limit: 10, name: 'searched' })).flat()).toEqual([p2]);
        expect((await allPages({ limit: 10, name: 'viewed', userId: 'u1' })).flat()).toEqual([p1]);
        expect((await store.recentEvents({ limit: 10, userId: 'u1', itemId: 'i2' })).events).toEqual([]);
        // Pages of two: a full page says where the next starts, and together they are the whole log.
        const pages = await allPages({ limit: 2 });
        expect(pages.flat()).toEqual([p6, p5, p4, p3, p2, p1]);
        expect(pages.slice(0, 3).map((page) => page.length)).toEqual([2, 2, 2]);
      });

      it('finds every event of a name by following nextBefore, however far apart they lie', async () => {
        const appended = await store.appendEvents(
          Array.from({ length: 60 }, (_, i) =>
            at(`c${i % 7}`, NOW - i * MINUTE, null, i % 17 === 3 ? 'rare' : 'viewed'),
          ),
          { createMissingItems: false },
        );
        const rare = appended.positions.filter((_, i) => i % 17 === 3).reverse();
        expect((await allPages({ limit: 2, name: 'rare' })).flat()).toEqual(rare);
        expect((await allPages({ limit: 100, name: 'none' })).flat()).toEqual([]);
      });

      it("buckets a point's decisions with their outcomes and exploration, as `explored` defines it", async () => {
        const from = NOW - 3 * HOUR_MS;
        const logged: LoggedDecision[] = [];
        let seed = 11;
        const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
        for (let i = 0; i < 200; i++) {
          const raw = [random(), random(), random()];
          const total = raw.reduce((a, b) => a + b, 0);
          const probabilities = raw.map((p) => p / total);
          const k = Math.floor(random() * 3);
          logged.push(
            decision({
              id: `d${i}`,
              point: i % 5 === 0 ? 'other' : 'p',
              userId: `u${i}`,
              at: from - HOUR_MS + i * 4 * MINUTE,
              features: new Float64Array([1]),
              offered: ['a', 'b', 'c'],
              probabilities,
              action: ['a', 'b', 'c'][k]!,
              propensity: probabilities[k]!,
              deadline: NOW + HOUR_MS,
            }),
          );
        }
        await store.appendDecisions(logged);
        const rewards = logged.filter((_, i) => i % 3 === 0);
        await store.closeDecisions(
          rewards.map((d, i) => ({ id: d.id, outcome: { reward: i % 4, at: d.at + 1, source: 'explicit' } })),
        );
        const rewardOf = new Map(rewards.map((d, i) => [d.id, i % 4]));
        const timeline = await store.decisionActivity('p', from, HOUR_MS, 3);
        const mine = logged.filter((d) => d.point === 'p');
        expect(timeline.earlier).toBe(mine.filter((d) => d.at < from).length);
        expect(timeline.buckets).toHaveLength(3);
        timeline.buckets.forEach((bucket, b) => {
          const inside = mine.filter((d) => d.at >= from + b * HOUR_MS && d.at < from + (b + 1) * HOUR_MS);
          expect(bucket.start).toBe(from + b * HOUR_MS);
          expect(bucket.decisions).toBe(inside.length);
          expect(bucket.explored).toBe(inside.filter(explored).length);
          expect(bucket.rewarded).toBe(inside.filter((d) => rewardOf.has(d.id)).length);
          expect(bucket.rewardSum).toBe(inside.reduce((sum, d) => sum + (rewardOf.get(d.id) ?? 0), 0));
          expect(bucket.propensitySum).toBeCloseTo(
            inside.reduce((sum, d) => sum + d.propensity, 0),
            9,
          );
        });
        expect(timeline.buckets.reduce((n, b) => n + b.explored, 0)).toBeGreaterThan(0);
        // A uniform arm has no favourite: never explored.
        await store.appendDecisions([
          decision({ id: 'uniform', point: 'flat', at: NOW, probabilities: [0.5, 0.5], propensity: 0.5 }),
        ]);
        expect((await store.decisionActivity('flat', NOW, HOUR_MS, 1)).buckets[0]).toMatchObject({
          decisions: 1,
          explored: 0,
        });
        const none = await store.decisionActivity('none', from, HOUR_MS, 2);
        expect(none).toEqual({
          buckets: [0, 1].map((b) => ({
            start: from + b * HOUR_MS,
            decisions: 0,
            rewarded: 0,
            rewardSum: 0,
            explored: 0,
            propensitySum: 0,
          })),
          earlier: 0,
        });
      });

      it('counts served lists in a window and those a click or a linked event followed', async () => {
        const list = (requestId: string, userId: string, createdAt: number, items: string[]): Impression => ({
          requestId,
          userId,
          createdAt,
          surface: 'recommendations',
          model: 'als',
          modelVersion: 1,
          fallback: false,
          items: items.map((itemId, position) => ({ itemId, position, score: 1 })),
        });
        const since = NOW;
        const until = NOW + 10 * MINUTE;
        await store.appendImpressions([
          list('before', 'u1', since - 1, ['i1']),
          list('r1', 'u1', since, ['i1', 'i2']),
          list('r2', 'u1', since + MINUTE, ['i3']),
          list('r3', 'u2', since + 2 * MINUTE, ['i1']),
          list('r4', 'u2', since + 5 * MINUTE, ['i1']),
          list('r5', 'u3', since + 2 * MINUTE, ['i5']),
          list('r6', 'u3', since + 6 * MINUTE, ['i6']),
          list('r7', 'u4', since + 8 * MINUTE, ['i7', 'i8']),
          list('late', 'u5', until, ['i9']),
        ]);
        const linked = (userId: string, requestId: string, name: string, timestamp: number) =>
          event({ ...at(userId, timestamp, null, name), requestId });
        await store.appendEvents(
          [
            // r1: an event of its user carrying its request id.
            linked('u1', 'r1', 'Added To Cart', since + 3 * MINUTE),
            // r2: only an impression event carries its id, and the spelling differs from the ignored name.
            linked('u1', 'r2', 'Impression', since + 2 * MINUTE),
            // r3: its user clicks a listed item after it (the name matches by its normalized key).
            at('u2', since + 3 * MINUTE, 'i1', 'productClicked'),
            // r4 was served after that click: not clicked.
            // r5: another user's click on its item, and another user's event with its id.
            at('u1', since + 3 * MINUTE, 'i5', 'product_clicked'),
            linked('u1', 'r5', 'Added To Cart', since + 3 * MINUTE),
            // r6: its user views (no click) its item, and clicks it only once the window ended.
            at('u3', since + 7 * MINUTE, 'i6', 'viewed'),
            at('u3', until, 'i6', 'product_clicked'),
            // r7: a click at the very time it was served counts.
            at('u4', since + 8 * MINUTE, 'i8', 'Product Clicked'),
            // `late` and `before` lie outside the window whatever follows them.
            linked('u5', 'late', 'Added To Cart', until + 1),
            linked('u1', 'before', 'Added To Cart', since + 1),
          ],
          { createMissingItems: false },
        );
        expect(await store.servedListClicks(since, until, ['Product Clicked'], ['impression'])).toEqual({
          lists: 7,
          clicked: 3,
        });
        // Without the ignored name, the impression event links r2; without click names only ids link.
        expect(await store.servedListClicks(since, until, ['product_clicked'], [])).toEqual({
          lists: 7,
          clicked: 4,
        });
        expect(await store.servedListClicks(since, until, [], ['impression'])).toEqual({
          lists: 7,
          clicked: 1,
        });
        expect(await store.servedListClicks(until, until + MINUTE, ['product_clicked'], [])).toEqual({
          lists: 1,
          clicked: 1,
        });
        expect(await store.servedListClicks(since - DAY, since - 1, ['product_clicked'], [])).toEqual({
          lists: 0,
          clicked: 0,
        });
      });
    });

    describe('meta', () => {
      it('stores any JSON value and overwrites it', async () => {
        expect(await store.getMeta('missing')).toBeNull();
        const values: JsonValue[] = [
          { nested: { list: [1, 'two', true, null, { deep: [] }] }, unicode: '✓' },
          [1, 2.5, -3],
          'text',
          42,
          false,
        ];
        for (const value of values) {
          await store.setMeta('key', value);
          expect(await store.getMeta('key')).toEqual(value);
        }
        await store.setMeta('other', 1);
        expect(await store.getMeta('key')).toBe(false);
      });
    });

    describe('scalar JSON round trips', () => {
      it('keeps every kind of scalar exactly in context and properties', async () => {
        const tricky = event({ eventId: 'tricky', context: TRICKY_SCALARS, properties: TRICKY_SCALARS });
        await store.appendEvents([tricky], { createMissingItems: false });
        const [got] = await store.userEvents('u1');
        expect(got).toEqual(tricky);
        for (const [key, value] of Object.entries(TRICKY_SCALARS)) {
          expect(Object.is(got?.properties[key], value), key).toBe(true);
        }
        expect((await collect(store.scanEvents())).flat()).toEqual([tricky]);
      });
    });

    describe('close', () => {
      it('is idempotent and makes later calls reject clearly', async () => {
        await store.close();
        await store.close();
        await expect(store.countEvents()).rejects.toBeInstanceOf(StoreClosedError);
        await expect(
          store.appendEvents([event({ eventId: 'a' })], { createMissingItems: false }),
        ).rejects.toThrow(/closed/);
        await expect(store.getItem('a')).rejects.toBeInstanceOf(StoreClosedError);
        await expect(collect(store.scanEvents())).rejects.toBeInstanceOf(StoreClosedError);
      });

      it('ends a scan that outlives the store with a clear error', async () => {
        await store.appendEvents(events(4), { createMissingItems: false });
        const scan = store.scanEvents({ batchSize: 2 })[Symbol.asyncIterator]();
        expect((await scan.next()).value).toHaveLength(2);
        await store.close();
        await expect(scan.next()).rejects.toBeInstanceOf(StoreClosedError);
      });
    });
  });
}
