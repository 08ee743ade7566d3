import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  event,
  get,
  ids,
  ingest,
  loadShop,
  openTestApp,
  plantedShop,
  putItems,
  recommendOk,
  train,
  type TestApp,
} from './helpers.js';

const shop = plantedShop();
let t: TestApp;
let version: number;

beforeAll(async () => {
  t = await openTestApp();
  await loadShop(t.app, shop);
  version = await train(t.app);
});
afterAll(async () => {
  await t?.close();
});

describe('real time: events change the next reply without retraining', () => {
  it('a new user is personalised from their first three events', async () => {
    const userId = 'newcomer-b';
    const before = await recommendOk(t.app, `user_id=${userId}&n=5`);
    expect(before.fallback).toBe('unknown_user');
    expect(before.model).toBe('popularity');

    const mine = ['b-01', 'b-06', 'b-11'];
    await ingest(t.app, [
      event(userId, mine[0]!, 'product_viewed'),
      event(userId, mine[1]!, 'added_to_cart'),
      event(userId, mine[2]!, 'product_viewed'),
    ]);

    const after = await recommendOk(t.app, `user_id=${userId}&n=5`);
    expect(after.model).toBe('als');
    expect(after.model_version).toBe(version);
    expect(after.fallback).toBeNull();
    expect(after.items).toHaveLength(5);
    expect(
      ids(after.items).every((id) => id.startsWith('b-')),
      ids(after.items).join(','),
    ).toBe(true);
    for (const id of mine) expect(ids(after.items)).not.toContain(id);
    // The reasons point back at what the user just did.
    const pointed = after.items.filter(
      (item) => item.reason_item_id !== undefined && mine.includes(item.reason_item_id),
    );
    expect(pointed.length, after.items.map((i) => i.reason).join(' | ')).toBeGreaterThan(0);
    for (const item of pointed) expect(item.reason).toContain(item.reason_item_id);
  });

  it('the same holds for the other group: the planted structure is what drives it', async () => {
    const userId = 'newcomer-a';
    await ingest(t.app, [event(userId, 'a-02'), event(userId, 'a-07'), event(userId, 'a-12', 'purchased')]);
    const after = await recommendOk(t.app, `user_id=${userId}&n=5`);
    expect(after.model).toBe('als');
    expect(after.fallback).toBeNull();
    expect(
      ids(after.items).every((id) => id.startsWith('a-')),
      ids(after.items).join(','),
    ).toBe(true);
  });

  it("a known user's just-viewed item disappears from their next reply", async () => {
    for (const userId of [shop.groupA[4]!, shop.groupB[7]!]) {
      const before = await recommendOk(t.app, `user_id=${userId}&n=5`);
      const viewed = before.items[0]!.item_id;
      await ingest(t.app, [event(userId, viewed, 'product_viewed', { timestamp: Date.now() })]);
      const after = await recommendOk(t.app, `user_id=${userId}&n=5`);
      expect(after.model).toBe('als');
      expect(after.fallback).toBeNull();
      expect(ids(after.items)).not.toContain(viewed);
      expect(after.items).toHaveLength(5);
    }
  });

  it("a known user's new feedback is folded in: a shift of taste shows in the next reply", async () => {
    const userId = shop.groupA[5]!;
    const before = await recommendOk(t.app, `user_id=${userId}&n=5`);
    expect(ids(before.items).every((id) => id.startsWith('a-'))).toBe(true);
    const bought = ['b-00', 'b-03', 'b-05', 'b-08', 'b-10', 'b-13'];
    await ingest(
      t.app,
      bought.map((itemId) => event(userId, itemId, 'purchased', { timestamp: Date.now() })),
    );
    const after = await recommendOk(t.app, `user_id=${userId}&n=5`);
    expect(after.model).toBe('als');
    expect(after.fallback).toBeNull();
    const fromB = ids(after.items).filter((id) => id.startsWith('b-'));
    expect(fromB.length, ids(after.items).join(',')).toBeGreaterThan(0);
    for (const id of bought) expect(ids(after.items)).not.toContain(id);
  });

  it('a dismissed item never comes back, even with exclude_seen=false', async () => {
    const userId = shop.groupA[9]!;
    const before = await recommendOk(t.app, `user_id=${userId}&n=30&exclude_seen=false`);
    const dismissed = before.items[0]!.item_id;
    await ingest(t.app, [event(userId, dismissed, 'dismissed')]);
    const after = await recommendOk(t.app, `user_id=${userId}&n=30&exclude_seen=false`);
    expect(ids(after.items)).not.toContain(dismissed);
    expect(after.items).toHaveLength(before.items.length - 1);
  });

  it('a new user whose events name only items no model knows gets a fallback, not an error', async () => {
    const userId = 'newcomer-unknown-items';
    await ingest(t.app, [event(userId, 'fresh-item-1'), event(userId, 'fresh-item-2')]);
    const reply = await recommendOk(t.app, `user_id=${userId}&n=5`);
    expect(reply.fallback).not.toBeNull();
    expect(reply.items.length).toBeGreaterThan(0);
    expect(ids(reply.items)).not.toContain('fresh-item-1');
  });

  it('serves a repeat request again from the result cache, each with its own request id, until something changes', async () => {
    const hits = async (): Promise<number> => {
      const reply = await get<null>(t.app, '/metrics');
      const line = reply.text
        .split('\n')
        .find((l) => l.startsWith('attune_recommendation_cache_total{result="hit"} '));
      return line === undefined ? 0 : Number(line.split(' ')[1]);
    };
    const userId = shop.groupB[3]!;
    const first = await recommendOk(t.app, `user_id=${userId}&n=5`);
    const before = await hits();
    const again = await recommendOk(t.app, `user_id=${userId}&n=5`);
    expect(await hits()).toBe(before + 1);
    expect(again.items).toEqual(first.items);
    expect(again.request_id).not.toBe(first.request_id);
    // Another shape is another list.
    expect(ids((await recommendOk(t.app, `user_id=${userId}&n=3`)).items)).toEqual(
      ids(first.items).slice(0, 3),
    );
    expect(await hits()).toBe(before + 1);

    // A catalog write: the item made unavailable is gone from the very next list.
    const top = first.items[0]!.item_id;
    await putItems(t.app, [{ id: top, categories: ['b'], available: false }]);
    const afterCatalog = await recommendOk(t.app, `user_id=${userId}&n=5`);
    expect(ids(afterCatalog.items)).not.toContain(top);
    // The user's own event: the next list is computed from it.
    const viewed = afterCatalog.items[0]!.item_id;
    await ingest(t.app, [event(userId, viewed, 'product_viewed', { timestamp: Date.now() })]);
    expect(ids((await recommendOk(t.app, `user_id=${userId}&n=5`)).items)).not.toContain(viewed);
    expect(await hits()).toBe(before + 1);
  });
});
