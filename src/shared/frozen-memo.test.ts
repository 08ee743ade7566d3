import { describe, expect, it } from 'vitest';

import { derivedOnce } from './frozen-memo.js';

describe('derivedOnce', () => {
  it('derives once per frozen key, and every time for a key that may change', () => {
    const memo = new WeakMap<readonly number[], string>();
    let calls = 0;
    const derive = (key: readonly number[]) => {
      calls++;
      return JSON.stringify(key);
    };
    const frozen = Object.freeze([1, 2]);
    expect(derivedOnce(memo, frozen, derive)).toBe('[1,2]');
    expect(derivedOnce(memo, frozen, derive)).toBe('[1,2]');
    expect(calls).toBe(1);
    const open = [3];
    expect(derivedOnce(memo, open, derive)).toBe('[3]');
    open.push(4);
    expect(derivedOnce(memo, open, derive)).toBe('[3,4]');
    expect(calls).toBe(3);
    expect(memo.has(open)).toBe(false);
  });
});
