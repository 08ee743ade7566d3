import { describe, expect, it } from 'vitest';
import { extend } from './extend.js';

describe('extend', () => {
  it('copies the base and adds the extra properties, leaving both untouched', () => {
    const base = { a: 1, b: 'two' };
    const extra = { c: [3] };
    const out = extend(base, extra);
    expect(out).toEqual({ a: 1, b: 'two', c: [3] });
    expect(Object.keys(out)).toEqual(['a', 'b', 'c']);
    expect(out).not.toBe(base);
    expect(base).toEqual({ a: 1, b: 'two' });
    expect(out.c).toBe(extra.c);
  });

  it('lets the extra win where both have a property, as a spread does', () => {
    expect(extend({ a: 1, b: 2 }, { b: 3 })).toEqual({ a: 1, b: 3 });
  });
});
