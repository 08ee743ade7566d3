import { describe, expect, it } from 'vitest';
import fc from 'fast-check';

import { LruMap } from './lru.js';

describe('LruMap', () => {
  it('drops the least recently used entry beyond its capacity', () => {
    const lru = new LruMap<string, number>(2);
    lru.set('a', 1);
    lru.set('b', 2);
    expect(lru.get('a')).toBe(1); // a is now the most recently used
    lru.set('c', 3);
    expect(lru.has('b')).toBe(false);
    expect(lru.get('a')).toBe(1);
    expect(lru.get('c')).toBe(3);
    expect(lru.size).toBe(2);
  });

  it('peek and replace do not change the use order; replace leaves absent keys absent', () => {
    const lru = new LruMap<string, number>(2);
    lru.set('a', 1);
    lru.set('b', 2);
    expect(lru.peek('a')).toBe(1);
    lru.replace('a', 10);
    lru.replace('z', 26);
    lru.set('c', 3);
    expect(lru.has('a')).toBe(false);
    expect(lru.has('z')).toBe(false);
    expect(lru.get('b')).toBe(2);
  });

  it('reweighs an entry changed in place, without a lookup; an entry no longer held is left alone', () => {
    const lru = new LruMap<string, { size: number }>(10, (value) => value.size);
    lru.set('a', { size: 3 });
    lru.set('b', { size: 3 });
    const a = lru.entry('a')!; // not a use: a stays the least recently used
    a.value.size = 6;
    lru.reweigh(a); // 6 + 3 ≤ 10
    expect(lru.weight).toBe(9);
    lru.set('c', { size: 1 }); // 10: all stay
    expect(lru.size).toBe(3);
    const b = lru.entry('b')!;
    b.value.size = 5;
    lru.reweigh(b); // 6 + 5 + 1 > 10: a goes (least recently used), b stays although it grew
    expect([lru.has('a'), lru.has('b'), lru.has('c')]).toEqual([false, true, true]);
    expect(lru.weight).toBe(6);
    a.value.size = 100;
    lru.reweigh(a); // dropped: its weight no longer counts
    expect(lru.weight).toBe(6);
    lru.delete('c');
    const deleted = { size: 50 };
    lru.set('d', deleted);
    const d = lru.entry('d')!;
    lru.clear();
    lru.reweigh(d);
    expect([lru.size, lru.weight]).toEqual([0, 0]);
  });

  it('bounds the summed weight, keeping the newest entry even when it alone is too heavy', () => {
    const lru = new LruMap<string, string>(10, (value) => value.length);
    lru.set('a', 'xxxx');
    lru.set('b', 'yyyy');
    expect(lru.weight).toBe(8);
    lru.set('c', 'zzzz');
    expect([lru.has('a'), lru.has('b'), lru.has('c')]).toEqual([false, true, true]);
    lru.replace('b', 'yyyyyyyy'); // 8 + 4 > 10: c goes, although b is older
    expect([lru.has('b'), lru.has('c')]).toEqual([true, false]);
    lru.set('huge', 'x'.repeat(50));
    expect(lru.size).toBe(1);
    expect(lru.weight).toBe(50);
  });

  it('hands each entry it drops to make room to `evicted`, and never one a caller deleted or replaced', () => {
    const dropped: string[] = [];
    const lru = new LruMap<string, number>(2, undefined, (value, key) => dropped.push(`${key}=${value}`));
    lru.set('a', 1);
    lru.set('b', 2);
    lru.set('b', 20); // replaced by the caller
    lru.delete('a'); // deleted by the caller
    lru.set('c', 3);
    lru.set('d', 4); // b goes
    lru.get('c');
    lru.set('e', 5); // d goes
    expect(dropped).toEqual(['b=20', 'd=4']);
  });

  it('keeps its weight equal to the sum of what it holds, under any sequence of operations', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), key: fc.integer({ min: 0, max: 9 }), w: fc.nat(6) }),
      fc.record({ kind: fc.constant('replace' as const), key: fc.integer({ min: 0, max: 9 }), w: fc.nat(6) }),
      fc.record({ kind: fc.constant('reweigh' as const), key: fc.integer({ min: 0, max: 9 }), w: fc.nat(6) }),
      fc.record({
        kind: fc.constant('delete' as const),
        key: fc.integer({ min: 0, max: 9 }),
        w: fc.constant(0),
      }),
      fc.record({
        kind: fc.constant('get' as const),
        key: fc.integer({ min: 0, max: 9 }),
        w: fc.constant(0),
      }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const lru = new LruMap<number, { w: number }>(12, (value) => value.w);
        const held = new Map<number, number>();
        // Entries taken earlier, reweighed later: some were dropped or deleted in between.
        const taken = new Map<number, ReturnType<typeof lru.entry>>();
        for (const { kind, key, w } of ops) {
          if (kind === 'set') lru.set(key, { w });
          else if (kind === 'replace') lru.replace(key, { w });
          else if (kind === 'delete') lru.delete(key);
          else if (kind === 'reweigh') {
            const entry = taken.get(key) ?? lru.entry(key);
            taken.set(key, lru.entry(key));
            if (entry !== undefined) {
              entry.value.w = w;
              lru.reweigh(entry);
            }
          } else lru.get(key);
        }
        let sum = 0;
        for (let key = 0; key < 10; key++) {
          const value = lru.peek(key);
          if (value !== undefined) {
            sum += value.w;
            held.set(key, value.w);
          }
        }
        expect(lru.weight).toBe(sum);
        expect(lru.size).toBe(held.size);
        // Over capacity only when a single entry is heavier than the capacity itself.
        if (lru.weight > 12) expect(lru.size).toBe(1);
      }),
    );
  });

  it('evicts exactly as a reference LRU list does, under any sequence of operations', () => {
    const op = fc.record({
      kind: fc.constantFrom('set', 'get', 'delete', 'peek'),
      key: fc.integer({ min: 0, max: 7 }),
    });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
        const lru = new LruMap<number, number>(4);
        // The reference: keys from least to most recently used.
        let order: number[] = [];
        for (const [step, { kind, key }] of ops.entries()) {
          if (kind === 'set') {
            lru.set(key, step);
            order = [...order.filter((k) => k !== key), key];
            if (order.length > 4) order = order.slice(order.length - 4);
          } else if (kind === 'get') {
            const value = lru.get(key);
            expect(value !== undefined).toBe(order.includes(key));
            if (value !== undefined) order = [...order.filter((k) => k !== key), key];
          } else if (kind === 'delete') {
            expect(lru.delete(key)).toBe(order.includes(key));
            order = order.filter((k) => k !== key);
          } else {
            expect(lru.peek(key) !== undefined).toBe(order.includes(key));
          }
        }
        expect(lru.size).toBe(order.length);
        for (let key = 0; key < 8; key++) expect(lru.has(key)).toBe(order.includes(key));
      }),
    );
  });
});
