import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { emptyItemFilter, ItemFilterError, matchesItem, parseItemFilter } from './filter.js';
import { placeholderItem } from './placeholder.js';
import type { Item } from './types.js';

function item(overrides: Partial<Item> = {}): Item {
  return { ...placeholderItem('i', 0), ...overrides };
}

const shoe = item({
  id: 'shoe',
  categories: ['shoes', 'running'],
  tags: ['sale', 'new'],
  price: 89.5,
  attributes: { brand: 'acme', color: 'red', size: 42, vegan: true, discontinued: null, code: '007' },
});
const book = item({
  id: 'book',
  categories: ['books'],
  price: null,
  available: false,
  attributes: { brand: 'penguin', pages: 320 },
});

const passes = (expressions: string[], it: Item, categories?: string[]): boolean =>
  matchesItem(it, parseItemFilter(expressions, categories));

describe('parseItemFilter', () => {
  it('compiles expressions into predicates', () => {
    expect(
      parseItemFilter([
        'price<100',
        'price >= 10',
        'available=true',
        'tags=sale',
        'tag!=old',
        'categories!=kids',
        'category!=books',
        'brand!=acme',
        'attributes.color=red',
        'size==42',
        'note=a=b',
      ]),
    ).toEqual({
      categories: [],
      predicates: [
        { kind: 'price', op: '<', value: 100 },
        { kind: 'price', op: '>=', value: 10 },
        { kind: 'available', value: true, negate: false },
        { kind: 'member', field: 'tags', value: 'sale', negate: false },
        { kind: 'member', field: 'tags', value: 'old', negate: true },
        { kind: 'member', field: 'categories', value: 'kids', negate: true },
        { kind: 'member', field: 'categories', value: 'books', negate: true },
        { kind: 'attribute', key: 'brand', op: '!=', text: 'acme', number: Number.NaN },
        { kind: 'attribute', key: 'color', op: '=', text: 'red', number: Number.NaN },
        { kind: 'attribute', key: 'size', op: '=', text: '42', number: 42 },
        { kind: 'attribute', key: 'note', op: '=', text: 'a=b', number: Number.NaN },
      ],
    });
  });

  it('collects category=… and the categories argument into one any-of list', () => {
    expect(parseItemFilter(['category=shoes', 'category=boots'], ['boots', 'hats'])).toEqual({
      categories: ['boots', 'hats', 'shoes'],
      predicates: [],
    });
  });

  it('returns the shared empty filter for nothing', () => {
    expect(parseItemFilter([])).toBe(emptyItemFilter);
  });

  it.each([
    ['price', 'expected <field><op><value> with op one of =, !=, <, <=, >, >='],
    ['=red', 'the field name is missing'],
    ['price<', 'the value is missing'],
    ['brand= ', 'the value is missing'],
    ['price<abc', 'price is compared with a number'],
    ['price<0x10', 'price is compared with a number'],
    ['price>Infinity', 'price is compared with a number'],
    ['available>1', 'available takes only = or !='],
    ['available=yes', 'available is compared with true or false'],
    ['tags<3', 'tags takes only = or !='],
    ['category>=a', 'category takes only = or !='],
    ['size>big', '> compares with a number'],
    ['attributes.=x', 'the attribute name is missing'],
    ['brand!acme', '"!" must be followed by "="'],
  ])('refuses %j: %s', (expression, reason) => {
    let error: unknown;
    try {
      parseItemFilter([expression]);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ItemFilterError);
    expect((error as ItemFilterError).expression).toBe(expression);
    expect((error as ItemFilterError).message).toBe(
      `invalid filter ${JSON.stringify(expression)}: ${reason}`,
    );
  });

  it('refuses an empty category argument', () => {
    expect(() => parseItemFilter([], [''])).toThrow(ItemFilterError);
  });
});

describe('matchesItem', () => {
  it('matches everything with the empty filter', () => {
    expect(matchesItem(shoe, emptyItemFilter)).toBe(true);
    expect(matchesItem(book, emptyItemFilter)).toBe(true);
  });

  it('matches ANY of the categories', () => {
    expect(passes([], shoe, ['books', 'running'])).toBe(true);
    expect(passes([], shoe, ['books'])).toBe(false);
    expect(passes(['category=shoes'], shoe)).toBe(true);
    expect(passes(['category=hats'], shoe)).toBe(false);
    expect(passes(['category!=shoes'], shoe)).toBe(false);
  });

  it('compares price numerically; an item without a price only differs', () => {
    expect(passes(['price<100'], shoe)).toBe(true);
    expect(passes(['price<89.5'], shoe)).toBe(false);
    expect(passes(['price<=89.5'], shoe)).toBe(true);
    expect(passes(['price>89.5'], shoe)).toBe(false);
    expect(passes(['price>=89.5'], shoe)).toBe(true);
    expect(passes(['price=89.50'], shoe)).toBe(true);
    expect(passes(['price!=89.5'], shoe)).toBe(false);
    expect(passes(['price>=10', 'price<100'], shoe)).toBe(true);
    expect(passes(['price<100'], book)).toBe(false);
    expect(passes(['price>=0'], book)).toBe(false);
    expect(passes(['price!=5'], book)).toBe(true);
  });

  it('checks available', () => {
    expect(passes(['available=true'], shoe)).toBe(true);
    expect(passes(['available=false'], book)).toBe(true);
    expect(passes(['available!=false'], book)).toBe(false);
  });

  it('checks membership in tags and categories', () => {
    expect(passes(['tags=sale'], shoe)).toBe(true);
    expect(passes(['tag=sale'], shoe)).toBe(true);
    expect(passes(['tags=clearance'], shoe)).toBe(false);
    expect(passes(['tags!=sale'], shoe)).toBe(false);
    expect(passes(['tags!=sale'], book)).toBe(true);
    expect(passes(['categories=running'], shoe)).toBe(true);
  });

  it('checks attributes by their own type', () => {
    expect(passes(['brand=acme'], shoe)).toBe(true);
    expect(passes(['attributes.brand=acme'], shoe)).toBe(true);
    expect(passes(['brand=Acme'], shoe)).toBe(false);
    expect(passes(['brand!=acme'], shoe)).toBe(false);
    expect(passes(['brand!=acme'], book)).toBe(true);
    expect(passes(['size=42'], shoe)).toBe(true);
    expect(passes(['size=42.0'], shoe)).toBe(true);
    expect(passes(['size>40'], shoe)).toBe(true);
    expect(passes(['size<=41'], shoe)).toBe(false);
    expect(passes(['vegan=true'], shoe)).toBe(true);
    expect(passes(['vegan=1'], shoe)).toBe(false);
    expect(passes(['discontinued=null'], shoe)).toBe(true);
    // A numeric-looking string attribute compares as text, and takes no part in ordering.
    expect(passes(['code=007'], shoe)).toBe(true);
    expect(passes(['code=7'], shoe)).toBe(false);
    expect(passes(['code>1'], shoe)).toBe(false);
  });

  it('treats a missing attribute as not equal to anything', () => {
    expect(passes(['color=red'], book)).toBe(false);
    expect(passes(['color!=red'], book)).toBe(true);
    expect(passes(['pages>100'], shoe)).toBe(false);
  });

  it('does not see inherited properties as attributes', () => {
    expect(passes(['constructor!=x'], shoe)).toBe(true);
    expect(passes(['toString=x'], shoe)).toBe(false);
  });

  it('requires every predicate', () => {
    expect(passes(['brand=acme', 'tags=sale', 'price<100'], shoe)).toBe(true);
    expect(passes(['brand=acme', 'tags=sale', 'price<50'], shoe)).toBe(false);
  });

  it('price<x matches exactly the items priced below x (property)', () => {
    const price = fc.option(fc.double({ min: 0, max: 1e6, noNaN: true }), { nil: null });
    fc.assert(
      fc.property(
        fc.array(price, { maxLength: 50 }),
        fc.double({ min: -10, max: 1e6, noNaN: true }),
        fc.constantFrom('<', '<=', '>', '>='),
        (prices, threshold, op) => {
          const items = prices.map((p, i) => item({ id: String(i), price: p }));
          // String(threshold) is exact for doubles, so the parsed threshold equals `threshold`.
          const filter = parseItemFilter([`price${op}${String(threshold)}`]);
          const got = items.filter((it) => matchesItem(it, filter)).map((it) => it.id);
          const want = items
            .filter((it) => it.price !== null && holds(it.price, op, threshold))
            .map((it) => it.id);
          expect(got).toEqual(want);
        },
      ),
    );
  });

  it('numeric attribute comparisons agree with the numbers (property)', () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer(), (value, threshold) => {
        const it = item({ attributes: { n: value } });
        expect(passes([`n<${threshold}`], it)).toBe(value < threshold);
        expect(passes([`attributes.n>=${threshold}`], it)).toBe(value >= threshold);
        expect(passes([`n=${threshold}`], it)).toBe(value === threshold);
      }),
    );
  });
});

function holds(a: number, op: string, b: number): boolean {
  switch (op) {
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    default:
      return a >= b;
  }
}
