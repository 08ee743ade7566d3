import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  event,
  get,
  ingest,
  openTestApp,
  putItems,
  type ErrorReply,
  type TestApp,
} from '../../test/helpers.js';
import { parseFeatureDefinitions } from './definitions.js';
import { FeatureSet } from './feature-set.js';

interface FeaturesReply {
  readonly user_id: string;
  readonly at: string;
  readonly features: Record<string, number | string | null>;
  readonly item_id?: string;
  readonly item_features?: Record<string, number | string | null>;
  readonly user_item_features?: Record<string, number | string | null>;
}

interface DefinitionsReply {
  readonly source: string;
  readonly definitions: Record<string, { name: string; kind: string; window: string }[]>;
  readonly columns: Record<string, { numeric: string[]; labels: string[] }>;
}

const features = new FeatureSet(
  parseFeatureDefinitions({
    user: [
      { name: 'views', kind: 'count', event: 'product_viewed', windows: ['1h', '1d'] },
      { name: 'category', kind: 'category_affinity' },
    ],
    item: [{ name: 'viewers', kind: 'popularity', window: '1d' }],
    user_item: [{ name: 'views', kind: 'count', event: 'product_viewed', window: '1d' }],
  }),
  'test.json',
);

const ago = (ms: number) => new Date(Date.now() - ms).toISOString();

describe('feature routes', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await openTestApp({ features });
    await putItems(t.app, [
      { id: 'p1', categories: ['shoes'], price: 50 },
      { id: 'p2', categories: ['books'], price: 10 },
    ]);
  });
  afterEach(() => t.close());

  it('serves the definitions and their columns', async () => {
    const reply = await get<DefinitionsReply>(t.app, '/v1/features/definitions');
    expect(reply.status).toBe(200);
    expect(reply.body.source).toBe('test.json');
    expect(reply.body.definitions['user']?.map((d) => d.name)).toEqual(['views_1h', 'views_1d', 'category']);
    expect(reply.body.columns['user']).toEqual({
      numeric: ['views_1h', 'views_1d', 'category_top_share', 'category_distinct'],
      labels: ['category_top'],
    });
  });

  it("answers a user's features now, updated by each event, with an item's and the pair's on request", async () => {
    await ingest(t.app, [
      event('u1', 'p1', 'product_viewed', { timestamp: ago(2 * 3_600_000) }),
      event('u2', 'p1', 'product_viewed', { timestamp: ago(60_000) }),
    ]);
    const first = await get<FeaturesReply>(t.app, '/v1/users/u1/features');
    expect(first.status).toBe(200);
    expect(first.body.features).toEqual({
      views_1h: 0,
      views_1d: 1,
      category_top_share: 1,
      category_distinct: 1,
      category_top: 'shoes',
    });
    // Now cached: the next events reach it through the append, not a reload. The last is stamped two
    // minutes ahead (the API accepts up to five): it counts only once its time has come.
    await ingest(t.app, [
      event('u1', 'p2', 'product_viewed', { timestamp: ago(60_000) }),
      event('u1', 'p2', 'product_viewed', { timestamp: ago(30_000) }),
      event('u1', 'p2', 'product_viewed', { timestamp: new Date(Date.now() + 120_000).toISOString() }),
    ]);
    const second = await get<FeaturesReply>(t.app, '/v1/users/u1/features?item_id=p1');
    expect(second.body.features).toMatchObject({ views_1h: 2, views_1d: 3, category_top: 'books' });
    expect(second.body.item_id).toBe('p1');
    expect(second.body.item_features).toEqual({ viewers: 2 });
    expect(second.body.user_item_features).toEqual({ views: 1 });
    expect(Date.parse(second.body.at)).toBeLessThanOrEqual(Date.now());
    // What is held shows in the metrics: u1 and p1, read above; u2 never was.
    const metrics = (await get<null>(t.app, '/metrics')).text;
    const held = (what: string) =>
      Number(metrics.match(new RegExp(`^attune_online_features_held\\{what="${what}"\\} (\\S+)$`, 'm'))?.[1]);
    expect(held('users')).toBe(1);
    expect(held('items')).toBe(1);
    expect(held('bytes')).toBeGreaterThan(0);
  });

  it("answers an item's features, including a catalog item nobody has touched", async () => {
    await ingest(t.app, [event('u1', 'p1'), event('u2', 'p1'), event('u2', 'p1')]);
    const p1 = await get<{ item_id: string; features: Record<string, number> }>(
      t.app,
      '/v1/items/p1/features',
    );
    expect(p1.status).toBe(200);
    expect(p1.body).toMatchObject({ item_id: 'p1', features: { viewers: 2 } });
    const p2 = await get<{ features: Record<string, number> }>(t.app, '/v1/items/p2/features');
    expect(p2.body.features).toEqual({ viewers: 0 });
  });

  it('answers 404 for a user or item nobody has heard of, naming it', async () => {
    await ingest(t.app, [event('u1', 'p1')]);
    const user = await get<ErrorReply>(t.app, '/v1/users/ghost/features');
    expect(user.status).toBe(404);
    expect(user.body.error).toEqual({
      code: 'not_found',
      message: 'no user "ghost": no events and no stored traits',
    });
    const item = await get<ErrorReply>(t.app, '/v1/items/ghost/features');
    expect(item.status).toBe(404);
    expect(item.body.error.message).toMatch(/^no item "ghost"/);
    const pair = await get<ErrorReply>(t.app, '/v1/users/u1/features?item_id=ghost');
    expect(pair.status).toBe(404);
    expect(pair.body.error.message).toMatch(/^no item "ghost"/);
  });
});
