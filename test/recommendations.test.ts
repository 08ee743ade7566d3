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
  type ErrorReply,
  type SimilarReply,
  type TestApp,
} from './helpers.js';
import { defaultStages } from '../src/recommendations/index.js';

const shop = plantedShop();
const UNAVAILABLE = 'a-13';
const EXPIRED = 'a-14';
const DELETED = 'a-12';
let t: TestApp;
let version: number;

beforeAll(async () => {
  t = await openTestApp();
  await loadShop(t.app, shop);
  version = await train(t.app);
  // Catalog changes after training take effect on the next request, without retraining.
  await putItems(t.app, [
    { id: UNAVAILABLE, categories: ['outdoor'], price: 135, available: false },
    {
      id: EXPIRED,
      categories: ['outdoor'],
      price: 145,
      expires_at: new Date(Date.now() - 60_000).toISOString(),
    },
  ]);
  expect((await call(t.app, 'DELETE', `/v1/items/${DELETED}`)).status).toBe(204);
});
afterAll(async () => {
  await t?.close();
});

const inGroup = (prefix: string) => (id: string) => id.startsWith(prefix);
const seenBy = (userId: string): ReadonlySet<string> => shop.seen.get(userId)!;

describe('GET /v1/recommendations: personalised lists', () => {
  it('training through the API names the new version', () => {
    expect(version).toBe(1);
  });

  it('every user of a group gets items of its own cluster, from the primary model', async () => {
    for (const [users, prefix] of [
      [shop.groupA, 'a-'],
      [shop.groupB, 'b-'],
    ] as const) {
      for (const userId of users) {
        const reply = await recommendOk(t.app, `user_id=${userId}&n=5`);
        expect(reply.user_id).toBe(userId);
        expect(reply.model).toBe('als');
        expect(reply.model_version).toBe(version);
        expect(reply.fallback).toBeNull();
        expect(reply.items).toHaveLength(5);
        expect(ids(reply.items).every(inGroup(prefix)), `${userId}: ${ids(reply.items).join(',')}`).toBe(
          true,
        );
      }
    }
  });

  it('each item carries a finite score and a non-empty reason, best first', async () => {
    const reply = await recommendOk(t.app, `user_id=${shop.groupA[0]}&n=5`);
    for (const item of reply.items) {
      expect(Number.isFinite(item.score)).toBe(true);
      expect(item.reason.trim().length).toBeGreaterThan(0);
      expect(['because_item', 'taste', 'popular', 'new', 'similar_item']).toContain(item.reason_kind);
    }
    const scores = reply.items.map((i) => i.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    expect(new Set(ids(reply.items)).size).toBe(reply.items.length);
  });

  it('a reason that points at an item points at one the user interacted with', async () => {
    for (const userId of [...shop.groupA.slice(0, 5), ...shop.groupB.slice(0, 5)]) {
      const reply = await recommendOk(t.app, `user_id=${userId}&n=5`);
      for (const item of reply.items) {
        if (item.reason_kind !== 'because_item') continue;
        expect(seenBy(userId).has(item.reason_item_id!), `${userId}: ${item.reason}`).toBe(true);
        expect(item.reason).toContain(item.reason_item_id);
      }
    }
  });

  it('excludes the items the user has seen by default', async () => {
    for (const userId of [...shop.groupA, ...shop.groupB]) {
      const reply = await recommendOk(t.app, `user_id=${userId}&n=8`);
      const shown = ids(reply.items).filter((id) => seenBy(userId).has(id));
      expect(shown, userId).toEqual([]);
    }
  });

  it('exclude_seen=false lets seen items back in', async () => {
    const userId = shop.groupB[3]!;
    const reply = await recommendOk(t.app, `user_id=${userId}&n=15&exclude_seen=false`);
    expect(reply.items).toHaveLength(15);
    expect(ids(reply.items).filter((id) => seenBy(userId).has(id)).length).toBeGreaterThan(0);
    const excluding = await recommendOk(t.app, `user_id=${userId}&n=15&exclude_seen=true`);
    expect(ids(excluding.items).filter((id) => seenBy(userId).has(id))).toEqual([]);
  });

  it('never serves unavailable, expired or deleted items', async () => {
    for (const userId of [...shop.groupA, ...shop.groupB]) {
      const reply = await recommendOk(t.app, `user_id=${userId}&n=40&exclude_seen=false`);
      // Everything else in the catalog can be served: 30 items less the three withdrawn ones.
      expect(reply.items).toHaveLength(27);
      expect(ids(reply.items)).not.toContain(UNAVAILABLE);
      expect(ids(reply.items)).not.toContain(EXPIRED);
      expect(ids(reply.items)).not.toContain(DELETED);
    }
  });

  it('an item made unavailable disappears at once, and comes back when available again', async () => {
    const userId = shop.groupB[0]!;
    const before = await recommendOk(t.app, `user_id=${userId}&n=3`);
    const top = before.items[0]!.item_id;
    const body = shop.items.find((item) => item.id === top)!;
    await putItems(t.app, [{ ...body, available: false }]);
    const during = await recommendOk(t.app, `user_id=${userId}&n=30&exclude_seen=false`);
    expect(ids(during.items)).not.toContain(top);
    await putItems(t.app, [{ ...body, available: true }]);
    const after = await recommendOk(t.app, `user_id=${userId}&n=3`);
    expect(after.items[0]!.item_id).toBe(top);
  });
});

describe('GET /v1/recommendations: filters', () => {
  it('category= keeps only items of that category, even against the user taste', async () => {
    const reply = await recommendOk(t.app, `user_id=${shop.groupA[0]}&n=5&category=kitchen`);
    expect(reply.items).toHaveLength(5);
    for (const id of ids(reply.items)) expect(shop.category.get(id)).toBe('kitchen');
  });

  it('category=a,b takes any of the listed categories', async () => {
    const reply = await recommendOk(
      t.app,
      `user_id=${shop.groupA[0]}&n=40&exclude_seen=false&category=kitchen,outdoor`,
    );
    expect(reply.items).toHaveLength(27);
    const none = await recommendOk(t.app, `user_id=${shop.groupA[0]}&n=5&category=garden`);
    expect(none.items).toEqual([]);
  });

  it('filter=price<50 returns exactly the items under 50', async () => {
    const reply = await recommendOk(
      t.app,
      `user_id=${shop.groupA[1]}&n=40&exclude_seen=false&filter=price%3C50`,
    );
    const expected = [...shop.price].filter(([, price]) => price < 50).map(([id]) => id);
    expect(ids(reply.items).sort()).toEqual(expected.sort());
  });

  it('filters combine: category and repeated price filters are all applied', async () => {
    const reply = await recommendOk(
      t.app,
      `user_id=${shop.groupB[1]}&n=40&exclude_seen=false&category=outdoor&filter=price%3E20&filter=price%3C%3D65`,
    );
    // outdoor items priced 25, 35, 45, 55, 65.
    expect(ids(reply.items).sort()).toEqual(['a-02', 'a-03', 'a-04', 'a-05', 'a-06']);
    const high = await recommendOk(
      t.app,
      `user_id=${shop.groupB[1]}&n=40&exclude_seen=false&category=outdoor&filter=price%3E%3D100`,
    );
    // a-10 (105) and a-11 (115); a-12..a-14 are deleted, unavailable and expired.
    expect(ids(high.items).sort()).toEqual(['a-10', 'a-11']);
  });

  it('filters on attributes', async () => {
    const reply = await recommendOk(
      t.app,
      `user_id=${shop.groupA[2]}&n=40&exclude_seen=false&filter=group%3Db`,
    );
    expect(ids(reply.items).sort()).toEqual([...shop.itemsB].sort());
  });
});

describe('GET /v1/recommendations: fallbacks', () => {
  it('an unknown user gets popular items with fallback set, not an error', async () => {
    const reply = await recommendOk(t.app, 'user_id=somebody-new&n=5');
    expect(reply.model).toBe('popularity');
    expect(reply.fallback).toBe('unknown_user');
    expect(reply.model_version).toBe(version);
    expect(reply.items).toHaveLength(5);
    for (const item of reply.items) expect(item.reason.length).toBeGreaterThan(0);
  });

  it('an empty store (no events, no model) answers 200 with a fallback', async () => {
    const empty = await openTestApp();
    try {
      const reply = await recommendOk(empty.app, 'user_id=anyone&n=5');
      expect(reply.fallback).toBe('no_model');
      expect(reply.model_version).toBeNull();
      expect(reply.items).toEqual([]);

      // With a catalog but still no model, the newest catalog items serve.
      const put = await call(empty.app, 'POST', '/v1/items', {
        items: [
          { id: 'old', categories: ['c'], created_at: '2025-01-01T00:00:00Z' },
          { id: 'new', categories: ['c'], created_at: '2026-01-01T00:00:00Z' },
        ],
      });
      expect(put.status).toBe(200);
      const catalog = await recommendOk(empty.app, 'user_id=anyone&n=5');
      expect(catalog.fallback).toBe('no_model');
      expect(ids(catalog.items)).toEqual(['new', 'old']);
      expect(catalog.items[0]!.reason).toBe('New in c');
    } finally {
      await empty.close();
    }
  });
});

describe('GET /v1/recommendations: invalid queries are 400 naming the field', () => {
  const cases: [string, string, RegExp][] = [
    ['n=0', `user_id=${shop.groupA[0]}&n=0`, /"n"/],
    ['n=abc', `user_id=${shop.groupA[0]}&n=abc`, /"n"/],
    ['n above the maximum', `user_id=${shop.groupA[0]}&n=101`, /"n"/],
    ['missing user_id', 'n=5', /user_id/],
    ['empty user_id', 'user_id=&n=5', /user_id/],
    ['bad filter expression', `user_id=${shop.groupA[0]}&filter=price%3Ccheap`, /"filter".*price<cheap/],
    ['filter without operator', `user_id=${shop.groupA[0]}&filter=price`, /"filter"/],
    ['bad exclude_seen', `user_id=${shop.groupA[0]}&exclude_seen=maybe`, /exclude_seen/],
  ];
  for (const [name, query, message] of cases) {
    it(name, async () => {
      const reply = await get<ErrorReply>(t.app, `/v1/recommendations?${query}`);
      expect(reply.status, reply.text).toBe(400);
      expect(reply.body.error.code).toBe('invalid_request');
      expect(reply.body.error.message).toMatch(message);
    });
  }
});

describe('GET /v1/items/:id/similar', () => {
  it('returns items of the same cluster, never the item itself', async () => {
    for (const itemId of ['a-00', 'a-05', 'b-00', 'b-09']) {
      const reply = await get<SimilarReply>(t.app, `/v1/items/${itemId}/similar?n=5`);
      expect(reply.status, reply.text).toBe(200);
      expect(reply.body.item_id).toBe(itemId);
      expect(reply.body.model_version).toBe(version);
      expect(reply.body.fallback).toBeNull();
      expect(reply.body.items.length).toBeGreaterThan(0);
      expect(reply.body.items.length).toBeLessThanOrEqual(5);
      const prefix = itemId.slice(0, 2);
      expect(ids(reply.body.items).every(inGroup(prefix)), ids(reply.body.items).join(',')).toBe(true);
      expect(ids(reply.body.items)).not.toContain(itemId);
      for (const item of reply.body.items) {
        expect(item.reason).toContain(itemId);
        expect(item.score).toBeGreaterThan(0);
      }
    }
  });

  it('obeys filters and never lists withdrawn items', async () => {
    const all = await get<SimilarReply>(t.app, '/v1/items/a-10/similar?n=20');
    expect(all.status).toBe(200);
    expect(ids(all.body.items)).not.toContain(UNAVAILABLE);
    expect(ids(all.body.items)).not.toContain(EXPIRED);
    expect(ids(all.body.items)).not.toContain(DELETED);
    // The filter removes exactly the items it excludes, and only those.
    const expensive = ids(all.body.items).filter((id) => shop.price.get(id)! > 80);
    expect(expensive.length).toBeGreaterThan(0);
    expect(expensive.length).toBeLessThan(all.body.items.length);
    const reply = await get<SimilarReply>(t.app, '/v1/items/a-10/similar?n=20&filter=price%3E80');
    expect(reply.status).toBe(200);
    expect(ids(reply.body.items)).toEqual(expensive);
  });

  it('an item no model knows answers 200 with an empty list and a fallback', async () => {
    const reply = await get<SimilarReply>(t.app, '/v1/items/not-in-any-model/similar');
    expect(reply.status).toBe(200);
    expect(reply.body.items).toEqual([]);
    expect(reply.body.fallback).toBe('unknown_item');
  });

  it('rejects n=0 with 400', async () => {
    const reply = await get<ErrorReply>(t.app, '/v1/items/a-00/similar?n=0');
    expect(reply.status).toBe(400);
    expect(reply.body.error.message).toMatch(/"n"/);
  });
});

describe('GET /metrics: the pipeline', () => {
  it('times every stage of each computed list, and no stage of a list served again', async () => {
    // Each stage's count of timed lists, in `defaultStages` order, from one scrape.
    const counts = async (): Promise<number[]> => {
      const text = (await get<null>(t.app, '/metrics')).text;
      return defaultStages.map(({ name }) => {
        const line = new RegExp(`^attune_pipeline_stage_seconds_count\\{stage="${name}"\\} (\\d+)$`, 'm');
        return Number(line.exec(text)?.[1] ?? 0);
      });
    };
    const userId = shop.groupB[3]!;
    const before = await counts();
    await recommendOk(t.app, `user_id=${userId}&n=7`);
    const after = await counts();
    expect(after.map((n, k) => n - before[k]!)).toEqual(defaultStages.map(() => 1));
    // The same request again is the list computed before (the result cache): no stage runs.
    await recommendOk(t.app, `user_id=${userId}&n=7`);
    expect(await counts()).toEqual(after);
  });
});
