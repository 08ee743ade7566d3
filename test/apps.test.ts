import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { SCOPES, type Scope } from '../src/access/index.js';
import { ROUTE_ACCESS } from '../src/api/access.js';
import { call, openTestApp, type TestApp, deviceBannerPoint } from './helpers.js';

/**
 * Apps (tenants): every key belongs to one app, and no request with one app's key reads or changes another
 * app's data, models or experiments. App "beta" is filled with everything an app holds, each piece marked
 * with a string no request ever sends; then every route is called with each of app "alpha"'s keys, aimed
 * at beta's ids. No reply may carry a marker, and beta must read back exactly as before.
 */
type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

const MARK = 'beta-only-marker';
const B = {
  user: 'beta-user-1',
  item: 'beta-item-1',
  experiment: 'beta-exp',
  point: 'beta-banner',
  preset: 'beta-preset',
  metric: 'beta_metric',
};
const HOUR = 3_600_000;

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

/** A request for a route, aimed at beta's resources. */
function requestFor(
  method: Method,
  pattern: string,
  ids: { readonly requestId: string; readonly decisionId: string; readonly keyId: string },
): { url: string; body?: unknown } {
  const param = (name: string): string => {
    if (name === 'request_id') return ids.requestId;
    if (name === 'name') return pattern.startsWith('/v1/rules') ? B.preset : B.metric;
    if (pattern.startsWith('/v1/users')) return B.user;
    if (pattern.startsWith('/v1/items')) return B.item;
    if (pattern.startsWith('/v1/experiments')) return B.experiment;
    if (pattern.startsWith('/v1/decision')) return B.point;
    if (pattern.startsWith('/v1/keys')) return ids.keyId;
    return 'x';
  };
  let url = pattern.replace(/:(\w+)/g, (_, name: string) => param(name));
  if (method === 'GET') url += `?user_id=${B.user}&item_id=${B.item}&limit=100`;
  const bodies: Record<string, unknown> = {
    'POST /v1/events': { event: 'product_viewed', user_id: B.user, item_id: B.item },
    'PUT /v1/users/:id': { traits: { plan: 'alpha' } },
    'POST /v1/exposures': { user_id: B.user, experiment: B.experiment },
    'POST /v1/rank': { user_id: B.user, items: [B.item] },
    'POST /v1/decisions/:id': { user_id: B.user, context: { device: 'mobile' } },
    'POST /v1/decisions/:id/reward': { decision_id: ids.decisionId, value: 1 },
    'PUT /v1/items/:id': { categories: ['alpha'] },
    'POST /v1/items': { items: [{ id: B.item, categories: ['alpha'] }] },
    'PUT /v1/rules/:name': { boost: 'categories=alpha:2' },
    'PATCH /v1/experiments/:id': { description: 'alpha' },
    'PUT /v1/metrics/:name': { kind: 'conversion', event: 'purchased', windowHours: 24 },
    'POST /v1/keys': { scope: 'ingest' },
  };
  const body = method === 'GET' || method === 'DELETE' ? undefined : (bodies[`${method} ${pattern}`] ?? {});
  return body === undefined ? { url } : { url, body };
}

describe('apps (tenants)', () => {
  let t: TestApp;
  const alpha = {} as Record<Scope, string>;
  let betaAdmin: string;
  let ids: { requestId: string; decisionId: string; keyId: string };

  const asBeta = <T>(method: Method, url: string, body?: unknown) =>
    call<T>(t.app, method, url, body, bearer(betaAdmin));

  /** What beta holds, as beta's admin reads it (volatile fields left out). */
  async function betaState(): Promise<unknown> {
    const json = async (url: string) => {
      const reply = await asBeta<Record<string, unknown>>('GET', url);
      expect(reply.status, `${url}: ${reply.text}`).toBe(200);
      return reply.body;
    };
    const events = (await json(`/v1/users/${B.user}/events?limit=1000`))['events'] as { event_id: string }[];
    const items = (await json('/v1/items?limit=1000'))['items'] as { id: string; categories: string[] }[];
    const experiments = (await json('/v1/experiments'))['experiments'] as { id: string; status: string }[];
    const points = (await json('/v1/decision-points'))['decision_points'] as { id: string }[];
    const keys = (await json('/v1/keys'))['keys'] as { id: string; revoked_at: string | null }[];
    const models = (await json('/v1/models'))['serving'] as { version: number } | null;
    return {
      user: await json(`/v1/users/${B.user}`),
      events: events.map((e) => e.event_id).sort(),
      items: items.map((i) => `${i.id}:${i.categories.join('|')}`),
      experiments: experiments.map((e) => `${e.id}:${e.status}`),
      points: points.map((p) => p.id),
      preset: await json(`/v1/rules/${B.preset}`),
      keys: keys.map((k) => `${k.id}:${String(k.revoked_at)}`),
      model: models?.version ?? null,
      impression: (await asBeta('GET', `/v1/impressions/${ids.requestId}`)).status,
    };
  }

  beforeAll(async () => {
    t = await openTestApp({ holdout: 0 });
    for (const scope of SCOPES) alpha[scope] = (await t.engine.access.create({ scope, app: 'alpha' })).key;
    const beta = await t.engine.access.create({ scope: 'admin', app: 'beta' });
    betaAdmin = beta.key;

    // Beta: a catalog, events, a profile, a model, an experiment, a decision point with a decision, a
    // preset, a metric, a served list.
    const items = Array.from({ length: 12 }, (_, i) => ({
      id: i === 0 ? B.item : `beta-item-${i + 1}`,
      categories: ['beta'],
      attributes: { note: MARK },
    }));
    expect((await asBeta('POST', '/v1/items', { items })).status).toBe(200);
    const now = Date.now();
    const events = Array.from({ length: 120 }, (_, n) => ({
      event: n % 5 === 0 ? 'purchased' : 'product_viewed',
      user_id: n % 6 === 0 ? B.user : `beta-user-${(n % 6) + 1}`,
      item_id: items[(n * 5) % items.length]!.id,
      timestamp: now - HOUR + n * 1000,
      properties: { note: MARK },
    }));
    expect((await asBeta('POST', '/v1/events', { events })).status).toBe(200);
    expect(
      (await asBeta('PUT', `/v1/users/${B.user}`, { traits: { note: MARK }, consent: 'full' })).status,
    ).toBe(200);
    expect((await asBeta<{ status: string }>('POST', '/v1/admin/train?wait=true')).body.status).toBe(
      'serving',
    );
    const experiment = await asBeta('POST', '/v1/experiments', {
      id: B.experiment,
      description: MARK,
      variants: [
        { name: 'control', weight: 50, control: true },
        { name: 'treatment', weight: 50, config: { note: MARK } },
      ],
    });
    expect(experiment.status, experiment.text).toBe(201);
    expect((await asBeta('POST', `/v1/experiments/${B.experiment}/start`)).status).toBe(200);
    const point = await asBeta(
      'POST',
      '/v1/decision-points',
      deviceBannerPoint(B.point, ['beta-a', 'beta-b']),
    );
    expect(point.status, point.text).toBe(201);
    const decided = await asBeta<{ decision_id: string }>('POST', `/v1/decisions/${B.point}`, {
      user_id: B.user,
      context: { device: 'mobile' },
    });
    expect(decided.status).toBe(200);
    expect((await asBeta('PUT', `/v1/rules/${B.preset}`, { boost: 'categories=beta:2' })).status).toBe(200);
    const metric = await asBeta('PUT', `/v1/metrics/${B.metric}`, {
      kind: 'conversion',
      event: 'purchased',
      windowHours: 24,
      description: MARK,
    });
    expect(metric.status, metric.text).toBeLessThan(300);
    const served = await asBeta<{ request_id: string }>('GET', `/v1/recommendations?user_id=${B.user}&n=5`);
    expect(served.status).toBe(200);
    ids = { requestId: served.body.request_id, decisionId: decided.body.decision_id, keyId: beta.info.id };
  });
  afterAll(() => t.close());

  it('keeps each app in a store of its own, beside the default app', () => {
    expect(existsSync(join(t.dir, 'apps', 'beta'))).toBe(true);
  });

  it("gives no key of one app a way to read or change another app's data, models or experiments", async () => {
    const before = await betaState();
    const leaks: string[] = [];
    for (const [route, access] of Object.entries(ROUTE_ACCESS)) {
      if (access === 'public' || route.startsWith('OPTIONS ')) continue;
      const [method, pattern] = route.split(' ') as [Method, string];
      for (const scope of SCOPES) {
        const { url, body } = requestFor(method, pattern, ids);
        const reply = await call(t.app, method, url, body, bearer(alpha[scope]));
        if (reply.text.includes(MARK)) leaks.push(`${route} with alpha's ${scope} key: ${reply.text}`);
        expect(reply.status, `${route}: ${reply.text}`).toBeLessThan(500);
      }
    }
    expect(leaks).toEqual([]);
    // Whatever alpha's keys did (events, items, experiments, rules, erasure, revocation) happened in alpha.
    expect(await betaState()).toEqual(before);
  });

  it("answers alpha's requests from alpha's own data", async () => {
    const sent = await call<{ accepted: number }>(
      t.app,
      'POST',
      '/v1/events',
      { event: 'product_viewed', user_id: 'alpha-user', item_id: 'alpha-item' },
      bearer(alpha.ingest),
    );
    expect(sent.body.accepted).toBe(1);
    const asAlpha = await call<{ events: unknown[] }>(
      t.app,
      'GET',
      '/v1/users/alpha-user/events',
      undefined,
      bearer(alpha.admin),
    );
    expect(asAlpha.body.events).toHaveLength(1);
    expect((await asBeta<{ events: unknown[] }>('GET', '/v1/users/alpha-user/events')).body.events).toEqual(
      [],
    );
    // Keys and the audit log: each admin sees their own app's.
    const keys = await call<{ keys: { app: string }[] }>(
      t.app,
      'GET',
      '/v1/keys',
      undefined,
      bearer(alpha.admin),
    );
    expect(new Set(keys.body.keys.map((k) => k.app))).toEqual(new Set(['alpha']));
    const audit = await call<{ entries: { actor: string }[] }>(
      t.app,
      'GET',
      '/v1/audit?limit=1000',
      undefined,
      bearer(alpha.admin),
    );
    // Alpha's admin sees its own key's actions (aimed at beta's ids, done in alpha), none of beta's.
    const alphaAdminId = alpha.admin.split('_')[2];
    expect(audit.body.entries.length).toBeGreaterThan(0);
    expect(new Set(audit.body.entries.map((e) => e.actor))).toEqual(new Set([alphaAdminId]));
  });
});
