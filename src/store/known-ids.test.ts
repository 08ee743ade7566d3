import { describe, expect, it } from 'vitest';
import { KnownIds } from './known-ids.js';

describe('KnownIds', () => {
  it('holds at most its limit, dropping the oldest first', () => {
    const ids = new KnownIds({ limit: 3 });
    for (const id of ['a', 'b', 'c']) ids.add(id);
    ids.add('b'); // already held: does not move or evict
    ids.add('d');
    expect(['a', 'b', 'c', 'd'].map((id) => ids.has(id))).toEqual([false, true, true, true]);
    expect(ids.size).toBe(3);
  });

  it('forgets a deleted id', () => {
    const ids = new KnownIds({ limit: 2 });
    ids.add('a');
    ids.delete('a');
    expect(ids.has('a')).toBe(false);
  });

  it('refuses a limit that is not a positive integer', () => {
    expect(() => new KnownIds({ limit: 0 })).toThrow(/limit/);
    expect(() => new KnownIds({ limit: 1.5 })).toThrow(/limit/);
  });
});

describe('KnownIds with a maximum age', () => {
  it('forgets every id once the oldest is maxAgeMs old, then starts its age again', () => {
    let now = 1_000;
    const ids = new KnownIds({ limit: 10, maxAgeMs: 100, now: () => now });
    ids.add('a');
    now = 1_060;
    ids.add('b');
    expect([ids.has('a'), ids.has('b')]).toEqual([true, true]);
    now = 1_100; // 'a' is 100 ms old: the whole set goes, 'b' with it
    expect([ids.has('a'), ids.has('b'), ids.size]).toEqual([false, false, 0]);
    ids.add('c');
    now = 1_199;
    expect(ids.has('c')).toBe(true);
    now = 1_200;
    expect(ids.has('c')).toBe(false);
  });

  it('refuses a maximum age that is not positive', () => {
    expect(() => new KnownIds({ limit: 1, maxAgeMs: 0 })).toThrow(/maxAgeMs/);
    expect(() => new KnownIds({ limit: 1, maxAgeMs: Number.NaN })).toThrow(/maxAgeMs/);
  });
});
