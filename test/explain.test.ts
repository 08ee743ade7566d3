import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  get,
  ids,
  loadShop,
  openTestApp,
  plantedShop,
  recommendOk,
  train,
  type ErrorReply,
  type TestApp,
} from './helpers.js';

const shop = plantedShop();
let t: TestApp;

interface HistoryRefJson {
  readonly item_id: string;
  readonly action: string | null;
}

interface ExplainReply {
  readonly user_id: string;
  readonly item_id: string;
  readonly model: string | null;
  readonly model_version: number | null;
  readonly fallback: string | null;
  readonly reason: string;
  readonly reason_kind: string;
  readonly explanation:
    | {
        readonly kind: 'neighbors';
        readonly score: number;
        readonly neighbors: (HistoryRefJson & { similarity: number; weight: number; contribution: number })[];
      }
    | {
        readonly kind: 'factors';
        readonly score: number;
        readonly factors: { dimension: number; user: number; item: number; product: number }[];
        readonly similar_items: (HistoryRefJson & { similarity: number })[];
      }
    | {
        readonly kind: 'popularity';
        readonly score: number;
        readonly popularity: number;
        readonly rank: number;
      }
    | null;
}

beforeAll(async () => {
  t = await openTestApp();
  await loadShop(t.app, shop);
  await train(t.app);
});
afterAll(async () => {
  await t?.close();
});

const explain = (query: string) => get<ExplainReply>(t.app, `/v1/recommendations/explain?${query}`);

describe('GET /v1/recommendations/explain', () => {
  const user = shop.groupA[2]!;
  const history = shop.seen.get(user)!;

  it('item-kNN: the neighbours named are real history items of the user, contributions add up', async () => {
    const list = await recommendOk(t.app, `user_id=${user}&n=3`);
    for (const itemId of ids(list.items)) {
      const reply = await explain(`user_id=${user}&item_id=${itemId}&model=itemknn&limit=50`);
      expect(reply.status, reply.text).toBe(200);
      const { explanation } = reply.body;
      expect(reply.body.model).toBe('itemknn');
      if (explanation?.kind !== 'neighbors') throw new Error(`expected neighbours, got ${reply.text}`);
      expect(explanation.neighbors.length).toBeGreaterThan(0);
      let sum = 0;
      for (const neighbor of explanation.neighbors) {
        expect(history.has(neighbor.item_id), neighbor.item_id).toBe(true);
        expect(neighbor.similarity).toBeGreaterThan(0);
        expect(neighbor.contribution).toBeCloseTo(neighbor.similarity * neighbor.weight, 5);
        expect(neighbor.action).not.toBeNull();
        sum += neighbor.contribution;
      }
      expect(explanation.score).toBeCloseTo(sum, 4);
      const sorted = explanation.neighbors.map((n) => n.contribution);
      expect(sorted).toEqual([...sorted].sort((a, b) => b - a));
    }
  });

  it('ALS (the serving model by default): factor products sum to the score, similar items are history items', async () => {
    const [top] = (await recommendOk(t.app, `user_id=${user}&n=1`)).items;
    const reply = await explain(`user_id=${user}&item_id=${top!.item_id}&limit=100`);
    expect(reply.status, reply.text).toBe(200);
    expect(reply.body.model).toBe('als');
    expect(reply.body.reason).toBe(top!.reason);
    const { explanation } = reply.body;
    if (explanation?.kind !== 'factors') throw new Error(`expected factors, got ${reply.text}`);
    const total = explanation.factors.reduce((s, f) => s + f.product, 0);
    expect(explanation.score).toBeCloseTo(total, 3);
    expect(explanation.score).toBeCloseTo(top!.score, 3);
    const magnitudes = explanation.factors.map((f) => Math.abs(f.product));
    expect(magnitudes).toEqual([...magnitudes].sort((a, b) => b - a));
    expect(explanation.similar_items.length).toBeGreaterThan(0);
    for (const item of explanation.similar_items) expect(history.has(item.item_id)).toBe(true);

    const short = await explain(`user_id=${user}&item_id=${top!.item_id}&limit=3`);
    if (short.body.explanation?.kind !== 'factors') throw new Error(short.text);
    expect(short.body.explanation.factors).toHaveLength(3);
  });

  it('popularity: the count and the rank', async () => {
    const reply = await explain(`user_id=${user}&item_id=a-01&model=popularity`);
    expect(reply.status, reply.text).toBe(200);
    const { explanation } = reply.body;
    if (explanation?.kind !== 'popularity') throw new Error(reply.text);
    expect(explanation.popularity).toBeGreaterThan(0);
    expect(explanation.score).toBe(explanation.popularity);
    expect(Number.isInteger(explanation.rank)).toBe(true);
    expect(explanation.rank).toBeGreaterThanOrEqual(0);
  });

  it('an unknown user is explained by popularity; unknown items are 404, unknown models 400', async () => {
    const reply = await explain(`user_id=nobody&item_id=a-01`);
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ model: 'popularity', fallback: 'unknown_user' });
    const missing = await get<ErrorReply>(t.app, '/v1/recommendations/explain?user_id=x&item_id=zzz');
    expect(missing.status).toBe(404);
    const model = await get<ErrorReply>(
      t.app,
      `/v1/recommendations/explain?user_id=${user}&item_id=a-01&model=magic`,
    );
    expect(model.status).toBe(400);
    expect(model.body.error.message).toContain('"model"');
  });
});
