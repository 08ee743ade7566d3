import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { call, type ErrorReply } from '../../test/helpers.js';
import { Engine, engineConfig } from '../engine/index.js';
import type { TrackedEvent } from '../events/index.js';
import { buildApp } from './index.js';

interface DecisionReply {
  readonly decision_id: string;
  readonly point: string;
  readonly action: { id: string; params: Record<string, number>; payload: unknown };
  readonly propensity: number;
  readonly policy: string;
  readonly ranking: { id: string; score: number | null; probability: number }[];
  readonly experiment: { id: string; variant: string } | null;
  readonly reward_deadline: string;
}

interface PointReply {
  readonly id: string;
  readonly revision: number;
  readonly learner_reset?: boolean;
  readonly status?: {
    decisions: number;
    closed: number;
    open: number;
    mean_reward: number | null;
    learner: { kind: string; updates: number; saved_version: number };
    apprentice: { rounds: number } | null;
    guardrail: { tripped: boolean; decisions: number } | null;
  };
}

type RewardReply = { status: string; decision_id: string; reward: number } & Partial<ErrorReply>;

const START = Date.UTC(2026, 11, 1, 12);
const MINUTE = 60_000;

/** A purchase by the user `buyer`. */
const purchase = (eventId: string, at: number, properties: { [key: string]: number }): TrackedEvent => ({
  eventId,
  name: 'purchased',
  userId: 'buyer',
  itemId: 'i1',
  timestamp: at,
  receivedAt: at,
  context: {},
  properties,
  requestId: null,
});

const offerPoint = (extra: Record<string, unknown> = {}) => ({
  id: 'offer',
  actions: [
    { id: 'none', params: { discount_pct: 0 } },
    { id: 'ten', params: { discount_pct: 10 }, payload: { banner: '10% off' } },
    { id: 'twenty', params: { discount_pct: 20 } },
  ],
  parameters: { discount_pct: { min: 0, max: 25 } },
  features: [
    { source: 'context', name: 'device', type: 'category', values: ['mobile', 'desktop'] },
    { source: 'context', name: 'local_time', type: 'hour' },
  ],
  learner: { kind: 'epsilon_greedy', epsilon: 0.2, seed: 3 },
  default_action: 'none',
  reward: { source: 'explicit', window: '10m' },
  ...extra,
});

describe('decision points over HTTP', () => {
  let dir: string;
  let engine: Engine;
  let app: FastifyInstance;
  let now: number;

  const open = async () => {
    engine = await Engine.open(
      engineConfig(`sqlite:${dir}`, { retrainIntervalMs: null, holdout: 0 }),
      undefined,
      {
        clock: () => now,
      },
    );
    // Replies are checked against the routes' schemas (api/openapi.ts): a mismatch is a 500.
    app = buildApp({ engine, validateReplies: true });
    await app.ready();
  };
  const shut = async () => {
    await app.close();
    await engine.close();
  };
  const decide = (body: Record<string, unknown>, point = 'offer') =>
    call<DecisionReply & Partial<ErrorReply>>(app, 'POST', `/v1/decisions/${point}`, body);
  const reward = (decisionId: string, value: number, point = 'offer') =>
    call<RewardReply>(app, 'POST', `/v1/decisions/${point}/reward`, { decision_id: decisionId, value });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'attune-decisions-'));
    now = START;
    await open();
  });
  afterEach(async () => {
    await shut();
    await rm(dir, { recursive: true, force: true });
  });

  it('creates, reads, lists, replaces and deletes a point, naming the field of a bad definition', async () => {
    const created = await call<PointReply>(app, 'POST', '/v1/decision-points', offerPoint());
    expect(created.status, created.text).toBe(201);
    expect(created.body).toMatchObject({ id: 'offer', revision: 1 });
    expect((await call(app, 'POST', '/v1/decision-points', offerPoint())).status).toBe(409);

    const outOfBounds = offerPoint({ id: 'bad' });
    (outOfBounds.actions as { params: Record<string, number> }[])[2]!.params.discount_pct = 30;
    const refused = await call<ErrorReply>(app, 'POST', '/v1/decision-points', outOfBounds);
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toContain('actions[2].params.discount_pct');
    expect(refused.body.error.message).toContain('outside its bounds [0, 25]');

    const listed = await call<{ decision_points: PointReply[] }>(app, 'GET', '/v1/decision-points');
    expect(listed.body.decision_points.map((p) => p.id)).toEqual(['offer']);

    const sameShape = await call<PointReply>(app, 'PUT', '/v1/decision-points/offer', {
      ...offerPoint({ default_action: 'ten' }),
      revision: 1,
    });
    expect(sameShape.status, sameShape.text).toBe(200);
    expect(sameShape.body).toMatchObject({ revision: 2, learner_reset: false });
    const stale = await call(app, 'PUT', '/v1/decision-points/offer', { ...offerPoint(), revision: 1 });
    expect(stale.status).toBe(409);
    const reshaped = await call<PointReply>(app, 'PUT', '/v1/decision-points/offer', {
      ...offerPoint({ learner: { kind: 'linucb', alpha: 1 } }),
    });
    expect(reshaped.body).toMatchObject({ revision: 3, learner_reset: true });

    expect((await call(app, 'DELETE', '/v1/decision-points/offer')).status).toBe(204);
    expect((await call(app, 'GET', '/v1/decision-points/offer')).status).toBe(404);
    expect((await decide({ user_id: 'u1' })).status).toBe(404);
  });

  it('decides with a propensity, a ranking that sums to one, and logs the decision', async () => {
    await call(app, 'POST', '/v1/decision-points', offerPoint());
    const reply = await decide({
      user_id: 'u1',
      context: { device: 'mobile', local_time: '2026-12-05T21:15:00+01:00', page: 'cart' },
    });
    expect(reply.status, reply.text).toBe(200);
    const body = reply.body;
    expect(body.ranking.map((r) => r.id).sort()).toEqual(['none', 'ten', 'twenty']);
    expect(body.ranking.reduce((sum, r) => sum + r.probability, 0)).toBeCloseTo(1, 12);
    expect(body.ranking.find((r) => r.id === body.action.id)?.probability).toBe(body.propensity);
    // Untrained epsilon-greedy: the three estimates tie, so every action has probability 1/3.
    expect(body.propensity).toBeCloseTo(1 / 3, 12);
    expect(body.reward_deadline).toBe(new Date(START + 10 * MINUTE).toISOString());

    await engine.decisions.flush();
    const logged = await engine.store.getDecision(body.decision_id);
    expect(logged).toMatchObject({ point: 'offer', userId: 'u1', action: body.action.id, policy: 'learner' });
    expect(logged?.offered).toEqual(['none', 'ten', 'twenty']);
    // Constant, device one-hot (mobile), local 21:15 on a circle, Saturday.
    const f = Array.from(logged!.features);
    expect(f.slice(0, 3)).toEqual([1, 1, 0]);
    expect(f[3]).toBeCloseTo(Math.cos((2 * Math.PI * 21.25) / 24), 12);
    expect(f[5]).toBe(1);

    const bad = await decide({ user_id: 'u1', context: { local_time: 'tonight' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error?.message).toContain('context.local_time');
  });

  it('keeps every choice within the bounds that rules and requests narrow, and says when nothing is left', async () => {
    await call(app, 'POST', '/v1/decision-points', {
      ...offerPoint(),
      rules: [{ when: [{ field: 'context.page', op: 'eq', value: 'home' }], max: { discount_pct: 10 } }],
    });
    for (let i = 0; i < 40; i++) {
      const home = await decide({ user_id: `u${i}`, context: { page: 'home' } });
      expect(home.body.action.params.discount_pct).toBeLessThanOrEqual(10);
      expect(home.body.ranking.map((r) => r.id)).not.toContain('twenty');
      const limited = await decide({ user_id: `u${i}`, limits: { discount_pct: { min: 5, max: 60 } } });
      expect(limited.body.action.id).not.toBe('none');
    }
    const nothing = await decide({ user_id: 'u1', context: { page: 'home' }, actions: ['twenty'] });
    expect(nothing.status).toBe(422);
    const unknown = await decide({ user_id: 'u1', actions: ['thirty'] });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error?.message).toContain('actions[0]');
  });

  it('records a reward once, refusing duplicate, late and unknown ones with a clear reply', async () => {
    await call(app, 'POST', '/v1/decision-points', offerPoint());
    const first = (await decide({ user_id: 'u1' })).body;
    const ok = await reward(first.decision_id, 2.5);
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(ok.body).toMatchObject({ status: 'recorded', reward: 2.5 });
    const again = await reward(first.decision_id, 1);
    expect(again.status).toBe(409);
    expect(again.body.status).toBe('duplicate');
    expect(again.body.error?.message).toContain('2.5');

    const unknown = await reward('no-such-decision', 1);
    expect(unknown.status).toBe(404);

    const second = (await decide({ user_id: 'u2' })).body;
    now += 11 * MINUTE;
    const late = await reward(second.decision_id, 1);
    expect(late.status).toBe(410);
    expect(late.body.status).toBe('late');

    // The late decision's window closed with the default reward (0), which is learned; the late 1 is not.
    await engine.decisions.sweep();
    await engine.decisions.flush();
    expect((await engine.store.getDecision(second.decision_id))?.outcome).toMatchObject({
      reward: 0,
      source: 'timeout',
    });
    const status = await call<PointReply>(app, 'GET', '/v1/decision-points/offer');
    expect(status.body.status?.learner.updates).toBe(2);
  });

  it('holds no request context once a decision is logged, and nothing of a rewarded one but its outcome', async () => {
    // V8's collector, to see what the service still holds (it is garbage once nothing refers to it).
    setFlagsFromString('--expose-gc');
    const collect = runInNewContext('gc') as () => void;
    await call(app, 'POST', '/v1/decision-points', offerPoint());
    const contexts: WeakRef<object>[] = [];
    const decideDirect = async (user: string) => {
      const context = { device: 'mobile', page: `p-${user}` };
      contexts.push(new WeakRef(context));
      return engine.decisions.decide('offer', { userId: user, context, available: null, limits: {} });
    };
    // The oldest decision stays open: the ones after it in its deadline queue are rewarded.
    const open = await decideDirect('open');
    for (let i = 0; i < 20; i++) {
      const decision = await decideDirect(`u${i}`);
      expect((await engine.decisions.reward('offer', decision.id, 1)).status).toBe('recorded');
    }
    expect((await engine.decisions.status('offer')).open).toBe(1);
    await engine.decisions.flush();
    await new Promise((resolve) => setImmediate(resolve));
    collect();
    // Once logged, no context is held: the open decision keeps only what its reward and learning read.
    expect(contexts.filter((ref) => ref.deref() !== undefined).length).toBe(0);
    expect((await engine.decisions.reward('offer', open.id, 1)).status).toBe('recorded');
    const status = await engine.decisions.status('offer');
    expect(status).toMatchObject({ decisions: 21, closed: 21, open: 0 });
    expect(status.learner.updates).toBe(21);
  });

  it('attributes the first matching event within the window, and closes silent windows with the default reward', async () => {
    await call(app, 'POST', '/v1/decision-points', {
      ...offerPoint(),
      reward: { source: 'event', event: 'purchased', window: '30m' },
      default_reward: -0.5,
    });
    const bought = (await decide({ user_id: 'buyer' })).body;
    const silent = (await decide({ user_id: 'idle' })).body;
    const before = await call<PointReply>(app, 'GET', '/v1/decision-points/offer');
    expect(before.body.status).toMatchObject({ decisions: 2, closed: 0, open: 2 });
    now += 5 * MINUTE;
    await engine.appendEvents([purchase('p1', now, { value: 10 })]);
    expect((await reward(bought.decision_id, 1)).status).toBe(409);
    now += 31 * MINUTE;
    await engine.decisions.sweep();
    await engine.decisions.flush();
    expect((await engine.store.getDecision(bought.decision_id))?.outcome).toMatchObject({
      reward: 1,
      source: 'event',
    });
    expect((await engine.store.getDecision(silent.decision_id))?.outcome).toMatchObject({
      reward: -0.5,
      source: 'timeout',
    });
    const status = await call<PointReply>(app, 'GET', '/v1/decision-points/offer');
    expect(status.body.status).toMatchObject({ decisions: 2, closed: 2, open: 0, mean_reward: 0.25 });
    expect(status.body.status?.learner.updates).toBe(2);
  });

  it("gives one event to the user's latest open decision of every point it rewards", async () => {
    const onPurchase = { source: 'event', event: 'purchased', window: '30m' };
    await call(app, 'POST', '/v1/decision-points', { ...offerPoint(), reward: onPurchase });
    await call(app, 'POST', '/v1/decision-points', { ...offerPoint({ id: 'banner' }), reward: onPurchase });
    const older = (await decide({ user_id: 'buyer' })).body;
    now += MINUTE;
    const newer = (await decide({ user_id: 'buyer' })).body;
    const banner = (await decide({ user_id: 'buyer' }, 'banner')).body;
    now += MINUTE;
    await engine.appendEvents([purchase('p2', now, { value: 1 })]);
    await engine.decisions.flush();
    expect((await engine.store.getDecision(newer.decision_id))?.outcome?.source).toBe('event');
    expect((await engine.store.getDecision(banner.decision_id))?.outcome?.source).toBe('event');
    expect((await engine.store.getDecision(older.decision_id))?.outcome).toBeNull();
  });

  it('sums the reward property over the window when asked to', async () => {
    await call(app, 'POST', '/v1/decision-points', {
      ...offerPoint(),
      reward: { source: 'event', event: 'purchased', window: '1h', value: 'sum', property: 'revenue' },
    });
    const d = (await decide({ user_id: 'buyer' })).body;
    now += MINUTE;
    await engine.appendEvents([purchase('a', now, { revenue: 12 }), purchase('b', now, { revenue: 8 })]);
    now += 2 * 60 * MINUTE;
    await engine.decisions.sweep();
    expect((await engine.store.getDecision(d.decision_id))?.outcome).toMatchObject({
      reward: 20,
      source: 'event',
    });
  });

  it('serves only the default action in apprentice mode while learning', async () => {
    await call(app, 'POST', '/v1/decision-points', offerPoint({ mode: 'apprentice' }));
    for (let i = 0; i < 30; i++) {
      const d = (await decide({ user_id: `u${i}`, context: { device: i % 2 ? 'mobile' : 'desktop' } })).body;
      expect(d).toMatchObject({ policy: 'apprentice', propensity: 1 });
      expect(d.action.id).toBe('none');
      await reward(d.decision_id, i % 3);
    }
    const status = await call<PointReply>(app, 'GET', '/v1/decision-points/offer');
    expect(status.body.status?.apprentice?.rounds).toBe(30);
    expect(status.body.status?.learner.updates).toBe(30);
  });

  it('follows an experiment that targets the point, and keeps the learner across a restart', async () => {
    await call(app, 'POST', '/v1/decision-points', offerPoint());
    const experiment = await call(app, 'POST', '/v1/experiments', {
      id: 'offer-test',
      target: 'decision:offer',
      start: true,
      salt: 'fixed',
      variants: [
        { name: 'control', policy: 'default' },
        { name: 'bandit', policy: 'learner' },
      ],
    });
    expect(experiment.status, experiment.text).toBe(201);
    const arms = new Map<string, number>();
    for (let i = 0; i < 60; i++) {
      const d = (await decide({ user_id: `user-${i}` })).body;
      expect(d.experiment?.id).toBe('offer-test');
      arms.set(d.experiment!.variant, (arms.get(d.experiment!.variant) ?? 0) + 1);
      if (d.experiment?.variant === 'control') expect(d).toMatchObject({ policy: 'default', propensity: 1 });
      else expect(d.policy).toBe('learner');
      expect((await reward(d.decision_id, 1)).status).toBe(200);
    }
    expect(arms.get('control')).toBeGreaterThan(10);
    expect(arms.get('bandit')).toBeGreaterThan(10);

    await shut();
    await open();
    const status = await call<PointReply>(app, 'GET', '/v1/decision-points/offer');
    expect(status.body.status?.learner.updates).toBe(60);
    expect(status.body.status?.learner.saved_version).toBeGreaterThanOrEqual(2);
    expect(status.body.status?.decisions).toBe(60);
  });
});
