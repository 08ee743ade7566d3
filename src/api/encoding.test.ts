import { describe, expect, it } from 'vitest';

import {
  illFormedPath,
  jsonDeeperThan,
  MAX_JSON_DEPTH,
  PathPatterns,
  percentEncodingProblem,
  queryEncodingProblem,
} from './encoding.js';

describe('percentEncodingProblem', () => {
  it('passes text that decodes to UTF-8, and text without escapes', () => {
    for (const raw of [
      'plain',
      'a%20b',
      '%E2%82%AC',
      '%F0%9F%98%80',
      '%25',
      encodeURIComponent('/?#%+& é'),
    ]) {
      expect(percentEncodingProblem(raw), raw).toBeNull();
    }
  });

  it.each([
    ['%FF', 'a byte that never starts a character'],
    ['%E2%82', 'a truncated sequence'],
    ['%C0%AF', 'an overlong encoding of "/"'],
    ['%ED%A0%80', 'an encoded surrogate (what "\\ud800" would be)'],
    ['a%80', 'a lone continuation byte'],
  ])('refuses %s (%s) as not UTF-8', (raw) => {
    expect(percentEncodingProblem(raw)).toMatch(/^is not valid UTF-8 once percent-decoded/);
  });

  it.each(['50%', '%G1', '%2', 'a%%20'])('refuses the malformed escape in %s', (raw) => {
    expect(percentEncodingProblem(raw)).toMatch(/^has a "%" not followed by two hex digits/);
  });
});

describe('queryEncodingProblem', () => {
  it('names the parameter whose value does not decode', () => {
    expect(queryEncodingProblem('/v1/recommendations?user_id=%FF&n=5')).toMatch(
      /^query field "user_id" is not valid UTF-8/,
    );
    expect(queryEncodingProblem('/v1/recommendations?n=5&filter=price%3C10&filter=x%ED%A0%80')).toMatch(
      /^query field "filter" is not valid UTF-8/,
    );
    expect(queryEncodingProblem('/v1/items?after=%C3%A9&limit=5%')).toMatch(/^query field "limit" has a "%"/);
  });

  it('names a parameter by its decoded name, and a name that does not decode by its raw text', () => {
    expect(queryEncodingProblem('/x?user%5Fid=%FF')).toMatch(/^query field "user_id"/);
    expect(queryEncodingProblem('/x?a%FF=1')).toMatch(/^query parameter name "a%FF" is not valid UTF-8/);
  });

  it('passes well-encoded queries and URLs without a query; the path is not its business', () => {
    expect(queryEncodingProblem('/v1/recommendations?user_id=%E4%B8%AD%F0%9F%98%80&n=5')).toBeNull();
    expect(queryEncodingProblem('/v1/items/%FF')).toBeNull();
    expect(queryEncodingProblem('/v1/items/%FF?limit=5')).toBeNull();
    expect(queryEncodingProblem('/v1/items')).toBeNull();
  });
});

describe('PathPatterns', () => {
  const patterns = new PathPatterns();
  patterns.add(['GET', 'HEAD'], '/v1/items/:id');
  patterns.add('GET', '/v1/items/:id/similar');
  patterns.add('GET', '/v1/users/:id/events');
  patterns.add('PUT', '/v1/rules/:name');
  patterns.add('GET', '/v1/models');
  const bad = (segment: string) => segment.includes('%FF');

  it('names the parameter of the route the path fits', () => {
    expect(patterns.find('GET', '/v1/items/%FF', bad)).toBe('id');
    expect(patterns.find('GET', '/v1/items/%FF/similar', bad)).toBe('id');
    expect(patterns.find('PUT', '/v1/rules/%FF', bad)).toBe('name');
  });

  it('finds nothing when no route fits, or the bad segment is not a parameter', () => {
    expect(patterns.find('DELETE', '/v1/rules/%FF', bad)).toBeNull();
    expect(patterns.find('GET', '/v1/it%FFems/x', bad)).toBeNull();
    expect(patterns.find('GET', '/v1/users/%FF/orders', bad)).toBeNull();
  });
});

describe('illFormedPath', () => {
  it('gives the path of the first lone surrogate in strings and keys', () => {
    expect(illFormedPath({ boost: ['ok', 'x\ud800'] })).toBe('boost[1]');
    expect(illFormedPath({ a: { ['k\udc00']: 1 } })).toBe('a.k\udc00');
    expect(illFormedPath('\ud800')).toBe('');
  });

  it('is null for well-formed values of any shape', () => {
    expect(illFormedPath({ boost: ['é\ud83d\ude00'], n: 1, b: true, z: null, o: { k: ['v'] } })).toBeNull();
  });
});

describe('jsonDeeperThan', () => {
  const bytes = (text: string) => Buffer.from(text, 'utf8');
  it('counts arrays and objects, not brackets inside strings or escaped quotes', () => {
    expect(jsonDeeperThan(bytes('{"a":[{"b":1}]}'), 3)).toBe(false);
    expect(jsonDeeperThan(bytes('{"a":[{"b":[1]}]}'), 3)).toBe(true);
    expect(jsonDeeperThan(bytes('{"a":"[[[[[[\\"[[[[{{{{"}'), 1)).toBe(false);
    expect(jsonDeeperThan(bytes('[]'.repeat(1000)), 1)).toBe(false);
  });

  it('stops a hostile body at the limit without reading it all', () => {
    expect(jsonDeeperThan(bytes('['.repeat(1_000_000)), MAX_JSON_DEPTH)).toBe(true);
    expect(
      jsonDeeperThan(bytes(`${'['.repeat(MAX_JSON_DEPTH)}${']'.repeat(MAX_JSON_DEPTH)}`), MAX_JSON_DEPTH),
    ).toBe(false);
  });
});
