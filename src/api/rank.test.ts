import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, ingest, openTestApp, type TestApp } from '../../test/helpers.js';

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
});
