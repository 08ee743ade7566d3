import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { eventWindow } from './keyset.js';
import { DATABASE_FILE, openSqliteStore, type SqliteStore } from './sqlite.js';
import { ReaderThread } from './sqlite-reader.js';
import { describeStoreContract, event } from './store.contract.js';

const dirs: string[] = [];
const stores: SqliteStore[] = [];
const readers: ReaderThread[] = [];

// The whole contract again with the reader thread on (off by default, `SqliteStoreOptions.readerThread`).
describeStoreContract('sqlite', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'attune-reader-contract-'));
  dirs.push(dataDir);
  return openSqliteStore({ dataDir, readerThread: true });
});

afterEach(async () => {
  for (const reader of readers.splice(0)) await reader.close();
  for (const store of stores.splice(0)) await store.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A store holding a few events of two users, read inline (no reader thread of its own). */
async function storeWithEvents(): Promise<{ store: SqliteStore; file: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'attune-reader-'));
  dirs.push(dataDir);
  const store = openSqliteStore({ dataDir });
  stores.push(store);
  const T0 = Date.UTC(2026, 0, 1);
  await store.appendEvents(
    [
      event({ eventId: 'a', userId: 'u1', itemId: 'i1', timestamp: T0 }),
      event({ eventId: 'b', userId: 'u1', itemId: 'i2', name: 'purchased', timestamp: T0 + 1_000 }),
      event({ eventId: 'c', userId: 'u2', itemId: 'i1', timestamp: T0 + 2_000 }),
    ],
    { createMissingItems: false },
  );
  return { store, file: join(dataDir, DATABASE_FILE) };
}

function reader(file: string): ReaderThread {
  const thread = new ReaderThread(file, 5_000);
  readers.push(thread);
  return thread;
}

const never = (): never => {
  throw new Error('read inline, though the thread was up');
};

describe('ReaderThread', () => {
  it('answers on its thread what the store answers inline', async () => {
    const { store, file } = await storeWithEvents();
    const thread = reader(file);
    expect(await thread.userItems('u1', never)).toEqual(await store.userItems('u1'));
    const window = eventWindow({ limit: 10 });
    expect(await thread.events('userEvents', 'u1', window, never)).toEqual(
      await store.userEvents('u1', { limit: 10 }),
    );
    expect(await thread.events('itemEvents', 'i1', window, never)).toEqual(
      await store.itemEvents('i1', { limit: 10 }),
    );
    expect(await thread.userItems('nobody', never)).toEqual([]);
    expect(thread.running).toBe(true);
  });

  it('reads what was committed before each read was asked for', async () => {
    const { store, file } = await storeWithEvents();
    const thread = reader(file);
    expect(await thread.userItems('u3', never)).toEqual([]);
    await store.appendEvents([event({ eventId: 'd', userId: 'u3', itemId: 'i9' })], {
      createMissingItems: false,
    });
    expect((await thread.userItems('u3', never)).map((total) => total.itemId)).toEqual(['i9']);
  });

  it('answers inline, for reads asked before and after, when its thread cannot run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'attune-reader-'));
    dirs.push(dir);
    // No database there: the thread fails as it starts, with this read already posted to it.
    const thread = reader(join(dir, 'missing.db'));
    const inline = [{ itemId: 'x', name: 'viewed', count: 1, lastAt: 1, lastSeq: 1 }];
    expect(await thread.userItems('u1', () => inline)).toBe(inline);
    expect(thread.running).toBe(false);
    expect(await thread.userItems('u1', () => inline)).toBe(inline);
    await expect(
      thread.userItems('u1', () => {
        throw new Error('inline failed too');
      }),
    ).rejects.toThrow('inline failed too');
  });

  it('is stopped by close once the reads under way are answered, and then reads inline', async () => {
    const { store, file } = await storeWithEvents();
    const thread = reader(file);
    const asked = thread.userItems('u1', never);
    let answered = false;
    void asked.then(() => (answered = true));
    await thread.close();
    // Answered by the thread (`never` would reject) before close returned, not merely before it stopped.
    expect(answered).toBe(true);
    expect(await asked).toEqual(await store.userItems('u1'));
    expect(thread.running).toBe(false);
    expect(await thread.userItems('u1', () => [])).toEqual([]);
  });
});

describe('the SQLite store with its reader thread', () => {
  it('answers the reads of a cache miss as the store without one does', async () => {
    const { store, file } = await storeWithEvents();
    const threaded = openSqliteStore({ dataDir: join(file, '..'), readerThread: true });
    stores.push(threaded);
    for (const user of ['u1', 'u2', 'nobody']) {
      expect(await threaded.userItems(user)).toEqual(await store.userItems(user));
      expect(await threaded.userEvents(user, { limit: 1 })).toEqual(
        await store.userEvents(user, { limit: 1 }),
      );
    }
    expect(await threaded.itemEvents('i1')).toEqual(await store.itemEvents('i1'));
    await expect(threaded.userEvents('u1', { limit: -1 })).rejects.toThrow(/limit/);
  });
});
