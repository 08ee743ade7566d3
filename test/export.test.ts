import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, get, ingest, openTestApp, type TestApp, deviceBannerPoint } from './helpers.js';

interface ExportReply {
  readonly format: string;
  readonly user_id: string;
  readonly profile: { traits: Record<string, unknown> } | null;
  readonly consent: { value: string; recorded: boolean };
  readonly events: { event: string; item_id: string }[];
  readonly impressions: { request_id: string; items: unknown[] }[];
  readonly experiments: { holdout: boolean; assignments: unknown[]; exposures: unknown[] };
  readonly decisions: {
    decision_id: string;
    point: string;
    action: string;
    outcome: { reward: number } | null;
  }[];
  readonly features: Record<string, unknown> | null;
}

describe('GET /v1/users/:id/export', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await openTestApp({ holdout: 0 });
    const events = [];
    for (let u = 0; u < 6; u++)
      for (let i = 0; i < 5; i++)
        events.push({
          event: 'product_viewed',
          user_id: `u${u}`,
          item_id: `i${(u + i) % 9}`,
          timestamp: 1_700_000_000_000 + u * 100 + i,
        });
    await ingest(t.app, events);
    await t.engine.train();
    await call(t.app, 'PUT', '/v1/users/u1', { traits: { plan: 'pro' }, consent: 'full' });
    const point = await call(t.app, 'POST', '/v1/decision-points', deviceBannerPoint('banner'));
    expect(point.status, point.text).toBe(201);
  });
  afterAll(() => t.close());

  it('holds everything about the user in one document, and nothing about anyone else', async () => {
    const served = await get<{ request_id: string }>(t.app, '/v1/recommendations?user_id=u1&n=3');
    const decided = await call<{ decision_id: string; action: { id: string } }>(
      t.app,
      'POST',
      '/v1/decisions/banner',
      {
        user_id: 'u1',
        context: { device: 'mobile' },
      },
    );
    expect(decided.status, decided.text).toBe(200);
    await call(t.app, 'POST', '/v1/decisions/banner/reward', {
      decision_id: decided.body.decision_id,
      value: 1,
    });

    const reply = await get<ExportReply>(t.app, '/v1/users/u1/export');
    expect(reply.status, reply.text).toBe(200);
    const doc = reply.body;
    expect(doc).toMatchObject({
      format: 'attune.user-export',
      user_id: 'u1',
      profile: { traits: { plan: 'pro' } },
    });
    expect(doc.consent).toEqual({ value: 'full', recorded: true });
    expect(doc.events).toHaveLength(5);
    expect(doc.events.every((e) => e.event === 'product_viewed')).toBe(true);
    expect(doc.impressions.map((i) => i.request_id)).toEqual([served.body.request_id]);
    expect(doc.decisions).toEqual([
      expect.objectContaining({
        decision_id: decided.body.decision_id,
        point: 'banner',
        outcome: expect.objectContaining({ reward: 1 }),
      }),
    ]);
    expect(doc.features).not.toBeNull();
    // Nothing of another user: their id appears nowhere in the document.
    for (const other of ['u0', 'u2', 'u3', 'u4', 'u5']) expect(reply.text).not.toContain(`"${other}"`);
  });

  it('is 404 for a user nothing is held about, and needs the admin scope (audited)', async () => {
    expect((await get(t.app, '/v1/users/nobody/export')).status).toBe(404);
    const { key } = await t.engine.access.create({ scope: 'server' });
    const refused = await call<{ error: { message: string } }>(
      t.app,
      'GET',
      '/v1/users/u1/export',
      undefined,
      {
        authorization: `Bearer ${key}`,
      },
    );
    expect(refused.status).toBe(403);
    expect(refused.body.error.message).toMatch(/needs the admin scope/);
  });
});
