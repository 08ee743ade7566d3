import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';

import type { TrackedEvent } from '../events/types.js';
import { StoreReadonlyError, StoreSchemaError } from './errors.js';
import {
  DATABASE_FILE,
  INLINE_LOG_INDEX_BEHIND,
  openSqliteStore,
  type SqliteStore,
  type SqliteStoreOptions,
} from './sqlite.js';
import { activityIndexer } from './sqlite-activity.js';
import { logIndexCatchUp } from './sqlite-log-index.js';
import {
  ITEM_EVENTS_THROUGH_KEY,
  LATEST_SCHEMA_VERSION,
  LOG_INDEX_MARK,
  MIGRATIONS,
  migrate,
  readSchemaVersion,
} from './sqlite-schema.js';
import { prepareStatements } from './sqlite-statements.js';
import { decision, describeStoreContract, event, item } from './store.contract.js';
import type { UserEventsOptions } from './types.js';

/**
 * The background thread's checkpoint interval, as the next store opened will get it: `null` keeps the
 * store's own. The WAL tests set it to take the timer out of the picture instead of racing it.
 */
const checkpointTimer = vi.hoisted(() => ({
  intervalMs: null as number | null,
  /** The newest background thread started (to stop it from outside, as a crash would). */
  thread: null as { terminate: () => Promise<number> } | null,
}));

vi.mock('./sqlite-background.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('./sqlite-background.js')>();
  class TimedBackgroundWriter extends actual.BackgroundWriter {
    constructor(file: string, intervalMs: number, synchronous: 'FULL' | 'NORMAL') {
      super(file, checkpointTimer.intervalMs ?? intervalMs, synchronous);
      checkpointTimer.thread = (this as unknown as { worker: { terminate: () => Promise<number> } }).worker;
    }
  }
  return { ...actual, BackgroundWriter: TimedBackgroundWriter };
});

/** Opens a store whose background thread checkpoints every `intervalMs` instead of the store's interval. */
function openWithCheckpointEvery(intervalMs: number, options: SqliteStoreOptions): SqliteStore {
  checkpointTimer.intervalMs = intervalMs;
  try {
    return openSqliteStore(options);
  } finally {
    checkpointTimer.intervalMs = null;
  }
}

/** Blocks this thread (no event loop turns, no timers) for about `ms` milliseconds. */
function blockThread(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SQLITE_MODULE = new URL('./sqlite.ts', import.meta.url).href;

const tempDirs: string[] = [];
const opened: SqliteStore[] = [];
const rawConnections: Database.Database[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'attune-store-'));
  tempDirs.push(dir);
  return dir;
}

/** Opens a store that the shared afterEach closes, however the test ends. */
function track(store: SqliteStore): SqliteStore {
  opened.push(store);
  return store;
}

afterEach(async () => {
  for (const db of rawConnections.splice(0)) db.close();
  for (const store of opened.splice(0)) await store.close();
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describeStoreContract('sqlite', async () => openSqliteStore({ dataDir: join(tempDir(), 'data') }));

/** A store whose background thread is alive but never runs its timer: nothing indexes events by item. */
function openWithoutCatchUp(options: SqliteStoreOptions): SqliteStore {
  return track(openWithCheckpointEvery(2 ** 30, options));
}

/** A second, raw connection to a store's file, closed by the shared afterEach. */
function rawConnection(dataDir: string, options: Database.Options = {}): Database.Database {
  const db = new Database(join(dataDir, DATABASE_FILE), options);
  db.pragma('busy_timeout = 5000');
  rawConnections.push(db);
  return db;
}

/** A database in `dataDir` as a build at schema `version` left it, with `fill` run on it, then closed. */
function databaseAt(dataDir: string, version: number, fill: (db: Database.Database) => void): void {
  mkdirSync(dataDir, { recursive: true });
  const old = new Database(join(dataDir, DATABASE_FILE));
  try {
    old.pragma('journal_mode = WAL');
    expect(migrate(old, MIGRATIONS.slice(0, version))).toBe(version);
    fill(old);
  } finally {
    old.close();
  }
}

/** `EXPLAIN QUERY PLAN` of a statement on `db`, its steps' details one per line. */
function queryPlan(db: Database.Database) {
  return (sql: string, ...params: unknown[]): string =>
    db
      .prepare<unknown[], { detail: string }>(`EXPLAIN QUERY PLAN ${sql}`)
      .all(...params)
      .map((row) => row.detail)
      .join('\n');
}

/** Which derived index a window is read through: by item (`itemEvents`) or by user (`userEvents`). */
type Key = 'item' | 'user';

/**
 * The log read directly, as `itemEvents` did with V4's index and `userEvents` with the user index on
 * `events`: the reference the derived indexes must match. Also reports their state: their rows, their mark
 * and the log position.
 */
function logReader(dataDir: string) {
  const db = rawConnection(dataDir, { readonly: true });
  const reference = (key: Key) =>
    db
      .prepare<[string, number, number, number, number], string>(
        `SELECT event_id FROM events WHERE ${key}_id = ? AND ts >= ? AND seq > ? AND seq <= ?
         ORDER BY ts DESC, seq DESC LIMIT ?`,
      )
      .pluck();
  const windows = { item: reference('item'), user: reference('user') };
  const state = db.prepare<
    [],
    { rows: number; userRows: number; through: number; last: number; withItem: number }
  >(
    `SELECT (SELECT count(*) FROM item_events) AS rows,
            (SELECT count(*) FROM user_events) AS userRows,
            (SELECT CAST(value AS INTEGER) FROM meta WHERE key = '${ITEM_EVENTS_THROUGH_KEY}') AS through,
            coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0) AS last,
            (SELECT count(*) FROM events WHERE item_id IS NOT NULL) AS withItem`,
  );
  // The derived user index is exactly the log's (user, ts, seq) up to the mark, whatever changed the log.
  const userIndexGap = db
    .prepare<[], number>(
      `SELECT count(*) FROM (
         SELECT user_id, ts, seq FROM events WHERE seq <= ${LOG_INDEX_MARK}
         EXCEPT SELECT user_id, ts, seq FROM user_events
         UNION ALL
         SELECT * FROM (SELECT user_id, ts, seq FROM user_events
                        EXCEPT SELECT user_id, ts, seq FROM events WHERE seq <= ${LOG_INDEX_MARK}))`,
    )
    .pluck();
  return {
    /** A key's events newest first, within `UserEventsOptions`' bounds (`afterSeq < seq ≤ throughSeq`). */
    window: (key: Key, id: string, options: UserEventsOptions = {}) =>
      windows[key].all(
        id,
        options.since ?? Number.MIN_SAFE_INTEGER,
        options.afterSeq ?? 0,
        options.throughSeq ?? Number.MAX_SAFE_INTEGER,
        options.limit ?? 100,
      ),
    state: () => state.get(),
    userIndexGap: () => userIndexGap.get(),
  };
}

/** The store's window of `key` (`itemEvents` or `userEvents`). */
function storeWindow(store: SqliteStore, key: Key, id: string, options: UserEventsOptions) {
  return key === 'item' ? store.itemEvents(id, options) : store.userEvents(id, options);
}

/** Catches `item_events` up from a connection of its own, in chunks of `chunk` log positions. */
function catchUpFrom(dataDir: string, chunk: number): number {
  const db = new Database(join(dataDir, DATABASE_FILE));
  try {
    db.pragma('busy_timeout = 5000');
    return logIndexCatchUp(db, prepareStatements(db), chunk)();
  } finally {
    db.close();
  }
}

const T = Date.UTC(2025, 0, 1);
const ITEMS = ['i0', 'i1', 'i2', 'i3', 'i4'];

/** Events over five items (and some about none), with timestamps out of order and tied across batches. */
function itemStream(prefix: string, count: number): TrackedEvent[] {
  return Array.from({ length: count }, (_, i) =>
    event({
      eventId: `${prefix}${i}`,
      itemId: i % 7 === 6 ? null : ITEMS[i % ITEMS.length]!,
      userId: `u${i % 3}`,
      timestamp: T + ((i * 37) % 11) * 1000,
    }),
  );
}

const eventIds = (list: readonly TrackedEvent[]): string[] => list.map((e) => e.eventId);

const USERS = ['u0', 'u1', 'u2'];

/**
 * `itemEvents` and `userEvents` against the log read directly, over items and users, `since` bounds (ties
 * included) and limits; and the user index against the log.
 */
async function expectWindowsExact(store: SqliteStore, log: ReturnType<typeof logReader>): Promise<void> {
  for (const [key, ids] of [
    ['item', ITEMS],
    ['user', USERS],
  ] as const) {
    for (const id of [...ids, 'nothing']) {
      for (const since of [undefined, T + 3000, T + 10_000, T + 11_000]) {
        for (const limit of [undefined, 0, 1, 4, 1000]) {
          const got = eventIds(await storeWindow(store, key, id, { since, limit }));
          expect(got, `${key} ${id}, since ${since}, limit ${limit}`).toEqual(
            log.window(key, id, { since, limit }),
          );
        }
      }
    }
  }
  expect(log.userIndexGap()).toBe(0);
}

describe('SqliteStore', () => {
  it('creates the data directory and keeps data across close and reopen', async () => {
    const dataDir = join(tempDir(), 'nested', 'data');
    const first = openSqliteStore({ dataDir });
    expect(existsSync(join(dataDir, DATABASE_FILE))).toBe(true);
    await first.appendEvents([event({ eventId: 'a' })], { createMissingItems: true });
    await first.saveArtifact({ name: 'als', createdAt: 1, meta: {}, payload: new Uint8Array([7]) });
    await first.setMeta('setting', { on: true });
    await first.close();

    const second = track(openSqliteStore({ dataDir }));
    expect(await second.countEvents()).toBe(1);
    expect(await second.getItem('i1')).not.toBeNull();
    expect(Array.from((await second.loadArtifact('als'))?.payload ?? [])).toEqual([7]);
    expect(await second.getMeta('setting')).toEqual({ on: true });
  });

  it('commits metadata on the background thread: the serving thread neither waits for the lock nor blocks', async () => {
    const dataDir = tempDir();
    const store = track(openSqliteStore({ dataDir }));
    // Another writer holds the write lock, as the background thread does while it commits a log batch.
    const holder = new Database(join(dataDir, DATABASE_FILE));
    holder.prepare('BEGIN IMMEDIATE').run();
    let settled = false;
    const written = store.setMeta('learner', { weights: 'AAAA' }).then(() => (settled = true));
    // This thread goes on (a timer fires) while the write waits for the lock elsewhere.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(settled).toBe(false);
    holder.prepare('COMMIT').run();
    holder.close();
    await written;
    expect(await store.getMeta('learner')).toEqual({ weights: 'AAAA' });
  });

  it('runs in WAL mode with synchronous FULL unless NORMAL is asked for', async () => {
    const dataDir = tempDir();
    const full = track(openSqliteStore({ dataDir }));
    expect(full.settings()).toEqual({ journalMode: 'wal', synchronous: 'FULL', busyTimeoutMs: 5000 });
    const normal = track(
      openSqliteStore({ dataDir, readonly: true, synchronous: 'NORMAL', busyTimeoutMs: 250 }),
    );
    expect(normal.settings()).toEqual({ journalMode: 'wal', synchronous: 'NORMAL', busyTimeoutMs: 250 });
    expect(() => openSqliteStore({ dataDir, synchronous: 'OFF' as 'FULL' })).toThrow(RangeError);
  });

  describe('WAL checkpoints', () => {
    /**
     * Events whose 16 KiB property spills over eight or so 2 KiB pages each: 1,600 of them put about
     * 13,000 pages in the WAL, past both thresholds at which a connection checkpoints inside its own
     * commit (SQLite's default of 1,000 pages and the 10,000 the store gives secondary writers).
     */
    const bulky = (count: number, prefix: string) =>
      Array.from({ length: count }, (_, i) =>
        event({ eventId: `${prefix}${i}`, userId: `u${i % 97}`, properties: { blob: 'x'.repeat(16_384) } }),
      );
    const WAL_HEADER = 32;
    const FRAME = 24 + 2048;

    it('a commit leaves its pages in the WAL: no checkpoint runs inside it', async () => {
      const dataDir = tempDir();
      // A background thread that never checkpoints while this test runs: whatever reaches the database
      // file below was copied there by the committing connection itself.
      // NORMAL: no fsync per commit, which only costs time here; checkpointing does not depend on it.
      const store = track(openWithCheckpointEvery(2 ** 30, { dataDir, synchronous: 'NORMAL' }));
      const file = join(dataDir, DATABASE_FILE);
      const databaseBefore = statSync(file).size;
      for (let batch = 0; batch < 4; batch++) {
        await store.appendEvents(bulky(400, `b${batch}-`), { createMissingItems: false });
      }
      const frames = (statSync(`${file}-wal`).size - WAL_HEADER) / FRAME;
      expect(frames).toBeGreaterThan(10_000);
      expect(statSync(file).size).toBe(databaseBefore);
      expect(await store.countEvents()).toBe(1600);
    });

    it('the background thread copies the WAL into the database file while this thread is busy', async () => {
      const dataDir = tempDir();
      const store = track(openSqliteStore({ dataDir }));
      const file = join(dataDir, DATABASE_FILE);
      const before = statSync(file).size;
      await store.appendEvents(bulky(100, 'e'), { createMissingItems: false });
      // This thread runs no timer and no callback while it waits, so the copy can only come from another
      // thread: the store's background writer, due every 500 ms. The bound only turns a checkpoint that
      // never comes into a failure instead of a hang; it is far beyond any machine's delay.
      let after = statSync(file).size;
      for (let waited = 0; after === before && waited < 25_000; waited += 20) {
        blockThread(20);
        after = statSync(file).size;
      }
      expect(after).toBeGreaterThan(before);
      expect(await store.countEvents()).toBe(100);
    });
  });

  it('creates new databases with 2 KiB pages', () => {
    const dataDir = tempDir();
    track(openSqliteStore({ dataDir }));
    const db = new Database(join(dataDir, DATABASE_FILE), { readonly: true });
    try {
      expect(db.pragma('page_size', { simple: true })).toBe(2048);
    } finally {
      db.close();
    }
  });

  it('writes impressions without fsync and goes back to FULL for events', async () => {
    const store = track(openSqliteStore({ dataDir: tempDir() }));
    await store.appendImpressions([
      {
        requestId: 'r1',
        userId: 'u1',
        createdAt: 1,
        surface: 'recommendations',
        model: 'als',
        modelVersion: 1,
        fallback: false,
        items: [{ itemId: 'i1', position: 0, score: 1 }],
      },
    ]);
    expect(store.settings().synchronous).toBe('FULL');
    expect((await store.getImpression('r1'))?.items).toEqual([{ itemId: 'i1', position: 0, score: 1 }]);
  });

  describe('read-only connections', () => {
    it('see committed events while the writer stays open, and refuse writes', async () => {
      const dataDir = tempDir();
      const writer = track(openSqliteStore({ dataDir }));
      await writer.appendEvents([event({ eventId: 'a' })], { createMissingItems: false });
      const reader = track(openSqliteStore({ dataDir, readonly: true }));
      expect(reader.readonly).toBe(true);
      expect(await reader.countEvents()).toBe(1);

      await writer.appendEvents([event({ eventId: 'b' }), event({ eventId: 'c' })], {
        createMissingItems: false,
      });
      expect(await reader.countEvents()).toBe(3);
      expect((await reader.userEvents('u1')).map((e) => e.eventId)).toEqual(['c', 'b', 'a']);

      await expect(
        reader.appendEvents([event({ eventId: 'd' })], { createMissingItems: false }),
      ).rejects.toThrow(StoreReadonlyError);
      await expect(reader.putItems([item({ id: 'x' })])).rejects.toThrow(/read-only/);
      await expect(reader.setMeta('k', 1)).rejects.toThrow(StoreReadonlyError);
      expect(await writer.countEvents()).toBe(3);
    });

    it('read the decision log and refuse to write it or its points', async () => {
      const dataDir = tempDir();
      const writer = track(openSqliteStore({ dataDir }));
      await writer.saveDecisionPoint({ id: 'p', revision: 1, body: {} }, null);
      await writer.appendDecisions([decision({ id: 'd', point: 'p', deadline: 10 })]);
      const reader = track(openSqliteStore({ dataDir, readonly: true }));
      expect((await reader.getDecision('d'))?.point).toBe('p');
      expect((await reader.getDecisionPoint('p'))?.revision).toBe(1);
      expect((await reader.expiredDecisions(11, 10)).map((d) => d.id)).toEqual(['d']);
      expect(await reader.decisionStats('p')).toEqual({ decisions: 1, closed: 0, rewardSum: 0 });

      const outcome = { reward: 1, at: 5, source: 'explicit' } as const;
      await expect(reader.saveDecisionPoint({ id: 'q', revision: 1, body: {} }, null)).rejects.toThrow(
        StoreReadonlyError,
      );
      await expect(reader.deleteDecisionPoint('p')).rejects.toThrow(StoreReadonlyError);
      await expect(reader.appendDecisions([decision({ id: 'e' })])).rejects.toThrow(StoreReadonlyError);
      await expect(reader.appendDecisions([])).rejects.toThrow(StoreReadonlyError);
      await expect(reader.closeDecisions([{ id: 'd', outcome }])).rejects.toThrow(StoreReadonlyError);
      expect(await writer.getDecision('d')).toEqual(decision({ id: 'd', point: 'p', deadline: 10 }));
      expect(await writer.getDecisionPoint('p')).not.toBeNull();
    });

    it('need an existing database and do not create one', () => {
      const dataDir = join(tempDir(), 'missing');
      expect(() => openSqliteStore({ dataDir, readonly: true })).toThrow(/No Attune database/);
      expect(existsSync(dataDir)).toBe(false);
    });

    it('coexist with the writer from a worker thread', async () => {
      const dataDir = tempDir();
      const writer = track(openSqliteStore({ dataDir }));
      await writer.appendEvents([event({ eventId: 'seed' })], { createMissingItems: false });
      const target = 20 * 500;
      // Plain JS evaluated in the worker. Workers do not inherit vitest's transform, and on Node 20 tsx's
      // `--import` hook registers on the main thread only, so the worker registers tsx itself (resolved from
      // the working directory, the repository root under vitest).
      const worker = new Worker(
        `
        const { parentPort, workerData } = require('node:worker_threads');
        (async () => {
          (await import('tsx/esm/api')).register();
          const { openSqliteStore } = await import(workerData.module);
          const store = openSqliteStore({ dataDir: workerData.dataDir, readonly: true });
          const counts = [];
          while (true) {
            const count = await store.countEvents();
            let scanned = 0;
            for await (const batch of store.scanEvents({ batchSize: 700 })) scanned += batch.length;
            counts.push([count, scanned]);
            if (count >= workerData.target) break;
          }
          await store.close();
          parentPort.postMessage(counts);
        })();
        `,
        { eval: true, workerData: { module: SQLITE_MODULE, dataDir, target } },
      );
      const result = new Promise<[number, number][]>((resolvePromise, reject) => {
        worker.once('message', resolvePromise);
        worker.once('error', reject);
      });
      let done = false;
      void result.finally(() => (done = true)).catch(() => undefined);

      let batch = 0;
      while (!done && batch < 1000) {
        const events = Array.from({ length: 500 }, (_, i) => event({ eventId: `w${batch}-${i}` }));
        await writer.appendEvents(events, { createMissingItems: false });
        batch += 1;
        await new Promise((tick) => setTimeout(tick, 1));
      }
      const counts = await result;
      await worker.terminate();

      expect(counts.at(-1)?.[0]).toBeGreaterThanOrEqual(target);
      for (const [index, [count, scanned]] of counts.entries()) {
        // A scan starts after the count and the log only grows.
        expect(scanned).toBeGreaterThanOrEqual(count);
        expect(count).toBeGreaterThanOrEqual(counts[index - 1]?.[0] ?? 0);
      }
    });
  });

  describe('several connections to one file (the server and `attune train`)', () => {
    it('give artifacts saved at the same time from two threads distinct versions, losing none', async () => {
      const dataDir = tempDir();
      const main = track(openSqliteStore({ dataDir }));
      const perWorker = 40;
      // Each worker saves as fast as it can on its own connection; the threads really run in parallel.
      const source = `
        const { parentPort, workerData } = require('node:worker_threads');
        (async () => {
          (await import('tsx/esm/api')).register();
          const { openSqliteStore } = await import(workerData.module);
          const store = openSqliteStore({ dataDir: workerData.dataDir, backgroundCheckpoints: false });
          const versions = [];
          for (let i = 0; i < workerData.count; i++) {
            const meta = { writer: workerData.writer, i };
            versions.push(await store.saveArtifact({
              name: 'bundle', createdAt: Date.now(), meta, payload: new Uint8Array(4096),
            }));
          }
          await store.close();
          parentPort.postMessage(versions);
        })().catch((error) => { throw error; });
      `;
      const run = (writer: string) =>
        new Promise<number[]>((resolvePromise, reject) => {
          const worker = new Worker(source, {
            eval: true,
            workerData: { module: SQLITE_MODULE, dataDir, count: perWorker, writer },
          });
          worker.once('message', (versions: number[]) => {
            resolvePromise(versions);
            void worker.terminate();
          });
          worker.once('error', reject);
        });
      const [a, b] = await Promise.all([run('a'), run('b')]);
      expect([...a, ...b].sort((x, y) => x - y)).toEqual(
        Array.from({ length: 2 * perWorker }, (_, i) => i + 1),
      );
      // Each version holds the artifact of the writer that was told it got that version.
      for (const [writer, versions] of [
        ['a', a],
        ['b', b],
      ] as const) {
        for (const [i, version] of versions.entries()) {
          expect((await main.loadArtifact('bundle', version))?.meta).toEqual({ writer, i });
        }
      }
    });

    it('share one lease: a holder on one connection blocks a claimant on another', async () => {
      const dataDir = tempDir();
      const server = track(openSqliteStore({ dataDir }));
      const cli = track(openSqliteStore({ dataDir, backgroundCheckpoints: false }));
      const taken = await server.acquireLease('training', 'server', 60_000);
      expect(taken.acquired).toBe(true);
      const refused = await cli.acquireLease('training', 'cli', 60_000);
      expect(refused.acquired === false && refused.held.holder).toBe('server');
      await server.releaseLease('training', 'server');
      expect((await cli.acquireLease('training', 'cli', 60_000)).acquired).toBe(true);
    });

    it('see the same log position, which a bounded scan on another connection honours', async () => {
      const dataDir = tempDir();
      const writer = track(openSqliteStore({ dataDir }));
      await writer.appendEvents([event({ eventId: 'a' }), event({ eventId: 'b' })], {
        createMissingItems: false,
      });
      const reader = track(openSqliteStore({ dataDir, readonly: true }));
      const position = await reader.lastEventSeq();
      expect(position).toBe(await writer.lastEventSeq());
      await writer.appendEvents([event({ eventId: 'c' })], { createMissingItems: false });
      const scanned: string[] = [];
      for await (const batch of reader.scanEvents({ throughSeq: position })) {
        scanned.push(...batch.map((e) => e.eventId));
      }
      expect(scanned).toEqual(['a', 'b']);
    });
  });

  describe('the item and user indexes (item_events, user_events, filled after the commit)', () => {
    it('are not written by the acknowledged append: the commit leaves both tables and their mark alone', async () => {
      const dataDir = tempDir();
      const store = openWithoutCatchUp({ dataDir });
      const log = logReader(dataDir);
      await store.appendEvents(itemStream('a', 300), { createMissingItems: true });
      await store.appendEvents(itemStream('b', 200), { createMissingItems: false });
      expect(log.state()).toEqual({ rows: 0, userRows: 0, through: 0, last: 500, withItem: 430 });
    });

    it('keeps itemEvents exact while the index lags behind the log', async () => {
      const dataDir = tempDir();
      const store = openWithoutCatchUp({ dataDir, synchronous: 'NORMAL' });
      const log = logReader(dataDir);
      await store.appendEvents(itemStream('a', 150), { createMissingItems: false });
      await store.appendEvents(itemStream('b', 80), { createMissingItems: false });
      expect(log.state()?.rows).toBe(0);
      expect(log.window('item', 'i1', { limit: 1000 })).toHaveLength(38);
      await expectWindowsExact(store, log);
    });

    it('keeps itemEvents exact once caught up, in chunks, and with a new tail after that', async () => {
      const dataDir = tempDir();
      const store = openWithoutCatchUp({ dataDir, synchronous: 'NORMAL' });
      const log = logReader(dataDir);
      await store.appendEvents(itemStream('a', 200), { createMissingItems: false });
      expect(catchUpFrom(dataDir, 7)).toBe(200);
      expect(log.state()).toEqual({ rows: 172, userRows: 200, through: 200, last: 200, withItem: 172 });
      await expectWindowsExact(store, log);
      // Indexed part and tail together; the tail's timestamps interleave with the indexed ones.
      await store.appendEvents(itemStream('b', 90), { createMissingItems: false });
      expect(log.state()?.through).toBe(200);
      await expectWindowsExact(store, log);
      expect(catchUpFrom(dataDir, 1000)).toBe(90);
      expect(catchUpFrom(dataDir, 1000)).toBe(0);
      expect(log.state()).toEqual({ rows: 250, userRows: 290, through: 290, last: 290, withItem: 250 });
      await expectWindowsExact(store, log);
    });

    it('keeps item and user windows exact within seq bounds on either side of the mark and across it', async () => {
      const dataDir = tempDir();
      const store = openWithoutCatchUp({ dataDir, synchronous: 'NORMAL' });
      const log = logReader(dataDir);
      await store.appendEvents(itemStream('a', 60), { createMissingItems: false });
      expect(catchUpFrom(dataDir, 1000)).toBe(60);
      await store.appendEvents(itemStream('b', 40), { createMissingItems: false });
      // Positions 1–60 are indexed, 61–100 are the tail; bounds below, at, around and beyond the mark.
      expect(log.state()).toMatchObject({ through: 60, last: 100 });
      const bounds = [undefined, 0, 1, 30, 59, 60, 61, 80, 99, 100, 150];
      let nonEmpty = 0;
      for (const [key, id] of [
        ['item', 'i0'],
        ['item', 'i3'],
        ['item', 'nothing'],
        ['user', 'u1'],
        ['user', 'nothing'],
      ] as const) {
        for (const afterSeq of bounds) {
          for (const throughSeq of bounds) {
            for (const [since, limit] of [
              [undefined, undefined],
              [undefined, 1],
              [T + 3000, 4],
              [T + 10_000, 1000],
            ] as const) {
              const options = { afterSeq, throughSeq, since, limit };
              const expected = log.window(key, id, options);
              if (expected.length > 0) nonEmpty += 1;
              expect(
                eventIds(await storeWindow(store, key, id, options)),
                JSON.stringify({ key, id, ...options }),
              ).toEqual(expected);
            }
          }
        }
      }
      // The reference is not trivially empty: most windows hold events.
      expect(nonEmpty).toBeGreaterThan(550);
      // A window across the mark takes from both parts, merged by time.
      for (const across of [
        eventIds(await store.itemEvents('i0', { afterSeq: 50, throughSeq: 70 })),
        eventIds(await store.userEvents('u1', { afterSeq: 50, throughSeq: 70 })),
      ]) {
        expect(across.some((id) => id.startsWith('a'))).toBe(true);
        expect(across.some((id) => id.startsWith('b'))).toBe(true);
      }
    });

    it('agrees with the log through any interleaving of appends and catch-ups', async () => {
      type Step =
        | {
            readonly kind: 'append';
            readonly events: readonly { item: number | null; user: number; ts: number }[];
          }
        | { readonly kind: 'catchUp'; readonly chunk: number };
      const step: fc.Arbitrary<Step> = fc.oneof(
        fc.record({
          kind: fc.constant('append' as const),
          events: fc.array(
            fc.record({
              item: fc.option(fc.integer({ min: 0, max: 2 })),
              user: fc.integer({ min: 0, max: 2 }),
              ts: fc.integer({ min: 0, max: 4 }),
            }),
            { minLength: 1, maxLength: 12 },
          ),
        }),
        fc.record({ kind: fc.constant('catchUp' as const), chunk: fc.integer({ min: 1, max: 10 }) }),
      );
      await fc.assert(
        fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 12 }), async (steps) => {
          const dataDir = tempDir();
          // No background thread, and far fewer events than make this writer catch up by itself.
          const store = track(
            openSqliteStore({ dataDir, backgroundCheckpoints: false, synchronous: 'NORMAL' }),
          );
          const log = logReader(dataDir);
          let next = 0;
          for (const current of steps) {
            if (current.kind === 'catchUp') catchUpFrom(dataDir, current.chunk);
            else {
              const batch = current.events.map(({ item: index, user, ts }) =>
                event({
                  eventId: `e${next++}`,
                  userId: `u${user}`,
                  itemId: index === null ? null : `i${index}`,
                  timestamp: T + ts,
                }),
              );
              await store.appendEvents(batch, { createMissingItems: false });
            }
            for (const [key, id] of [
              ['item', 'i0'],
              ['item', 'i1'],
              ['item', 'i2'],
              ['user', 'u0'],
              ['user', 'u2'],
            ] as const) {
              for (const [since, limit] of [
                [undefined, undefined],
                [T + 2, 1000],
                [T + 1, 3],
                [undefined, 1],
              ] as const) {
                expect(eventIds(await storeWindow(store, key, id, { since, limit }))).toEqual(
                  log.window(key, id, { since, limit }),
                );
              }
            }
            expect(log.userIndexGap()).toBe(0);
          }
          await store.close();
        }),
        { numRuns: 25 },
      );
    });

    it('is caught up by the background thread on its timer', async () => {
      const dataDir = tempDir();
      const store = track(openWithCheckpointEvery(20, { dataDir, synchronous: 'NORMAL' }));
      const log = logReader(dataDir);
      await store.appendEvents(itemStream('a', 700), { createMissingItems: false });
      // The bound only turns a thread that never catches up into a failure instead of a hang.
      for (let waited = 0; log.state()?.through !== 700 && waited < 20_000; waited += 20) {
        await new Promise((tick) => setTimeout(tick, 20));
      }
      expect(log.state()).toEqual({ rows: 600, userRows: 700, through: 700, last: 700, withItem: 600 });
      await expectWindowsExact(store, log);
    });

    it('is caught up after the commits of a writer without the background thread', async () => {
      const dataDir = tempDir();
      const store = track(openSqliteStore({ dataDir, backgroundCheckpoints: false, synchronous: 'NORMAL' }));
      const log = logReader(dataDir);
      const all = itemStream('a', INLINE_LOG_INDEX_BEHIND);
      await store.appendEvents(all.slice(0, -1), { createMissingItems: false });
      expect(log.state()?.through).toBe(0);
      await store.appendEvents(all.slice(-1), { createMissingItems: false });
      const withItem = all.filter((e) => e.itemId !== null).length;
      expect(log.state()).toEqual({
        rows: withItem,
        userRows: INLINE_LOG_INDEX_BEHIND,
        through: INLINE_LOG_INDEX_BEHIND,
        last: INLINE_LOG_INDEX_BEHIND,
        withItem,
      });
      await expectWindowsExact(store, log);
    });

    it("is filled from the stored events when a V4 database is upgraded, and V4's index is dropped", async () => {
      const dataDir = tempDir();
      databaseAt(dataDir, 4, (old) => {
        const insert = old.prepare<[string, string, string | null, number]>(
          `INSERT INTO events (event_id, name, user_id, item_id, ts, received_at, context, properties)
           VALUES (?, 'product_viewed', ?, ?, ?, 0, '{}', '{}')`,
        );
        old.transaction(() => {
          for (const e of itemStream('v4-', 400)) insert.run(e.eventId, e.userId, e.itemId, e.timestamp);
        })();
        const indexes = old.prepare(`SELECT name FROM sqlite_master WHERE name = 'events_item_ts'`).all();
        expect(indexes).toHaveLength(1);
      });

      const store = openWithoutCatchUp({ dataDir });
      expect(await store.getMeta('schema_version')).toBe(LATEST_SCHEMA_VERSION);
      const log = logReader(dataDir);
      expect(log.state()).toEqual({ rows: 343, userRows: 400, through: 400, last: 400, withItem: 343 });
      const db = rawConnection(dataDir, { readonly: true });
      expect(db.prepare(`SELECT name FROM sqlite_master WHERE name = 'events_item_ts'`).all()).toEqual([]);
      await expectWindowsExact(store, log);
      // New events beyond the backfill are the tail until something catches up.
      await store.appendEvents(itemStream('new-', 60), { createMissingItems: false });
      expect(log.state()?.through).toBe(400);
      await expectWindowsExact(store, log);
    });

    it('commits appends on the background thread: a write lock held elsewhere never blocks this thread', async () => {
      const dataDir = tempDir();
      const store = openWithoutCatchUp({ dataDir, synchronous: 'NORMAL' });
      // Another connection holds the write lock, as a catch-up or another process's write would.
      const other = rawConnection(dataDir);
      other.exec('BEGIN IMMEDIATE');
      let settled = false;
      const append = store
        .appendEvents(itemStream('a', 10), { createMissingItems: false })
        .finally(() => (settled = true));
      // This thread keeps turning meanwhile, and appends made now join the next group: a commit run here
      // would hold it in SQLite's busy handler for as long as the lock is held.
      const started = performance.now();
      await new Promise((tick) => setTimeout(tick, 50));
      expect(performance.now() - started).toBeLessThan(1_000);
      const next = store.appendEvents(itemStream('b', 5), { createMissingItems: false });
      await new Promise((tick) => setTimeout(tick, 50));
      expect(settled).toBe(false);
      other.exec('COMMIT');
      expect((await append).positions).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
      expect((await next).positions).toEqual(Array.from({ length: 5 }, (_, i) => i + 11));
      expect(logReader(dataDir).state()?.last).toBe(15);
    });

    it('commits here once the background thread is gone; an append it held is settled, not left waiting', async () => {
      const dataDir = tempDir();
      const store = openWithoutCatchUp({ dataDir, synchronous: 'NORMAL' });
      expect((await store.appendEvents(itemStream('a', 10), { createMissingItems: false })).stored).toBe(10);
      const held = store.appendEvents(itemStream('b', 5), { createMissingItems: false }).then(
        (result) => result.stored,
        (error: Error) => error.message,
      );
      await checkpointTimer.thread!.terminate();
      // Committed before the thread stopped, or failed with why: either way its caller hears.
      expect([5, 'the store background thread has stopped']).toContain(await held);
      const after = await store.appendEvents(itemStream('c', 5), { createMissingItems: false });
      const last = logReader(dataDir).state()?.last;
      expect(after.positions).toEqual(Array.from({ length: 5 }, (_, i) => last! - 4 + i));
      // A commit the thread finished just before it stopped may have lost only its reply: then 20 as well.
      expect([15, 20]).toContain(last);
      if ((await held) === 5) expect(last).toBe(20);
    });

    it('is filled up to the mark when a V10 database is upgraded, and the user index on events is dropped', async () => {
      const dataDir = tempDir();
      databaseAt(dataDir, 10, (old) => {
        const insert = old.prepare<[string, string, string | null, number]>(
          `INSERT INTO events (event_id, name, user_id, item_id, ts, received_at, context, properties)
           VALUES (?, 'product_viewed', ?, ?, ?, 0, '{}', '{}')`,
        );
        const stream = itemStream('v10-', 300);
        old.transaction(() => {
          for (const e of stream.slice(0, 250)) insert.run(e.eventId, e.userId, e.itemId, e.timestamp);
        })();
        // The first 250 indexed by item, the last 50 still the tail, as a running V10 server leaves it.
        old.exec(`INSERT INTO item_events SELECT item_id, ts, seq FROM events WHERE item_id IS NOT NULL`);
        activityIndexer(old)(0, 250);
        old.prepare(`UPDATE meta SET value = '250' WHERE key = ?`).run(ITEM_EVENTS_THROUGH_KEY);
        old.transaction(() => {
          for (const e of stream.slice(250)) insert.run(e.eventId, e.userId, e.itemId, e.timestamp);
        })();
      });

      const store = openWithoutCatchUp({ dataDir });
      const log = logReader(dataDir);
      expect(log.state()).toMatchObject({ userRows: 250, through: 250, last: 300 });
      const db = rawConnection(dataDir, { readonly: true });
      expect(db.prepare(`SELECT name FROM sqlite_master WHERE name = 'events_user_ts'`).all()).toEqual([]);
      await expectWindowsExact(store, log);
    });

    it("keeps the user index equal to the log through merges, erasure and expiry, and a user's totals exact", async () => {
      const dataDir = tempDir();
      const store = openWithoutCatchUp({ dataDir, synchronous: 'NORMAL' });
      const log = logReader(dataDir);
      const totals = rawConnection(dataDir, { readonly: true }).prepare<[string], unknown>(
        `SELECT item_id AS itemId, name, count(*) AS count, max(ts) AS lastAt, max(seq) AS lastSeq FROM events
         WHERE user_id = ? AND item_id IS NOT NULL GROUP BY item_id, name ORDER BY item_id, name`,
      );
      const expectExact = async () => {
        await expectWindowsExact(store, log);
        for (const userId of [...USERS, 'u9']) {
          const got = [...(await store.userItems(userId))].sort((a, b) =>
            a.itemId + a.name < b.itemId + b.name ? -1 : 1,
          );
          expect(got, userId).toEqual(totals.all(userId));
        }
      };
      // Half the events indexed, half the tail: each change has to reach both parts.
      await store.appendEvents(itemStream('a', 120), { createMissingItems: false });
      catchUpFrom(dataDir, 1000);
      await store.appendEvents(itemStream('b', 120), { createMissingItems: false });
      expect(log.state()).toMatchObject({ userRows: 120, through: 120, last: 240 });
      await expectExact();

      expect((await store.mergeUser('u0', 'u9')).events).toBe(80);
      expect(log.window('user', 'u0')).toEqual([]);
      await expectExact();
      expect(eventIds(await store.userEvents('u9', { limit: 1000 }))).toHaveLength(80);

      await store.eraseUser('u1', { at: T, artifacts: [] });
      expect(await store.userEvents('u1')).toEqual([]);
      await expectExact();

      // Expiry takes the log's head: indexed events only, here.
      const expired = await store.expireEvents(T + 5000, 60);
      expect(expired.deleted).toBeGreaterThan(0);
      await expectExact();
      catchUpFrom(dataDir, 1000);
      expect(log.state()?.through).toBe(240);
      await expectExact();
    });

    it('starts empty with its mark at 0 on a new database', () => {
      const dataDir = tempDir();
      openWithoutCatchUp({ dataDir });
      expect(logReader(dataDir).state()).toEqual({ rows: 0, userRows: 0, through: 0, last: 0, withItem: 0 });
    });

    it('gives a reader on another thread each event once while the index catches up', async () => {
      const dataDir = tempDir();
      // The thread catches up every few milliseconds, so the reader's snapshots fall before, between and
      // after catch-ups: an event read from both parts, or from neither, would show as a duplicate or a gap.
      const writer = track(openWithCheckpointEvery(5, { dataDir, synchronous: 'NORMAL' }));
      await writer.appendEvents([event({ eventId: 'seed', itemId: 'hot', timestamp: T })], {
        createMissingItems: false,
      });
      const target = 40 * 125;
      const worker = new Worker(
        `
        const { parentPort, workerData } = require('node:worker_threads');
        (async () => {
          (await import('tsx/esm/api')).register();
          const { openSqliteStore } = await import(workerData.module);
          const store = openSqliteStore({ dataDir: workerData.dataDir, readonly: true });
          parentPort.postMessage('ready');
          const reads = [];
          while (true) {
            const seq = await store.lastEventSeq();
            const got = await store.itemEvents('hot', { limit: Number.MAX_SAFE_INTEGER });
            const ids = got.map((e) => e.eventId);
            const ordered = got.every((e, i) => i === 0 || got[i - 1].timestamp >= e.timestamp);
            reads.push([seq, ids.length, new Set(ids).size, ordered]);
            if (ids.length >= workerData.target) break;
          }
          await store.close();
          parentPort.postMessage(reads);
        })();
        `,
        { eval: true, workerData: { module: SQLITE_MODULE, dataDir, target } },
      );
      const ready = new Promise<void>((resolveReady, reject) => {
        worker.once('message', () => resolveReady());
        worker.once('error', reject);
      });
      await ready;
      const result = new Promise<[number, number, number, boolean][]>((resolvePromise, reject) => {
        worker.once('message', resolvePromise);
        worker.once('error', reject);
      });
      let done = false;
      void result.finally(() => (done = true)).catch(() => undefined);
      // Every second event of the stream is about 'hot' (ties and late timestamps included).
      for (let batch = 0; !done && batch < 2000; batch++) {
        const events = Array.from({ length: 250 }, (_, i) =>
          event({
            eventId: `w${batch}-${i}`,
            itemId: i % 2 === 0 ? 'hot' : 'cold',
            timestamp: T + ((batch * 250 + i) % 97),
          }),
        );
        await writer.appendEvents(events, { createMissingItems: false });
        await new Promise((tick) => setTimeout(tick, 1));
      }
      const reads = await result;
      await worker.terminate();

      expect(reads.length).toBeGreaterThan(2);
      for (const [index, [seq, length, distinct, ordered]] of reads.entries()) {
        expect(distinct).toBe(length);
        expect(ordered).toBe(true);
        // 'seed' (seq 1), then every even seq: at least what the position read just before promised.
        expect(length).toBeGreaterThanOrEqual(1 + Math.floor(seq / 2));
        expect(length).toBeGreaterThanOrEqual(reads[index - 1]?.[1] ?? 0);
      }
      expect(reads.at(-1)?.[1]).toBeGreaterThanOrEqual(target);
    });
  });

  describe('schema', () => {
    it('records the schema version and protects it from setMeta', async () => {
      const store = track(openSqliteStore({ dataDir: tempDir() }));
      expect(await store.getMeta('schema_version')).toBe(LATEST_SCHEMA_VERSION);
      await expect(store.setMeta('schema_version', 99)).rejects.toThrow(/managed by the store/);
      // The log indexes' mark is the store's too: moving it would hide events from their windows.
      await expect(store.setMeta(ITEM_EVENTS_THROUGH_KEY, 10 ** 9)).rejects.toThrow(/managed by the store/);
      expect(await store.getMeta(ITEM_EVENTS_THROUGH_KEY)).toBe(0);
    });

    it('applies later migrations to an existing database, once', async () => {
      const dataDir = tempDir();
      const store = openSqliteStore({ dataDir });
      await store.appendEvents([event({ eventId: 'a' })], { createMissingItems: false });
      await store.close();

      const db = new Database(join(dataDir, DATABASE_FILE));
      try {
        const next = [
          ...MIGRATIONS,
          {
            version: LATEST_SCHEMA_VERSION + 1,
            description: 'test',
            up: (conn: Database.Database) => conn.exec('ALTER TABLE events ADD COLUMN extra TEXT'),
          },
        ];
        expect(migrate(db, next)).toBe(LATEST_SCHEMA_VERSION + 1);
        // A second run finds nothing to do; re-running the ALTER would throw.
        expect(migrate(db, next)).toBe(LATEST_SCHEMA_VERSION + 1);
        expect(readSchemaVersion(db)).toBe(LATEST_SCHEMA_VERSION + 1);
        expect(db.prepare('SELECT count(*) AS n FROM events').get()).toEqual({ n: 1 });
      } finally {
        db.close();
      }
      // This build does not know that version: refuse rather than misread the data.
      expect(() => openSqliteStore({ dataDir })).toThrow(StoreSchemaError);
      expect(() => openSqliteStore({ dataDir, readonly: true })).toThrow(/newer than this build/);
    });

    it('rolls a failed migration back entirely', () => {
      const db = new Database(join(tempDir(), 'x.db'));
      try {
        const broken = [
          ...MIGRATIONS,
          {
            version: LATEST_SCHEMA_VERSION + 1,
            description: 'broken',
            up: (conn: Database.Database) => conn.exec('NOPE'),
          },
        ];
        expect(() => migrate(db, broken)).toThrow();
        expect(readSchemaVersion(db)).toBe(0);
      } finally {
        db.close();
      }
    });

    it('serves user history and request lookups from their indexes', () => {
      const dataDir = tempDir();
      track(openSqliteStore({ dataDir }));
      const db = new Database(join(dataDir, DATABASE_FILE), { readonly: true });
      try {
        const plan = queryPlan(db);
        // The store's own statements (their SQL), read on this connection.
        const statements = prepareStatements(db);
        expect(plan(statements.eventsForRequest.source, 'r')).toMatch(/USING INDEX events_request/);
        // An item's or a user's window: a range of the derived table's key in its order, each event by
        // rowid; then the tail, a rowid range of events.
        for (const [key, window] of [
          ['item', statements.itemWindow],
          ['user', statements.userWindow],
        ] as const) {
          const indexed = plan(window.indexed.source, 'k', 0, 0, 10, 10);
          expect(indexed).toMatch(new RegExp(`SEARCH x USING PRIMARY KEY \\(${key}_id=\\? AND ts>\\?\\)`));
          expect(indexed).toMatch(/SEARCH e USING INTEGER PRIMARY KEY \(rowid=\?\)/);
          expect(indexed).not.toMatch(/TEMP B-TREE/);
          expect(plan(window.tail.source, 0, 10, 'k', 0, 10)).toMatch(
            /SEARCH events USING INTEGER PRIMARY KEY \(rowid>\? AND rowid<\?\)/,
          );
        }
        // A user's whole history: their keys in user_events and the tail's rowid range, then each event.
        const totals = plan(statements.userItems.source, { user: 'u' });
        expect(totals).toMatch(/SEARCH user_events USING PRIMARY KEY \(user_id=\?\)/);
        expect(totals).toMatch(/SEARCH events USING INTEGER PRIMARY KEY \(rowid>\?\)/);
        expect(totals).toMatch(/SEARCH events USING INTEGER PRIMARY KEY \(rowid=\?\)/);
        expect(totals).not.toMatch(/SCAN events/);
      } finally {
        db.close();
      }
    });
  });

  it("keeps a user's window on user_events' key, seq bounds and all, when one user holds most of the log", async () => {
    const dataDir = tempDir();
    const store = track(openSqliteStore({ dataDir, synchronous: 'NORMAL' }));
    await store.appendEvents(
      Array.from({ length: 3000 }, (_, i) =>
        event({ eventId: `e${i}`, userId: i % 50 === 0 ? `light${i}` : 'heavy', timestamp: T + i }),
      ),
      { createMissingItems: false },
    );
    expect(catchUpFrom(dataDir, 10_000)).toBe(3000);
    // Planner samples that say so (sqlite_stat1 and sqlite_stat4), as `PRAGMA optimize` would leave them.
    const db = rawConnection(dataDir);
    db.exec('ANALYZE');
    const plan = queryPlan(db);
    const { userWindow } = prepareStatements(db);
    for (const [afterSeq, throughSeq] of [
      [0, Number.MAX_SAFE_INTEGER],
      [2990, Number.MAX_SAFE_INTEGER],
      [0, 10],
      [100, 110],
    ]) {
      const history = plan(
        userWindow.indexed.source,
        'heavy',
        Number.MIN_SAFE_INTEGER,
        afterSeq,
        throughSeq,
        10,
      );
      expect(history, `(${afterSeq}, ${throughSeq}]`).toMatch(/SEARCH x USING PRIMARY KEY \(user_id=\?/);
      expect(history).not.toMatch(/TEMP B-TREE/);
    }
    expect(eventIds(await store.userEvents('heavy', { afterSeq: 100, throughSeq: 104 }))).toEqual([
      'e103',
      'e102',
      'e101',
    ]);
  });

  it('serves the decision log from its indexes: expiry from open decisions only, scans in order', () => {
    const dataDir = tempDir();
    track(openSqliteStore({ dataDir }));
    const db = rawConnection(dataDir, { readonly: true });
    const statements = prepareStatements(db);
    const plan = queryPlan(db);
    // The statements the store runs, as prepared: a change to their text is checked here too.
    const expired = plan(statements.expiredDecisions.source, 0, 10);
    expect(expired).toMatch(/USING INDEX decisions_open_deadline \(deadline<\?\)/);
    expect(expired).not.toMatch(/TEMP B-TREE/);
    const scan = plan(statements.scanDecisions.source, 'p', 0, 10);
    expect(scan).toMatch(/USING INDEX decisions_point_seq \(point=\? AND seq>\?\)/);
    expect(scan).not.toMatch(/TEMP B-TREE/);
    expect(plan(statements.decisionStats.source, 'p')).toMatch(
      /USING INDEX decisions_point_seq \(point=\?\)/,
    );
    expect(plan(statements.deletePointDecisions.source, 'p')).toMatch(/decisions_point_seq \(point=\?\)/);
    expect(plan(statements.getDecision.source, 'd')).toMatch(
      /USING INDEX sqlite_autoindex_decisions_1 \(id=\?\)/,
    );
    expect(plan(statements.closeDecision.source, 1, 2, 'explicit', 'd')).toMatch(
      /USING INDEX sqlite_autoindex_decisions_1 \(id=\?\)/,
    );
  });

  it('adds the decision tables to a V5 database, keeping its data', async () => {
    const dataDir = tempDir();
    databaseAt(dataDir, 5, (old) => {
      old.prepare(`INSERT INTO experiments (id, revision, body) VALUES ('e', 4, '{"kept":true}')`).run();
    });
    const store = track(openSqliteStore({ dataDir }));
    expect(await store.getMeta('schema_version')).toBe(LATEST_SCHEMA_VERSION);
    expect(await store.getExperiment('e')).toEqual({ id: 'e', revision: 4, body: { kept: true } });
    expect(await store.listDecisionPoints()).toEqual([]);
    await store.appendDecisions([decision({ id: 'd' })]);
    expect(await store.getDecision('d')).toEqual(decision({ id: 'd' }));
  });

  it('keeps every acknowledged batch, whole, when the process is killed with SIGKILL', async () => {
    const dir = tempDir();
    const dataDir = join(dir, 'data');
    const script = join(dir, 'writer.mts');
    // Appends 100-event batches as fast as it can and prints the number of each one acknowledged.
    writeFileSync(
      script,
      `
      import { openSqliteStore } from ${JSON.stringify(SQLITE_MODULE)};
      const store = openSqliteStore({ dataDir: process.argv[2] });
      for (let batch = 0; ; batch++) {
        const events = Array.from({ length: 100 }, (_, i) => ({
          eventId: batch + '-' + i, name: 'view', userId: 'u' + (i % 7), itemId: 'i' + batch,
          timestamp: batch, receivedAt: batch, context: {}, properties: {}, requestId: null,
        }));
        await store.appendEvents(events, { createMissingItems: true });
        process.stdout.write(batch + '\\n');
      }
      `,
    );
    const child = spawn(process.execPath, ['--import', 'tsx', script, dataDir], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let acknowledged = -1;
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<NodeJS.Signals | null>((resolveExit) =>
      child.once('exit', (_, signal) => resolveExit(signal)),
    );
    await new Promise<void>((resolveAcked, reject) => {
      let pending = '';
      child.stdout.on('data', (chunk: Buffer) => {
        pending += chunk.toString();
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) acknowledged = Number(line);
        if (acknowledged >= 30) {
          child.kill('SIGKILL');
          resolveAcked();
        }
      });
      child.once('exit', () => reject(new Error(`writer exited early: ${stderr}`)));
    });
    expect(await exited).toBe('SIGKILL');

    const store = track(openSqliteStore({ dataDir }));
    const count = await store.countEvents();
    // Everything acknowledged is there; whatever else is there came in whole batches, items included.
    expect(count).toBeGreaterThanOrEqual((acknowledged + 1) * 100);
    expect(count % 100).toBe(0);
    expect(await store.countItems()).toBe(count / 100);
  });
});
