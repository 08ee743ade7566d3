import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AccessKeys, SCOPES, type Scope } from '../src/access/index.js';
import { ROUTE_ACCESS } from '../src/api/access.js';
import { openStore } from '../src/store/index.js';
import { call, openTestApp, type ErrorReply, type TestApp } from './helpers.js';

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** A concrete URL for a route pattern: every path parameter gets a harmless value. */
const urlOf = (pattern: string): string =>
  pattern.replace(/:(\w+)/g, (_, name: string) => (name === 'name' ? 'preset-1' : `${name}-1`));

// CORS preflights (`OPTIONS *`) exist only when origins are configured: `limits.test.ts` covers them.
const routes = Object.entries(ROUTE_ACCESS)
  .filter(([key]) => !key.startsWith('OPTIONS '))
  .map(([key, access]) => {
    const [method, pattern] = key.split(' ') as [Method, string];
    return { method, pattern, url: urlOf(pattern), access };
  });

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
const basic = (user: string) => ({ authorization: `Basic ${Buffer.from(`${user}:`).toString('base64')}` });

function send(t: TestApp, method: Method, url: string, headers: Record<string, string>) {
  const body = method === 'GET' || method === 'DELETE' ? undefined : {};
  return call<ErrorReply>(t.app, method, url, body, headers);
}

describe('API keys and scopes', () => {
  let t: TestApp;
  const keys = {} as Record<Scope, string>;
  let revoked = '';

  beforeAll(async () => {
    t = await openTestApp();
    for (const scope of SCOPES)
      keys[scope] = (await t.engine.access.create({ scope, name: `${scope} key` })).key;
    const old = await t.engine.access.create({ scope: 'admin' });
    await t.engine.access.revoke(old.info.id);
    revoked = old.key;
  });
  afterAll(() => t.close());

  it('has an entry in the access table for every registered route, and every entry is a route', () => {
    for (const route of routes)
      expect(t.app.hasRoute({ method: route.method, url: route.pattern }), route.pattern).toBe(true);
    // buildApp refuses a route without an entry: the app started, so there is none.
    expect(routes.length).toBeGreaterThan(45);
  });

  it('enforces every route × key kind: 401 without a usable key, 403 without the scope, through otherwise', async () => {
    const failures: string[] = [];
    for (const route of routes) {
      const kinds: [string, Record<string, string>, 'through' | 401 | 403][] = [
        ['no key', {}, route.access === 'public' ? 'through' : 401],
        [
          'a made-up key',
          bearer('attune_admin_0123456789abcdef_' + 'x'.repeat(43)),
          route.access === 'public' ? 'through' : 401,
        ],
        ['a revoked admin key', bearer(revoked), route.access === 'public' ? 'through' : 401],
        ...SCOPES.map((scope): [string, Record<string, string>, 'through' | 403] => [
          `the ${scope} key`,
          bearer(keys[scope]),
          route.access === 'public' || SCOPES.indexOf(scope) >= SCOPES.indexOf(route.access)
            ? 'through'
            : 403,
        ]),
      ];
      for (const [kind, headers, expected] of kinds) {
        const reply = await send(t, route.method, route.url, headers);
        const through = reply.status !== 401 && reply.status !== 403;
        const ok = expected === 'through' ? through : reply.status === expected;
        if (!ok)
          failures.push(`${route.method} ${route.pattern} with ${kind}: ${reply.status} ${reply.text}`);
        if (expected === 403 && reply.status === 403) {
          // The message says which scope the route needs.
          expect(reply.body.error.message).toContain(`needs the ${route.access} scope`);
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it('says what is wrong: a missing key names the scope, a revoked key says when, a bad scheme says which', async () => {
    const missing = await send(t, 'GET', '/v1/recommendations?user_id=u1', {});
    expect(missing.status).toBe(401);
    expect(missing.body.error).toMatchObject({ code: 'unauthorized' });
    expect(missing.body.error.message).toMatch(/needs a key with the server scope/);
    const gone = await send(t, 'GET', '/v1/recommendations?user_id=u1', bearer(revoked));
    expect(gone.body.error.message).toMatch(/was revoked at \d{4}-/);
    const scheme = await send(t, 'GET', '/v1/recommendations?user_id=u1', { authorization: 'Token abc' });
    expect(scheme.status).toBe(401);
    expect(scheme.body.error.message).toMatch(/unsupported authorization scheme "token"/);
  });

  it('takes the ingest key as the HTTP Basic user name (Segment write keys), and no other key that way', async () => {
    const event = { events: [{ event: 'product_viewed', user_id: 'u-basic', item_id: 'i1' }] };
    const ok = await call<{ accepted: number }>(t.app, 'POST', '/v1/events', event, basic(keys.ingest));
    expect(ok.status).toBe(200);
    expect(ok.body.accepted).toBe(1);
    const secret = await call<ErrorReply>(t.app, 'POST', '/v1/events', event, basic(keys.admin));
    expect(secret.status).toBe(401);
    expect(secret.body.error.message).toMatch(/HTTP Basic carries ingest keys only/);
  });

  it('lets only admins preview a list (a preview logs no exposure, so a backend must not use it)', async () => {
    const url = '/v1/recommendations?user_id=u-preview&preview=true';
    const refused = await send(t, 'GET', url, bearer(keys.server));
    expect(refused.status, refused.text).toBe(403);
    expect(refused.body.error.message).toMatch(/preview=true needs an admin key/);
    expect((await send(t, 'GET', url, bearer(keys.admin))).status).not.toBe(403);
    expect(
      (await send(t, 'GET', '/v1/recommendations?user_id=u-preview', bearer(keys.server))).status,
    ).not.toBe(403);
  });

  it('stores keys hashed: no key appears in the data directory', async () => {
    await t.engine.store.getMeta('flush'); // a read: the WAL holds the committed keys
    const files = readdirSync(t.dir).map((name) => readFileSync(join(t.dir, name)));
    for (const key of [...Object.values(keys), revoked]) {
      for (const bytes of files) expect(bytes.includes(Buffer.from(key))).toBe(false);
    }
  });

  it('accepts at once a key another process created, and refuses within a second one it revoked', async () => {
    // The CLI opens the store itself: a second connection, as `attune keys create` would.
    const store = await openStore(`sqlite:${t.dir}`);
    try {
      const elsewhere = new AccessKeys(store);
      const created = await elsewhere.create({ scope: 'server' });
      const url = '/v1/items';
      expect((await send(t, 'GET', url, bearer(created.key))).status).toBe(200);
      await elsewhere.revoke(created.info.id);
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      expect((await send(t, 'GET', url, bearer(created.key))).status).toBe(401);
    } finally {
      await store.close();
    }
  });

  it('manages keys over HTTP: created keys work at once, are listed without secrets, and revoke at once', async () => {
    const created = await call<{ key: string; id: string; scope: string; app: string }>(
      t.app,
      'POST',
      '/v1/keys',
      { scope: 'ingest', name: 'web shop' },
      bearer(keys.admin),
    );
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ scope: 'ingest', app: 'default' });
    expect(created.body.key).toMatch(/^attune_ingest_/);
    const event = { events: [{ event: 'product_viewed', user_id: 'u-new-key', item_id: 'i1' }] };
    expect((await call(t.app, 'POST', '/v1/events', event, bearer(created.body.key))).status).toBe(200);

    const listed = await call<{ keys: Record<string, unknown>[] }>(
      t.app,
      'GET',
      '/v1/keys',
      undefined,
      bearer(keys.admin),
    );
    expect(listed.body.keys.find((k) => k['id'] === created.body.id)).toMatchObject({
      name: 'web shop',
      revoked_at: null,
    });
    expect(listed.text).not.toContain(created.body.key);
    expect(listed.text).not.toMatch(/hash/);

    const bad = await call<ErrorReply>(t.app, 'POST', '/v1/keys', { scope: 'root' }, bearer(keys.admin));
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/field "scope": .*ingest, server, admin/);
    const otherApp = await call<ErrorReply>(
      t.app,
      'POST',
      '/v1/keys',
      { scope: 'admin', app: 'other' },
      bearer(keys.admin),
    );
    expect(otherApp.status).toBe(403);

    const gone = await call(t.app, 'DELETE', `/v1/keys/${created.body.id}`, undefined, bearer(keys.admin));
    expect(gone.status).toBe(200);
    expect((await call(t.app, 'POST', '/v1/events', event, bearer(created.body.key))).status).toBe(401);
    expect((await call(t.app, 'DELETE', '/v1/keys/nope', undefined, bearer(keys.admin))).status).toBe(404);
  });

  it('audits admin changes and admin reads of personal data, naming the key and never the user', async () => {
    await call(t.app, 'PUT', '/v1/users/person-7', { traits: { plan: 'pro' } }, bearer(keys.ingest));
    const read = await call(t.app, 'GET', '/v1/users/person-7', undefined, bearer(keys.admin));
    expect(read.status).toBe(200);
    const created = await call<{ id: string }>(
      t.app,
      'POST',
      '/v1/keys',
      { scope: 'server' },
      bearer(keys.admin),
    );
    await call(t.app, 'DELETE', `/v1/keys/${created.body.id}`, undefined, bearer(keys.admin));
    await call(t.app, 'GET', '/v1/experiments', undefined, bearer(keys.admin));

    const audit = await call<{
      entries: { actor: string; action: string; target: string | null; status: number }[];
    }>(t.app, 'GET', '/v1/audit?limit=1000', undefined, bearer(keys.admin));
    expect(audit.status).toBe(200);
    const adminId = (await t.engine.access.list()).find((k) => k.name === 'admin key')!.id;
    const actions = audit.body.entries.map((e) => `${e.action} ${e.target ?? '-'} ${e.status}`);
    expect(actions).toEqual(
      expect.arrayContaining([
        'GET /v1/users/:id - 200',
        'POST /v1/keys - 201',
        `DELETE /v1/keys/:id ${created.body.id} 200`,
      ]),
    );
    expect(audit.body.entries.every((e) => e.actor === adminId || e.action !== 'POST /v1/keys')).toBe(true);
    // Plain admin reads are not audited; the user id is nowhere in the log.
    expect(actions.some((a) => a.startsWith('GET /v1/experiments'))).toBe(false);
    expect(audit.text).not.toContain('person-7');
  });
});

describe('an engine with no key configured', () => {
  let t: TestApp;
  afterEach(() => t.close());

  it('answers loopback clients only, and tells others how to get a key', async () => {
    t = await openTestApp();
    expect(await t.engine.access.isOpen()).toBe(true);
    const local = await t.app.inject({ method: 'GET', url: '/v1/models', remoteAddress: '127.0.0.1' });
    expect(local.statusCode).toBe(200);
    const remote = await t.app.inject({ method: 'GET', url: '/v1/models', remoteAddress: '203.0.113.9' });
    expect(remote.statusCode).toBe(401);
    expect(remote.json<ErrorReply>().error.message).toMatch(/loopback clients only.*attune keys create/);
    // A reverse proxy on this machine connects from loopback for everyone: what it relays is remote.
    const proxied = await t.app.inject({
      method: 'GET',
      url: '/v1/models',
      remoteAddress: '127.0.0.1',
      headers: { 'x-forwarded-for': '203.0.113.9' },
    });
    expect(proxied.statusCode).toBe(401);
    // Once a key exists, loopback needs one too; revoking it does not reopen the engine.
    const { info } = await t.engine.access.create({ scope: 'admin' });
    expect((await t.app.inject({ method: 'GET', url: '/v1/models' })).statusCode).toBe(401);
    await t.engine.access.revoke(info.id);
    expect((await t.app.inject({ method: 'GET', url: '/v1/models' })).statusCode).toBe(401);
  });

  it('with ATTUNE_ADMIN_KEY is closed, and that key is an admin key that creates the first stored keys', async () => {
    const bootstrap = 'b'.repeat(40);
    t = await openTestApp({ adminKey: bootstrap });
    expect(await t.engine.access.isOpen()).toBe(false);
    expect((await t.app.inject({ method: 'GET', url: '/v1/models' })).statusCode).toBe(401);
    const created = await call<{ key: string }>(
      t.app,
      'POST',
      '/v1/keys',
      { scope: 'server' },
      bearer(bootstrap),
    );
    expect(created.status).toBe(201);
    expect((await call(t.app, 'GET', '/v1/items', undefined, bearer(created.body.key))).status).toBe(200);
    expect(() => new AccessKeys(t.engine.store, { bootstrapAdminKey: 'short' })).toThrow(
      /at least 24 characters/,
    );
  });
});
