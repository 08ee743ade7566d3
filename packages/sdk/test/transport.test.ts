import { describe, expect, it } from 'vitest';

import { backoffMs, query, retryAfterMs } from '../src/transport.js';

describe('retry timing', () => {
  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2026-01-12T10:00:00Z');
    expect(retryAfterMs('3', now)).toBe(3000);
    expect(retryAfterMs('0', now)).toBe(0);
    expect(retryAfterMs('Mon, 12 Jan 2026 10:00:05 GMT', now)).toBe(5000);
    expect(retryAfterMs('Mon, 12 Jan 2026 09:00:00 GMT', now)).toBe(0);
    expect(retryAfterMs(null, now)).toBeNull();
    expect(retryAfterMs('soon', now)).toBeNull();
    expect(retryAfterMs('', now)).toBeNull();
  });

  it('backs off exponentially, with jitter in the upper half, up to the cap', () => {
    for (let attempt = 1; attempt <= 12; attempt++) {
      const ceiling = Math.min(10_000, 100 * 2 ** (attempt - 1));
      const waits = Array.from({ length: 200 }, () => backoffMs(attempt, 100, 10_000));
      expect(Math.min(...waits)).toBeGreaterThanOrEqual(ceiling / 2);
      expect(Math.max(...waits)).toBeLessThanOrEqual(ceiling);
      // Jittered: not all the same.
      expect(new Set(waits).size).toBeGreaterThan(1);
    }
  });
});

describe('query', () => {
  it('repeats array values, leaves absent ones out and encodes the rest', () => {
    expect(query({ user_id: 'a b', n: 3, category: ['x', 'y&z'], skip: undefined, none: null })).toBe(
      '?user_id=a+b&n=3&category=x&category=y%26z',
    );
    expect(query({})).toBe('');
  });
});
