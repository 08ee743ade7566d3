import { describe, expect, it } from 'vitest';
import { decodeFloats, encodeFloats, LearnerStateError } from './codec.js';

describe('learner float arrays', () => {
  it('are base64 of little-endian doubles, −0 and NaN kept, read from a view where it starts', () => {
    // 1, −0, NaN as little-endian IEEE doubles, written out by hand.
    const expected = 'AAAAAAAA8D8AAAAAAAAAgAAAAAAAAPh/';
    expect(encodeFloats(Float64Array.of(1, -0, NaN))).toBe(expected);
    const inside = Float64Array.of(7, 1, -0, NaN, 9).subarray(1, 4);
    expect(encodeFloats(inside)).toBe(expected);
    const back = decodeFloats(expected, 'a', 3);
    expect(back[0]).toBe(1);
    expect(Object.is(back[1], -0)).toBe(true);
    expect(Number.isNaN(back[2])).toBe(true);
  });

  it('refuses text of the wrong length, naming the field', () => {
    expect(() => decodeFloats('AAAAAAAA8D8=', 'models.theta', 2)).toThrow(LearnerStateError);
    expect(() => decodeFloats('AAAAAAAA8D8=', 'models.theta', 2)).toThrow(/models\.theta/);
  });
});
