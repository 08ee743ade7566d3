import { describe, expect, it } from 'vitest';

import { numberOf, propertyValueOf, revenueOf } from './values.js';

describe('revenueOf', () => {
  it('takes revenue, else value, else price × quantity, else total', () => {
    expect(revenueOf({ revenue: 12, value: 1, price: 1, total: 1 })).toBe(12);
    expect(revenueOf({ value: 7, price: 1, total: 1 })).toBe(7);
    expect(revenueOf({ price: 2.5, quantity: 4, total: 1 })).toBe(10);
    expect(revenueOf({ price: 2.5 })).toBe(2.5);
    expect(revenueOf({ price: 2.5, quantity: 0 })).toBe(0);
    expect(revenueOf({ total: 30 })).toBe(30);
    expect(revenueOf({ currency: 'EUR' })).toBe(0);
  });

  it('reads numbers in strings, and falls through values that are not numbers', () => {
    expect(revenueOf({ revenue: '19.90' })).toBe(19.9);
    expect(revenueOf({ revenue: null, value: '', price: 'x', total: '3' })).toBe(3);
    expect(revenueOf({ revenue: true, value: 4 })).toBe(4);
    expect(revenueOf({ revenue: -5 })).toBe(-5); // a refund stays a refund
  });
});

describe('numberOf and propertyValueOf', () => {
  it('read finite numbers only', () => {
    expect([
      numberOf(3),
      numberOf(' 4 '),
      numberOf('1e3'),
      numberOf(Infinity),
      numberOf('abc'),
      numberOf(null),
    ]).toEqual([3, 4, 1000, NaN, NaN, NaN]);
    expect(propertyValueOf({ minutes: '12' }, 'minutes')).toBe(12);
    expect(propertyValueOf({ minutes: 'long' }, 'minutes')).toBe(0);
    expect(propertyValueOf({}, 'constructor')).toBe(0);
  });
});
