import { describe, expect, it } from 'vitest';
import { timeOrderedId } from './time-ordered-id.js';

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('timeOrderedId', () => {
  it('is a version 7 UUID whose first 48 bits are the time in milliseconds', () => {
    const now = Date.UTC(2026, 11, 7, 6, 59, 30, 123);
    const id = timeOrderedId(now);
    expect(id).toMatch(V7);
    expect(parseInt(id.slice(0, 8) + id.slice(9, 13), 16)).toBe(now);
    // RFC 9562's own example time (2022-02-22 19:22:22 UTC): 017F22E2-79B0.
    expect(timeOrderedId(0x017f22e279b0).slice(0, 13)).toBe('017f22e2-79b0');
  });

  it('sorts as text in the order of its times, and differs within one millisecond', () => {
    const times = [0, 1, 255, 65_536, Date.UTC(2026, 0, 1), Date.UTC(2026, 0, 1) + 1, 2 ** 47 + 5];
    const ids = times.map((t) => timeOrderedId(t));
    expect([...ids].sort()).toEqual(ids);
    const same = new Set(Array.from({ length: 1_000 }, () => timeOrderedId(1_000)));
    expect(same.size).toBe(1_000);
    for (const id of same) expect(id).toMatch(V7);
  });

  it('stays well formed for times its 48 bits cannot hold', () => {
    expect(timeOrderedId(-5).slice(0, 13)).toBe('00000000-0000');
    expect(timeOrderedId(Number.NaN).slice(0, 13)).toBe('00000000-0000');
    expect(timeOrderedId(2 ** 50).slice(0, 13)).toBe('ffffffff-ffff');
    for (const t of [-5, Number.NaN, 2 ** 50, Infinity]) expect(timeOrderedId(t)).toMatch(V7);
  });
});
