import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  call,
  get,
  ids,
  ingest,
  loadShop,
  openTestApp,
  plantedShop,
  recommendOk,
  train,
  type ErrorReply,
  type TestApp,
} from './helpers.js';

interface AssignmentsReply {
  user_id: string;
  holdout: boolean;
  assignments: { experiment: string; variant: string; control: boolean; model?: string; config: unknown }[];
}
interface ResultsReply {
  exposed: Record<string, number>;
  sample_ratio: { p_value: number; mismatch: boolean } | null;
  summary: string[];
  metrics: {
    metric: string;
    role: string;
    analysis: { variants: Record<string, { mean?: number; mean_value?: number }> } | null;
  }[];
}
interface ExperimentReply {
  id: string;
  status: string;
  revision: number;
  layer_range: [number, number];
  variants: { name: string; control: boolean; weight: number; model?: string; exposed_users?: number }[];
}

const shop = plantedShop();
const users = [...shop.groupA, ...shop.groupB];
let t: TestApp;
/** Users the global holdout (25% here, to have several among 40) takes, by the assignment endpoint. */
let heldOut: string[];
let personalized: string[];
/** Each personalized user's variant in `pop-vs-als`. */
const arms = new Map<string, string>();

beforeAll(async () => {
  t = await openTestApp({ holdout: 0.25 });
  await loadShop(t.app, shop);
  await train(t.app);
  heldOut = [];
  personalized = [];
  for (const user of users) {
    const reply = await get<AssignmentsReply>(t.app, `/v1/assignments?user_id=${user}`);
    expect(reply.status, reply.text).toBe(200);
    (reply.body.holdout ? heldOut : personalized).push(user);
  }
});
afterAll(async () => {
  await t?.close();
});

const create = (body: unknown) => call<ExperimentReply & ErrorReply>(t.app, 'POST', '/v1/experiments', body);
const exposed = async (id: string) =>
  (await get<ExperimentReply>(t.app, `/v1/experiments/${id}`)).body.variants.map((v) => v.exposed_users ?? 0);

describe('the global holdout', () => {
  it('takes about its share of users', () => {
    expect(heldOut.length).toBeGreaterThan(3);
    expect(personalized.length).toBeGreaterThan(20);
  });

  it('never gives a held-out user a personalized list: popularity under the same rules', async () => {
    for (const user of heldOut) {
      const reply = await recommendOk(t.app, `user_id=${user}&n=5`);
      expect(reply).toMatchObject({
        model: 'popularity',
        fallback: 'holdout',
        holdout: true,
        experiments: [],
      });
      // The same rules as everyone: nothing the user already has.
      for (const item of ids(reply.items)) expect(shop.seen.get(user)!.has(item)).toBe(false);
    }
    for (const user of personalized) {
      const reply = await recommendOk(t.app, `user_id=${user}&n=5`);
      expect(reply).toMatchObject({ model: 'als', fallback: null, holdout: false });
    }
  });

  it('logs one exposure per user: the held-out arm and the personalized arm', async () => {
    await t.engine.experiments.flush();
    expect(await t.engine.store.countExposures('holdout')).toEqual({
      holdout: heldOut.length,
      personalized: personalized.length,
    });
  });
});

describe('experiments over HTTP', () => {
  it('creates, lists, reads and updates an experiment, refusing bad input by field', async () => {
    const bad = await create({ id: 'x', variants: [{ name: 'a' }, { name: 'b' }] });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('field "variants"');
    const created = await create({
      id: 'pop-vs-als',
      variants: [
        { name: 'control', weight: 1 },
        { name: 'popular', weight: 1, model: 'popularity', config: { banner: 'Trending now' } },
      ],
    });
    expect(created.status, created.text).toBe(201);
    expect(created.body).toMatchObject({
      id: 'pop-vs-als',
      status: 'draft',
      revision: 1,
      layer_range: [0, 1],
    });
    const list = await get<{ experiments: ExperimentReply[]; holdout: { share: number } }>(
      t.app,
      '/v1/experiments',
    );
    expect(list.body.experiments.map((e) => e.id)).toEqual(['pop-vs-als']);
    expect(list.body.holdout.share).toBe(0.25);
    const stale = await call<ErrorReply>(t.app, 'PATCH', '/v1/experiments/pop-vs-als', {
      name: 'x',
      revision: 7,
    });
    expect(stale.status).toBe(409);
    expect(stale.body.error.message).toContain('revision');
    const renamed = await call<ExperimentReply>(t.app, 'PATCH', '/v1/experiments/pop-vs-als', {
      name: 'Pop',
    });
    expect(renamed.body.revision).toBe(2);
    expect((await get(t.app, '/v1/experiments/nope')).status).toBe(404);
  });

  it('serves each user their variant once started, names it in the reply and logs exposures once', async () => {
    // A draft changes nothing.
    const before = await recommendOk(t.app, `user_id=${personalized[0]}&n=5`);
    expect(before.experiments).toEqual([]);
    expect((await call(t.app, 'POST', '/v1/experiments/pop-vs-als/start')).status).toBe(200);
    const seen = new Map<string, string>();
    for (let round = 0; round < 3; round++) {
      for (const user of personalized) {
        const reply = await recommendOk(t.app, `user_id=${user}&n=5`);
        expect(reply.experiments).toHaveLength(1);
        const [arm] = reply.experiments;
        expect(arm).toMatchObject({ experiment: 'pop-vs-als', served: true });
        expect(reply.model).toBe(arm!.variant === 'popular' ? 'popularity' : 'als');
        expect(reply.fallback).toBeNull();
        // Sticky: the same variant every time.
        expect(seen.get(user) ?? arm!.variant).toBe(arm!.variant);
        seen.set(user, arm!.variant);
        // Assignment for client-side use agrees, with the variant's config.
        const assigned = await get<AssignmentsReply>(t.app, `/v1/assignments?user_id=${user}`);
        expect(assigned.body.assignments).toEqual([
          arm!.variant === 'popular'
            ? {
                experiment: 'pop-vs-als',
                variant: 'popular',
                control: false,
                model: 'popularity',
                config: { banner: 'Trending now' },
              }
            : { experiment: 'pop-vs-als', variant: 'control', control: true, config: null },
        ]);
      }
      for (const user of heldOut) {
        expect((await recommendOk(t.app, `user_id=${user}&n=5`)).experiments).toEqual([]);
      }
    }
    expect(new Set(seen.values())).toEqual(new Set(['control', 'popular']));
    for (const [user, arm] of seen) arms.set(user, arm);
    await t.engine.experiments.flush();
    const counts = await exposed('pop-vs-als');
    expect(counts.reduce((a, b) => a + b, 0)).toBe(personalized.length);
    expect(counts[1]).toBe([...seen.values()].filter((v) => v === 'popular').length);
  });

  it('reports each metric from the events after first exposure, with a verdict line', async () => {
    // Every user of the popular arm buys for 10; every second control user does.
    const control = [...arms].filter(([, arm]) => arm === 'control').map(([user]) => user);
    const popular = [...arms].filter(([, arm]) => arm === 'popular').map(([user]) => user);
    const buyers = [...popular, ...control.filter((_, i) => i % 2 === 0)];
    await ingest(
      t.app,
      buyers.map((user) => ({
        event: 'Order Completed',
        user_id: user,
        timestamp: new Date().toISOString(),
        properties: { revenue: 10 },
      })),
    );
    const report = await get<ResultsReply>(t.app, '/v1/experiments/pop-vs-als/results');
    expect(report.status, report.text).toBe(200);
    expect(report.body.exposed).toEqual({ control: control.length, popular: popular.length });
    expect(report.body.sample_ratio).not.toBeNull();
    const metric = (name: string) => report.body.metrics.find((m) => m.metric === name)!;
    const raw = (name: string, variant: string) => {
      const v = metric(name).analysis!.variants[variant]!;
      return v.mean_value ?? v.mean;
    };
    const controlBuyers = control.filter((_, i) => i % 2 === 0).length;
    expect(raw('purchase_conversion', 'popular')).toBe(1);
    expect(raw('purchase_conversion', 'control')).toBeCloseTo(controlBuyers / control.length, 12);
    expect(raw('revenue_per_user', 'popular')).toBe(10);
    expect(raw('revenue_per_user', 'control')).toBeCloseTo((10 * controlBuyers) / control.length, 12);
    expect(metric('purchase_conversion').role).toBe('primary');
    expect(metric('day7_retention').role).toBe('guardrail');
    expect(report.body.summary[0]).toMatch(
      /^purchase conversion \+\d+\.\d% \[.*\] for popular vs control, \d+% chance to beat control; .*sample ratio OK$/,
    );

    const holdout = await get<ResultsReply>(t.app, '/v1/experiments/holdout/results');
    expect(holdout.status, holdout.text).toBe(200);
    expect(holdout.body.exposed).toEqual({ holdout: heldOut.length, personalized: personalized.length });
    // No held-out user bought: the holdout's conversion is 0, so there is no relative lift to state; the
    // line gives the absolute difference instead of "NaN%".
    expect(holdout.body.summary.join('\n')).not.toMatch(/NaN/);
    expect(holdout.body.summary[0]).toMatch(
      /^purchase conversion \+[\d.]+ \[.*\] absolute \(holdout is 0: no relative lift\) for personalized vs holdout, /,
    );
  });

  it('records client-side exposures under the user’s own variant and refuses bad ones clearly', async () => {
    const user = personalized[0]!;
    const ok = await call<{ variant: string }>(t.app, 'POST', '/v1/exposures', {
      user_id: user,
      experiment: 'pop-vs-als',
    });
    expect(ok.status, ok.text).toBe(202);
    const assigned = await get<AssignmentsReply>(t.app, `/v1/assignments?user_id=${user}`);
    expect(ok.body.variant).toBe(assigned.body.assignments[0]!.variant);
    const held = await call<ErrorReply>(t.app, 'POST', '/v1/exposures', {
      user_id: heldOut[0],
      experiment: 'pop-vs-als',
    });
    expect(held.status).toBe(409);
    expect(held.body.error.message).toContain('holdout');
    const unknown = await call<ErrorReply>(t.app, 'POST', '/v1/exposures', {
      user_id: user,
      experiment: 'nope',
    });
    expect(unknown.status).toBe(404);
    const badId = await call<ErrorReply>(t.app, 'POST', '/v1/exposures', {
      user_id: '\ud800',
      experiment: 'pop-vs-als',
    });
    expect(badId.status).toBe(400);
    expect(badId.body.error.message).toContain('user_id');
    const badTime = await call<ErrorReply>(t.app, 'POST', '/v1/exposures', {
      user_id: user,
      experiment: 'pop-vs-als',
      timestamp: 1_700_000_000,
    });
    expect(badTime.status).toBe(400);
    expect(badTime.body.error.message).toContain('timestamp');
  });

  it('a stopped experiment serves everyone the default (control) again', async () => {
    expect((await call(t.app, 'POST', '/v1/experiments/pop-vs-als/stop')).status).toBe(200);
    for (const user of personalized) {
      const reply = await recommendOk(t.app, `user_id=${user}&n=5`);
      expect(reply).toMatchObject({ model: 'als', experiments: [] });
    }
    const restart = await call<ErrorReply>(t.app, 'POST', '/v1/experiments/pop-vs-als/start');
    expect(restart.status).toBe(409);
  });

  it('a variant naming a model the bundle lacks serves the default, unexposed, until training fits it', async () => {
    const created = await create({
      id: 'ease-test',
      start: true,
      variants: [{ name: 'control' }, { name: 'ease', model: 'ease', weight: 3 }],
    });
    expect(created.status, created.text).toBe(201);
    const easeUsers: string[] = [];
    for (const user of personalized) {
      const reply = await recommendOk(t.app, `user_id=${user}&n=5`);
      const arm = reply.experiments[0]!;
      expect(reply.model).toBe('als');
      expect(arm.served).toBe(arm.variant === 'control');
      if (arm.variant === 'ease') easeUsers.push(user);
    }
    expect(easeUsers.length).toBeGreaterThan(0);
    await t.engine.experiments.flush();
    expect((await exposed('ease-test'))[1]).toBe(0);
    await train(t.app);
    for (const user of easeUsers) {
      const reply = await recommendOk(t.app, `user_id=${user}&n=5`);
      expect(reply).toMatchObject({
        model: 'ease',
        experiments: [{ experiment: 'ease-test', served: true }],
      });
    }
    await t.engine.experiments.flush();
    expect((await exposed('ease-test'))[1]).toBe(easeUsers.length);
  });

  it('a variant’s rules preset shapes its users’ lists', async () => {
    expect((await call(t.app, 'POST', '/v1/experiments/ease-test/stop')).status).toBe(200);
    const put = await call(t.app, 'PUT', '/v1/rules/kitchen-only', { filter: ['categories=kitchen'] });
    expect(put.status, put.text).toBe(200);
    expect(
      (
        await create({
          id: 'kitchen',
          start: true,
          variants: [{ name: 'control' }, { name: 'kitchen', preset: 'kitchen-only' }],
        })
      ).status,
    ).toBe(201);
    const arms = new Set<string>();
    for (const user of shop.groupA.filter((u) => personalized.includes(u))) {
      const reply = await recommendOk(t.app, `user_id=${user}&n=5`);
      const arm = reply.experiments[0]!.variant;
      arms.add(arm);
      const kitchen = ids(reply.items).filter((id) => shop.category.get(id) === 'kitchen').length;
      // Group A users love outdoor items: only the preset's filter gives them kitchen-only lists.
      if (arm === 'kitchen') expect(kitchen).toBe(reply.items.length);
      else expect(kitchen).toBeLessThan(reply.items.length);
    }
    expect(arms).toEqual(new Set(['control', 'kitchen']));
  });

  it('a preset cannot be deleted while an experiment uses it; a variant naming a missing one serves unexposed', async () => {
    const refused = await call<ErrorReply>(t.app, 'DELETE', '/v1/rules/kitchen-only');
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toMatch(/variant "kitchen" of running experiment "kitchen"/);
    expect((await call(t.app, 'POST', '/v1/experiments/kitchen/stop')).status).toBe(200);
    expect((await call(t.app, 'DELETE', '/v1/rules/kitchen-only')).status).toBe(204);

    // Created before its preset is saved (or after it is gone): the variant's users are still served.
    const created = await create({
      id: 'ghost',
      start: true,
      variants: [{ name: 'control' }, { name: 'ghost', preset: 'never-saved', weight: 3 }],
    });
    expect(created.status, created.text).toBe(201);
    const arms = new Set<string>();
    for (const user of personalized) {
      const reply = await recommendOk(t.app, `user_id=${user}&n=5`);
      const arm = reply.experiments[0]!;
      arms.add(arm.variant);
      expect(arm.served).toBe(arm.variant === 'control');
      expect(reply.items.length).toBe(5);
    }
    expect(arms).toEqual(new Set(['control', 'ghost']));
    await t.engine.experiments.flush();
    const [control, ghost] = await exposed('ghost');
    expect(control).toBeGreaterThan(0);
    expect(ghost).toBe(0);
  });
});
