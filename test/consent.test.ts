import { afterEach, describe, expect, it } from 'vitest';
import { call, get, ingest, openTestApp, type TestApp, type UserEventsReply } from './helpers.js';

interface UserReply {
  readonly user: { id: string; traits?: Record<string, unknown>; consent: string };
}
interface ListReply {
  readonly model: string;
  readonly consent?: string;
  readonly items: { item_id: string }[];
}

/** Four shoppers who each view six items of their own corner of a 24-item catalog, a little overlapping. */
function shop() {
  const events = [];
  for (let u = 0; u < 4; u++)
    for (let i = 0; i < 6; i++)
      for (let r = 0; r <= i % 3; r++)
        events.push({
          event: 'product_viewed',
          user_id: `u${u}`,
          item_id: `i${(u * 5 + i) % 24}`,
          timestamp: 1_700_000_000_000 + u * 100 + i * 10 + r,
        });
  return events;
}

describe('consent per user', () => {
  let t: TestApp;
  afterEach(() => t.close());

  it('is set with PUT /v1/users/:id: consent alone keeps the traits; a bad value names the field', async () => {
    t = await openTestApp();
    await call(t.app, 'PUT', '/v1/users/u1', { traits: { plan: 'pro' } });
    const set = await call<UserReply>(t.app, 'PUT', '/v1/users/u1', { consent: 'analytics' });
    expect(set.status).toBe(200);
    expect(set.body.user).toMatchObject({ id: 'u1', traits: { plan: 'pro' }, consent: 'analytics' });
    expect((await get<UserReply>(t.app, '/v1/users/u1')).body.user).toMatchObject({
      traits: { plan: 'pro' },
      consent: 'analytics',
    });
    const both = await call<UserReply>(t.app, 'PUT', '/v1/users/u1', {
      traits: { plan: 'free' },
      consent: 'full',
    });
    expect(both.body.user).toMatchObject({ traits: { plan: 'free' }, consent: 'full' });
    const bad = await call<{ error: { message: string } }>(t.app, 'PUT', '/v1/users/u1', {
      consent: 'maybe',
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toBe('field "consent": must be one of full, analytics, none');
    // Traits untouched by the refused request, and without consent the default (full) shows.
    await call(t.app, 'PUT', '/v1/users/u2', { traits: {} });
    expect((await get<UserReply>(t.app, '/v1/users/u2')).body.user.consent).toBe('full');
  });

  it('"none": the user\'s events are acknowledged and not stored; the others in the batch are', async () => {
    t = await openTestApp();
    await call(t.app, 'PUT', '/v1/users/quiet', { consent: 'none' });
    const reply = await call<{ accepted: number; withheld?: number }>(t.app, 'POST', '/v1/events', {
      events: [
        { event: 'product_viewed', user_id: 'quiet', item_id: 'i1' },
        { event: 'product_viewed', user_id: 'loud', item_id: 'i1' },
        { event: 'purchased', user_id: 'quiet', item_id: 'i2' },
      ],
    });
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ accepted: 1, withheld: 2 });
    expect((await get<UserEventsReply>(t.app, '/v1/users/quiet/events')).body.events).toEqual([]);
    expect((await get<UserEventsReply>(t.app, '/v1/users/loud/events')).body.events).toHaveLength(1);
  });

  it('"analytics": events are kept for measurement, never learned from, and the user gets the non-personalized list', async () => {
    t = await openTestApp();
    await call(t.app, 'PUT', '/v1/users/u3', { consent: 'analytics' });
    await ingest(t.app, shop());
    // Stored: measurement reads them.
    expect((await get<UserEventsReply>(t.app, '/v1/users/u3/events')).body.events.length).toBeGreaterThan(0);
    await t.engine.train();
    const models = await get<{ serving: { users: number } }>(t.app, '/v1/models');
    // Three shoppers trained on: u3 is not in the model.
    expect(models.body.serving.users).toBe(3);
    const withheld = await get<ListReply>(t.app, '/v1/recommendations?user_id=u3&n=5');
    expect(withheld.body.consent).toBe('analytics');
    expect(withheld.body.model).toBe('popularity');
    const personal = await get<ListReply>(t.app, '/v1/recommendations?user_id=u1&n=5');
    expect(personal.body.consent).toBeUndefined();
    expect(personal.body.model).not.toBe('popularity');
  });

  it('"analytics": no features, scores or segments of the user, and explanations and rankings without their history', async () => {
    t = await openTestApp();
    await ingest(t.app, shop());
    await t.engine.train();
    // Consented: u3's explanation draws on their history.
    const item = 'i20';
    const before = await get<{ history: unknown[] }>(
      t.app,
      `/v1/recommendations/explain?user_id=u3&item_id=${item}`,
    );
    expect(before.status, before.text).toBe(200);
    expect((await get(t.app, '/v1/users/u3/features')).status).toBe(200);

    await call(t.app, 'PUT', '/v1/users/u3', { consent: 'analytics' });
    for (const route of ['features', 'churn', 'segment', 'notification-time']) {
      const reply = await get<{ error: { code: string; message: string } }>(t.app, `/v1/users/u3/${route}`);
      expect(reply.status, route).toBe(451);
      expect(reply.body.error.code).toBe('consent_withheld');
      expect(reply.body.error.message).toContain('consent "analytics"');
    }
    const explained = await get(t.app, `/v1/recommendations/explain?user_id=u3&item_id=${item}`);
    expect(explained.status).toBe(200);
    expect(explained.text).not.toEqual(before.text);
    // Ranked as someone with no history: exactly as a user the engine never saw.
    const ranked = await call<{ items: { item_id: string; score: number }[] }>(t.app, 'POST', '/v1/rank', {
      user_id: 'u3',
      items: ['i15', 'i16', 'i17', 'i0'],
    });
    const stranger = await call<{ items: { item_id: string; score: number }[] }>(t.app, 'POST', '/v1/rank', {
      user_id: 'never-seen',
      items: ['i15', 'i16', 'i17', 'i0'],
    });
    expect(ranked.status).toBe(200);
    expect(ranked.body.items).toEqual(stranger.body.items);
  });

  it('"analytics" at a decision point: the default action, logged as consent, and its rewards teach the learner nothing', async () => {
    t = await openTestApp({ holdout: 0 });
    const created = await call(t.app, 'POST', '/v1/decision-points', {
      id: 'banner',
      actions: [{ id: 'a' }, { id: 'b' }, { id: 'c' }],
      features: [{ source: 'context', name: 'device', type: 'category', values: ['mobile', 'desktop'] }],
      learner: { kind: 'epsilon_greedy', epsilon: 1, seed: 3 },
      default_action: 'a',
      reward: { source: 'explicit', window: '10m' },
    });
    expect(created.status, created.text).toBe(201);
    await call(t.app, 'PUT', '/v1/users/measured', { consent: 'analytics' });
    const updates = async () =>
      (await get<{ status: { learner: { updates: number } } }>(t.app, '/v1/decision-points/banner')).body
        .status.learner.updates;
    for (let i = 0; i < 5; i++) {
      const decided = await call<{
        decision_id: string;
        action: { id: string };
        policy: string;
        propensity: number;
      }>(t.app, 'POST', '/v1/decisions/banner', { user_id: 'measured', context: { device: 'mobile' } });
      expect(decided.body).toMatchObject({ action: { id: 'a' }, policy: 'consent', propensity: 1 });
      const rewarded = await call(t.app, 'POST', '/v1/decisions/banner/reward', {
        decision_id: decided.body.decision_id,
        value: 1,
      });
      expect(rewarded.status).toBe(200);
    }
    expect(await updates()).toBe(0);
    // A user with full consent is decided for by the learner, and teaches it.
    const full = await call<{ decision_id: string; policy: string }>(t.app, 'POST', '/v1/decisions/banner', {
      user_id: 'shopper',
      context: { device: 'mobile' },
    });
    expect(full.body.policy).toBe('learner');
    await call(t.app, 'POST', '/v1/decisions/banner/reward', {
      decision_id: full.body.decision_id,
      value: 1,
    });
    expect(await updates()).toBe(1);
  });

  it('withdrawn, it stops personalization at the next request; with an "analytics" default, consenting starts it', async () => {
    t = await openTestApp({ defaultConsent: 'analytics' });
    await call(t.app, 'PUT', '/v1/users/u0', { consent: 'full' });
    await call(t.app, 'PUT', '/v1/users/u1', { consent: 'full' });
    await call(t.app, 'PUT', '/v1/users/u2', { consent: 'full' });
    await ingest(t.app, shop());
    await t.engine.train();
    // u3 never consented: default analytics, not trained on, not personalized.
    expect((await get<{ serving: { users: number } }>(t.app, '/v1/models')).body.serving.users).toBe(3);
    expect((await get<ListReply>(t.app, '/v1/recommendations?user_id=u3&n=5')).body.consent).toBe(
      'analytics',
    );
    const before = await get<ListReply>(t.app, '/v1/recommendations?user_id=u1&n=5');
    expect(before.body.model).not.toBe('popularity');
    await call(t.app, 'PUT', '/v1/users/u1', { consent: 'analytics' });
    const after = await get<ListReply>(t.app, '/v1/recommendations?user_id=u1&n=5');
    expect(after.body).toMatchObject({ consent: 'analytics', model: 'popularity' });
  });
});
