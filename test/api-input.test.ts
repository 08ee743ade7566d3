import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { MAX_ID_LENGTH } from '../src/events/index.js';
import { DEFAULT_PERSONAL_DATA_POLICY, redactPersonalData } from '../src/privacy/index.js';
import {
  call,
  get,
  postEvents,
  openTestApp,
  type ErrorReply,
  type EventJson,
  type ImpressionReply,
  type ItemJson,
  type RecommendationsReply,
  type SimilarReply,
  type TestApp,
  type UserEventsReply,
} from './helpers.js';

// Issue 8, "What the API accepts it can serve again": every id a body may create is read back through
// every route that names it; what is refused is refused with a 400 naming the field; bytes that are not
// UTF-8 and strings that are not well-formed Unicode are refused instead of being stored as U+FFFD.

let t: TestApp;
beforeAll(async () => {
  t = await openTestApp();
});
afterAll(async () => {
  await t.close();
});

interface UserReply {
  readonly user: { readonly id: string; readonly traits: Record<string, unknown> };
  readonly redacted?: readonly { readonly field: string; readonly action: string }[];
}
interface ExplainReply {
  readonly user_id: string;
  readonly item_id: string;
}
interface PresetReply {
  readonly name: string;
  readonly rules: Record<string, unknown>;
}
interface ItemsBulkReply {
  readonly stored: number;
  readonly rejected: number;
  readonly errors: { readonly index: number; readonly field: string; readonly message: string }[];
}

// --- the accepted set of ids, restated here so that the validators are checked against it -------------

/** The id rule as documented: 1–256 UTF-16 code units, well-formed, not blank, not "." or "..". */
function isAcceptedId(id: string): boolean {
  return (
    id.length >= 1 &&
    id.length <= MAX_ID_LENGTH &&
    /\S/.test(id) &&
    id !== '.' &&
    id !== '..' &&
    Buffer.from(id, 'utf8').toString('utf8') === id
  );
}

/**
 * One character of an id: any code point (`binary` covers all of Unicode, astral included, and no lone
 * surrogates), with URL-reserved characters, whitespace and the characters with the longest
 * percent-encoding (U+0800–U+FFFF: 9 characters per code unit) made common.
 */
const idChar = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      ...['/', '?', '#', '%', '+', '&', '=', ';', ',', ':', '@', '$', '.', '\\', '~', '*', "'", '"'],
      ...[' ', '\t', '\n', '\u0000', '\u00a0', '\u2028'],
    ),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom('\u0800', '\uffff', '\u4e2d', '\u00e9', '\ud83d\ude00', '\u{10ffff}'),
  },
  { weight: 2, arbitrary: fc.constantFrom('a', 'Z', '0', '-', '_') },
);

/** Characters joined while they fit in `max` code units (a surrogate pair is never split). */
function fit(chars: readonly string[], max: number): string {
  let id = '';
  for (const c of chars) {
    if (id.length + c.length > max) break;
    id += c;
  }
  return id;
}

/** Ids from exactly the accepted set: short ones, and ones at or near the maximum length. */
const acceptedId = fc
  .oneof(
    fc.array(idChar, { minLength: 1, maxLength: 12 }),
    fc.array(idChar, { minLength: MAX_ID_LENGTH - 4, maxLength: MAX_ID_LENGTH }),
  )
  .map((chars) => fit(chars, MAX_ID_LENGTH))
  .filter(isAcceptedId);

/** Ids that break only the length rule: 1 to 40 code units over it. */
const tooLongId = fc
  .tuple(fc.array(idChar, { minLength: MAX_ID_LENGTH + 1, maxLength: MAX_ID_LENGTH + 40 }), fc.nat(39))
  .map(([chars, over]) => fit(chars, MAX_ID_LENGTH + 1 + over))
  .filter((id) => id.length > MAX_ID_LENGTH && /\S/.test(id));

const enc = encodeURIComponent;

// --- the round trip ---------------------------------------------------------------------------------

let run = 0;

/** Stores an event, an item and a user under `id`, and reads each back through every route naming it. */
async function roundTrip(app: FastifyInstance, id: string): Promise<void> {
  const eventId = `round-trip-${++run}`;
  const e = enc(id);

  const posted = await postEvents(app, {
    event: 'product_viewed',
    user_id: id,
    item_id: id,
    event_id: eventId,
    properties: { request_id: id },
  });
  expect(posted.status, posted.text).toBe(200);
  expect(posted.body.rejected, posted.text).toBe(0);

  const bulk = await call<ItemsBulkReply>(app, 'POST', '/v1/items', {
    items: [{ id, attributes: { ref: id } }],
  });
  expect(bulk.status, bulk.text).toBe(200);
  expect(bulk.body.stored).toBe(1);

  const put = await call<{ item: ItemJson }>(app, 'PUT', `/v1/items/${e}`, { attributes: { ref: id } });
  expect(put.status, put.text).toBe(200);
  expect(put.body.item).toMatchObject({ id, attributes: { ref: id } });

  const item = await get<{ item: ItemJson }>(app, `/v1/items/${e}`);
  expect(item.status, item.text).toBe(200);
  expect(item.body.item.id).toBe(id);

  const similar = await get<SimilarReply>(app, `/v1/items/${e}/similar?user_id=${e}`);
  expect(similar.status, similar.text).toBe(200);
  expect(similar.body.item_id).toBe(id);

  // An id shaped like an e-mail address, a phone number or an IP address is an id where it names a thing,
  // but as a free value (a trait, a property) it is personal data and is not stored.
  const personal =
    redactPersonalData({ value: id }, 'traits', DEFAULT_PERSONAL_DATA_POLICY).redactions.length > 0;
  const putUser = await call<UserReply>(app, 'PUT', `/v1/users/${e}`, { traits: { name: id } });
  expect(putUser.status, putUser.text).toBe(200);
  if (personal) {
    expect(putUser.body.user).toMatchObject({ id, traits: {} });
    expect(putUser.body.user.traits).not.toHaveProperty('name');
    expect(putUser.body.redacted).toMatchObject([{ field: 'traits.name', action: 'removed' }]);
  } else {
    expect(putUser.body.user).toMatchObject({ id, traits: { name: id } });
  }

  const user = await get<UserReply>(app, `/v1/users/${e}`);
  expect(user.status, user.text).toBe(200);
  expect(user.body.user.id).toBe(id);

  const events = await get<UserEventsReply>(app, `/v1/users/${e}/events?limit=1000`);
  expect(events.status, events.text).toBe(200);
  expect(events.body.user_id).toBe(id);
  const stored = events.body.events.find((event) => event.event_id === eventId);
  expect(stored, events.text).toMatchObject({ user_id: id, item_id: id });
  if (personal) expect(stored!.properties).not.toHaveProperty('request_id');
  else expect(stored!.properties).toMatchObject({ request_id: id });

  const served = await get<RecommendationsReply>(app, `/v1/recommendations?user_id=${e}&request_id=${e}`);
  expect(served.status, served.text).toBe(200);
  expect(served.body).toMatchObject({ user_id: id, request_id: id });

  const explained = await get<ExplainReply>(app, `/v1/recommendations/explain?user_id=${e}&item_id=${e}`);
  expect(explained.status, explained.text).toBe(200);
  expect(explained.body).toMatchObject({ user_id: id, item_id: id });

  const logged = await get<ImpressionReply>(app, `/v1/impressions/${e}`);
  expect(logged.status, logged.text).toBe(200);
  expect(logged.body).toMatchObject({ request_id: id, user_id: id });
  expect(logged.body.outcomes.map((o: EventJson) => o.event_id)).toContain(eventId);

  const deleted = await call(app, 'DELETE', `/v1/items/${e}`);
  expect(deleted.status, deleted.text).toBe(204);
  expect((await get(app, `/v1/items/${e}`)).status).toBe(404);
}

describe('every accepted id round-trips through every route that takes it', () => {
  it('ids from the whole accepted set: any length up to the limit, non-ASCII, reserved URL characters (property)', async () => {
    await fc.assert(
      fc.asyncProperty(acceptedId, (id) => roundTrip(t.app, id)),
      { numRuns: 100 },
    );
  });

  it.each([
    ['the longest encoding: 256 × U+0800 (2,304 characters encoded)', '\u0800'.repeat(MAX_ID_LENGTH)],
    ['128 astral characters (256 code units, 1,536 characters encoded)', '\ud83d\ude00'.repeat(128)],
    ['256 reserved characters', '/?#%+& '.repeat(37).slice(0, MAX_ID_LENGTH)],
    ['a percent sign before hex digits', '%41%2F%%25'],
    ['spaces around the text', ' a b '],
    ['three dots', '...'],
    ['a single character', 'x'],
    ['shaped like an e-mail address (not stored as a trait or property)', 'a@\u0000.\u0000'],
    ['shaped like an IP address (not stored as a trait or property)', '10.0.0.1'],
  ])('%s', async (_name, id) => {
    expect(isAcceptedId(id)).toBe(true);
    await roundTrip(t.app, id);
  });
});

// --- one over the limit -------------------------------------------------------------------------------

/** Every route that takes an id, with how it names the field when the id is refused. */
async function expectRefusedEverywhere(app: FastifyInstance, id: string): Promise<void> {
  const e = enc(id);
  const named = async (
    reply: Promise<{ status: number; body: ErrorReply; text: string }>,
    where: string,
    field: string,
  ) => {
    const { status, body, text } = await reply;
    expect(status, text).toBe(400);
    expect(body.error.code).toBe('invalid_request');
    expect(body.error.message).toBe(`${where} field "${field}": ${field} is longer than 256 characters`);
  };

  const events = await postEvents(app, {
    events: [
      { event: 'product_viewed', user_id: id },
      { event: 'product_viewed', user_id: 'ok', item_id: id },
    ],
  });
  expect(events.status, events.text).toBe(400);
  expect(events.body.errors).toEqual([
    { index: 0, field: 'user_id', message: 'user_id is longer than 256 characters' },
    { index: 1, field: 'item_id', message: 'item_id is longer than 256 characters' },
  ]);
  const bulk = await call<ItemsBulkReply>(app, 'POST', '/v1/items', { items: [{ id }] });
  expect(bulk.status, bulk.text).toBe(400);
  expect(bulk.body.errors).toEqual([{ index: 0, field: 'id', message: 'id is longer than 256 characters' }]);

  await named(call<ErrorReply>(app, 'PUT', `/v1/items/${e}`, {}), 'params', 'id');
  await named(get<ErrorReply>(app, `/v1/items/${e}`), 'params', 'id');
  await named(call<ErrorReply>(app, 'DELETE', `/v1/items/${e}`), 'params', 'id');
  await named(get<ErrorReply>(app, `/v1/items/${e}/similar`), 'params', 'id');
  await named(get<ErrorReply>(app, `/v1/items/i/similar?user_id=${e}`), 'query', 'user_id');
  await named(call<ErrorReply>(app, 'PUT', `/v1/users/${e}`, {}), 'params', 'id');
  await named(get<ErrorReply>(app, `/v1/users/${e}`), 'params', 'id');
  await named(get<ErrorReply>(app, `/v1/users/${e}/events`), 'params', 'id');
  await named(get<ErrorReply>(app, `/v1/recommendations?user_id=${e}`), 'query', 'user_id');
  await named(get<ErrorReply>(app, `/v1/recommendations?user_id=u&request_id=${e}`), 'query', 'request_id');
  await named(get<ErrorReply>(app, `/v1/recommendations/explain?user_id=${e}&item_id=i`), 'query', 'user_id');
  await named(get<ErrorReply>(app, `/v1/recommendations/explain?user_id=u&item_id=${e}`), 'query', 'item_id');
  await named(get<ErrorReply>(app, `/v1/impressions/${e}`), 'params', 'request_id');
}

describe('an id over the limit is refused with 400 naming the field, on every route', () => {
  it.each([
    ['257 ASCII characters', 'x'.repeat(MAX_ID_LENGTH + 1)],
    ['257 × U+0800 (2,313 characters encoded, over the router limit)', '\u0800'.repeat(MAX_ID_LENGTH + 1)],
    ['255 characters and an astral one (257 code units)', 'x'.repeat(255) + '\ud83d\ude00'],
    ['2,305 characters (past the router limit even decoded)', 'x'.repeat(2305)],
  ])('%s', async (_name, id) => {
    await expectRefusedEverywhere(t.app, id);
  });

  it('ids 1 to 40 code units over the limit, of any characters (property)', async () => {
    await fc.assert(
      fc.asyncProperty(tooLongId, (id) => expectRefusedEverywhere(t.app, id)),
      { numRuns: 15 },
    );
  });

  it('"." and ".." are refused where a body would create them', async () => {
    const events = await postEvents(t.app, {
      events: [
        { event: 'product_viewed', user_id: '.' },
        { event: 'product_viewed', user_id: 'u-dots', item_id: '..' },
      ],
    });
    expect(events.status).toBe(400);
    expect(events.body.errors.map((e) => [e.index, e.field])).toEqual([
      [0, 'user_id'],
      [1, 'item_id'],
    ]);
    const items = await call<ItemsBulkReply>(t.app, 'POST', '/v1/items', { items: [{ id: '..' }] });
    expect(items.body.errors).toEqual([
      { index: 0, field: 'id', message: expect.stringMatching(/must not be "\."/) },
    ]);
  });
});

// --- rule presets ----------------------------------------------------------------------------------

const presetName = fc
  .string({
    unit: fc.constantFrom(...'abcXYZ019_.-'),
    minLength: 1,
    maxLength: 64,
  })
  .filter((name) => name !== '.' && name !== '..');

describe('rule preset names round-trip through PUT/GET/DELETE /v1/rules/:name', () => {
  it('every accepted name, up to 64 characters (property)', async () => {
    await fc.assert(
      fc.asyncProperty(presetName, async (name) => {
        const put = await call<PresetReply>(t.app, 'PUT', `/v1/rules/${enc(name)}`, { exclude: ['x'] });
        expect(put.status, put.text).toBe(200);
        expect(put.body.name).toBe(name);
        const got = await get<PresetReply>(t.app, `/v1/rules/${enc(name)}`);
        expect(got.status, got.text).toBe(200);
        expect(got.body).toMatchObject({ name, rules: { exclude: ['x'] } });
        const used = await get(t.app, `/v1/recommendations?user_id=u&preset=${enc(name)}`);
        expect(used.status, used.text).toBe(200);
        expect((await call(t.app, 'DELETE', `/v1/rules/${enc(name)}`)).status).toBe(204);
        expect((await get(t.app, `/v1/rules/${enc(name)}`)).status).toBe(404);
      }),
      { numRuns: 40 },
    );
  });

  it('a name of 65 characters is refused with 400 naming it, on each method', async () => {
    const name = 'n'.repeat(65);
    for (const reply of [
      await call<ErrorReply>(t.app, 'PUT', `/v1/rules/${name}`, {}),
      await call<ErrorReply>(t.app, 'GET', `/v1/rules/${name}`),
      await call<ErrorReply>(t.app, 'DELETE', `/v1/rules/${name}`),
    ]) {
      expect(reply.status, reply.text).toBe(400);
      expect(reply.body.error.message).toBe('params field "name": name is longer than 64 characters');
    }
    expect((await call(t.app, 'PUT', `/v1/rules/${'n'.repeat(64)}`, {})).status).toBe(200);
  });
});

// --- ill-formed Unicode -----------------------------------------------------------------------------

/** A JSON body text with `\ud800` escapes where `@` stands, as a client that sends lone surrogates writes it. */
const withLone = (json: string) => json.replaceAll('@', '\\ud800');

describe('lone surrogates are refused with 400 naming the field', () => {
  it('in a batch, the bad event is reported by index and field, and the valid events beside it are stored', async () => {
    const body = withLone(
      JSON.stringify({
        events: [
          { event: 'product_viewed', user_id: 'u-lone', item_id: 'i-1', event_id: 'lone-0' },
          { event: 'product_viewed', user_id: 'u-lone@', item_id: 'i-1' },
          { event: 'product_viewed', user_id: 'u-lone', item_id: 'i-1@' },
          { event: 'viewed@', user_id: 'u-lone', item_id: 'i-1' },
          { event: 'product_viewed', user_id: 'u-lone', context: { 'device@': 'x' } },
          { event: 'product_viewed', user_id: 'u-lone', properties: { note: 'x@' } },
          { event: 'product_viewed', user_id: 'u-lone', item_id: 'i-2', event_id: 'lone-6' },
        ],
      }),
    );
    const reply = await postEvents(t.app, body);
    expect(reply.status, reply.text).toBe(200);
    expect(reply.body).toMatchObject({ accepted: 2, rejected: 5 });
    expect(reply.body.errors.map((e) => [e.index, e.field])).toEqual([
      [1, 'user_id'],
      [2, 'item_id'],
      [3, 'event'],
      [4, 'context.device\ud800'],
      [5, 'properties.note'],
    ]);
    for (const error of reply.body.errors) expect(error.message).toMatch(/not well-formed Unicode/);
    const stored = await get<UserEventsReply>(t.app, '/v1/users/u-lone/events');
    expect(stored.body.events.map((e) => e.event_id).sort()).toEqual(['lone-0', 'lone-6']);
    // Nothing was stored under the replacement character either.
    expect(
      (await get<UserEventsReply>(t.app, `/v1/users/${enc('u-lone\ufffd')}/events`)).body.events,
    ).toEqual([]);
  });

  it('in items (categories, tags, attributes) and user traits', async () => {
    const bulk = await call<ItemsBulkReply>(
      t.app,
      'POST',
      '/v1/items',
      withLone(
        JSON.stringify({
          items: [
            { id: 'lone-a' },
            { id: 'lone-b', categories: ['c@'] },
            { id: 'lone-c', tags: ['ok', 't@'] },
            { id: 'lone-d', attributes: { 'k@': 1 } },
          ],
        }),
      ),
    );
    expect(bulk.status, bulk.text).toBe(200);
    expect(bulk.body.stored).toBe(1);
    expect(bulk.body.errors.map((e) => [e.index, e.field])).toEqual([
      [1, 'categories[0]'],
      [2, 'tags[1]'],
      [3, 'attributes.k\ud800'],
    ]);
    expect((await get(t.app, '/v1/items/lone-b')).status).toBe(404);

    const put = await call<ErrorReply>(t.app, 'PUT', '/v1/items/lone-e', withLone('{"category":"c@"}'));
    expect(put.status).toBe(400);
    expect(put.body.error.message).toMatch(/^category: category is not well-formed Unicode/);

    const user = await call<ErrorReply>(
      t.app,
      'PUT',
      '/v1/users/lone-u',
      withLone('{"traits":{"plan":"@"}}'),
    );
    expect(user.status).toBe(400);
    expect(user.body.error.message).toMatch(/^traits\.plan: traits\.plan is not well-formed Unicode/);
    expect((await get(t.app, '/v1/users/lone-u')).status).toBe(404);
  });

  it('in a rule preset body', async () => {
    const reply = await call<ErrorReply>(t.app, 'PUT', '/v1/rules/lone', withLone('{"exclude":["a","b@"]}'));
    expect(reply.status, reply.text).toBe(400);
    expect(reply.body.error.message).toMatch(/^body field "exclude\[1\]" is not well-formed Unicode/);
    expect((await get(t.app, '/v1/rules/lone')).status).toBe(404);
  });
});

// --- invalid UTF-8 ----------------------------------------------------------------------------------

function postBytes(
  app: FastifyInstance,
  method: 'POST' | 'PUT',
  url: string,
  bytes: Buffer,
  type = 'application/json',
) {
  return app.inject({ method, url, payload: bytes, headers: { 'content-type': type } });
}

const utf8 = (text: string) => Buffer.from(text, 'utf8');

describe('bodies that are not valid UTF-8 are refused', () => {
  it.each([
    ['a byte that starts no character', [0xff]],
    ['a truncated sequence', [0xe2, 0x82]],
    ['an overlong "/"', [0xc0, 0xaf]],
    ['an encoded surrogate', [0xed, 0xa0, 0x80]],
    ['Latin-1 "é"', [0xe9]],
  ])('%s, on every JSON route, storing nothing', async (_name, bytes) => {
    const inside = (before: string, after: string) =>
      Buffer.concat([utf8(before), Buffer.from(bytes), utf8(after)]);
    const requests: [method: 'POST' | 'PUT', url: string, body: Buffer][] = [
      ['POST', '/v1/events', inside('{"event":"product_viewed","user_id":"u-bytes', '"}')],
      ['POST', '/v1/items', inside('{"items":[{"id":"i-bytes', '"}]}')],
      ['PUT', '/v1/items/i-bytes', inside('{"categories":["c', '"]}')],
      ['PUT', '/v1/users/u-bytes', inside('{"traits":{"plan":"', '"}}')],
      ['PUT', '/v1/rules/bytes', inside('{"exclude":["', '"]}')],
    ];
    for (const [method, url, body] of requests) {
      const reply = await postBytes(t.app, method, url, body);
      expect(reply.statusCode, `${method} ${url}: ${reply.body}`).toBe(400);
      expect(JSON.parse(reply.body)).toEqual({
        error: {
          code: 'invalid_request',
          message: 'the body is not valid UTF-8; JSON bodies must be encoded as UTF-8',
        },
      });
    }
    expect((await get<UserEventsReply>(t.app, '/v1/users/u-bytes/events')).body.events).toEqual([]);
    expect((await get(t.app, '/v1/items/i-bytes')).status).toBe(404);
    expect((await get(t.app, '/v1/users/u-bytes')).status).toBe(404);
    expect((await get(t.app, '/v1/rules/bytes')).status).toBe(404);
  });

  it('UTF-8 bodies are read as before, with or without charset=utf-8 (and a byte-order mark)', async () => {
    const text = '{"event":"product_viewed","user_id":"u-utf8","item_id":"caf\u00e9 \u4e2d\ud83d\ude00"}';
    for (const type of [
      'application/json',
      'application/json; charset=utf-8',
      'application/json;charset=UTF-8',
    ]) {
      const reply = await postBytes(t.app, 'POST', '/v1/events', utf8(text), type);
      expect(reply.statusCode, `${type}: ${reply.body}`).toBe(200);
    }
    const bom = await postBytes(
      t.app,
      'POST',
      '/v1/events',
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), utf8(text)]),
    );
    expect(bom.statusCode, bom.body).toBe(200);
    const events = await get<UserEventsReply>(t.app, '/v1/users/u-utf8/events');
    expect(events.body.events.map((e) => e.item_id)).toEqual(Array(4).fill('caf\u00e9 \u4e2d\ud83d\ude00'));
  });

  it('keeps the other body errors and the size limit as they were', async () => {
    const malformed = await postBytes(t.app, 'POST', '/v1/events', utf8('{"event":'));
    expect(malformed.statusCode).toBe(400);
    expect(JSON.parse(malformed.body)).toMatchObject({
      error: { code: 'invalid_request', message: expect.stringMatching(/JSON/) },
    });
    const empty = await postBytes(t.app, 'POST', '/v1/events', Buffer.alloc(0));
    expect(empty.statusCode).toBe(400);
    expect(JSON.parse(empty.body)).toMatchObject({ error: { code: 'invalid_request' } });
    const poisoned = await postBytes(t.app, 'POST', '/v1/events', utf8('{"__proto__":{"x":1}}'));
    expect(poisoned.statusCode).toBe(400);
    const large = await postBytes(t.app, 'POST', '/v1/events', Buffer.alloc(1024 * 1024 + 1, 0x20));
    expect(large.statusCode).toBe(413);
    expect(JSON.parse(large.body)).toEqual({
      error: { code: 'payload_too_large', message: 'the body is larger than the limit of 1048576 bytes' },
    });
  });
});

describe('bodies nested deeper than 32 levels are refused before they are parsed', () => {
  it('on events, with the valid shape beside it untouched', async () => {
    const deep = (depth: number) => `${'['.repeat(depth)}1${']'.repeat(depth)}`;
    const body = (depth: number) =>
      utf8(`{"event":"product_viewed","user_id":"u-deep","item_id":"i1","properties":{"x":${deep(depth)}}}`);
    const refused = await postBytes(t.app, 'POST', '/v1/events', body(40));
    expect(refused.statusCode).toBe(400);
    expect(JSON.parse(refused.body)).toEqual({
      error: {
        code: 'invalid_request',
        message: 'the body nests arrays and objects deeper than 32 levels',
      },
    });
    const hostile = await postBytes(t.app, 'POST', '/v1/events', utf8('['.repeat(500_000)));
    expect(hostile.statusCode).toBe(400);
    expect((await get<UserEventsReply>(t.app, '/v1/users/u-deep/events')).body.events).toEqual([]);
  });
});

describe('URLs whose percent-encoding is not UTF-8 are refused, naming the parameter', () => {
  it.each([
    ['/v1/recommendations?user_id=%FF', 'query field "user_id" is not valid UTF-8'],
    ['/v1/recommendations?user_id=u&request_id=%ED%A0%80', 'query field "request_id" is not valid UTF-8'],
    ['/v1/recommendations/explain?user_id=u&item_id=%C0%AF', 'query field "item_id" is not valid UTF-8'],
    ['/v1/recommendations?user_id=u&filter=brand%3D%E9', 'query field "filter" is not valid UTF-8'],
    ['/v1/items/i/similar?user_id=%E2%82', 'query field "user_id" is not valid UTF-8'],
    ['/v1/items?after=%FF', 'query field "after" is not valid UTF-8'],
    [
      '/v1/recommendations?user_id=u&category=50%',
      'query field "category" has a "%" not followed by two hex digits',
    ],
    ['/v1/items/%FF', 'params field "id" is not valid UTF-8'],
    ['/v1/items/%E2%82/similar', 'params field "id" is not valid UTF-8'],
    ['/v1/users/%ED%A0%80/events', 'params field "id" is not valid UTF-8'],
    ['/v1/impressions/%C0%AF', 'params field "request_id" is not valid UTF-8'],
    ['/v1/rules/%FF', 'params field "name" is not valid UTF-8'],
  ])('GET %s', async (url, message) => {
    const reply = await get<ErrorReply>(t.app, url);
    expect(reply.status, reply.text).toBe(400);
    expect(reply.body.error.code).toBe('invalid_request');
    expect(reply.body.error.message.startsWith(message), reply.body.error.message).toBe(true);
  });

  it('a query value is never read as its U+FFFD-replaced or still-encoded text', async () => {
    await postEvents(t.app, { event: 'product_viewed', user_id: '\ufffd' });
    await postEvents(t.app, { event: 'product_viewed', user_id: '%FF' });
    for (const url of ['/v1/recommendations?user_id=%FF', '/v1/users/%FF/events']) {
      expect((await get(t.app, url)).status).toBe(400);
    }
    // The same ids, correctly encoded, are found.
    const replacement = await get<UserEventsReply>(t.app, `/v1/users/${enc('\ufffd')}/events`);
    expect(replacement.body.events).toHaveLength(1);
    const literal = await get<RecommendationsReply>(t.app, `/v1/recommendations?user_id=${enc('%FF')}`);
    expect(literal.body.user_id).toBe('%FF');
  });
});

// --- timestamps ---------------------------------------------------------------------------------------

describe('timestamps before 2000 are refused with a message that fits the mistake', () => {
  it('epoch seconds get a message saying so, and what to send instead', async () => {
    const reply = await postEvents(t.app, {
      event: 'product_viewed',
      user_id: 'u-ts',
      timestamp: 1_700_000_000,
    });
    expect(reply.status).toBe(400);
    expect(reply.body.errors).toEqual([
      {
        index: 0,
        field: 'timestamp',
        message:
          'timestamp 1700000000 looks like epoch seconds (2023-11-14T22:13:20.000Z), but numbers are read as ' +
          'epoch milliseconds (1970-01-20T16:13:20.000Z); send milliseconds (1700000000000) or ISO 8601 text',
      },
    ]);
  });

  it('other times before 2000-01-01 say those are not accepted; 2000-01-01T00:00:00Z itself is', async () => {
    const reply = await postEvents(t.app, {
      events: [
        { event: 'product_viewed', user_id: 'u-ts', timestamp: Date.UTC(2000, 0, 1) - 1 },
        { event: 'product_viewed', user_id: 'u-ts', timestamp: '1999-12-31T23:59:59.999Z' },
        { event: 'product_viewed', user_id: 'u-ts', timestamp: 0 },
        { event: 'product_viewed', user_id: 'u-ts', timestamp: Date.UTC(2000, 0, 1), event_id: 'ts-ok' },
        { event: 'product_viewed', user_id: 'u-ts', timestamp: '2000-01-01T00:00:00Z', event_id: 'ts-ok-2' },
      ],
    });
    expect(reply.status, reply.text).toBe(200);
    expect(reply.body.accepted).toBe(2);
    expect(reply.body.errors).toEqual([
      {
        index: 0,
        field: 'timestamp',
        message:
          'timestamp is before 2000-01-01 (1999-12-31T23:59:59.999Z): times before 2000-01-01 are not accepted',
      },
      {
        index: 1,
        field: 'timestamp',
        message:
          'timestamp is before 2000-01-01 (1999-12-31T23:59:59.999Z): times before 2000-01-01 are not accepted',
      },
      {
        index: 2,
        field: 'timestamp',
        message:
          'timestamp is before 2000-01-01 (1970-01-01T00:00:00.000Z): times before 2000-01-01 are not accepted',
      },
    ]);
    const stored = await get<UserEventsReply>(t.app, '/v1/users/u-ts/events');
    expect(stored.body.events.map((e) => e.timestamp)).toEqual([
      '2000-01-01T00:00:00.000Z',
      '2000-01-01T00:00:00.000Z',
    ]);
  });
});
