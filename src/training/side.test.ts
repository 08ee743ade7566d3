import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Item } from '../catalog/types.js';
import { defaultFeedbackConfig, type TrackedEvent } from '../events/index.js';
import { openStore, type Store } from '../store/index.js';
import { buildTrainingSet } from './dataset.js';
import { withSideFeatures } from './side.js';

const dirs: string[] = [];
const stores: Store[] = [];

afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function openTemp(): Promise<Store> {
  const dir = mkdtempSync(join(tmpdir(), 'attune-side-'));
  dirs.push(dir);
  const store = await openStore(`sqlite:${dir}`);
  stores.push(store);
  return store;
}

const T = Date.now() - 3600_000;
let n = 0;
function view(userId: string, itemId: string): TrackedEvent {
  n += 1;
  return {
    eventId: `e${n}`,
    name: 'product_viewed',
    userId,
    itemId,
    timestamp: T + n,
    receivedAt: T + n,
    context: {},
    properties: {},
    requestId: null,
  };
}

function item(id: string, categories: string[], extra: Partial<Item> = {}): Item {
  return {
    id,
    categories,
    tags: [],
    price: null,
    available: true,
    createdAt: T,
    expiresAt: null,
    attributes: {},
    updatedAt: T,
    ...extra,
  };
}

describe('withSideFeatures', () => {
  it('indexes recommendable new items after the event items and aligns features with rows', async () => {
    const store = await openTemp();
    await store.putItems([
      item('w1', ['shoes'], { attributes: { title: 'only-here' } }),
      item('w2', ['shoes', 'sale']),
      item('new', ['shoes']),
      item('gone', ['shoes'], { available: false }),
      item('expired', ['shoes'], { expiresAt: T }),
      item('bare', []),
      item('odd', ['never-warm']),
      item('odd2', ['never-warm']),
    ]);
    await store.putUser({ id: 'u1', traits: { plan: 'pro' }, createdAt: T, updatedAt: T });
    await store.putUser({ id: 'u2', traits: { plan: 'pro', solo: 'yes' }, createdAt: T, updatedAt: T });
    await store.appendEvents([view('u1', 'w1'), view('u2', 'w2'), view('u2', 'w1')], {
      createMissingItems: true,
    });
    const events = await buildTrainingSet(store, defaultFeedbackConfig);
    const side = (await withSideFeatures(store, events))!;
    expect(side.itemIds.slice(0, side.warmItems)).toEqual(events.itemIds);
    // Unavailable, expired and featureless items stay out, and so do those whose features were dropped.
    expect(side.itemIds.slice(side.warmItems)).toEqual(['new']);
    expect(side.input.matrix.cols).toBe(side.itemIds.length);
    expect(side.input.itemFeatures!.rows).toBe(side.itemIds.length);
    // Kept: features on a warm item and on two rows or more. Dropped: a title (one row), a category
    // only new items carry (never trained), a trait of one user.
    expect(side.itemFeatures.names).toEqual(['category=shoes']);
    expect(side.userFeatures.names).toEqual(['plan=pro']);
    const row = (id: string): number => side.itemIds.indexOf(id);
    const f = side.input.itemFeatures!;
    expect(f.indptr[row('new') + 1]! - f.indptr[row('new')]!).toBe(1);
    expect(f.indptr[row('w2') + 1]! - f.indptr[row('w2')]!).toBe(1);
  });

  it('indexes no new items when asked not to (a run that fits EASE), keeping the features', async () => {
    const store = await openTemp();
    await store.putItems([item('w1', ['shoes']), item('w2', ['shoes']), item('new', ['shoes'])]);
    await store.appendEvents([view('u1', 'w1'), view('u2', 'w2')], { createMissingItems: true });
    const events = await buildTrainingSet(store, defaultFeedbackConfig);
    const side = (await withSideFeatures(store, events, { newItems: false }))!;
    expect(side.itemIds).toEqual(events.itemIds);
    expect(side.warmItems).toBe(2);
    expect(side.itemFeatures.names).toEqual(['category=shoes']);
  });

  it('is null when nothing carries a feature', async () => {
    const store = await openTemp();
    await store.appendEvents([view('u1', 'x'), view('u2', 'y')], { createMissingItems: true });
    const events = await buildTrainingSet(store, defaultFeedbackConfig);
    expect(await withSideFeatures(store, events)).toBeNull();
  });
});
