import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { CatalogIndex, isItemRecommendable, loadCatalogIndex } from './catalog-index.js';
import { emptyItemFilter, parseItemFilter } from './filter.js';
import { placeholderItem } from './placeholder.js';
import type { Item } from './types.js';

const NOW = Date.UTC(2026, 0, 12);

function item(id: string, overrides: Partial<Item> = {}): Item {
  return { ...placeholderItem(id, 0), ...overrides };
}

describe('isItemRecommendable', () => {
  it('needs the item available and not past its expiry', () => {
    expect(isItemRecommendable(item('a'), NOW)).toBe(true);
    expect(isItemRecommendable(item('a', { available: false }), NOW)).toBe(false);
    expect(isItemRecommendable(item('a', { expiresAt: NOW + 1 }), NOW)).toBe(true);
    expect(isItemRecommendable(item('a', { expiresAt: NOW }), NOW)).toBe(true);
    expect(isItemRecommendable(item('a', { expiresAt: NOW - 1 }), NOW)).toBe(false);
  });
});

describe('CatalogIndex', () => {
  it('holds items by id, with upsert, remove, size and iteration', () => {
    const index = new CatalogIndex([item('a'), item('b')]);
    expect(index.size).toBe(2);
    index.upsert(item('c', { price: 3 }));
    index.upsert(item('a', { price: 1 }));
    expect(index.size).toBe(3);
    expect(index.get('a')?.price).toBe(1);
    expect(index.has('b')).toBe(true);
    expect(index.remove('b')).toBe(true);
    expect(index.remove('b')).toBe(false);
    expect(index.has('b')).toBe(false);
    expect([...index].map((i) => i.id).sort()).toEqual(['a', 'c']);
    expect([...index.values()]).toHaveLength(2);
  });

  it('answers isRecommendable, and false for unknown items', () => {
    const index = new CatalogIndex([
      item('ok'),
      item('gone', { available: false }),
      item('old', { expiresAt: NOW - 1000 }),
    ]);
    expect(index.isRecommendable('ok', NOW)).toBe(true);
    expect(index.isRecommendable('gone', NOW)).toBe(false);
    expect(index.isRecommendable('old', NOW)).toBe(false);
    expect(index.isRecommendable('old', NOW - 2000)).toBe(true);
    expect(index.isRecommendable('nope', NOW)).toBe(false);
  });

  it('answers matches and accepts', () => {
    const index = new CatalogIndex([
      item('cheap', { price: 5, categories: ['shoes'] }),
      item('dear', { price: 500, categories: ['shoes'] }),
      item('cheap-gone', { price: 5, categories: ['shoes'], available: false }),
    ]);
    const filter = parseItemFilter(['price<100'], ['shoes']);
    expect(index.matches('cheap', filter)).toBe(true);
    expect(index.matches('dear', filter)).toBe(false);
    expect(index.matches('cheap-gone', filter)).toBe(true);
    expect(index.matches('nope', emptyItemFilter)).toBe(false);
    expect(index.accepts('cheap', NOW, filter)).toBe(true);
    expect(index.accepts('cheap-gone', NOW, filter)).toBe(false);
    expect(index.accepts('dear', NOW, filter)).toBe(false);
    expect(index.accepts('nope', NOW, emptyItemFilter)).toBe(false);
  });

  it('loads from batches as the store streams them', async () => {
    async function* batches(): AsyncIterable<Item[]> {
      yield [item('a'), item('b')];
      yield [item('c')];
    }
    const index = await loadCatalogIndex(batches());
    expect(index.size).toBe(3);
    expect(index.isRecommendable('c', NOW)).toBe(true);
  });

  it('lists the newest recommendable, accepted items first', () => {
    const index = new CatalogIndex([
      item('old', { createdAt: 1 }),
      item('new', { createdAt: 5 }),
      item('gone', { createdAt: 9, available: false }),
      item('expired', { createdAt: 8, expiresAt: NOW - 1 }),
      item('b-mid', { createdAt: 3 }),
      item('a-mid', { createdAt: 3 }),
    ]);
    const ids = (items: Item[]): string[] => items.map((i) => i.id);
    expect(ids(index.newest(10, NOW))).toEqual(['new', 'a-mid', 'b-mid', 'old']);
    expect(ids(index.newest(2, NOW))).toEqual(['new', 'a-mid']);
    expect(ids(index.newest(10, NOW, (i) => i.id !== 'a-mid'))).toEqual(['new', 'b-mid', 'old']);
    expect(index.newest(0, NOW)).toEqual([]);

    // Writes after the order was built are seen by the next call.
    index.upsert(item('newest', { createdAt: 7 }));
    index.upsert(item('old', { createdAt: 6 }));
    index.remove('new');
    index.upsert(item('gone', { createdAt: 9, available: true }));
    expect(ids(index.newest(10, NOW))).toEqual(['gone', 'newest', 'old', 'a-mid', 'b-mid']);
  });

  it('keeps newest right across any mix of writes and reads (property)', () => {
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('upsert' as const),
        id: fc.integer({ min: 0, max: 30 }),
        createdAt: fc.integer({ min: 0, max: 10 }),
        available: fc.boolean(),
      }),
      fc.record({ kind: fc.constant('remove' as const), id: fc.integer({ min: 0, max: 30 }) }),
      fc.record({ kind: fc.constant('read' as const), limit: fc.integer({ min: 0, max: 40 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const index = new CatalogIndex();
        const reference = new Map<string, Item>();
        for (const o of ops) {
          if (o.kind === 'upsert') {
            const it = item(`i${o.id}`, { createdAt: o.createdAt, available: o.available });
            index.upsert(it);
            reference.set(it.id, it);
          } else if (o.kind === 'remove') {
            expect(index.remove(`i${o.id}`)).toBe(reference.delete(`i${o.id}`));
          } else {
            const want = [...reference.values()]
              .filter((i) => i.available)
              .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? -1 : 1))
              .slice(0, o.limit);
            expect(index.newest(o.limit, NOW)).toEqual(want);
          }
        }
        expect(index.size).toBe(reference.size);
      }),
    );
  });

  it('rebuilds the order after a burst of writes larger than it patches', () => {
    const index = new CatalogIndex([item('first', { createdAt: 1 })]);
    expect(index.newest(1, NOW).map((i) => i.id)).toEqual(['first']);
    for (let k = 0; k < 3000; k++) index.upsert(item(`k${k}`, { createdAt: 10 + (k % 100) }));
    index.remove('k2999');
    const got = index.newest(3, NOW).map((i) => i.id);
    expect(got).toEqual(['k1099', 'k1199', 'k1299']);
    expect(index.newest(5000, NOW)).toHaveLength(3000);
  });
});

describe('CatalogIndex.fingerprint', () => {
  const items = Array.from({ length: 50 }, (_, i) =>
    item(`i${i}`, { categories: [`c${i % 4}`], createdAt: i }),
  );

  it('is the same in two processes that hold the same items, whatever order they were written in', () => {
    fc.assert(
      fc.property(fc.shuffledSubarray(items, { minLength: items.length }), (shuffled) => {
        const written = new CatalogIndex();
        expect(written.fingerprint).toBeTypeOf('string'); // kept from here on, write by write
        for (const it of shuffled) written.upsert(it);
        written.upsert(item('gone'));
        written.remove('gone');
        expect(written.fingerprint).toBe(new CatalogIndex(items).fingerprint);
      }),
    );
  });

  it('changes with any write that changes an item, and comes back when the item does', () => {
    const catalog = new CatalogIndex(items);
    const before = catalog.fingerprint;
    catalog.upsert(item('i3', { categories: ['c3'], createdAt: 3, available: false }));
    const hidden = catalog.fingerprint;
    expect(hidden).not.toBe(before);
    catalog.upsert(items[3]!);
    expect(catalog.fingerprint).toBe(before);
    catalog.remove('i7');
    expect(catalog.fingerprint).not.toBe(before);
    catalog.upsert(items[7]!);
    expect(catalog.fingerprint).toBe(before);
    // Writing an item again unchanged changes the version, not the content.
    expect(catalog.version).toBeGreaterThan(0);
  });
});
