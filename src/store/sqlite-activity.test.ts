import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import type { TrackedEvent } from '../events/types.js';
import { DATABASE_FILE, openSqliteStore, type SqliteStore } from './sqlite.js';
import { NAME_SCAN_WINDOW } from './sqlite-activity.js';
import { logIndexCatchUp } from './sqlite-log-index.js';
import { ITEM_EVENTS_THROUGH_KEY, migrate, MIGRATIONS } from './sqlite-schema.js';
import { prepareStatements } from './sqlite-statements.js';

/*
 * What the activity reads answer is the contract's (`store.contract.ts`, describe 'activity': buckets,
 * active users, totals, recent users and events, decision timelines, served-list clicks), run on every
 * backend. What is SQLite's own is tested here: the reads combine two derived tables (`event_minutes`,
 * `user_activity`, kept by the item index's catch-up up to its mark) with the log's unindexed tail, and
 * must answer the same from either part or both; retention, erasure and merges adjust both parts; a
 * search by name alone reads a bounded window (`NAME_SCAN_WINDOW`); schema step 10 backfills the tables.
 */

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const T0 = Date.UTC(2026, 2, 10, 12, 0, 0);

let counter = 0;
function event(userId: string, at: number, itemId: string | null = 'i1', name = 'viewed'): TrackedEvent {
  return {
    eventId: `e${counter++}`,
    name,
    userId,
    itemId,
    timestamp: at,
    receivedAt: at,
    context: {},
    properties: {},
    requestId: null,
  };
}

/** What the activity reads answer, for comparing a store's state before and after the catch-up. */
async function snapshot(store: SqliteStore) {
  // The kept total is always the log's own count.
  expect((await store.activityTotals()).events).toBe(await store.countEvents());
  return {
    minutes: await store.eventCounts(T0 - 10 * MINUTE, T0 + MINUTE, MINUTE),
    days: await store.eventCounts(T0 - 3 * DAY, T0 + MINUTE, DAY),
    hour: await store.activeUsers(T0 - 60 * MINUTE),
    week: await store.activeUsers(T0 - 7 * DAY),
    ...(await store.activityTotals()),
    recent: await store.recentUsers({ limit: 10 }),
  };
}

describe('activity tables (sqlite-activity.ts)', () => {
  let dir: string;
  let store: SqliteStore;
  /** The catch-up the background thread runs, from a second connection. */
  const catchUp = () => {
    const db = new Database(join(dir, DATABASE_FILE));
    try {
      db.pragma('busy_timeout = 5000');
      logIndexCatchUp(db, prepareStatements(db))();
    } finally {
      db.close();
    }
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'attune-activity-'));
    store = openSqliteStore({ dataDir: dir, backgroundCheckpoints: false });
    await store.appendEvents(
      [
        event('u1', T0 - 5 * MINUTE),
        event('u1', T0 - 5 * MINUTE + 1000, null, 'searched'),
        event('u2', T0 - 2 * MINUTE),
        event('u3', T0 - 2 * DAY),
        event('u4', T0 - 9 * DAY),
      ],
      { createMissingItems: true },
    );
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers the same from the log tail, from the tables, and from both', async () => {
    // Nothing is counted in the tables yet: every read comes from the log's tail.
    expect(await store.getMeta(ITEM_EVENTS_THROUGH_KEY)).toBe(0);
    const fromTail = await snapshot(store);
    expect(fromTail).toMatchObject({ events: 5, users: 4, hour: 2, week: 3 });
    expect(fromTail.days).toEqual([0, 1, 3, 0]);
    catchUp();
    expect(await store.getMeta(ITEM_EVENTS_THROUGH_KEY)).toBe(5);
    expect(await snapshot(store)).toEqual(fromTail);
    // A user both counted and in the tail: one user, events summed, the newest time.
    await store.appendEvents([event('u1', T0)], { createMissingItems: true });
    const mixed = await snapshot(store);
    expect(mixed.users).toBe(4);
    expect(mixed.hour).toBe(2);
    expect(mixed.recent[0]).toEqual({ userId: 'u1', lastSeen: T0, events: 3 });
    const prefixed = await store.recentUsers({ prefix: 'u', limit: 2 });
    expect(prefixed).toEqual(mixed.recent.slice(0, 2));
    const narrow = await store.recentUsers({ prefix: 'u3', limit: 5 });
    expect(narrow).toEqual([{ userId: 'u3', lastSeen: T0 - 2 * DAY, events: 1 }]);
    catchUp();
    expect(await snapshot(store)).toEqual(mixed);
    expect(await store.recentUsers({ prefix: 'u', limit: 2 })).toEqual(prefixed);
    expect(await store.recentUsers({ prefix: 'u3', limit: 5 })).toEqual(narrow);
  });

  it('takes out what retention deletes, counted or not', async () => {
    catchUp();
    await store.appendEvents([event('u5', T0 - 8 * DAY)], { createMissingItems: true });
    // Everything older than a week: u4's event (counted), then u3's newer one stops the sweep… in log
    // order: u1, u1, u2 are newer and come first, so nothing goes until they are old enough.
    expect((await store.expireEvents(T0 - 7 * DAY, 100)).deleted).toBe(0);
    expect((await store.expireEvents(T0 + DAY, 100)).deleted).toBe(6);
    const after = await snapshot(store);
    expect(after.users).toBe(0);
    expect(after.minutes.every((n) => n === 0)).toBe(true);
    expect(after.days.every((n) => n === 0)).toBe(true);
    expect(after.recent).toEqual([]);
    const db = new Database(join(dir, DATABASE_FILE), { readonly: true });
    try {
      expect(db.prepare('SELECT count(*) AS n FROM event_minutes').get()).toEqual({ n: 0 });
      expect(db.prepare('SELECT count(*) AS n FROM user_activity').get()).toEqual({ n: 0 });
    } finally {
      db.close();
    }
  });

  it('forgets an erased user and merges a merged one', async () => {
    catchUp();
    await store.appendEvents([event('anon', T0 - MINUTE), event('u2', T0 - MINUTE)], {
      createMissingItems: true,
    });
    await store.eraseUser('u1', { at: T0, artifacts: [] });
    let now = await snapshot(store);
    expect(now.users).toBe(4);
    expect(now.minutes.reduce((a, b) => a + b, 0)).toBe(3);
    expect(now.recent.map((u) => u.userId)).not.toContain('u1');
    // Counted (u3) and tail (anon) parts both follow the events.
    catchUp();
    await store.appendEvents([event('anon', T0)], { createMissingItems: true });
    expect((await store.mergeUser('anon', 'u3')).events).toBe(2);
    now = await snapshot(store);
    expect(now.users).toBe(3);
    expect(now.recent.find((u) => u.userId === 'u3')).toEqual({ userId: 'u3', lastSeen: T0, events: 3 });
    expect(now.recent.find((u) => u.userId === 'anon')).toBeUndefined();
    catchUp();
    expect(await snapshot(store)).toEqual(now);
  });

  it('lists events newest first by position, filtered, through the item index and its tail', async () => {
    catchUp();
    await store.appendEvents([event('u9', T0, 'i1')], { createMissingItems: true });
    const all = (await store.recentEvents({ limit: 10 })).events;
    expect(all.map((e) => e.seq)).toEqual([6, 5, 4, 3, 2, 1]);
    expect((await store.recentEvents({ limit: 10, itemId: 'i1' })).events.map((e) => e.seq)).toEqual([
      6, 5, 4, 3, 1,
    ]);
    expect(
      (await store.recentEvents({ limit: 2, itemId: 'i1', beforeSeq: 5 })).events.map((e) => e.seq),
    ).toEqual([4, 3]);
    expect(
      (await store.recentEvents({ limit: 10, itemId: 'i1', afterSeq: 4 })).events.map((e) => e.seq),
    ).toEqual([6, 5]);
    expect((await store.recentEvents({ limit: 10, userId: 'u1' })).events.map((e) => e.seq)).toEqual([2, 1]);
    expect((await store.recentEvents({ limit: 10, name: 'searched' })).events.map((e) => e.seq)).toEqual([2]);
    expect((await store.recentEvents({ limit: 10, userId: 'u1', itemId: 'i2' })).events).toEqual([]);
  });
});

describe('a search by event name alone', () => {
  it('reads a bounded window of the log per call and says where to go on', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'attune-activity-names-'));
    const store = openSqliteStore({ dataDir: dir, backgroundCheckpoints: false });
    try {
      const rare = [event('r', T0, null, 'rare')];
      const common = Array.from({ length: NAME_SCAN_WINDOW + 10 }, (_, i) => event(`c${i % 50}`, T0, null));
      await store.appendEvents(rare, { createMissingItems: true });
      for (let i = 0; i < common.length; i += 5000) {
        await store.appendEvents(common.slice(i, i + 5000), { createMissingItems: true });
      }
      const last = await store.lastEventSeq();
      const first = await store.recentEvents({ limit: 5, name: 'rare' });
      expect(first.events).toEqual([]);
      expect(first.nextBefore).toBe(last - NAME_SCAN_WINDOW + 1);
      const second = await store.recentEvents({ limit: 5, name: 'rare', beforeSeq: first.nextBefore! });
      expect(second.events.map((e) => e.seq)).toEqual([1]);
      expect(second.nextBefore).toBeNull();
      // A name that is everywhere fills its page at once.
      const viewed = await store.recentEvents({ limit: 3, name: 'viewed' });
      expect(viewed.events.map((e) => e.seq)).toEqual([last, last - 1, last - 2]);
      expect(viewed.nextBefore).toBe(last - 2);
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('schema step 10', () => {
  it('backfills the activity tables up to the item index mark of an existing database', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'attune-activity-v9-'));
    try {
      const older = openSqliteStore({ dataDir: dir, backgroundCheckpoints: false });
      await older.appendEvents([event('a', T0), event('a', T0 + MINUTE), event('b', T0 + MINUTE)], {
        createMissingItems: true,
      });
      await older.close();
      // Back to version 9 with every event indexed, as a database from before step 10 would be.
      const db = new Database(join(dir, DATABASE_FILE));
      logIndexCatchUp(db, prepareStatements(db))();
      db.exec(`DROP TABLE event_minutes; DROP TABLE user_activity; DROP INDEX impressions_created;
               UPDATE meta SET value = '9' WHERE key = 'schema_version';`);
      expect(migrate(db, MIGRATIONS.slice(0, 10))).toBe(10);
      expect(db.prepare('SELECT minute, events FROM event_minutes ORDER BY minute').all()).toEqual([
        { minute: T0 / MINUTE, events: 1 },
        { minute: T0 / MINUTE + 1, events: 2 },
      ]);
      expect(db.prepare('SELECT user_id, last_ts, events FROM user_activity ORDER BY user_id').all()).toEqual(
        [
          { user_id: 'a', last_ts: T0 + MINUTE, events: 2 },
          { user_id: 'b', last_ts: T0 + MINUTE, events: 1 },
        ],
      );
      db.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
