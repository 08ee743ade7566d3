import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultFeedbackConfig, type TrackedEvent } from '../events/index.js';
import { openStore, type Store } from '../store/index.js';
import { buildTrainingSet } from './dataset.js';

const dirs: string[] = [];
const stores: Store[] = [];

afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function storeWith(events: TrackedEvent[]): Promise<Store> {
  const dir = mkdtempSync(join(tmpdir(), 'attune-dataset-'));
  dirs.push(dir);
  const store = await openStore(`sqlite:${dir}`);
  stores.push(store);
  await store.appendEvents(events, { createMissingItems: true });
  return store;
}

let n = 0;
function ev(name: string, userId: string, itemId: string | null, timestamp: number): TrackedEvent {
  n += 1;
  return {
    eventId: `e${n}`,
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

describe('buildTrainingSet', () => {
  it('sums feedback weights per pair, keeps the latest time, and drops pairs turned down', async () => {
    const store = await storeWith([
      ev('product_viewed', 'u1', 'a', 1_000),
      ev('product_viewed', 'u1', 'a', 3_000),
      ev('purchased', 'u1', 'a', 2_000),
      ev('product_viewed', 'u1', 'b', 1_500),
      ev('dismissed', 'u1', 'b', 1_600),
      ev('product_viewed', 'u2', 'b', 4_000),
      ev('impression', 'u2', 'a', 4_100),
      ev('signed_up', 'u3', null, 5_000),
    ]);
    const set = await buildTrainingSet(store, defaultFeedbackConfig);
    const { matrix, times } = set.input;
    const entries = new Map<string, [number, number]>();
    for (let r = 0; r < matrix.rows; r++) {
      for (let k = matrix.indptr[r]!; k < matrix.indptr[r + 1]!; k++) {
        entries.set(`${set.userIds[r]}:${set.itemIds[matrix.indices[k]!]}`, [matrix.data[k]!, times![k]!]);
      }
    }
    // view 1 + view 1 + purchase 8 = 10, latest at 3,000; view 1 − dismissed 2 < 0 is dropped;
    // the impression is exposure, not feedback; the sign-up names no item.
    expect(Object.fromEntries(entries)).toEqual({ 'u1:a': [10, 3_000], 'u2:b': [1, 4_000] });
    expect(set.input.now).toBe(4_000);
    expect(set.eventsRead).toBe(7);
  });

  it('reads exactly the log up to the position it fixes at the start, not what arrives during the read', async () => {
    const before = Array.from({ length: 5 }, (_, i) => ev('purchased', `u${i}`, `i${i}`, 1_000 + i));
    const store = await storeWith(before);
    const position = await store.lastEventSeq();
    const during = [ev('purchased', 'late-user', 'late-item', 9_000)];
    // A store whose scan sees another writer commit right after its first batch.
    const scanEvents = async function* (options: Parameters<Store['scanEvents']>[0]) {
      let first = true;
      for await (const batch of store.scanEvents({ ...options, batchSize: 2 })) {
        yield batch;
        if (first) await store.appendEvents(during, { createMissingItems: true });
        first = false;
      }
    };
    const racing = new Proxy(store, {
      get: (target, key) => {
        if (key === 'scanEvents') return scanEvents;
        const value: unknown = Reflect.get(target, key, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const set = await buildTrainingSet(racing, defaultFeedbackConfig);
    expect(set.position).toBe(position);
    expect(set.eventsRead).toBe(5);
    expect(set.userIds).not.toContain('late-user');
    // The event committed during the read is past the position: the next run reads it.
    expect(await store.lastEventSeq()).toBeGreaterThan(position);
    const next = await buildTrainingSet(store, defaultFeedbackConfig);
    expect(next.userIds).toContain('late-user');
    expect(next.position).toBe(await store.lastEventSeq());
  });
});
