import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { StringIndex } from './string-index.js';

describe('StringIndex', () => {
  it('numbers keys in the order first added and finds them again, growing as needed', () => {
    const index = new StringIndex(2);
    const keys = Array.from({ length: 5000 }, (_, i) => `user-${i}`);
    keys.forEach((key, i) => expect(index.add(key)).toBe(i));
    expect(index.add('user-17')).toBe(17);
    expect(index.size).toBe(5000);
    // Equal strings built separately (as a store returns them) are the same key.
    keys.forEach((key, i) => expect(index.get(`user-${key.slice(5)}`)).toBe(i));
    expect(index.get('user-5000')).toBe(-1);
    expect(index.get('')).toBe(-1);
    expect(index.keys.slice(0, 2)).toEqual(['user-0', 'user-1']);
  });

  it('agrees with a Map on any strings, empty, long and non-ASCII ones included', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: 'grapheme', maxLength: 40 })),
        fc.array(fc.string()),
        (added, probed) => {
          const index = new StringIndex();
          const map = new Map<string, number>();
          for (const key of added) {
            if (!map.has(key)) map.set(key, map.size);
            expect(index.add(key)).toBe(map.get(key));
          }
          for (const key of [...added, ...probed]) expect(index.get(key)).toBe(map.get(key) ?? -1);
        },
      ),
    );
  });
});
