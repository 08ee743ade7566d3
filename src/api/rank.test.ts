import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Fastify, { type FastifyInstance } from 'fastify';
import { call, ingest, openTestApp, type TestApp } from '../../test/helpers.js';
import { engineConfig, type Engine } from '../engine/index.js';
import { DAY, plantedLog } from '../ranking/fixtures.js';
import { rankItems } from '../ranking/rank-items.js';
import { trainFromLoggedLists } from '../ranking/train-reranker.js';
import { popularityBundle } from '../training/bundle-fixture.js';
import { useApiDocs } from './openapi.js';
import { rankRoutes } from './rank.js';

interface RankReply {
  readonly ranked_by: string;
  readonly note: string | null;
  readonly items: readonly { item_id: string; score: number; reason: string; contributions: unknown[] }[];
  readonly unknown_items: readonly string[];
}

describe('POST /v1/rank', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await openTestApp();
    const events = [];
    for (let u = 0; u < 20; u++)
      for (let i = 0; i < 6; i++)
        events.push({
          event: 'product_viewed',
          user_id: `u${u}`,
          item_id: `i${(u + i) % 12}`,
          timestamp: 1_700_000_000_000 + u * 1000 + i,
        });
    await ingest(t.app, events);
    await t.engine.train();
  });
  afterAll(() => t.close());

  it('ranks by the model when no re-ranker is trained, says so, and reports unknown items', async () => {
    const reply = await call<RankReply>(t.app, 'POST', '/v1/rank', {
      user_id: 'u1',
      items: ['i3', 'i9', 'zzz', 'i4'],
      context: { device: 'mobile' },
    });
    expect(reply.status).toBe(200);
    expect(reply.body.ranked_by).not.toBe('reranker');
    expect(reply.body.note).not.toBeNull();
    expect(reply.body.unknown_items).toEqual(['zzz']);
    expect(reply.body.items.map((i) => i.item_id).sort()).toEqual(['i3', 'i4', 'i9']);
    const scores = reply.body.items.map((i) => i.score);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
    expect(reply.body.items[0]!.reason).toMatch(/no re-ranker/);
  });

  it('refuses more than 500 items and an empty list', async () => {
    const many = Array.from({ length: 501 }, (_, j) => `i${j}`);
    expect((await call(t.app, 'POST', '/v1/rank', { user_id: 'u1', items: many })).status).toBe(400);
    expect((await call(t.app, 'POST', '/v1/rank', { user_id: 'u1', items: [] })).status).toBe(400);
  });

  it('checks ids as every route does, naming the field: blank, too long, "..", or JSON read as Infinity', async () => {
    const refused = async (body: string, field: string) => {
      const reply = await call<{ error: { message: string } }>(t.app, 'POST', '/v1/rank', body);
      expect(reply.status, reply.text).toBe(400);
      expect(reply.body.error.message).toContain(`body field "${field}"`);
    };
    await refused(JSON.stringify({ user_id: ' ', items: ['i3'] }), 'user_id');
    await refused(JSON.stringify({ user_id: 'u1', items: ['i3', 'x'.repeat(257)] }), 'items[1]');
    await refused(JSON.stringify({ user_id: 'u1', items: ['..'] }), 'items[0]');
    // Found by fuzzing: Fastify's coercion ranked this for the user "-Infinity".
    await refused('{"user_id": -1e400, "items": ["i3"]}', 'user_id');
  });
});

describe('POST /v1/rank with a trained re-ranker', () => {
  // The planted log: clicks follow each user's favourite category, which the generator's scores lack.
  const planted = plantedLog(300, 6, 0.85, (fav) => (fav ? 0.5 : 0.05));
  const { reranker } = trainFromLoggedLists(planted.lists, planted.input, planted.categories);
  const user = 11;
  const { matrix, times } = planted.input;
  const slice = (from: number, to: number) => ({
    items: matrix.indices.subarray(from, to),
    weights: matrix.data.subarray(from, to),
    times: times!.subarray(from, to),
  });
  const profile = {
    userIndex: user,
    fresh: false,
    ...slice(matrix.indptr[user]!, matrix.indptr[user + 1]!),
  };
  let app: FastifyInstance;
  beforeAll(async () => {
    const bundle = await popularityBundle(planted.input, reranker);
    // The route's one dependency: the engine's rank, here over a bundle holding the trained re-ranker.
    const engine = {
      rank: (_userId: string, itemIds: readonly string[]) =>
        Promise.resolve(rankItems(bundle, profile, itemIds, 21 * DAY)),
    } as Pick<Engine, 'rank'> as Engine;
    app = Fastify();
    // The shared reply schemas the route refers to, and its replies checked against its schema.
    useApiDocs(app, { validateReplies: true });
    app.decorateRequest('engine', null as unknown as Engine);
    app.addHook('onRequest', async (request) => {
      request.engine = engine;
    });
    await app.register(rankRoutes, { config: engineConfig('sqlite:unused') });
    await app.ready();
  });
  afterAll(() => app.close());

  it('orders by the re-ranker; base plus each item’s contributions is its score', async () => {
    expect(reranker).not.toBeNull();
    const asked = ['i1', 'i2', 'i3', 'i4', 'i5', 'i6', 'nope', 'i7'];
    const response = await app.inject({
      method: 'POST',
      url: '/v1/rank',
      payload: { user_id: 'u11', items: asked },
    });
    expect(response.statusCode).toBe(200);
    const body = response.json<RankReply & { base: number; model_version: number }>();
    expect(body.ranked_by).toBe('reranker');
    expect(body.model_version).toBe(4);
    expect(body.unknown_items).toEqual(['nope']);
    expect(body.items).toHaveLength(7);
    for (let k = 1; k < body.items.length; k++)
      expect(body.items[k - 1]!.score).toBeGreaterThanOrEqual(body.items[k]!.score);
    for (const item of body.items) {
      const contributions = item.contributions as { feature: string; contribution: number }[];
      expect(contributions.length).toBeGreaterThan(0);
      const sum = contributions.reduce((s, c) => s + c.contribution, body.base);
      expect(sum).toBeCloseTo(item.score, 9);
      expect(item.reason).toMatch(/re-ranker/);
    }
    // The planted taste survives the HTTP round trip: the user's favourite category comes first.
    const fav = planted.favourite[user]!;
    expect(Number(body.items[0]!.item_id.slice(1)) % 3).toBe(fav);
  });
});
