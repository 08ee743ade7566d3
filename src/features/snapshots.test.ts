import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { openStore, type Store } from '../store/index.js';
import { FeatureAccumulator } from './accumulator.js';
import { FeatureSet } from './feature-set.js';
import {
  FeatureSnapshotsUnavailableError,
  SnapshotLoader,
  type SnapshotActivity,
  type UserSnapshot,
} from './snapshots.js';
import { HOUR, MemorySnapshots, MONDAY, testItems, trackedEvent } from './test-events.js';

const set = new FeatureSet();
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function setUp() {
  const dir = await mkdtemp(join(tmpdir(), 'attune-snapshots-'));
  const store: Store = await openStore(`sqlite:${dir}`);
  const snapshots = new MemorySnapshots();
  const errors: unknown[] = [];
  const loads: SnapshotActivity[] = [];
  const loader = new SnapshotLoader(
    snapshots,
    store,
    set.userPlan,
    set.eventReader(testItems),
    () => MONDAY + 10 * HOUR,
    (error) => errors.push(error),
    (what) => loads.push(what),
  );
  cleanups.push(async () => {
    loader.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { store, snapshots, loader, errors, loads };
}

/** A snapshot that folds an event the store does not hold (an erased one): through the whole log. */
function staleSnapshot(through: number): UserSnapshot {
  const accumulator = new FeatureAccumulator(set.userPlan);
  const reader = set.eventReader(testItems);
  accumulator.add(reader.read(trackedEvent({ name: 'purchased', properties: { value: 999 } })));
  return { snapshot: accumulator.snapshot(), through, builtAt: MONDAY };
}

describe('SnapshotLoader.forgetSoon', () => {
  it('never fails the caller, skips the snapshot until it is dropped, and retries the drop', async () => {
    const { store, snapshots, loader, errors, loads } = await setUp();
    await store.appendEvents([trackedEvent({ timestamp: MONDAY + HOUR })], { createMissingItems: true });
    snapshots.kept.set('u1', staleSnapshot(await store.lastEventSeq()));
    snapshots.down = true;

    await expect(loader.forgetSoon('u1')).resolves.toBeUndefined();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(FeatureSnapshotsUnavailableError);
    // Still kept, but not used: the load reads the user's whole history instead.
    expect(snapshots.kept.has('u1')).toBe(true);
    const loaded = await loader.load('u1');
    expect(loads).toEqual(['loaded_from_store']);
    expect(loaded.eventIds.size).toBe(1);

    snapshots.down = false;
    // The retry comes within a second or so of the failure.
    const deadline = Date.now() + 5_000;
    while (snapshots.kept.has('u1') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(snapshots.kept.has('u1')).toBe(false);
    // Dropped: a snapshot kept from now on is used again.
    snapshots.kept.set('u1', staleSnapshot(await store.lastEventSeq()));
    await loader.load('u1');
    expect(loads).toEqual(['loaded_from_store', 'loaded_from_snapshot']);
  });

  it('drops at once when the keeper answers', async () => {
    const { snapshots, loader, errors } = await setUp();
    snapshots.kept.set('u1', staleSnapshot(0));
    await loader.forgetSoon('u1');
    expect(snapshots.kept.has('u1')).toBe(false);
    expect(errors).toEqual([]);
  });
});
