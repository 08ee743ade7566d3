import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';

import { defaultFeedbackConfig, type TrackedEvent } from '../events/index.js';
import { openSqliteStore, type SqliteStore, type Store } from '../store/index.js';
import { UserHistories } from './user-histories.js';
import type { HistorySettings, UserHistory } from './user-history.js';

const T0 = Date.UTC(2026, 0, 1);
const MINUTE = 60_000;
const settings: HistorySettings = {
  feedback: defaultFeedbackConfig,
  windowMs: 30 * MINUTE,
  windowEvents: 1000,
};

const dirs: string[] = [];
const stores: SqliteStore[] = [];

function openStore(dir?: string): SqliteStore {
  const dataDir = dir ?? mkdtempSync(join(tmpdir(), 'attune-histories-'));
  if (dir === undefined) dirs.push(dataDir);
  const store = openSqliteStore({ dataDir, backgroundCheckpoints: false, synchronous: 'NORMAL' });
  stores.push(store);
  return store;
}

afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tracked(
  eventId: string,
  userId: string,
  name: string,
  itemId: string | null,
  timestamp: number,
): TrackedEvent {
  return {
    eventId,
    name,
    userId,
    itemId,
    timestamp,
    receivedAt: timestamp,
    context: {},
    properties: {},
    requestId: null,
  };
}

/** `store` with some methods replaced (the rest bound to it: the store keeps private state). */
function withMethods(store: Store, methods: Partial<Store>): Store {
  return new Proxy(store, {
    get(target, key) {
      const own = (methods as Record<PropertyKey, unknown>)[key];
      if (own !== undefined) return own;
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** What a history says, in plain values, to compare two histories of the same user. */
function plain(history: UserHistory) {
  const items: Record<string, unknown> = {};
  for (let k = 0; k < history.size; k++) {
    items[history.itemId(k)] = [
      history.weights[k],
      history.lastAt[k],
      history.rejectedAt(k),
      history.purchasedAt(k),
      history.actionAt(k),
    ];
  }
  return { items, recent: history.recent.map((e) => [e.itemId, e.name, e.timestamp]) };
}

/** The engine's write path: commit, then record what was committed. */
async function append(
  store: Store,
  histories: UserHistories,
  events: readonly TrackedEvent[],
): Promise<void> {
  const result = await store.appendEvents(events, { createMissingItems: false });
  histories.record(events, result.positions);
}

describe('UserHistories', () => {
  it('stays equal to a fresh read of the store through appends, repeats and restarts', async () => {
    const NAMES = ['product_viewed', 'purchased', 'dismissed', 'impression', 'added_to_cart'];
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.array(
            fc.record({
              id: fc.integer({ min: 0, max: 400 }),
              user: fc.constantFrom('heavy', 'light', 'other'),
              item: fc.integer({ min: 0, max: 60 }),
              name: fc.constantFrom(...NAMES),
              minutes: fc.integer({ min: 0, max: 600 }),
            }),
            { minLength: 1, maxLength: 60 },
          ),
          { minLength: 1, maxLength: 12 },
        ),
        async (batches) => {
          const store = openStore();
          const histories = new UserHistories(store, settings, 1 << 24);
          // Cached before, during and after: the heavy user is read first, the light one midway.
          await histories.get('heavy');
          let step = 0;
          for (const batch of batches) {
            // Event ids repeat across and within batches: each stored once, and so counted once.
            const events = batch.map((r) =>
              tracked(`e${r.id}`, r.user, r.name, `i${r.item}`, T0 + r.minutes * MINUTE),
            );
            await append(store, histories, events);
            if (++step === Math.ceil(batches.length / 2)) await histories.get('light');
          }
          const restarted = new UserHistories(store, settings, 1 << 24);
          for (const user of ['heavy', 'light', 'other']) {
            expect(plain(await histories.get(user))).toEqual(plain(await restarted.get(user)));
          }
          await store.close();
        },
      ),
      { numRuns: 25 },
    );
  });

  it('counts a batch that repeats an event id once, and reflects it at once', async () => {
    const store = openStore();
    const histories = new UserHistories(store, settings, 1 << 24);
    await append(store, histories, [tracked('v', 'u', 'product_viewed', 'i1', T0)]);
    expect((await histories.get('u')).purchased('i1')).toBe(false);
    const bought = tracked('p', 'u', 'purchased', 'i1', T0 + MINUTE);
    await append(store, histories, [bought, bought]);
    const history = await histories.get('u');
    expect(history.purchased('i1')).toBe(true);
    expect(history.weights[history.find('i1')]).toBe(1 + 8);
  });

  it('folds in events committed while a read was under way, once', async () => {
    const store = openStore();
    await store.appendEvents([tracked('a', 'u', 'product_viewed', 'i1', T0)], { createMissingItems: false });
    // A store whose read takes its snapshot at once but answers later, as a networked one would.
    let open: () => void = () => {};
    const gate = new Promise<void>((resolve) => (open = resolve));
    const slow = withMethods(store, {
      userItems: async (userId: string) => {
        const totals = await store.userItems(userId);
        await gate;
        return totals;
      },
    });
    const histories = new UserHistories(slow, settings, 1 << 24);
    const reading = histories.get('u');
    // Committed after the snapshot, recorded before the read finished.
    const late = [tracked('b', 'u', 'purchased', 'i2', T0 + MINUTE)];
    const result = await store.appendEvents(late, { createMissingItems: false });
    histories.record(late, result.positions);
    // And one the snapshot already holds, recorded late: it must not count twice.
    histories.record([tracked('a', 'u', 'product_viewed', 'i1', T0)], [1]);
    open();
    const history = await reading;
    expect(history.purchased('i2')).toBe(true);
    expect(history.weights[history.find('i1')]).toBe(1);
    expect(await histories.get('u')).toBe(history);
    // The session window too: the late event once, though the window was read after it committed.
    expect(history.recent.map((entry) => entry.itemId)).toEqual(['i2', 'i1']);
    expect(plain(history)).toEqual(plain(await new UserHistories(store, settings, 1 << 24).get('u')));
  });

  it('reads an unknown user once, then serves the empty history from memory', async () => {
    const store = openStore();
    let reads = 0;
    const counting = withMethods(store, {
      userItems: (userId: string) => {
        reads += 1;
        return store.userItems(userId);
      },
    });
    const histories = new UserHistories(counting, settings, 1 << 24);
    const [first, second] = await Promise.all([histories.get('nobody'), histories.get('nobody')]);
    expect(first).toBe(second);
    expect(first.size).toBe(0);
    for (let i = 0; i < 10; i++) await histories.get('nobody');
    expect(reads).toBe(1);
  });

  it('is bounded in bytes, evicting the least recently used histories', async () => {
    const store = openStore();
    const events = Array.from({ length: 500 }, (_, k) =>
      tracked(`h${k}`, `user${k % 5}`, 'product_viewed', `i${k}`, T0 + k),
    );
    await store.appendEvents(events, { createMissingItems: false });
    // Room for about two users of 100 items (18 bytes each, plus overhead).
    const histories = new UserHistories(store, settings, 2 * (100 * 18 + 600));
    for (let u = 0; u < 5; u++) expect((await histories.get(`user${u}`)).size).toBe(100);
    expect(histories.stats.users).toBe(2);
    expect(histories.stats.bytes).toBeLessThanOrEqual(2 * (100 * 18 + 600));
  });
});
