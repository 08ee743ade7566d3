import { describe, expect, it } from 'vitest';

import { itemToJson, userToJson } from './json.js';
import type { Item, User } from './types.js';
import { validateItem, validateItemBatch, validateUser, type CatalogFieldError } from './validate.js';

const NOW = Date.UTC(2026, 0, 12, 10, 22, 31);

function itemOf(body: unknown, idFromPath?: string): Item {
  const result = validateItem(body, idFromPath, NOW);
  if ('errors' in result) throw new Error(`unexpected errors: ${JSON.stringify(result.errors)}`);
  return result.item;
}

function errorsOf(body: unknown, idFromPath?: string): CatalogFieldError[] {
  const result = validateItem(body, idFromPath, NOW);
  if ('item' in result) throw new Error('expected errors');
  return result.errors;
}

describe('validateItem', () => {
  it('fills defaults', () => {
    expect(itemOf({ id: 'i1' })).toEqual({
      id: 'i1',
      categories: [],
      tags: [],
      price: null,
      available: true,
      createdAt: NOW,
      expiresAt: null,
      attributes: {},
      updatedAt: NOW,
    });
  });

  it('reads every field', () => {
    expect(
      itemOf({
        id: 17,
        categories: ['shoes', 'running', 'shoes'],
        tags: ['sale'],
        price: 89.5,
        available: false,
        created_at: '2025-06-01T00:00:00+02:00',
        expires_at: Date.UTC(2026, 5, 1),
        attributes: { brand: 'acme', size: 42, vegan: true, colour: null },
      }),
    ).toEqual({
      id: '17',
      categories: ['shoes', 'running'],
      tags: ['sale'],
      price: 89.5,
      available: false,
      createdAt: Date.UTC(2025, 4, 31, 22),
      expiresAt: Date.UTC(2026, 5, 1),
      attributes: { brand: 'acme', size: 42, vegan: true, colour: null },
      updatedAt: NOW,
    });
  });

  it('takes a single category', () => {
    expect(itemOf({ id: 'i', category: 'shoes' }).categories).toEqual(['shoes']);
    expect(errorsOf({ id: 'i', category: 'a', categories: ['b'] })).toEqual([
      { field: 'category', message: 'give either categories or category, not both' },
    ]);
    expect(errorsOf({ id: 'i', category: ['a'] })).toEqual([
      { field: 'category', message: 'category must be a string' },
    ]);
  });

  it('treats null as absent and accepts price 0', () => {
    expect(
      itemOf({ id: 'i', categories: null, tags: null, price: null, available: null, expires_at: null }),
    ).toMatchObject({ categories: [], tags: [], price: null, available: true, expiresAt: null });
    expect(itemOf({ id: 'i', price: 0 }).price).toBe(0);
  });

  it('requires an id without a path id', () => {
    expect(errorsOf({ price: 1 })).toEqual([{ field: 'id', message: 'id is required' }]);
  });

  it('takes the id from the path, and a body id must match it', () => {
    expect(itemOf({ price: 1 }, 'p-1').id).toBe('p-1');
    expect(itemOf({ id: 'p-1' }, 'p-1').id).toBe('p-1');
    expect(itemOf({ id: 5 }, '5').id).toBe('5');
    expect(errorsOf({ id: 'other' }, 'p-1')).toEqual([
      { field: 'id', message: 'id "other" does not match the id in the path "p-1"' },
    ]);
    expect(errorsOf({}, 'x'.repeat(257))).toEqual([
      { field: 'id', message: 'id is longer than 256 characters' },
    ]);
  });

  it('reports every problem with its exact path', () => {
    expect(
      errorsOf({
        id: '',
        categories: ['ok', '', 3],
        tags: 'sale',
        price: -1,
        available: 'yes',
        created_at: '2026-01-01T00:00:00',
        expires_at: 'soon',
        attributes: { colour: ['red'] },
        sku: 'x',
      }),
    ).toEqual([
      {
        field: 'sku',
        message:
          'unknown field "sku"; accepted fields: id, categories, category, tags, price, available, created_at, ' +
          'expires_at, attributes, updated_at',
      },
      { field: 'id', message: 'id must not be empty' },
      { field: 'categories[1]', message: 'categories[1] must not be empty' },
      { field: 'categories[2]', message: 'categories[2] must be a string' },
      { field: 'tags', message: 'tags must be an array of strings' },
      { field: 'price', message: 'price must be a finite number ≥ 0, or null' },
      { field: 'available', message: 'available must be true or false' },
      {
        field: 'created_at',
        message: 'created_at has no UTC offset; end it with Z or ±hh:mm (e.g. 2026-01-12T10:22:31Z)',
      },
      {
        field: 'expires_at',
        message:
          'expires_at must be an ISO 8601 time with an offset (e.g. 2026-01-12T10:22:31Z) or epoch milliseconds',
      },
      {
        field: 'attributes.colour',
        message:
          'attributes.colour must be a string, number, boolean or null; nested objects and arrays are not allowed',
      },
    ]);
  });

  it('refuses non-finite and non-numeric prices', () => {
    for (const price of [Number.NaN, Number.POSITIVE_INFINITY, '9.99', true]) {
      expect(errorsOf({ id: 'i', price })).toEqual([
        { field: 'price', message: 'price must be a finite number ≥ 0, or null' },
      ]);
    }
  });

  it('refuses long labels', () => {
    expect(errorsOf({ id: 'i', tags: ['t'.repeat(201)] })).toEqual([
      { field: 'tags[0]', message: 'tags[0] is longer than 200 characters' },
    ]);
  });

  it('refuses a body that is not an object', () => {
    expect(errorsOf([{ id: 'i' }])).toEqual([{ field: '', message: 'an item must be a JSON object' }]);
  });

  it('round-trips through itemToJson', () => {
    const item = itemOf({
      id: 'i1',
      categories: ['a'],
      tags: ['t'],
      price: 3,
      available: false,
      created_at: '2025-01-01T00:00:00.123Z',
      expires_at: '2027-01-01T00:00:00Z',
      attributes: { brand: 'acme' },
    });
    const json = itemToJson(item);
    expect(json).toEqual({
      id: 'i1',
      categories: ['a'],
      tags: ['t'],
      price: 3,
      available: false,
      created_at: '2025-01-01T00:00:00.123Z',
      expires_at: '2027-01-01T00:00:00.000Z',
      attributes: { brand: 'acme' },
      updated_at: '2026-01-12T10:22:31.000Z',
    });
    // A GET response can be PUT back unchanged: updated_at is accepted and ignored.
    expect(itemOf(JSON.parse(JSON.stringify(json)), 'i1')).toEqual(item);
  });

  it('writes a missing expiry as null', () => {
    expect(itemToJson(itemOf({ id: 'i' })).expires_at).toBeNull();
  });
});

describe('validateItem: ill-formed Unicode (lone surrogates)', () => {
  const lone = JSON.parse('"x\\ud800"') as string;

  it.each([
    ['id', { id: lone }, undefined],
    ['id', {}, lone],
    ['category', { id: 'i', category: lone }, undefined],
    ['categories[1]', { id: 'i', categories: ['ok', lone] }, undefined],
    ['tags[0]', { id: 'i', tags: [lone] }, undefined],
    ['attributes.color', { id: 'i', attributes: { color: lone } }, undefined],
    [`attributes.${lone}`, { id: 'i', attributes: { [lone]: 'red' } }, undefined],
  ])('refuses one in %s, naming it', (field, body, idFromPath) => {
    const errors = errorsOf(body, idFromPath);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.field).toBe(field);
    expect(errors[0]!.message).toMatch(/not well-formed Unicode/);
  });

  it('keeps the valid items of a batch beside one with a lone surrogate', () => {
    const result = validateItemBatch({ items: [{ id: 'a' }, { id: 'b', tags: [lone] }, { id: 'c' }] }, NOW);
    if ('fatal' in result) throw new Error(result.fatal);
    expect(result.items.map(({ index, item }) => [index, item.id])).toEqual([
      [0, 'a'],
      [2, 'c'],
    ]);
    expect(result.errors).toEqual([
      { index: 1, field: 'tags[0]', message: expect.stringMatching(/well-formed/) },
    ]);
  });

  it('keeps well-formed non-ASCII labels and attributes as given', () => {
    const text = '\u00e9\u4e2d\ud83d\ude00';
    const item = itemOf({ id: text, categories: [text], tags: [text], attributes: { [text]: text } });
    expect(item).toMatchObject({ id: text, categories: [text], tags: [text], attributes: { [text]: text } });
  });

  it('refuses a created_at before 2000, saying so', () => {
    expect(errorsOf({ id: 'i', created_at: '1999-06-01T00:00:00Z' })).toEqual([
      {
        field: 'created_at',
        message:
          'created_at is before 2000-01-01 (1999-06-01T00:00:00.000Z): times before 2000-01-01 are not accepted',
      },
    ]);
    expect(errorsOf({ id: 'i', expires_at: 1_800_000_000 })[0]!.message).toMatch(
      /^expires_at 1800000000 looks like epoch seconds/,
    );
  });
});

describe('validateItemBatch', () => {
  it('keeps the valid items and reports the rest by index', () => {
    const result = validateItemBatch(
      { items: [{ id: 'a' }, { price: -1 }, 'x', { id: 'b', tags: ['t'] }] },
      NOW,
    );
    if ('fatal' in result) throw new Error(result.fatal);
    expect(result.items.map(({ index, item }) => [index, item.id])).toEqual([
      [0, 'a'],
      [3, 'b'],
    ]);
    expect(result.errors).toEqual([
      { index: 1, field: 'id', message: 'id is required' },
      { index: 1, field: 'price', message: 'price must be a finite number ≥ 0, or null' },
      { index: 2, field: '', message: 'an item must be a JSON object' },
    ]);
  });

  it('accepts duplicate ids: the later one replaces the earlier in the store', () => {
    const result = validateItemBatch({ items: [{ id: 'a' }, { id: 'a', price: 2 }] }, NOW);
    expect(result).toMatchObject({ errors: [] });
  });

  it('accepts up to 1,000 items and refuses more', () => {
    const items = Array.from({ length: 1000 }, (_, i) => ({ id: i }));
    expect(validateItemBatch({ items }, NOW)).toMatchObject({ errors: [] });
    expect(validateItemBatch({ items: [...items, { id: 'x' }] }, NOW)).toEqual({
      fatal: 'too many items: 1001; at most 1000 per request',
    });
    expect(validateItemBatch({ items: [{ id: 1 }, { id: 2 }] }, NOW, { maxItems: 1 })).toHaveProperty(
      'fatal',
    );
  });

  it('is fatal for bodies of the wrong shape', () => {
    expect(validateItemBatch([{ id: 'a' }], NOW)).toEqual({
      fatal: 'the body must be a JSON object: {"items": [...]}',
    });
    expect(validateItemBatch({ items: { id: 'a' } }, NOW)).toEqual({
      fatal: '"items" must be an array of item objects',
    });
    expect(validateItemBatch({}, NOW)).toHaveProperty('fatal');
    expect(validateItemBatch({ items: [], more: 1 }, NOW)).toEqual({
      fatal: 'a bulk body holds only "items"; unexpected field "more"',
    });
  });
});

describe('validateUser', () => {
  function userOf(body: unknown, idFromPath?: string): User {
    const result = validateUser(body, idFromPath, NOW);
    if ('errors' in result) throw new Error(`unexpected errors: ${JSON.stringify(result.errors)}`);
    return result.user;
  }

  it('reads id and traits', () => {
    expect(userOf({ traits: { plan: 'pro', age: 31, beta: true } }, 'u1')).toEqual({
      id: 'u1',
      traits: { plan: 'pro', age: 31, beta: true },
      createdAt: NOW,
      updatedAt: NOW,
    });
    expect(userOf({ id: 'u1' }, 'u1').traits).toEqual({});
    expect(userOf({ id: 12 }).id).toBe('12');
  });

  it('reports bad fields with their paths', () => {
    expect(validateUser({ id: 'u2', traits: { address: { city: 'x' } }, email: 'a@b' }, 'u1', NOW)).toEqual({
      errors: [
        {
          field: 'email',
          message: 'unknown field "email"; accepted fields: id, traits, created_at, updated_at',
        },
        { field: 'id', message: 'id "u2" does not match the id in the path "u1"' },
        {
          field: 'traits.address',
          message:
            'traits.address must be a string, number, boolean or null; nested objects and arrays are not allowed',
        },
      ],
    });
    expect(validateUser({}, undefined, NOW)).toEqual({
      errors: [{ field: 'id', message: 'id is required' }],
    });
    expect(validateUser('u1', 'u1', NOW)).toEqual({
      errors: [{ field: '', message: 'a user must be a JSON object' }],
    });
    expect(validateUser({ traits: 'pro' }, 'u1', NOW)).toMatchObject({ errors: [{ field: 'traits' }] });
  });

  it('refuses lone surrogates in the id and in trait keys and values, naming them', () => {
    const lone = JSON.parse('"\\udfff"') as string;
    const fields = (body: unknown, idFromPath?: string) => {
      const result = validateUser(body, idFromPath, NOW);
      if ('user' in result) throw new Error('expected errors');
      return result.errors.map((e) => [e.field, /not well-formed Unicode/.test(e.message)]);
    };
    expect(fields({}, lone)).toEqual([['id', true]]);
    expect(fields({ traits: { plan: lone } }, 'u1')).toEqual([['traits.plan', true]]);
    expect(fields({ traits: { [lone]: 'pro' } }, 'u1')).toEqual([[`traits.${lone}`, true]]);
  });

  it('round-trips through userToJson', () => {
    const user = userOf({ traits: { plan: 'pro' }, created_at: '2025-03-01T00:00:00Z' }, 'u1');
    const json = userToJson(user);
    expect(json).toEqual({
      id: 'u1',
      traits: { plan: 'pro' },
      created_at: '2025-03-01T00:00:00.000Z',
      updated_at: '2026-01-12T10:22:31.000Z',
    });
    expect(userOf(JSON.parse(JSON.stringify(json)), 'u1')).toEqual(user);
  });
});
