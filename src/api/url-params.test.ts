import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { MAX_ID_LENGTH } from '../events/index.js';
import {
  assertPathParamsKnown,
  MAX_ENCODED_PER_CODE_UNIT,
  MAX_PRESET_NAME_LENGTH,
  PATH_PARAMS,
  pathParamNames,
  readPresetName,
  ROUTER_MAX_PARAM_LENGTH,
  urlParamsProblem,
} from './url-params.js';

describe('the router limit follows from the parameter rules', () => {
  it('is the longest rule times the longest encoding of one code unit', () => {
    expect(ROUTER_MAX_PARAM_LENGTH).toBe(MAX_ID_LENGTH * MAX_ENCODED_PER_CODE_UNIT);
    expect(PATH_PARAMS['id']!.maxLength).toBe(MAX_ID_LENGTH);
    expect(PATH_PARAMS['request_id']!.maxLength).toBe(MAX_ID_LENGTH);
  });

  it('fits every accepted id in its percent-encoded form, the worst case exactly', () => {
    expect(encodeURIComponent('\u0800'.repeat(MAX_ID_LENGTH))).toHaveLength(ROUTER_MAX_PARAM_LENGTH);
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: MAX_ID_LENGTH }), (text) => {
        // Cut to the limit in code units without splitting a pair, as the id rule counts.
        let id = '';
        for (const c of text) if (id.length + c.length <= MAX_ID_LENGTH) id += c;
        expect(encodeURIComponent(id).length).toBeLessThanOrEqual(ROUTER_MAX_PARAM_LENGTH);
      }),
    );
  });
});

describe('route parameters must have a rule', () => {
  it('names the parameters of a pattern', () => {
    expect(pathParamNames('/v1/items/:id/similar')).toEqual(['id']);
    expect(pathParamNames('/v1/items')).toEqual([]);
  });

  it('throws for a parameter with no rule, naming it', () => {
    expect(() => assertPathParamsKnown('/v1/items/:id')).not.toThrow();
    expect(() => assertPathParamsKnown('/v1/rules/:name')).not.toThrow();
    expect(() => assertPathParamsKnown('/v1/skus/:sku')).toThrow(/path parameter "sku" has no rule/);
  });
});

describe('urlParamsProblem', () => {
  it('checks path parameters with the body rules, naming the parameter', () => {
    expect(urlParamsProblem({ id: 'a/b c' }, {})).toBeNull();
    expect(urlParamsProblem({ id: 'x'.repeat(257) }, {})).toBe(
      'params field "id": id is longer than 256 characters',
    );
    expect(urlParamsProblem({ request_id: '..' }, {})).toMatch(
      /^params field "request_id": request_id must not be/,
    );
    expect(urlParamsProblem({ id: '   ' }, {})).toBe('params field "id": id must not be blank');
    expect(urlParamsProblem({ id: '\ud800' }, {})).toMatch(
      /^params field "id": id is not well-formed Unicode/,
    );
  });

  it('checks id query parameters wherever they appear, and leaves other parameters alone', () => {
    expect(urlParamsProblem({}, { user_id: 'u', item_id: 'i', request_id: 'r', n: '5' })).toBeNull();
    expect(urlParamsProblem({}, { item_id: 'x'.repeat(257) })).toBe(
      'query field "item_id": item_id is longer than 256 characters',
    );
    expect(urlParamsProblem({}, { user_id: '' })).toBe('query field "user_id": user_id must not be empty');
    // A repeated parameter is an array: the schema refuses it, with its own message.
    expect(urlParamsProblem({}, { user_id: ['a', 'b'] })).toBeNull();
    expect(urlParamsProblem({}, { filter: 'x'.repeat(1000) })).toBeNull();
  });
});

describe('readPresetName', () => {
  it('accepts 1 to 64 of A-Z a-z 0-9 _ . -, but not "." or ".."', () => {
    expect(readPresetName('home_page-v2.1', 'name')).toBe('home_page-v2.1');
    expect(readPresetName('a'.repeat(MAX_PRESET_NAME_LENGTH), 'name')).toBe('a'.repeat(64));
    expect(readPresetName('a'.repeat(65), 'name')).toMatchObject({
      field: 'name',
      message: 'name is longer than 64 characters',
    });
    expect(readPresetName('bad name', 'name')).toMatchObject({
      message: expect.stringMatching(/may hold only/),
    });
    expect(readPresetName('', 'name')).toMatchObject({ message: 'name must not be empty' });
    for (const name of ['.', '..']) {
      expect(readPresetName(name, 'name')).toMatchObject({
        message: expect.stringMatching(/must not be "\."/),
      });
    }
    expect(readPresetName('...', 'name')).toBe('...');
  });
});
