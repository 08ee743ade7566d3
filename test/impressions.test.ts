import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  event,
  get,
  ids,
  ingest,
  loadShop,
  openTestApp,
  plantedShop,
  recommendOk,
  train,
  type ErrorReply,
  type ImpressionReply,
  type SimilarReply,
  type TestApp,
} from './helpers.js';

const shop = plantedShop({ usersPerGroup: 10 });
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

async function impression(requestId: string): Promise<ImpressionReply> {
  const reply = await get<ImpressionReply>(t.app, `/v1/impressions/${encodeURIComponent(requestId)}`);
  expect(reply.status, reply.text).toBe(200);
  return reply.body;
}

describe('impressions: every served list is logged', () => {
  it('logs user, items with positions, model and version', async () => {
    const userId = shop.groupA[0]!;
    const served = await recommendOk(t.app, `user_id=${userId}&n=4`);
    expect(served.request_id).toMatch(/\S/);
    const logged = await impression(served.request_id);
    expect(logged).toMatchObject({
      request_id: served.request_id,
      user_id: userId,
      surface: 'recommendations',
      model: served.model,
      model_version: version,
      fallback: false,
      outcomes: [],
    });
    expect(logged.items).toEqual(
      served.items.map((item, position) => ({ item_id: item.item_id, position, score: item.score })),
    );
  });

  it("keeps the client's request_id", async () => {
    const served = await recommendOk(t.app, `user_id=${shop.groupB[0]}&n=3&request_id=client-req-42`);
    expect(served.request_id).toBe('client-req-42');
    const logged = await impression('client-req-42');
    expect(ids(logged.items)).toEqual(ids(served.items));
    expect(logged.user_id).toBe(shop.groupB[0]);
  });

  it('gives each list its own request id', async () => {
    const a = await recommendOk(t.app, `user_id=${shop.groupA[1]}&n=2`);
    const b = await recommendOk(t.app, `user_id=${shop.groupA[1]}&n=2`);
    expect(a.request_id).not.toBe(b.request_id);
    expect((await impression(a.request_id)).items).toHaveLength(2);
    expect((await impression(b.request_id)).items).toHaveLength(2);
  });

  it('logs nothing for a preview: no impression, no experiment exposure', async () => {
    const userId = shop.groupA[2]!;
    const preview = await recommendOk(t.app, `user_id=${userId}&n=4&preview=true`);
    const served = await recommendOk(t.app, `user_id=${userId}&n=4`);
    // The same list the user is served, only not logged.
    expect(ids(preview.items)).toEqual(ids(served.items));
    await t.engine.flushLogs();
    const missing = await get<ErrorReply>(t.app, `/v1/impressions/${encodeURIComponent(preview.request_id)}`);
    expect(missing.status, missing.text).toBe(404);
    expect((await impression(served.request_id)).user_id).toBe(userId);

    const onlyPreviewed = shop.groupB[3]!;
    await recommendOk(t.app, `user_id=${onlyPreviewed}&n=4&preview=true`);
    await t.engine.flushLogs();
    expect(await t.engine.store.userExposures(onlyPreviewed)).toEqual([]);
    expect((await t.engine.store.userExposures(userId)).length).toBeGreaterThan(0);
  });

  it('logs fallback lists as fallbacks', async () => {
    const served = await recommendOk(t.app, 'user_id=stranger&n=3');
    expect(served.fallback).toBe('unknown_user');
    const logged = await impression(served.request_id);
    expect(logged).toMatchObject({ user_id: 'stranger', fallback: true, model: 'popularity' });
    expect(ids(logged.items)).toEqual(ids(served.items));
  });

  it('a later purchase carrying properties.request_id shows up as an outcome', async () => {
    const userId = shop.groupB[2]!;
    const served = await recommendOk(t.app, `user_id=${userId}&n=3`);
    const bought = served.items[1]!.item_id;
    await ingest(t.app, [
      event(userId, bought, 'product_clicked', {
        event_id: 'click-1',
        timestamp: Date.now(),
        properties: { request_id: served.request_id },
      }),
      event(userId, bought, 'purchased', {
        event_id: 'purchase-1',
        timestamp: Date.now(),
        properties: { request_id: served.request_id, revenue: 19.9 },
      }),
      // An event about another list does not link to this one.
      event(userId, bought, 'purchased', { event_id: 'purchase-other', properties: { request_id: 'other' } }),
    ]);
    const logged = await impression(served.request_id);
    expect(logged.outcomes.map((o) => o.event_id)).toEqual(['click-1', 'purchase-1']);
    expect(logged.outcomes[1]).toMatchObject({
      event: 'purchased',
      user_id: userId,
      item_id: bought,
      properties: { request_id: served.request_id, revenue: 19.9 },
    });
  });

  it('logs similar-item lists shown to a user', async () => {
    const reply = await get<SimilarReply>(t.app, `/v1/items/a-03/similar?n=3&user_id=${shop.groupA[3]}`);
    expect(reply.status).toBe(200);
    const logged = await impression(reply.body.request_id);
    expect(logged).toMatchObject({ surface: 'similar', user_id: shop.groupA[3], model_version: version });
    expect(ids(logged.items)).toEqual(ids(reply.body.items));
  });

  it('answers 404 for a request id that was never served', async () => {
    const reply = await get<ErrorReply>(t.app, '/v1/impressions/never-served');
    expect(reply.status).toBe(404);
    expect(reply.body.error.code).toBe('not_found');
  });
});
