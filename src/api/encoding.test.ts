import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  call,
  get,
  openTestApp,
  type ErrorReply,
  type EventsReply,
  type TestApp,
} from '../../test/helpers.js';
import {
  illFormedPath,
  jsonDeeperThan,
  MAX_JSON_DEPTH,
  nonFinitePath,
  parsedValueProblem,
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

describe('nonFinitePath and parsedValueProblem', () => {
  it('give the path of the first number that is not finite, after any string that is not well-formed', () => {
    expect(nonFinitePath({ a: [1, { b: Infinity }] })).toBe('a[1].b');
    expect(nonFinitePath(-Infinity)).toBe('');
    expect(nonFinitePath({ a: [1, 1.7e308, -5e-324, null, 'Infinity'] })).toBeNull();
    expect(parsedValueProblem('query', { limit: Infinity })).toBe(
      'query field "limit" must be a finite number',
    );
    expect(parsedValueProblem('body', { x: NaN, y: 'a\ud800' })).toMatch(
      /^body field "y" is not well-formed/,
    );
    expect(parsedValueProblem('body', { x: [1, 'ok'], y: { z: false } })).toBeNull();
  });
});

// Found by fuzzing every endpoint (test/fuzz.test.ts, issue 12), through the whole app.
describe('values no route may take, refused before any handler', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await openTestApp();
  });
  afterAll(() => t.close());

  const refused = async (
    reply: Promise<{ status: number; body: ErrorReply; text: string }>,
    message: RegExp,
  ): Promise<void> => {
    const { status, body, text } = await reply;
    expect(status, text).toBe(400);
    expect(body.error.message).toMatch(message);
  };

  it('answers a numeric query field read as Infinity with a 400 naming it (it was a 500)', async () => {
    const finite = /^query field "limit" must be a finite number$/;
    await refused(get<ErrorReply>(t.app, '/v1/users/u1/events?limit=Infinity'), finite);
    await refused(get<ErrorReply>(t.app, '/v1/items?limit=1e400'), finite);
    await refused(
      get<ErrorReply>(t.app, '/v1/audit?after=-Infinity'),
      /^query field "after" must be a finite/,
    );
    await refused(get<ErrorReply>(t.app, '/v1/recommendations?user_id=u1&n=1e400'), /query field "n"/);
    await refused(
      call<ErrorReply>(t.app, 'POST', '/v1/decisions/p/reward', '{"decision_id": "d", "value": "Infinity"}'),
      /^body field "value" must be a finite number$/,
    );
  });

  it('refuses lone surrogates and numbers out of range in bodies checked by a schema (they were stored)', async () => {
    await refused(
      call<ErrorReply>(t.app, 'POST', '/v1/keys', { scope: 'server', name: 'web\ud800' }),
      /^body field "name" is not well-formed Unicode/,
    );
    await refused(
      call<ErrorReply>(t.app, 'PUT', '/v1/metrics/m_1', {
        kind: 'conversion',
        event: 'purchased',
        windowHours: 24,
        where: { ['plan\udc00']: 'pro' },
      }),
      /^body field "where\.plan\udc00" is not well-formed Unicode/,
    );
    await refused(
      call<ErrorReply>(
        t.app,
        'POST',
        '/v1/experiments',
        '{"id": "e1", "variants": [{"name": "control"}, {"name": "b", "config": {"x": 1e400}}]}',
      ),
      /^body field "variants\[1\]\.config\.x" must be a finite number$/,
    );
    await refused(
      call<ErrorReply>(t.app, 'POST', '/v1/decision-points', {
        id: 'p1',
        actions: [{ id: 'a', payload: { banner: '10%\udfff' } }],
      }),
      /^body field "actions\[0\]\.payload\.banner" is not well-formed Unicode/,
    );
    expect((await t.engine.store.listApiKeys()).map((k) => k.name)).not.toContain('web\ud800');
    expect(await t.engine.store.listDecisionPoints()).toEqual([]);
  });

  it('leaves events to their reader: one bad event in a batch costs only itself', async () => {
    const reply = await call<EventsReply>(
      t.app,
      'POST',
      '/v1/events',
      '{"events": [{"event": "viewed", "user_id": "u\\ud800"}, {"event": "viewed", "user_id": "u2"},' +
        ' {"event": "viewed", "user_id": "u3", "context": {"n": 1e400}}]}',
    );
    expect(reply.status, reply.text).toBe(200);
    expect(reply.body.accepted).toBe(1);
    expect(reply.body.errors.map((e) => e.field)).toEqual(['user_id', 'context.n']);
  });

  it('says a "__proto__" or "constructor.prototype" key is why a body is refused, not that it is not JSON', async () => {
    await refused(
      call<ErrorReply>(
        t.app,
        'POST',
        '/v1/events',
        '{"event": "viewed", "user_id": "u1", "__proto__": {"x": 1}}',
      ),
      /^the body has a "__proto__" key, which is refused/,
    );
    await refused(
      call<ErrorReply>(t.app, 'PUT', '/v1/items/i1', '{"attributes": {"\\u005f_proto__": 1}}'),
      /"__proto__" key/,
    );
    await refused(
      call<ErrorReply>(
        t.app,
        'PUT',
        '/v1/users/u1',
        '{"traits": {}, "constructor": {"prototype": {"x": 1}}}',
      ),
      /^the body has a "constructor" key holding "prototype"/,
    );
    await refused(
      call<ErrorReply>(t.app, 'POST', '/v1/events', '{"event": "viewed",'),
      /^Body is not valid JSON/,
    );
    expect(({} as Record<string, unknown>)['x']).toBeUndefined();
  });
});
