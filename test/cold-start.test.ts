import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  call,
  get,
  ids,
  loadShop,
  openTestApp,
  plantedShop,
  putItems,
  recommendOk,
  train,
  type ModelsReply,
  type TestApp,
} from './helpers.js';

/**
 * Cold start through the HTTP API: the planted shop (group A buys `outdoor` items `a-…`, group B `kitchen`
 * items `b-…`), its users carrying a trait that predicts the group. After training, new catalog items and
 * users known only by traits must be served by the hybrid model the training run fits beside the others.
 */
const shop = plantedShop();
const NEW_A = 'a-new';
const NEW_B = 'b-new';

async function putTraits(t: TestApp, userId: string, traits: Record<string, unknown>): Promise<void> {
  const reply = await call(t.app, 'PUT', `/v1/users/${userId}`, { traits });
  expect(reply.status, reply.text).toBeLessThan(300);
}

describe('cold start: new items and trait-only users', () => {
  let t: TestApp;
  let before: { a: string[]; b: string[] };

  beforeAll(async () => {
    t = await openTestApp();
    await loadShop(t.app, shop);
    for (const userId of shop.groupA) await putTraits(t, userId, { segment: 'hiker', plan: 'free' });
    for (const userId of shop.groupB) await putTraits(t, userId, { segment: 'cook', plan: 'free' });
    await train(t.app);
    // New items after training: each in one group's category, with that group's attributes.
    await putItems(t.app, [
      { id: NEW_A, categories: ['outdoor'], price: 45, attributes: { group: 'a' } },
      { id: NEW_B, categories: ['kitchen'], price: 45, attributes: { group: 'b' } },
    ]);
    before = {
      a: ids((await recommendOk(t.app, `user_id=${shop.groupA[0]!}&n=10`)).items),
      b: ids((await recommendOk(t.app, `user_id=${shop.groupB[0]!}&n=10`)).items),
    };
    await train(t.app);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('every training run fits the hybrid and records its fit time', async () => {
    const reply = await get<ModelsReply & { serving: { fit_seconds: Record<string, number> } }>(
      t.app,
      '/v1/models',
    );
    expect(reply.status).toBe(200);
    expect(reply.body.serving?.fit_seconds['hybrid']).toBeGreaterThan(0);
    // The new items are indexed although no event names them.
    expect(reply.body.serving?.items).toBe(shop.items.length + 2);
  });

  it('a new item in a category of the user’s history shows up in their list after the retrain', async () => {
    // Before the retrain no model knew the new items: only the catalog backfill, behind the pool.
    expect(before.a).not.toContain(NEW_A);
    expect(before.b).not.toContain(NEW_B);
    for (const [users, mine, other, prefix] of [
      [shop.groupA, NEW_A, NEW_B, 'b-'],
      [shop.groupB, NEW_B, NEW_A, 'a-'],
    ] as const) {
      for (const userId of users.slice(0, 5)) {
        const reply = await recommendOk(t.app, `user_id=${userId}&n=10`);
        // The primary model still ranks the list; the new item entered its pool on its scale.
        expect(reply.model).toBe('als');
        expect(reply.fallback).toBeNull();
        const list = ids(reply.items);
        expect(list, userId).toContain(mine);
        expect(list).not.toContain(other);
        // Ahead of every item of the other cluster.
        const at = list.indexOf(mine);
        expect(list.slice(0, at).some((id) => id.startsWith(prefix))).toBe(false);
        const item = reply.items[at]!;
        expect(item.reason_kind).toBe('new');
        expect(item.reason).toBe(
          `Matches your taste for ${shop.category.get(users === shop.groupA ? 'a-00' : 'b-00')!}`,
        );
        expect(Number.isFinite(item.score)).toBe(true);
      }
    }
  });

  it('a new item’s similar items come from the hybrid, by the features it shares', async () => {
    const reply = await get<{ model: string; fallback: string | null; items: { item_id: string }[] }>(
      t.app,
      `/v1/items/${NEW_A}/similar?n=5`,
    );
    expect(reply.status, reply.text).toBe(200);
    expect(reply.body.model).toBe('hybrid');
    expect(reply.body.fallback).toBe('itemknn_had_none');
    expect(reply.body.items).toHaveLength(5);
    for (const item of reply.body.items) expect(item.item_id.startsWith('a-')).toBe(true);
  });

  it('a user with no events is served from their traits, and different traits give different lists', async () => {
    // Traits sent after training: the hybrid represents the user from them at request time.
    await putTraits(t, 'new-hiker', { segment: 'hiker' });
    await putTraits(t, 'new-cook', { segment: 'cook' });
    const hiker = await recommendOk(t.app, 'user_id=new-hiker&n=8');
    const cook = await recommendOk(t.app, 'user_id=new-cook&n=8');
    for (const reply of [hiker, cook]) {
      expect(reply.model).toBe('hybrid');
      expect(reply.fallback).toBe('unknown_user_traits');
      expect(reply.items).toHaveLength(8);
    }
    const a = (id: string) => id.startsWith('a-');
    expect(ids(hiker.items).filter(a).length).toBeGreaterThanOrEqual(7);
    expect(ids(cook.items).filter(a).length).toBeLessThanOrEqual(1);
    const warm = hiker.items.find((item) => item.item_id !== NEW_A)!;
    expect(warm.reason_kind).toBe('taste');
    expect(warm.reason).toBe('Popular with users like you');
    // The new item is not in the hiker's top 8; among outdoor items only it is, and with no history to
    // match it against, it says it is new.
    const outdoor = await recommendOk(t.app, 'user_id=new-hiker&n=20&category=outdoor');
    expect(outdoor.model).toBe('hybrid');
    expect(outdoor.items).toHaveLength(shop.itemsA.length + 1);
    expect(outdoor.items.find((item) => item.item_id === NEW_A)).toMatchObject({
      reason: 'New in outdoor',
      reason_kind: 'new',
    });

    // The explain endpoint scores the same trait vector the list was ranked by.
    const explained = await get<{
      model: string;
      fallback: string | null;
      reason: string;
      explanation: { kind: string; score: number; user_features: { feature: string | null }[] };
    }>(t.app, `/v1/recommendations/explain?user_id=new-hiker&item_id=${warm.item_id}`);
    expect(explained.status, explained.text).toBe(200);
    expect(explained.body.model).toBe('hybrid');
    expect(explained.body.fallback).toBe('unknown_user_traits');
    expect(explained.body.reason).toBe('Popular with users like you');
    expect(explained.body.explanation.kind).toBe('features');
    expect(explained.body.explanation.score).toBeCloseTo(warm.score, 4);
    expect(explained.body.explanation.user_features.map((f) => f.feature)).toEqual(['segment=hiker']);
  });

  it('explains the hybrid’s score in feature terms: item features and user traits', async () => {
    const userId = shop.groupA[0]!;
    const reply = await get<{
      model: string;
      explanation: {
        kind: string;
        score: number;
        bias: number;
        item_features: { feature: string | null; contribution: number }[];
        user_features: { feature: string | null; contribution: number }[];
      };
    }>(t.app, `/v1/recommendations/explain?user_id=${userId}&item_id=${NEW_A}&model=hybrid&limit=10`);
    expect(reply.status, reply.text).toBe(200);
    expect(reply.body.model).toBe('hybrid');
    const { explanation } = reply.body;
    expect(explanation.kind).toBe('features');
    // A new item has no identity: its features carry the whole score.
    const itemFeatures = explanation.item_features.map((f) => f.feature);
    expect(itemFeatures).toContain('category=outdoor');
    expect(itemFeatures).not.toContain(null);
    const sum = explanation.item_features.reduce((total, f) => total + f.contribution, 0);
    expect(sum).toBeCloseTo(explanation.score, 4);
    expect(explanation.user_features.map((f) => f.feature)).toEqual(
      expect.arrayContaining(['segment=hiker', 'plan=free']),
    );
  });

  it('users without usable traits still get popularity, and say so', async () => {
    await putTraits(t, 'pilot', { segment: 'pilot' });
    for (const userId of ['nobody-at-all', 'pilot']) {
      const reply = await recommendOk(t.app, `user_id=${userId}&n=5`);
      expect(reply.model).toBe('popularity');
      expect(reply.fallback).toBe('unknown_user');
    }
  });
});

describe('cold start turned off', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await openTestApp({ coldStart: false });
    await loadShop(t.app, shop);
    for (const userId of shop.groupA) await putTraits(t, userId, { segment: 'hiker' });
    await putTraits(t, 'new-hiker', { segment: 'hiker' });
    await train(t.app);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('trains no hybrid and serves trait-only users popularity', async () => {
    const models = await get<{ serving: { fit_seconds: Record<string, number> } }>(t.app, '/v1/models');
    expect(models.body.serving.fit_seconds['hybrid']).toBeUndefined();
    const reply = await recommendOk(t.app, 'user_id=new-hiker&n=5');
    expect(reply.model).toBe('popularity');
  });
});
