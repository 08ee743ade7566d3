import { afterEach, describe, expect, it } from 'vitest';
import { defaultHttpLimits } from '../src/api/index.js';
import { RateWindows } from '../src/api/limits.js';
import { cliHttpLimits } from '../src/cli/config.js';
import { call, openTestApp, type ErrorReply, type TestApp } from './helpers.js';

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

describe('HTTP limits', () => {
  let t: TestApp;
  afterEach(() => t.close());

  it('sets security headers on every reply, errors included', async () => {
    t = await openTestApp();
    for (const url of ['/health', '/v1/items', '/nowhere']) {
      const reply = await t.app.inject({ method: 'GET', url });
      expect(reply.headers['x-content-type-options'], url).toBe('nosniff');
      expect(reply.headers['x-frame-options'], url).toBe('DENY');
      expect(reply.headers['content-security-policy'], url).toMatch(/default-src 'none'/);
      expect(reply.headers['referrer-policy'], url).toBe('no-referrer');
      expect(reply.headers['x-powered-by'], url).toBeUndefined();
    }
  });

  it('limits requests per second per key with 429 and retry-after; another key and the keyless demo are not limited', async () => {
    t = await openTestApp({}, undefined, {
      ...defaultHttpLimits,
      requestsPerSecond: { ingest: 3, server: 5, admin: 5 },
    });
    // Keyless, on loopback: the demo is never limited.
    for (let i = 0; i < 10; i++) expect((await call(t.app, 'GET', '/v1/items')).status).toBe(200);
    const one = (await t.engine.access.create({ scope: 'server' })).key;
    const other = (await t.engine.access.create({ scope: 'server' })).key;
    // Counted in one-second windows: start the burst at the beginning of one, so it cannot straddle two.
    const nextSecond = () => new Promise((resolve) => setTimeout(resolve, 1005 - (Date.now() % 1000)));
    await nextSecond();
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++)
      statuses.push((await call(t.app, 'GET', '/v1/items', undefined, bearer(one))).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
    const limited = await t.app.inject({ method: 'GET', url: '/v1/items', headers: bearer(one) });
    expect(limited.headers['retry-after']).toBeDefined();
    expect(limited.json<ErrorReply>().error).toMatchObject({
      code: 'rate_limited',
      message: expect.stringMatching(/more than 5 requests per second with key [0-9a-f]{16}/),
    });
    expect((await call(t.app, 'GET', '/v1/items', undefined, bearer(other))).status).toBe(200);
    // An ingest key counts per client address: one browser cannot use up a site's key.
    const ingest = (await t.engine.access.create({ scope: 'ingest' })).key;
    const post = (ip: string) =>
      t.app.inject({
        method: 'POST',
        url: '/v1/events',
        remoteAddress: ip,
        headers: { ...bearer(ingest), 'content-type': 'application/json' },
        payload: { event: 'product_viewed', user_id: 'u1', item_id: 'i1' },
      });
    await nextSecond();
    const fromA = [];
    for (let i = 0; i < 4; i++) fromA.push((await post('198.51.100.1')).statusCode);
    expect(fromA).toEqual([200, 200, 200, 429]);
    expect((await post('198.51.100.2')).statusCode).toBe(200);
  });

  it('answers CORS preflights for the configured origins only', async () => {
    t = await openTestApp({}, undefined, { ...defaultHttpLimits, corsOrigins: ['https://shop.example'] });
    const preflight = (origin: string) =>
      t.app.inject({
        method: 'OPTIONS',
        url: '/v1/events',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization,content-type',
        },
      });
    const allowed = await preflight('https://shop.example');
    expect(allowed.statusCode).toBe(204);
    expect(allowed.headers['access-control-allow-origin']).toBe('https://shop.example');
    expect(allowed.headers['access-control-allow-headers']).toMatch(/authorization/);
    const other = await preflight('https://elsewhere.example');
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('without configured origins sends no CORS headers at all', async () => {
    t = await openTestApp();
    const reply = await t.app.inject({
      method: 'GET',
      url: '/v1/items',
      headers: { origin: 'https://shop.example' },
    });
    expect(reply.headers['access-control-allow-origin']).toBeUndefined();
    expect(t.app.server.requestTimeout).toBe(defaultHttpLimits.requestTimeoutMs);
  });
});

describe('RateWindows', () => {
  it('counts per key in one-second windows and says how long until the window ends', () => {
    const windows = new RateWindows();
    const t0 = 1_700_000_000_000; // a whole second
    expect(windows.take('a', 2, t0)).toBeNull();
    expect(windows.take('a', 2, t0 + 100)).toBeNull();
    expect(windows.take('a', 2, t0 + 250)).toBe(750);
    expect(windows.take('b', 2, t0 + 250)).toBeNull();
    expect(windows.take('a', 2, t0 + 1000)).toBeNull();
  });
});

describe('the limits from the environment', () => {
  it('reads origins, per-scope rates and the request timeout, and names what it cannot read', () => {
    const limits = cliHttpLimits({
      ATTUNE_CORS_ORIGINS: 'https://shop.example, http://localhost:3000',
      ATTUNE_RATE_LIMITS: 'ingest=50,admin=10',
      ATTUNE_REQUEST_TIMEOUT_MS: '2500',
    });
    expect(limits).toEqual({
      corsOrigins: ['https://shop.example', 'http://localhost:3000'],
      requestsPerSecond: { ingest: 50, server: defaultHttpLimits.requestsPerSecond.server, admin: 10 },
      requestTimeoutMs: 2500,
    });
    expect(cliHttpLimits({})).toEqual(defaultHttpLimits);
    expect(() => cliHttpLimits({ ATTUNE_CORS_ORIGINS: 'shop.example' })).toThrow(
      /ATTUNE_CORS_ORIGINS: "shop.example"/,
    );
    expect(() => cliHttpLimits({ ATTUNE_RATE_LIMITS: 'root=5' })).toThrow(/ATTUNE_RATE_LIMITS: "root=5"/);
    expect(() => cliHttpLimits({ ATTUNE_REQUEST_TIMEOUT_MS: '0' })).toThrow(/ATTUNE_REQUEST_TIMEOUT_MS/);
  });
});
