import { describe, expect, it } from 'vitest';
import { envFlag } from './env-flag.js';

describe('envFlag', () => {
  it('reads the on and off spellings in any case, and undefined when unset', () => {
    for (const on of ['1', 'true', 'YES', 'On']) expect(envFlag({ X: on }, 'X')).toBe(true);
    for (const off of ['0', 'false', 'No', 'OFF']) expect(envFlag({ X: off }, 'X')).toBe(false);
    expect(envFlag({}, 'X')).toBeUndefined();
  });

  it('refuses anything else, naming the variable and the value', () => {
    expect(() => envFlag({ ATTUNE_X: 'maybe' }, 'ATTUNE_X')).toThrow(
      'ATTUNE_X must be on or off, got "maybe"',
    );
    expect(() => envFlag({ ATTUNE_X: '' }, 'ATTUNE_X')).toThrow('ATTUNE_X must be on or off, got ""');
  });
});
