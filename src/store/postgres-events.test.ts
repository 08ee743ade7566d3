import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';

import type { TrackedEvent } from '../events/types.js';
import { StoreReadonlyError, StoreValueError } from './errors.js';
import { PgDb } from './postgres-db.js';
import { PgEventTables } from './postgres-events.js';
import { PgLogWriter } from './postgres-writer.js';
import { CATCH_UP_BEHIND, CATCH_UP_INTERVAL_MS } from './postgres-events-activity.js';
import { APPEND_LOCK } from './postgres-events-common.js';
import { openPostgresStore, type PostgresStore } from './postgres.js';
import { PG_LATEST_SCHEMA_VERSION } from './postgres-schema.js';
import {
  TEST_DATABASE_URL,
  dropSchemas,
  openTestPostgresStore,
  postgresReachable,
  testStoreUrl,
} from './postgres.testing.js';
import { event, item } from './store.contract.js';

/*
 * What the contract suite cannot check of the PostgreSQL event tables: several stores (processes) on one
 * schema, values PostgreSQL text cannot hold, large batches, and the activity tables' catch-up.
 */

const available = await postgresReachable();
const created: string[] = [];

afterAll(async () => {
  if (available) await dropSchemas(created);
});

const T0 = Date.UTC(2026, 2, 10, 12, 0, 0);
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

async function scanIds(store: PostgresStore, throughSeq?: number, afterSeq = 0): Promise<string[]> {
  const out: string[] = [];
  for await (const batch of store.scanEvents(
    throughSeq === undefined ? { afterSeq } : { throughSeq, afterSeq },
  )) {
    out.push(...batch.map((e) => e.eventId));
  }
  return out;
}

describe.skipIf(!available)('PostgreSQL event tables', () => {
  let store: PostgresStore;
  const others: PostgresStore[] = [];
  const dbs: PgDb[] = [];

  beforeEach(async () => {
    store = await openTestPostgresStore(created);
  });

  afterEach(async () => {
    for (const other of others.splice(0)) await other.close();
    for (const db of dbs.splice(0)) await db.close();
    await store.close();
  });

  /** Another store on the same schema: another process, as far as the database can tell. */
  async function sibling(): Promise<PostgresStore> {
    const other = await openPostgresStore({ url: testStoreUrl(store.schema), poolSize: 4 });
    others.push(other);
    return other;
  }

  function connection(): PgDb {
    const db = new PgDb({ connectionString: TEST_DATABASE_URL, schema: store.schema, readonly: false });
    dbs.push(db);
    return db;
  }

  /** The event tables on a connection of their own, for the catch-up the stores run after commits. */
  function eventTables(): PgEventTables {
    const db = connection();
    return new PgEventTables(db, new PgLogWriter(db.options));
  }

  /** The log's own count, read past the store (its `countEvents` reads the kept total). */
  async function countedInLog(): Promise<number> {
    const [row] = await connection().query<{ n: number }>('SELECT count(*) AS n FROM events');
    return row!.n;
  }

  it('commits appends of stores sharing a schema side by side: unique positions, each event once, settled prefixes', async () => {
    const stores = [store, await sibling(), await sibling(), await sibling()];
    const positions: number[] = [];
    const storedShared: string[] = [];
    let writing = true;
    const writers = stores.flatMap((s, k) =>
      Array.from({ length: 3 }, async (_, w) => {
        for (let b = 0; b < 20; b++) {
          // Each batch also carries an id every other store sends at about the same time: one of them stores it.
          const batch = [
            ...Array.from({ length: 10 }, (_, i) =>
              event({
                eventId: `s${k}-w${w}-b${b}-${i}`,
                userId: `u${(w * 20 + b + i) % 37}`,
                itemId: `i${i}`,
              }),
            ),
            event({ eventId: `shared-w${w}-b${b}`, userId: 'shared' }),
          ];
          const result = await s.appendEvents(batch, { createMissingItems: true });
          const mine = result.positions.filter((p): p is number => p !== null);
          expect(mine).toEqual([...mine].sort((a, b2) => a - b2));
          positions.push(...mine);
          if (result.positions[10] !== null) storedShared.push(batch[10]!.eventId);
        }
      }),
    );
    // Meanwhile: fix a position and read the events just below it, where a commit arriving late would land.
    const WINDOW = 200;
    const prefixes: { readonly position: number; readonly ids: string[] }[] = [];
    const reader = (async () => {
      while (writing) {
        const position = await stores[1]!.lastEventSeq();
        prefixes.push({ position, ids: await scanIds(stores[2]!, position, Math.max(0, position - WINDOW)) });
      }
    })();
    await Promise.all(writers).finally(() => (writing = false));
    await reader;

    expect(new Set(positions).size).toBe(positions.length);
    expect(positions).toHaveLength(4 * 3 * 20 * 10 + 3 * 20);
    expect([...storedShared].sort()).toEqual(
      Array.from({ length: 3 }, (_, w) => Array.from({ length: 20 }, (_, b) => `shared-w${w}-b${b}`))
        .flat()
        .sort(),
    );
    const all = await scanIds(store);
    expect(all).toHaveLength(positions.length);
    expect(new Set(all).size).toBe(all.length);
    // No commit landed below a position a reader had already seen: what was read then reads the same now.
    expect(prefixes.length).toBeGreaterThan(10);
    for (const { position, ids } of prefixes) {
      expect(await scanIds(store, position, Math.max(0, position - WINDOW))).toEqual(ids);
    }

    // Stores catching up at once count every event once.
    await Promise.all([eventTables().catchUpActivity(500), eventTables().catchUpActivity(700)]);
    expect(await store.activityTotals()).toEqual({ events: all.length, users: 38 });
    expect(await countedInLog()).toBe(all.length);
  }, 120_000);

  it('hands out a position only once every append that drew a seq at or below it has committed', async () => {
    await store.appendEvents([event({ eventId: 'first' })], { createMissingItems: false });
    // An append in flight, held open: it has the append lock (shared) and a seq, and has not committed.
    const db = connection();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let drawn!: (seq: number) => void;
    const seqDrawn = new Promise<number>((resolve) => (drawn = resolve));
    const inFlight = db.transaction(async (tx) => {
      const [row] = await tx.query<{ seq: number }>(
        `SELECT nextval('events_seq') AS seq FROM (SELECT ${APPEND_LOCK}) AS lock`,
      );
      await tx.query(
        `INSERT INTO events (seq, event_id, name, user_id, item_id, ts, received_at, context, properties, request_id)
         VALUES ($1, 'slow', 'view', 'u1', NULL, $2, $2, '{}', '{}', NULL)`,
        [row!.seq, T0],
      );
      drawn(row!.seq);
      await held;
    });
    const slowSeq = await seqDrawn;
    // A later append commits above it meanwhile: appends do not wait for each other.
    const later = await store.appendEvents([event({ eventId: 'later' })], { createMissingItems: false });
    expect(later.positions[0]).toBeGreaterThan(slowSeq);

    let answered: number | null = null;
    const position = store.lastEventSeq().then((seq) => (answered = seq));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(answered).toBeNull();
    release();
    await inFlight;
    expect(await position).toBe(later.positions[0]);
    expect(await scanIds(store, answered!)).toEqual(['first', 'slow', 'later']);
  });

  it('stores each event once when stores append the same ids in opposite orders at once', async () => {
    const [a, b] = [await sibling(), await sibling()];
    for (let round = 0; round < 20; round++) {
      const batch = Array.from({ length: 50 }, (_, i) =>
        event({ eventId: `r${round}-${i}`, itemId: `i${i}` }),
      );
      const [forward, backward] = await Promise.all([
        a.appendEvents(batch, { createMissingItems: true }),
        b.appendEvents([...batch].reverse(), { createMissingItems: true }),
      ]);
      expect(forward.stored + backward.stored).toBe(50);
    }
    expect(await scanIds(store)).toHaveLength(20 * 50);
  }, 60_000);

  it('numbers the events of an append whose items it knows in the order given, and creates no items', async () => {
    await store.putItems([item({ id: 'a' }), item({ id: 'b' })]);
    // Ids in reverse of the input order: the rows go in in id order, the positions follow the input.
    const batch = Array.from({ length: 200 }, (_, i) =>
      event({ eventId: `e${String(999 - i).padStart(3, '0')}`, itemId: i % 2 === 0 ? 'a' : 'b' }),
    );
    const result = await store.appendEvents(batch, { createMissingItems: true });
    expect(result.createdItems).toEqual([]);
    expect(result.positions).toEqual([...result.positions].sort((x, y) => x! - y!));
    expect(new Set(result.positions).size).toBe(200);
    expect(await scanIds(store)).toEqual(batch.map((e) => e.eventId));
    expect(await store.countItems()).toBe(2);
  });

  it('creates the placeholder again for an item it deleted, not for one deleted elsewhere that it still believes present', async () => {
    await store.putItems([item({ id: 'a' }), item({ id: 'b' })]);
    expect(await store.deleteItem('a')).toBe(true);
    const again = await store.appendEvents([event({ eventId: 'e1', itemId: 'a' })], {
      createMissingItems: true,
    });
    expect(again.createdItems).toEqual(['a']);
    // Deleted through another process: this store still believes 'b' present (for at most 30 s).
    expect(await (await sibling()).deleteItem('b')).toBe(true);
    const stale = await store.appendEvents([event({ eventId: 'e2', itemId: 'b' })], {
      createMissingItems: true,
    });
    expect(stale).toMatchObject({ stored: 1, createdItems: [] });
    expect(await store.getItem('b')).toBeNull();
  });

  it('runs an append again when PostgreSQL fails it as the victim of a deadlock', async () => {
    const db = connection();
    const deadlocks = async () =>
      (
        await db.query<{ n: number }>(
          'SELECT deadlocks::int8 AS n FROM pg_stat_database WHERE datname = current_database()',
        )
      )[0]!.n;
    const before = await deadlocks();
    let appended: Promise<unknown> | undefined;
    // A catalog write holding item y, then wanting x, while the append holds x (its placeholder) and
    // wants y: a cycle. The other side never looks for deadlocks first, so the append is the victim.
    await db.transaction(async (tx) => {
      await tx.query("SET LOCAL deadlock_timeout = '60s'");
      await tx.query(`INSERT INTO items (id, categories, tags, available, created_at, attributes, updated_at)
                      VALUES ('y', '[]', '[]', true, 0, '{}', 0)`);
      appended = store.appendEvents(
        [event({ eventId: 'e1', itemId: 'x' }), event({ eventId: 'e2', itemId: 'y' })],
        {
          createMissingItems: true,
        },
      );
      await new Promise((resolve) => setTimeout(resolve, 300));
      await tx.query(`INSERT INTO items (id, categories, tags, available, created_at, attributes, updated_at)
                      VALUES ('x', '[]', '[]', true, 0, '{}', 0)`);
    });
    expect(await appended).toMatchObject({ stored: 2, duplicates: [] });
    expect(await scanIds(store)).toEqual(['e1', 'e2']);
    expect(await deadlocks()).toBeGreaterThan(before);
  });

  it('refuses ids PostgreSQL text cannot hold (U+0000), naming the field, and finds nothing under them', async () => {
    const nul = 'a\u0000b';
    await expect(
      store.appendEvents([event({ eventId: 'ok' }), event({ eventId: 'x', userId: nul })], {
        createMissingItems: false,
      }),
    ).rejects.toThrow(/events\[1\]\.userId/);
    for (const field of ['eventId', 'name', 'itemId', 'requestId'] as const) {
      const error = await store
        .appendEvents([event({ eventId: 'y', [field]: nul })], { createMissingItems: false })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StoreValueError);
      expect((error as StoreValueError).field).toBe(`events[0].${field}`);
    }
    expect(await store.countEvents()).toBe(0);
    await expect(store.putItems([item({ id: 'fine' }), item({ id: nul })])).rejects.toThrow(/items\[1\]\.id/);
    expect(await store.countItems()).toBe(0);
    await expect(store.putUser({ id: nul, traits: {}, createdAt: T0, updatedAt: T0 })).rejects.toThrow(
      StoreValueError,
    );
    await expect(
      store.appendImpressions([
        {
          requestId: 'r1',
          userId: 'u1',
          createdAt: T0,
          surface: nul,
          model: 'als',
          modelVersion: 1,
          fallback: false,
          items: [],
        },
      ]),
    ).rejects.toThrow(/impressions\[0\]\.surface/);
    await expect(store.mergeUser(nul, 'u1')).rejects.toThrow(/fromId/);
    await expect(store.eraseUser(nul, { at: T0, artifacts: [] })).rejects.toThrow(/userId/);
    // Inside JSON text it is only an escape: kept as sent.
    const escaped = event({ eventId: 'json', properties: { note: nul }, context: { [nul]: 1 } });
    await store.appendEvents([escaped], { createMissingItems: false });
    expect(await store.userEvents('u1')).toEqual([escaped]);
    // Nothing can be stored under such an id, so reads of one find nothing rather than fail.
    expect(await store.getItem(nul)).toBeNull();
    expect(await store.getUser(nul)).toBeNull();
    expect(await store.userEvents(nul)).toEqual([]);
    expect(await store.itemEvents(nul)).toEqual([]);
    expect(await store.userItems(nul)).toEqual([]);
    expect(await store.eventsForRequest(nul)).toEqual([]);
    expect(await store.getImpression(nul)).toBeNull();
    expect(await store.recentEvents({ limit: 5, userId: nul })).toEqual({ events: [], nextBefore: null });
    expect(await store.recentUsers({ limit: 5, prefix: nul })).toEqual([]);
    expect(await store.deleteItem(nul)).toBe(false);
  });

  it('round-trips a 10,000-event append in one commit', async () => {
    const many: TrackedEvent[] = Array.from({ length: 10_000 }, (_, i) =>
      event({
        eventId: `big-${i}`,
        name: i % 10 === 0 ? 'Order Completed' : 'product_viewed',
        userId: `user-${i % 997} ✓`,
        itemId: i % 13 === 0 ? null : `item-${i % 501}`,
        timestamp: T0 + (i % 1000) * MINUTE,
        receivedAt: T0 + i,
        context: { i, quote: 'say "hi"\\', ok: i % 2 === 0 },
        properties: i % 7 === 0 ? { request_id: `r${i}` } : {},
        requestId: i % 7 === 0 ? `r${i}` : null,
      }),
    );
    const result = await store.appendEvents(many, { createMissingItems: true });
    expect(result.stored).toBe(10_000);
    expect(result.duplicates).toEqual([]);
    expect(result.createdItems).toHaveLength(501);
    const positions = result.positions as number[];
    expect(positions.every((p, i) => i === 0 || p > positions[i - 1]!)).toBe(true);
    const scanned: TrackedEvent[] = [];
    for await (const batch of store.scanEvents({ batchSize: 3000 })) scanned.push(...batch);
    expect(scanned).toEqual(many);
    expect(await store.lastEventSeq()).toBe(positions.at(-1));
    expect(await store.eventsForRequest('r700')).toEqual([many[700]]);
    expect(await store.activityTotals()).toEqual({ events: 10_000, users: 997 });
    // Sent again whole: every event a duplicate, nothing created.
    const again = await store.appendEvents(many, { createMissingItems: true });
    expect(again).toMatchObject({ stored: 0, createdItems: [] });
    expect(again.duplicates).toHaveLength(10_000);
  }, 60_000);

  it('starts a catch-up of the activity tables at most once a second, however fast appends commit', async () => {
    const db = connection();
    const mark = async () =>
      (await db.query<{ mark: number }>('SELECT activity_through AS mark FROM event_log'))[0]!.mark;
    const batch = (tag: string) =>
      Array.from({ length: CATCH_UP_BEHIND + 500 }, (_, i) =>
        event({ eventId: `${tag}-${i}`, userId: `u${i % 50}` }),
      );
    const first = await store.appendEvents(batch('one'), { createMissingItems: false });
    const started = Date.now();
    const firstEnd = first.positions.at(-1)!;
    while ((await mark()) < firstEnd) await new Promise((resolve) => setTimeout(resolve, 20));
    // Far enough behind again, but within the second: no catch-up yet.
    await store.appendEvents(batch('two'), { createMissingItems: false });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(Date.now() - started).toBeLessThan(CATCH_UP_INTERVAL_MS);
    expect(await mark()).toBe(firstEnd);
    // Reads are exact at any lag.
    expect(await store.activityTotals()).toEqual({ events: 2 * batch('x').length, users: 50 });
    await new Promise((resolve) => setTimeout(resolve, CATCH_UP_INTERVAL_MS - (Date.now() - started)));
    const third = await store.appendEvents(batch('three'), { createMissingItems: false });
    while ((await mark()) < third.positions.at(-1)!) await new Promise((resolve) => setTimeout(resolve, 20));
  }, 30_000);

  describe('activity tables', () => {
    const at = (userId: string, timestamp: number, itemId: string | null = 'i1', name = 'viewed') =>
      event({
        eventId: `a-${userId}-${timestamp}-${name}`,
        userId,
        itemId,
        name,
        timestamp,
        receivedAt: timestamp,
      });

    /** What the activity reads answer; the kept totals always match the log. */
    async function snapshot() {
      const totals = await store.activityTotals();
      expect(totals.events).toBe(await countedInLog());
      expect(await store.countEvents()).toBe(totals.events);
      return {
        minutes: await store.eventCounts(T0 - 10 * MINUTE, T0 + MINUTE, MINUTE),
        days: await store.eventCounts(T0 - 3 * DAY, T0 + MINUTE, DAY),
        hour: await store.activeUsers(T0 - 60 * MINUTE),
        week: await store.activeUsers(T0 - 7 * DAY),
        ...totals,
        recent: await store.recentUsers({ limit: 10 }),
      };
    }

    beforeEach(async () => {
      await store.appendEvents(
        [
          at('u1', T0 - 5 * MINUTE),
          at('u1', T0 - 5 * MINUTE + 1000, null, 'searched'),
          at('u2', T0 - 2 * MINUTE),
          at('u3', T0 - 2 * DAY),
          at('u4', T0 - 9 * DAY),
        ],
        { createMissingItems: true },
      );
    });

    it('answer the same from the log tail, from the tables, and from both', async () => {
      const tables = eventTables();
      const fromTail = await snapshot();
      expect(fromTail).toMatchObject({ hour: 2, week: 3, events: 5, users: 4 });
      expect(await tables.catchUpActivity()).toBe(5);
      expect(await tables.catchUpActivity()).toBe(0);
      expect(await snapshot()).toEqual(fromTail);
      // A user both counted and in the tail: one user, events summed, the newest time.
      await store.appendEvents([at('u1', T0)], { createMissingItems: true });
      const mixed = await snapshot();
      expect(mixed).toMatchObject({ users: 4, hour: 2 });
      expect(mixed.recent[0]).toEqual({ userId: 'u1', lastSeen: T0, events: 3 });
      await tables.catchUpActivity(1);
      expect(await snapshot()).toEqual(mixed);
      expect(await store.recentUsers({ prefix: 'u3', limit: 5 })).toEqual([
        { userId: 'u3', lastSeen: T0 - 2 * DAY, events: 1 },
      ]);
    });

    it('find the newest users and the active ones through the hours index, as a sort of every user would', async () => {
      const HOUR = 60 * MINUTE;
      // 120 users over ten hours, a few sharing a time, counted in the tables (the tail only for some).
      const lastSeen = Array.from({ length: 120 }, (_, i) =>
        i % 7 === 0 ? T0 - 3 * HOUR : T0 - ((i * 7_919_317) % (10 * HOUR)),
      );
      await store.appendEvents(
        lastSeen.map((ts, i) => at(`h${String(i).padStart(3, '0')}`, ts)),
        { createMissingItems: true },
      );
      await eventTables().catchUpActivity();
      await store.appendEvents([at('h005', T0 + MINUTE), at('tail-only', T0 - 4 * HOUR)], {
        createMissingItems: true,
      });
      const all = new Map<string, number>([
        ['u1', T0 - 5 * MINUTE + 1000],
        ['u2', T0 - 2 * MINUTE],
        ['u3', T0 - 2 * DAY],
        ['u4', T0 - 9 * DAY],
        ['tail-only', T0 - 4 * HOUR],
        ...lastSeen.map((ts, i): [string, number] => [`h${String(i).padStart(3, '0')}`, ts]),
      ]);
      all.set('h005', T0 + MINUTE);
      const sorted = [...all].sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1)).map(([id]) => id);
      for (const limit of [1, 3, 10, 25, 70, 200]) {
        const recent = await store.recentUsers({ limit });
        expect(recent.map((u) => u.userId)).toEqual(sorted.slice(0, limit));
      }
      for (const since of [
        T0 - 3 * HOUR,
        T0 - 3 * HOUR + 1,
        T0 - 90 * MINUTE,
        T0 - 10 * HOUR,
        T0 + 2 * MINUTE,
      ]) {
        const expected = [...all.values()].filter((ts) => ts >= since).length;
        expect(await store.activeUsers(since)).toBe(expected);
      }
    });

    it('answer the same after migrating a schema of version 1, which indexed users by their newest time', async () => {
      const tables = eventTables();
      await tables.catchUpActivity();
      const before = await snapshot();
      const db = connection();
      await db.transaction(async (tx) => {
        await tx.query(`DROP INDEX user_activity_hour;
                        ALTER TABLE user_activity DROP COLUMN last_hour, RESET (fillfactor);
                        CREATE INDEX user_activity_last ON user_activity (last_ts)`);
        await tx.query("UPDATE meta SET value = '1' WHERE key = 'schema_version'");
      });
      await sibling(); // opening migrates
      const [version] = await db.query<{ value: string }>(
        "SELECT value FROM meta WHERE key = 'schema_version'",
      );
      expect(version?.value).toBe(String(PG_LATEST_SCHEMA_VERSION));
      expect(await snapshot()).toEqual(before);
      const [hourIndex] = await db.query<{ n: number }>(
        "SELECT count(*) AS n FROM pg_indexes WHERE schemaname = current_schema() AND indexname = 'user_activity_hour'",
      );
      expect(hourIndex?.n).toBe(1);
    });

    it('take out what erasure, merges and retention remove, counted or not', async () => {
      const tables = eventTables();
      await tables.catchUpActivity();
      await store.appendEvents([at('anon', T0 - MINUTE), at('u2', T0 - MINUTE)], {
        createMissingItems: true,
      });
      await store.eraseUser('u1', { at: T0, artifacts: [] });
      const erased = await snapshot();
      expect(erased).toMatchObject({ events: 5, users: 4 });
      expect(erased.recent.map((u) => u.userId)).not.toContain('u1');
      await tables.catchUpActivity();
      expect(await snapshot()).toEqual(erased);
      // Counted (u3) and tail (anon) parts both follow the events.
      await store.appendEvents([at('anon', T0)], { createMissingItems: true });
      expect((await store.mergeUser('anon', 'u3')).events).toBe(2);
      const merged = await snapshot();
      expect(merged).toMatchObject({ events: 6, users: 3 });
      expect(merged.recent.find((u) => u.userId === 'u3')).toEqual({ userId: 'u3', lastSeen: T0, events: 3 });
      await tables.catchUpActivity();
      expect(await snapshot()).toEqual(merged);
      await store.appendEvents([at('u5', T0 - 8 * DAY)], { createMissingItems: true });
      expect((await store.expireEvents(T0 + DAY, 100)).deleted).toBe(7);
      expect(await snapshot()).toMatchObject({ events: 0, users: 0, hour: 0, week: 0, recent: [] });
      await tables.catchUpActivity();
      expect(await snapshot()).toMatchObject({ events: 0, users: 0, recent: [] });
    });
  });

  it('keeps the log position when the newest events are erased or expire', async () => {
    await store.appendEvents([event({ eventId: 'a', userId: 'u1' }), event({ eventId: 'b', userId: 'u2' })], {
      createMissingItems: false,
    });
    const position = await store.lastEventSeq();
    await store.eraseUser('u2', { at: T0, artifacts: [] });
    expect(await store.lastEventSeq()).toBe(position);
    await store.expireEvents(T0 + DAY, 10);
    expect(await store.countEvents()).toBe(0);
    expect(await countedInLog()).toBe(0);
    expect(await store.lastEventSeq()).toBe(position);
    const next = await store.appendEvents([event({ eventId: 'c' })], { createMissingItems: false });
    expect(next.positions[0]).toBeGreaterThan(position);
  });

  it('fails only the batch at fault when a grouped commit fails', async () => {
    // Passes the checks before SQL, fails in PostgreSQL (a bigint column): the group is retried batch by batch.
    const bad = event({ eventId: 'bad', timestamp: T0 + 0.5 });
    const [good, failed, later] = await Promise.allSettled([
      store.appendEvents([event({ eventId: 'good' })], { createMissingItems: false }),
      store.appendEvents([event({ eventId: 'fine' }), bad], { createMissingItems: false }),
      store.appendEvents([event({ eventId: 'later' })], { createMissingItems: false }),
    ]);
    expect(good.status).toBe('fulfilled');
    expect(failed.status).toBe('rejected');
    expect(later.status).toBe('fulfilled');
    expect(await scanIds(store)).toEqual(['good', 'later']);
  });

  it('commits appends still queued when it closes', async () => {
    const pending = store.appendEvents([event({ eventId: 'queued' })], { createMissingItems: false });
    await store.close();
    expect((await pending).stored).toBe(1);
    expect(await scanIds(await sibling())).toEqual(['queued']);
  });

  it('refuses writes when opened read-only', async () => {
    const reader = await openPostgresStore({ url: testStoreUrl(store.schema), readonly: true });
    others.push(reader);
    await expect(
      reader.appendEvents([event({ eventId: 'a' })], { createMissingItems: false }),
    ).rejects.toThrow(StoreReadonlyError);
    await expect(reader.eraseUser('u1', { at: T0, artifacts: [] })).rejects.toThrow(StoreReadonlyError);
    expect(await reader.lastEventSeq()).toBe(0);
  });
});
