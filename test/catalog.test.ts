import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  call,
  event,
  get,
  openTestApp,
  postEvents,
  type ErrorReply,
  type ItemJson,
  type TestApp,
} from './helpers.js';

let t: TestApp;
beforeAll(async () => {
  t = await openTestApp();
});
afterAll(async () => {
  await t.close();
});

interface ItemReply {
  readonly item: ItemJson;
}
interface BulkReply {
  readonly stored: number;
  readonly rejected: number;
  readonly errors: { index: number; field: string; message: string }[];
}
interface ListReply {
  readonly items: ItemJson[];
  readonly next: string | null;
}
interface UserReply {
  readonly user: { id: string; traits: Record<string, unknown>; created_at: string; updated_at: string };
}

describe('items', () => {
  it('PUT stores an item that GET returns as sent', async () => {
    const body = {
      categories: ['shoes', 'running'],
      tags: ['sale'],
      price: 89.5,
      available: true,
      created_at: '2026-03-01T08:00:00Z',
      expires_at: '2027-03-01T08:00:00+01:00',
      attributes: { brand: 'acme', size: 42, waterproof: false },
    };
    const put = await call<ItemReply>(t.app, 'PUT', '/v1/items/shoe-1', body);
    expect(put.status, put.text).toBe(200);
    const got = await get<ItemReply>(t.app, '/v1/items/shoe-1');
    expect(got.status).toBe(200);
    expect(got.body.item).toMatchObject({
      id: 'shoe-1',
      categories: ['shoes', 'running'],
      tags: ['sale'],
      price: 89.5,
      available: true,
      created_at: '2026-03-01T08:00:00.000Z',
      expires_at: '2027-03-01T07:00:00.000Z',
      attributes: { brand: 'acme', size: 42, waterproof: false },
    });
    expect(got.body.item).toEqual(put.body.item);
  });

  it('PUT replaces the whole item', async () => {
    await call(t.app, 'PUT', '/v1/items/replace-me', { categories: ['a'], price: 10, tags: ['x'] });
    const put = await call<ItemReply>(t.app, 'PUT', '/v1/items/replace-me', { price: 12, available: false });
    expect(put.status).toBe(200);
    const got = await get<ItemReply>(t.app, '/v1/items/replace-me');
    expect(got.body.item).toMatchObject({ categories: [], tags: [], price: 12, available: false });
  });

  it('an update without created_at keeps the creation time; one with it sets it', async () => {
    const created = '2026-01-05T08:00:00.000Z';
    await call(t.app, 'PUT', '/v1/items/keeps-age', { categories: ['a'], created_at: created });
    const update = await call<ItemReply>(t.app, 'PUT', '/v1/items/keeps-age', { categories: ['b'] });
    expect(update.body.item).toMatchObject({ categories: ['b'], created_at: created });
    const bulk = await call(t.app, 'POST', '/v1/items', { items: [{ id: 'keeps-age', price: 3 }] });
    expect(bulk.status).toBe(200);
    expect((await get<ItemReply>(t.app, '/v1/items/keeps-age')).body.item).toMatchObject({
      price: 3,
      created_at: created,
    });
    const moved = '2026-02-01T00:00:00.000Z';
    await call(t.app, 'PUT', '/v1/items/keeps-age', { created_at: moved });
    expect((await get<ItemReply>(t.app, '/v1/items/keeps-age')).body.item.created_at).toBe(moved);
  });

  it('PUT answers 400 naming each bad field, and stores nothing', async () => {
    const put = await call<ErrorReply>(t.app, 'PUT', '/v1/items/bad-item', {
      price: -1,
      categories: 'shoes',
      colour: 'red',
    });
    expect(put.status, put.text).toBe(400);
    const fields = (put.body.error.details as { field: string }[]).map((d) => d.field).sort();
    expect(fields).toEqual(['categories', 'colour', 'price']);
    expect(put.body.error.message).toMatch(/price/);
    expect((await get(t.app, '/v1/items/bad-item')).status).toBe(404);
  });

  it('PUT refuses a body id that differs from the path', async () => {
    const put = await call<ErrorReply>(t.app, 'PUT', '/v1/items/path-id', { id: 'other-id' });
    expect(put.status).toBe(400);
    expect(put.body.error.message).toMatch(/does not match/);
  });

  it('DELETE removes an item; GET and a second DELETE then answer 404', async () => {
    await call(t.app, 'PUT', '/v1/items/doomed', { price: 1 });
    expect((await get(t.app, '/v1/items/doomed')).status).toBe(200);
    const del = await call(t.app, 'DELETE', '/v1/items/doomed');
    expect(del.status).toBe(204);
    const after = await get<ErrorReply>(t.app, '/v1/items/doomed');
    expect(after.status).toBe(404);
    expect(after.body.error.code).toBe('not_found');
    expect(after.body.error.message).toMatch(/doomed/);
    expect((await call(t.app, 'DELETE', '/v1/items/doomed')).status).toBe(404);
  });

  it('GET of an unknown item is 404', async () => {
    const reply = await get<ErrorReply>(t.app, '/v1/items/never-was');
    expect(reply.status).toBe(404);
    expect(reply.body.error.message).toMatch(/never-was/);
  });

  it('bulk POST stores the valid items and reports the invalid ones by index', async () => {
    const reply = await call<BulkReply>(t.app, 'POST', '/v1/items', {
      items: [
        { id: 'bulk-0', categories: ['books'], price: 9 },
        { categories: ['books'] },
        { id: 'bulk-2', price: 'cheap' },
        { id: 'bulk-3', tags: ['new'] },
      ],
    });
    expect(reply.status, reply.text).toBe(200);
    expect(reply.body.stored).toBe(2);
    expect(reply.body.rejected).toBe(2);
    expect(reply.body.errors.map((e) => [e.index, e.field])).toEqual([
      [1, 'id'],
      [2, 'price'],
    ]);
    expect((await get(t.app, '/v1/items/bulk-0')).status).toBe(200);
    expect((await get(t.app, '/v1/items/bulk-3')).status).toBe(200);
    expect((await get(t.app, '/v1/items/bulk-2')).status).toBe(404);
  });

  it('bulk POST with only invalid items is 400; a body that is not {"items": [...]} is 400', async () => {
    const allBad = await call<BulkReply>(t.app, 'POST', '/v1/items', { items: [{ price: 1 }] });
    expect(allBad.status).toBe(400);
    expect(allBad.body.rejected).toBe(1);
    const notBulk = await call<ErrorReply>(t.app, 'POST', '/v1/items', [{ id: 'x' }]);
    expect(notBulk.status).toBe(400);
    expect(notBulk.body.error.message).toMatch(/items/);
  });

  it('lists every item once, in id order, following next', async () => {
    const fresh = await openTestApp();
    try {
      const wanted = Array.from({ length: 7 }, (_, i) => `list-${i}`);
      const bulk = await call<BulkReply>(fresh.app, 'POST', '/v1/items', {
        items: [...wanted].reverse().map((id) => ({ id })),
      });
      expect(bulk.body.stored).toBe(7);
      const seen: string[] = [];
      let url = '/v1/items?limit=3';
      let pages = 0;
      while (true) {
        const page = await get<ListReply>(fresh.app, url);
        expect(page.status, page.text).toBe(200);
        expect(page.body.items.length).toBeLessThanOrEqual(3);
        seen.push(...page.body.items.map((i) => i.id));
        pages += 1;
        if (page.body.next === null) break;
        expect(page.body.next).toBe(page.body.items.at(-1)!.id);
        url = `/v1/items?limit=3&after=${encodeURIComponent(page.body.next)}`;
        expect(pages).toBeLessThan(10);
      }
      expect(seen).toEqual(wanted);
      expect(pages).toBeGreaterThanOrEqual(3);
    } finally {
      await fresh.close();
    }
  });

  it('list rejects a bad limit with 400 naming it', async () => {
    const reply = await get<ErrorReply>(t.app, '/v1/items?limit=0');
    expect(reply.status).toBe(400);
    expect(reply.body.error.message).toMatch(/limit/);
  });

  it('an event for an unknown item creates it, available and uncategorised', async () => {
    expect((await get(t.app, '/v1/items/made-by-event')).status).toBe(404);
    const posted = await postEvents(t.app, event('u-cat', 'made-by-event'));
    expect(posted.status).toBe(200);
    const got = await get<ItemReply>(t.app, '/v1/items/made-by-event');
    expect(got.status, got.text).toBe(200);
    expect(got.body.item).toMatchObject({
      id: 'made-by-event',
      available: true,
      categories: [],
      price: null,
    });
  });

  it('an event for a known item leaves the item as it was', async () => {
    await call(t.app, 'PUT', '/v1/items/kept', { categories: ['kept'], price: 3 });
    await postEvents(t.app, event('u-cat', 'kept'));
    const got = await get<ItemReply>(t.app, '/v1/items/kept');
    expect(got.body.item).toMatchObject({ categories: ['kept'], price: 3 });
  });
});

describe('users', () => {
  it('PUT stores traits that GET returns', async () => {
    const put = await call<UserReply>(t.app, 'PUT', '/v1/users/u-traits', {
      traits: { plan: 'pro', age: 31, newsletter: true },
    });
    expect(put.status, put.text).toBe(200);
    const got = await get<UserReply>(t.app, '/v1/users/u-traits');
    expect(got.status).toBe(200);
    expect(got.body.user).toMatchObject({
      id: 'u-traits',
      traits: { plan: 'pro', age: 31, newsletter: true },
    });
  });

  it('PUT again replaces the traits', async () => {
    await call(t.app, 'PUT', '/v1/users/u-replace', { traits: { plan: 'free' } });
    await call(t.app, 'PUT', '/v1/users/u-replace', { traits: { plan: 'pro' } });
    const got = await get<UserReply>(t.app, '/v1/users/u-replace');
    expect(got.body.user.traits).toEqual({ plan: 'pro' });
  });

  it('PUT with nested traits is 400 naming the field', async () => {
    const put = await call<ErrorReply>(t.app, 'PUT', '/v1/users/u-nested', {
      traits: { address: { city: 'x' } },
    });
    expect(put.status).toBe(400);
    expect(put.body.error.message).toMatch(/traits\.address/);
    expect((await get(t.app, '/v1/users/u-nested')).status).toBe(404);
  });

  it('GET of an unknown user is 404', async () => {
    const reply = await get<ErrorReply>(t.app, '/v1/users/nobody');
    expect(reply.status).toBe(404);
    expect(reply.body.error.code).toBe('not_found');
  });

  it("a user's events are listed newest first, with a limit", async () => {
    const base = Date.now() - 3600_000;
    for (let i = 0; i < 4; i++) {
      await postEvents(t.app, event('u-history', `h-${i}`, 'product_viewed', { timestamp: base + i * 1000 }));
    }
    const all = await get<{ events: { item_id: string }[] }>(t.app, '/v1/users/u-history/events');
    expect(all.body.events.map((e) => e.item_id)).toEqual(['h-3', 'h-2', 'h-1', 'h-0']);
    const two = await get<{ events: { item_id: string }[] }>(t.app, '/v1/users/u-history/events?limit=2');
    expect(two.body.events.map((e) => e.item_id)).toEqual(['h-3', 'h-2']);
  });
});

describe('unknown routes', () => {
  it('answer 404 in the error shape', async () => {
    const reply = await get<ErrorReply>(t.app, '/v1/nothing-here');
    expect(reply.status).toBe(404);
    expect(reply.body.error.code).toBe('not_found');
  });
});
