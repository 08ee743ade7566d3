import { describe, expect, it } from 'vitest';
import { KnownIds } from './known-ids.js';

describe('KnownIds', () => {
  it('holds at most its limit, dropping the oldest first', () => {
    const ids = new KnownIds(3);
    for (const id of ['a', 'b', 'c']) ids.add(id);
    ids.add('b'); // already held: does not move or evict
    ids.add('d');
    expect(['a', 'b', 'c', 'd'].map((id) => ids.has(id))).toEqual([false, true, true, true]);
    expect(ids.size).toBe(3);
  });

  it('forgets a deleted id', () => {
    const ids = new KnownIds(2);
    ids.add('a');
    ids.delete('a');
    expect(ids.has('a')).toBe(false);
  });

  it('refuses a limit that is not a positive integer', () => {
    expect(() => new KnownIds(0)).toThrow(/limit/);
    expect(() => new KnownIds(1.5)).toThrow(/limit/);
  });
});
