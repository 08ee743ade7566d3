import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BatchLog } from './batch-log.js';

/** A store write that the test completes by hand, keeping nothing of the batch but its records' ids. */
function gatedStore() {
  const batches: number[][] = [];
  const gates: (() => void)[] = [];
  const write = (batch: { id: number }[]): Promise<void> => {
    batches.push(batch.map((record) => record.id));
    return new Promise((resolve) => gates.push(resolve));
  };
  const openNext = async (): Promise<void> => {
    gates.shift()?.();
    // Let the log's promise chain move on to the next queued batch.
    for (let i = 0; i < 5; i++) await Promise.resolve();
  };
  return { batches, write, openNext };
}

describe('BatchLog', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('writes what was recorded within flushMs as one batch, and a full batch at once', async () => {
    vi.useFakeTimers();
    const store = gatedStore();
    const log = new BatchLog(store.write, { flushMs: 50, onError: () => undefined, maxPending: 3 });
    log.record({ id: 1 });
    log.record({ id: 2 });
    expect(store.batches).toEqual([]);
    await vi.advanceTimersByTimeAsync(50);
    expect(store.batches).toEqual([[1, 2]]);
    // Three pending make a batch without waiting for the timer; it is written once the first is stored.
    for (const id of [3, 4, 5]) log.record({ id });
    expect(log.queued).toBe(5);
    await store.openNext();
    expect(store.batches).toEqual([
      [1, 2],
      [3, 4, 5],
    ]);
    await store.openNext();
    expect(log.queued).toBe(0);
  });

  it('drops and counts records beyond the backlog while the store is behind, and frees it on failure', async () => {
    const dropped: number[] = [];
    const errors: unknown[] = [];
    let fail = true;
    const log = new BatchLog<{ id: number }>(
      () => (fail ? Promise.reject(new Error('disk full')) : Promise.resolve()),
      {
        flushMs: 1_000,
        onError: (error) => errors.push(error),
        onDrop: (n) => dropped.push(n),
        maxPending: 2,
        maxBacklog: 2,
      },
    );
    expect(log.record({ id: 1 })).toBe(true);
    expect(log.record({ id: 2 })).toBe(true);
    expect(log.record({ id: 3 })).toBe(false);
    expect(dropped).toEqual([1]);
    await log.flush();
    expect(errors).toHaveLength(1);
    expect(log.queued).toBe(0);
    fail = false;
    expect(log.record({ id: 4 })).toBe(true);
    await log.flush();
    expect(log.queued).toBe(0);
  });

  it('keeps no record of a batch reachable once the store has taken it, until the store is done', async () => {
    setFlagsFromString('--expose-gc');
    const collect = runInNewContext('gc') as () => void;
    const store = gatedStore();
    const log = new BatchLog(store.write, { flushMs: 1_000, onError: () => undefined });
    const refs: WeakRef<{ id: number }>[] = [];
    const recordSome = () => {
      for (let id = 0; id < 10; id++) {
        const record = { id };
        refs.push(new WeakRef(record));
        log.record(record);
      }
    };
    recordSome();
    const stored = log.flush();
    await Promise.resolve();
    expect(store.batches).toEqual([[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]]);
    // The store's commit is still pending: the log counts the batch as queued but holds none of it.
    expect(log.queued).toBe(10);
    // WeakRef targets are kept until the current job ends.
    await new Promise((resolve) => setImmediate(resolve));
    collect();
    expect(refs.filter((ref) => ref.deref() !== undefined)).toHaveLength(0);
    await store.openNext();
    await stored;
    expect(log.queued).toBe(0);
  });
});
