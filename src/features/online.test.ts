import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { openSqliteStore, type SqliteStore } from '../store/index.js';
import { FeatureSet } from './feature-set.js';
import { OnlineFeatures } from './online.js';
import { FeatureAccumulator, foldNewestFirst } from './accumulator.js';
import { HOUR, MemorySnapshots, MONDAY, testItems, trackedEvent } from './test-events.js';

const set = new FeatureSet();
const clock = () => MONDAY + HOUR;
const dirs: string[] = [];
const stores: SqliteStore[] = [];

afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function openStoreForTest(): Promise<SqliteStore> {
  const dir = await mkdtemp(join(tmpdir(), 'attune-online-'));
  dirs.push(dir);
  const store = openSqliteStore({ dataDir: dir, synchronous: 'NORMAL' });
  stores.push(store);
  return store;
}

const numbers = (row: { readonly numbers: Float64Array }) => Array.from(row.numbers);

describe('OnlineFeatures', () => {
  it('counts an event once when a load read it between its commit and its record', async () => {
    const store = await openStoreForTest();
    const features = new OnlineFeatures(store, set, testItems, 1 << 24, clock);
    const first = [trackedEvent({ userId: 'u', itemId: 'i1', timestamp: MONDAY })];
    features.record(first, (await store.appendEvents(first, { createMissingItems: false })).positions);
    // The engine says what is in flight, appends, and records once the commit is acknowledged; a request
    // between the two (here, a load of a user and an item not held yet) already reads the committed event.
    const late = [trackedEvent({ userId: 'u', itemId: 'i2', name: 'purchased', timestamp: MONDAY + 1 })];
    features.expect(late);
    const { positions } = await store.appendEvents(late, { createMissingItems: false });
    const loaded = await features.user('u');
    const item = await features.item('i2');
    features.record(late, positions);
    const fresh = new OnlineFeatures(store, set, testItems, 1 << 24, clock);
    expect(numbers((await features.user('u')).row)).toEqual(numbers((await fresh.user('u')).row));
    expect(numbers((await features.item('i2')).row)).toEqual(numbers((await fresh.item('i2')).row));
    expect(numbers(loaded.row)).toEqual(numbers((await fresh.user('u')).row));
    expect(numbers(item.row)).toEqual(numbers((await fresh.item('i2')).row));
  });

  it('adds an event in flight to what a load read before its commit, and forgets an abandoned one', async () => {
    const store = await openStoreForTest();
    const features = new OnlineFeatures(store, set, testItems, 1 << 24, clock);
    const events = [trackedEvent({ userId: 'u', itemId: 'i1', timestamp: MONDAY })];
    const abandoned = [trackedEvent({ userId: 'u', itemId: 'i1', timestamp: MONDAY + 2 })];
    features.expect(events);
    features.expect(abandoned);
    const before = await features.user('u');
    expect(before.known).toBe(false);
    features.record(events, (await store.appendEvents(events, { createMissingItems: false })).positions);
    features.abandon(abandoned);
    // The abandoned event, sent again and committed this time, counts like any other.
    features.expect(abandoned);
    features.record(
      abandoned,
      (await store.appendEvents(abandoned, { createMissingItems: false })).positions,
    );
    const fresh = new OnlineFeatures(store, set, testItems, 1 << 24, clock);
    const now = await features.user('u');
    expect(now.known).toBe(true);
    expect(numbers(now.row)).toEqual(numbers((await fresh.user('u')).row));
    expect(numbers((await features.item('i1')).row)).toEqual(numbers((await fresh.item('i1')).row));
  });

  it('counts an event once when a shared snapshot taken before its record already folds it', async () => {
    const store = await openStoreForTest();
    const snapshots = new MemorySnapshots();
    const features = new OnlineFeatures(store, set, testItems, 1 << 24, clock);
    features.shareSnapshots(snapshots, store, (error) => {
      throw error;
    });
    const first = [trackedEvent({ userId: 'u', itemId: 'i1', timestamp: MONDAY })];
    await store.appendEvents(first, { createMissingItems: false });
    const late = [trackedEvent({ userId: 'u', itemId: 'i2', name: 'purchased', timestamp: MONDAY + 1 })];
    features.expect(late);
    const { positions } = await store.appendEvents(late, { createMissingItems: false });
    // Another instance snapshots the user between this append's commit and its record here.
    const accumulator = new FeatureAccumulator(set.userPlan);
    foldNewestFirst(accumulator, set.eventReader(testItems), await store.userEvents('u'));
    const through = await store.lastEventSeq();
    await snapshots.put('u', { snapshot: accumulator.snapshot(), through, builtAt: MONDAY });
    const loaded = await features.user('u');
    features.record(late, positions);
    const fresh = new OnlineFeatures(store, set, testItems, 1 << 24, clock);
    const expected = numbers((await fresh.user('u')).row);
    expect(numbers(loaded.row)).toEqual(expected);
    expect(numbers((await features.user('u')).row)).toEqual(expected);
    // And while the load is under way: the event recorded meanwhile is in the snapshot too.
    const again = new OnlineFeatures(store, set, testItems, 1 << 24, clock);
    again.shareSnapshots(snapshots, store, (error) => {
      throw error;
    });
    again.expect(late);
    const loading = again.user('u');
    again.record(late, positions);
    expect(numbers((await loading).row)).toEqual(expected);
    expect(numbers((await again.user('u')).row)).toEqual(expected);
  });
});
