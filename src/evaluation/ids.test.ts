import { describe, expect, it } from 'vitest';
import { sortIds } from './ids.js';

describe('sortIds', () => {
  it('orders numerically when every id is an integer', () => {
    expect(sortIds(['10', '9', '100', '-1', '2'])).toEqual(['-1', '2', '9', '10', '100']);
  });

  it('orders as strings as soon as one id is not an integer', () => {
    expect(sortIds(['10', '9', 'a', '100'])).toEqual(['10', '100', '9', 'a']);
    expect(sortIds(['1.5', '10', '9'])).toEqual(['1.5', '10', '9']);
  });

  it('keeps integers beyond 2^53 exact and breaks equal values by string', () => {
    expect(sortIds(['9007199254740993', '9007199254740992', '5'])).toEqual([
      '5',
      '9007199254740992',
      '9007199254740993',
    ]);
    expect(sortIds(['7', '07', '6'])).toEqual(['6', '07', '7']);
  });
});
