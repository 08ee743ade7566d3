import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  call,
  ids,
  ingest,
  event,
  loadShop,
  openTestApp,
  plantedShop,
  putItems,
  recommend,
  recommendOk,
  train,
  type ErrorReply,
  type TestApp,
} from './helpers.js';

const shop = plantedShop();
let t: TestApp;

interface PresetReply {
  readonly name: string;
  readonly rules: Record<string, unknown>;
  readonly updated_at: string;
}

beforeAll(async () => {
  t = await openTestApp();
  await loadShop(t.app, shop);
  await train(t.app);
  // A brand attribute on some outdoor items, for boosts.
  await putItems(
    t.app,
    shop.itemsA.map((id, j) => ({
      id,
      categories: ['outdoor'],
      price: 5 + 10 * j,
      attributes: { group: 'a', brand: j % 3 === 0 ? 'acme' : 'other' },
    })),
  );
});
afterAll(async () => {
  await t?.close();
});

const user = shop.groupA[0]!;

describe('business rules on GET /v1/recommendations', () => {
  it('pins land on their slot with the reason "Pinned by rule", even from another cluster', async () => {
    const reply = await recommendOk(t.app, `user_id=${user}&n=6&pin=b-03:2&pin=b-04:0`);
    expect(reply.items).toHaveLength(6);
    expect(reply.items[0]).toMatchObject({
      item_id: 'b-04',
      reason: 'Pinned by rule',
      reason_kind: 'pinned',
    });
    expect(reply.items[2]).toMatchObject({ item_id: 'b-03', reason: 'Pinned by rule' });
    expect(ids(reply.items).filter((id) => id.startsWith('b-'))).toHaveLength(2);
  });

  it('exclude removes ids; an excluded pin is not shown', async () => {
    const before = await recommendOk(t.app, `user_id=${user}&n=5`);
    const drop = ids(before.items).slice(0, 2);
    const reply = await recommendOk(t.app, `user_id=${user}&n=5&exclude=${drop.join(',')}&pin=${drop[0]}:1`);
    for (const id of drop) expect(ids(reply.items)).not.toContain(id);
    expect(reply.items).toHaveLength(5);
  });

  it('boost lifts matching items and says so; bury sends them down', async () => {
    const plain = ids((await recommendOk(t.app, `user_id=${user}&n=12`)).items);
    const acme = new Set(shop.itemsA.filter((_, j) => j % 3 === 0));
    const boosted = await recommendOk(t.app, `user_id=${user}&n=12&boost=brand=acme:50`);
    const firstAcme = (list: string[]) => list.findIndex((id) => acme.has(id));
    const b = ids(boosted.items);
    expect(acme.has(b[0]!), b.join(',')).toBe(true);
    expect(firstAcme(b)).toBeLessThanOrEqual(firstAcme(plain));
    // Bury by 0 sends the brand's items below everything else; with the whole catalog listed (the user has
    // seen 6 of the 30 items) they come last, in their previous order, and everything else keeps its order.
    const all = ids((await recommendOk(t.app, `user_id=${user}&n=24`)).items);
    expect(all).toHaveLength(24);
    expect(all.filter((id) => acme.has(id)).length).toBeGreaterThan(0);
    const buried = ids((await recommendOk(t.app, `user_id=${user}&n=24&bury=brand=acme:0`)).items);
    expect(buried).toEqual([...all.filter((id) => !acme.has(id)), ...all.filter((id) => acme.has(id))]);
    expect(buried.slice(0, 3)).not.toEqual(all.slice(0, 3));
  });

  it('re-show policy: "always" brings back seen items, "not purchased" still leaves out bought ones', async () => {
    const seen = shop.seen.get(user)!;
    const all = await recommendOk(t.app, `user_id=${user}&n=30&reshow=always&filter=category=outdoor`);
    expect(ids(all.items).some((id) => seen.has(id))).toBe(true);
    const purchased = [...seen][0]!; // the planted shop's first item per user is a purchase
    expect(ids(all.items)).toContain(purchased);
    const notBought = await recommendOk(
      t.app,
      `user_id=${user}&n=30&reshow=always&filter=category=outdoor&filter=not%20purchased`,
    );
    expect(ids(notBought.items)).not.toContain(purchased);
    const never = await recommendOk(t.app, `user_id=${user}&n=30&reshow=never&exclude_seen=false`);
    // Everything but the 6 seen items.
    expect(never.items).toHaveLength(30 - seen.size);
    for (const id of ids(never.items)) expect(seen.has(id)).toBe(false);
  });

  it('seen_after_days:N re-shows items last touched more than N days ago', async () => {
    const fresh = 'fresh-user';
    await ingest(t.app, [
      event(fresh, 'a-01', 'product_viewed', {
        timestamp: new Date(Date.now() - 10 * 86_400_000).toISOString(),
      }),
      event(fresh, 'a-02', 'product_viewed'),
    ]);
    const reply = await recommendOk(t.app, `user_id=${fresh}&n=30&reshow=seen_after_days:5`);
    expect(ids(reply.items)).toContain('a-01');
    expect(ids(reply.items)).not.toContain('a-02');
  });

  it('diversity and freshness are accepted, change the list and keep it full', async () => {
    const all = ids((await recommendOk(t.app, `user_id=${user}&n=24`)).items);
    const plain = all.slice(0, 8);
    expect(plain.every((id) => id.startsWith('a-'))).toBe(true);
    const reply = await recommendOk(t.app, `user_id=${user}&n=8&diversity=0.8&freshness=0.5`);
    expect(reply.items).toHaveLength(8);
    // MMR at 0.8: the best item first; then any kitchen item beats every outdoor one (overlap 1 with the
    // first), so the best kitchen item is second; after that every candidate overlaps one already chosen
    // and relevance decides. (Items were all created at once: freshness lifts them alike.)
    const bestKitchen = all.find((id) => id.startsWith('b-'))!;
    expect(ids(reply.items)).toEqual([plain[0], bestKitchen, ...plain.slice(1, 7)]);
  });

  it('max_per_category caps each category; pins are exempt; the list stays full', async () => {
    const categoryOf = (id: string) => (id.startsWith('a-') ? 'outdoor' : 'kitchen');
    const count = (items: readonly string[], category: string) =>
      items.filter((id) => categoryOf(id) === category).length;
    const plain = ids((await recommendOk(t.app, `user_id=${user}&n=6`)).items);
    expect(count(plain, 'outdoor')).toBeGreaterThan(3);
    const capped = ids((await recommendOk(t.app, `user_id=${user}&n=6&max_per_category=3`)).items);
    expect(capped).toHaveLength(6);
    expect(count(capped, 'outdoor')).toBe(3);
    expect(count(capped, 'kitchen')).toBe(3);
    // The capped list keeps the model's order within each category: its outdoor items are the plain top 3.
    expect(capped.filter((id) => categoryOf(id) === 'outdoor')).toEqual(
      plain.filter((id) => categoryOf(id) === 'outdoor').slice(0, 3),
    );
    const pinned = ids((await recommendOk(t.app, `user_id=${user}&n=6&max_per_category=3&pin=a-14:0`)).items);
    expect(pinned[0]).toBe('a-14');
    expect(count(pinned.slice(1), 'outdoor')).toBe(3);
    // One item per category and only two categories: the rest is filled from the best remaining.
    const tight = ids((await recommendOk(t.app, `user_id=${user}&n=6&max_per_category=1`)).items);
    expect(tight).toHaveLength(6);
    expect(new Set(tight.slice(0, 2).map(categoryOf)).size).toBe(2);
  });

  it('invalid max_per_category, session_weight and session_items are 400s naming the field', async () => {
    for (const [query, field] of [
      ['max_per_category=-1', 'max_per_category'],
      ['max_per_category=1.5', 'max_per_category'],
      ['max_per_category=many', 'max_per_category'],
      ['max_per_category=1001', 'max_per_category'],
      ['session_weight=5.5', 'session_weight'],
      ['session_weight=-0.5', 'session_weight'],
      ['session_items=0', 'session_items'],
      ['session_items=51', 'session_items'],
    ] as const) {
      const reply = await recommend(t.app, `user_id=${user}&${query}`);
      expect(reply.status, query).toBe(400);
      expect((reply.body as unknown as ErrorReply).error.message, query).toContain(`"${field}"`);
    }
  });

  it('a bad rule is a 400 naming the parameter', async () => {
    for (const [query, field] of [
      ['boost=brand=acme:0.5', 'boost'],
      ['bury=price<<3', 'bury'],
      ['pin=a-01', 'pin'],
      ['pin=a-01:0&pin=a-02:0', 'pin'],
      ['reshow=sometimes', 'reshow'],
      ['filter=price<cheap', 'filter'],
      ['diversity=3', 'diversity'],
      ['preset=nope', 'preset'],
    ] as const) {
      const reply = await recommend(t.app, `user_id=${user}&${query}`);
      expect(reply.status, query).toBe(400);
      expect((reply.body as unknown as ErrorReply).error.message, query).toContain(`"${field}"`);
    }
  });
});

describe('rule presets: PUT/GET/DELETE /v1/rules/:name and preset=name', () => {
  it('stores, reads, applies (extended by the request) and deletes a preset', async () => {
    const body = { pin: ['b-07:0'], exclude: ['a-00'], filter: ['price<1000'], diversity: 0.2 };
    const put = await call<PresetReply>(t.app, 'PUT', '/v1/rules/homepage', body);
    expect(put.status, put.text).toBe(200);
    expect(put.body.rules).toEqual(body);
    const got = await call<PresetReply>(t.app, 'GET', '/v1/rules/homepage');
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ name: 'homepage', rules: body });

    const applied = await recommendOk(t.app, `user_id=${shop.groupA[1]}&n=5&preset=homepage`);
    expect(applied.items[0]).toMatchObject({ item_id: 'b-07', reason: 'Pinned by rule' });
    expect(ids(applied.items)).not.toContain('a-00');

    // The request's pin on the same slot replaces the preset's; its exclude adds to the preset's.
    const extended = await recommendOk(
      t.app,
      `user_id=${shop.groupA[1]}&n=5&preset=homepage&pin=b-08:0&exclude=b-07`,
    );
    expect(extended.items[0]!.item_id).toBe('b-08');
    expect(ids(extended.items)).not.toContain('b-07');
    expect(ids(extended.items)).not.toContain('a-00');

    expect((await call(t.app, 'DELETE', '/v1/rules/homepage')).status).toBe(204);
    expect((await call(t.app, 'GET', '/v1/rules/homepage')).status).toBe(404);
    expect((await call(t.app, 'DELETE', '/v1/rules/homepage')).status).toBe(404);
    expect((await recommend(t.app, `user_id=${user}&preset=homepage`)).status).toBe(400);
  });

  it('a preset carries diversity caps and session settings; the request overrides them', async () => {
    const categoryOf = (id: string) => (id.startsWith('a-') ? 'outdoor' : 'kitchen');
    const body = { max_per_category: 2, session_weight: 0 };
    const put = await call<PresetReply>(t.app, 'PUT', '/v1/rules/balanced', body);
    expect(put.status, put.text).toBe(200);
    expect(put.body.rules).toEqual(body);
    const capped = ids((await recommendOk(t.app, `user_id=${user}&n=6&preset=balanced`)).items);
    expect(capped.slice(0, 4).filter((id) => categoryOf(id) === 'outdoor')).toHaveLength(2);
    const loosened = ids(
      (await recommendOk(t.app, `user_id=${user}&n=6&preset=balanced&max_per_category=6`)).items,
    );
    expect(loosened.filter((id) => categoryOf(id) === 'outdoor').length).toBeGreaterThan(2);
    const bad = await call<ErrorReply>(t.app, 'PUT', '/v1/rules/balanced', { session_weight: 9 });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('session_weight');
    expect((await call(t.app, 'DELETE', '/v1/rules/balanced')).status).toBe(204);
  });

  it('survives a restart (stored in the store, not only in memory)', async () => {
    const own = await openTestApp();
    try {
      expect((await call(own.app, 'PUT', '/v1/rules/keep', { exclude: ['x'] })).status).toBe(200);
      await own.close({ keepData: true });
      const again = await openTestApp({}, own.dir);
      try {
        const got = await call<PresetReply>(again.app, 'GET', '/v1/rules/keep');
        expect(got.status).toBe(200);
        expect(got.body.rules).toEqual({ exclude: ['x'] });
      } finally {
        await again.close();
      }
    } catch (error) {
      await own.close().catch(() => undefined);
      throw error;
    }
  });

  it('rejects a bad preset with 400 naming the body field, and a bad name', async () => {
    const bad = await call<ErrorReply>(t.app, 'PUT', '/v1/rules/bad', { boost: ['brand=acme:0.1'] });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('body field "boost"');
    const unknown = await call<ErrorReply>(t.app, 'PUT', '/v1/rules/bad', { boots: ['x'] });
    expect(unknown.status).toBe(400);
    expect((await call(t.app, 'PUT', '/v1/rules/bad%20name', {})).status).toBe(400);
    expect((await call(t.app, 'GET', '/v1/rules/bad')).status).toBe(404);
  });
});
