import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../store/index.js';
import { BUILT_IN_METRIC_NAMES, ExperimentError, type ExperimentInput } from './definition.js';
import { ExperimentRegistry } from './registry.js';
import { HOLDOUT } from './types.js';

let dir: string;
let store: Store;
let clock = 1_800_000_000_000;

async function registry(holdout = 0): Promise<ExperimentRegistry> {
  return ExperimentRegistry.open(store, {
    holdout,
    metricNames: () => BUILT_IN_METRIC_NAMES,
    exposureFlushMs: 5,
    onError: (error) => {
      throw error;
    },
    now: () => clock,
  });
}

const twoArms = (id: string, overrides: Partial<ExperimentInput> = {}): ExperimentInput => ({
  id,
  variants: [{ name: 'control' }, { name: 'ease', model: 'ease' }],
  ...overrides,
});

async function refusal(promise: Promise<unknown>): Promise<ExperimentError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ExperimentError);
  return error as ExperimentError;
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'attune-experiments-'));
  store = await openStore(`sqlite:${dir}`);
});

afterEach(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

describe('ExperimentRegistry', () => {
  it('creates a draft with defaults, starts and stops it, and another instance reads the same', async () => {
    const experiments = await registry();
    const created = await experiments.create(twoArms('new-ranker'));
    expect(created).toMatchObject({
      status: 'draft',
      layer: 'default',
      traffic: 1,
      revision: 1,
      metrics: ['purchase_conversion', 'revenue_per_user', 'click_through'],
      guardrails: ['day7_retention'],
    });
    expect(created.variants.map((v) => [v.name, v.control])).toEqual([
      ['control', true],
      ['ease', false],
    ]);
    // A draft places nobody.
    expect(experiments.plan('u1', null)).toMatchObject({ assignments: [] });
    clock += 1000;
    const started = await experiments.start('new-ranker');
    expect(started).toMatchObject({ status: 'running', startedAt: clock, revision: 2 });
    expect(experiments.plan('u1', null)).toMatchObject({ assignments: [{ experiment: 'new-ranker' }] });
    expect(experiments.modelsWanted()).toEqual(['ease']);

    const elsewhere = await registry();
    expect(elsewhere.get('new-ranker')).toEqual(started);
    await elsewhere.stop('new-ranker');
    // The first instance sees the stop on its next refresh; a stopped experiment places nobody (control).
    await experiments.refresh();
    expect(experiments.get('new-ranker')?.status).toBe('stopped');
    expect(experiments.plan('u1', null)).toMatchObject({ assignments: [], treatment: {} });
    expect(experiments.modelsWanted()).toEqual([]);
    expect((await refusal(experiments.start('new-ranker'))).status).toBe(409);
  });

  it.each([
    [{ id: 'Bad Id' }, 'id'],
    [{ id: HOLDOUT }, 'id'],
    [{ traffic: 0 }, 'traffic'],
    [{ traffic: 1.5 }, 'traffic'],
    [{ target: 'decisions' }, 'target'],
    [{ variants: [{ name: 'control' }] }, 'variants'],
    [{ variants: [{ name: 'a' }, { name: 'b' }] }, 'variants'],
    [
      {
        variants: [
          { name: 'a', control: true },
          { name: 'b', control: true },
        ],
      },
      'variants',
    ],
    [{ variants: [{ name: 'control' }, { name: 'control' }] }, 'variants[1].name'],
    [{ variants: [{ name: 'control' }, { name: 'B-1' }] }, 'variants[1].name'],
    [{ variants: [{ name: 'control' }, { name: 'b', weight: -1 }] }, 'variants[1].weight'],
    [{ variants: [{ name: 'control' }, { name: 'b', model: 'gpt' }] }, 'variants[1].model'],
    [{ metrics: ['purchase_conversion', 'nope'] }, 'metrics[1]'],
    [{ audience: [{ trait: 'age', op: 'gt', value: 'x' }] }, 'audience[0].value'],
  ] as const)('refuses %o naming the field %s', async (overrides, field) => {
    const experiments = await registry();
    const error = await refusal(
      experiments.create({ ...twoArms('e'), ...(overrides as Partial<ExperimentInput>) }),
    );
    expect(error.status).toBe(400);
    expect(error.field).toBe(field);
    expect(error.message).toContain(`field "${field}"`);
    // Nothing was stored.
    expect(await store.listExperiments()).toEqual([]);
  });

  it('refuses a duplicate id, a stale revision and changing a running experiment’s arms', async () => {
    const experiments = await registry();
    await experiments.create(twoArms('e'));
    expect((await refusal(experiments.create(twoArms('e')))).status).toBe(409);
    const updated = await experiments.update('e', { name: 'renamed', revision: 1 });
    expect(updated).toMatchObject({ name: 'renamed', revision: 2 });
    expect((await refusal(experiments.update('e', { name: 'again', revision: 1 }))).field).toBe('revision');
    await experiments.start('e');
    const arms = await refusal(
      experiments.update('e', { variants: [{ name: 'control' }, { name: 'other' }] }),
    );
    expect(arms).toMatchObject({ status: 409, field: 'variants' });
    // Weights and treatments may change while running.
    const reweighted = await experiments.update('e', {
      variants: [
        { name: 'control', weight: 3 },
        { name: 'ease', weight: 1, model: 'als' },
      ],
    });
    expect(reweighted.variants.map((v) => [v.weight, v.treatment.model])).toEqual([
      [3, undefined],
      [1, 'als'],
    ]);
    expect((await refusal(experiments.update('missing', {}))).status).toBe(404);
  });

  it('places experiments of one layer side by side, and refuses one that does not fit', async () => {
    const experiments = await registry();
    const a = await experiments.create(twoArms('a', { traffic: 0.4 }));
    const b = await experiments.create(twoArms('b', { traffic: 0.5 }));
    expect(a.slice.start).toBe(0);
    expect(b.slice.start).toBeCloseTo(0.4, 12);
    const tooWide = await refusal(experiments.create(twoArms('c', { traffic: 0.2 })));
    expect(tooWide).toMatchObject({ status: 409, field: 'traffic' });
    // Another layer has room; stopping a frees its range.
    expect((await experiments.create(twoArms('c', { traffic: 0.2, layer: 'other' }))).slice.start).toBe(0);
    await experiments.start('a');
    await experiments.stop('a');
    expect((await experiments.create(twoArms('d', { traffic: 0.3 }))).slice.start).toBe(0);
    // A running b ramps in place; past the end of the layer it is refused rather than moved (its users
    // would change), although [0.3, 1) would hold it.
    await experiments.start('b');
    expect((await experiments.update('b', { traffic: 0.6 })).slice.start).toBeCloseTo(0.4, 12);
    expect((await refusal(experiments.update('b', { traffic: 0.7 }))).field).toBe('traffic');
    // A draft moves to where it fits.
    expect((await experiments.update('d', { traffic: 0.35 })).slice.start).toBe(0);
  });

  it('logs each user’s first exposure once per experiment, with the holdout’s arm', async () => {
    const experiments = await registry(0.5);
    await experiments.create(twoArms('e', { traffic: 1 }));
    await experiments.start('e');
    const users = Array.from({ length: 40 }, (_, i) => `u${i}`);
    for (let round = 0; round < 3; round++) {
      for (const user of users) {
        const plan = experiments.plan(user, null);
        experiments.expose(user, plan, plan.kind === 'holdout' ? [] : plan.assignments, clock + round);
      }
    }
    await experiments.flush();
    const holdout = await store.countExposures(HOLDOUT);
    expect((holdout[HOLDOUT] ?? 0) + (holdout['personalized'] ?? 0)).toBe(40);
    const inExperiment = await store.countExposures('e');
    expect((inExperiment['control'] ?? 0) + (inExperiment['ease'] ?? 0)).toBe(holdout['personalized']);
    for await (const batch of store.scanExposures('e')) {
      // The first round's time: later exposures of the same user change nothing.
      for (const exposure of batch) expect(exposure.at).toBe(clock);
    }
  });

  it('logs an exposure the full backlog dropped on the user’s next request, not never', async () => {
    // The store's exposure writes wait for a gate: the backlog fills, as with a disk that fell behind.
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const real = store;
    const slow = new Proxy(real, {
      get(target, name) {
        if (name === 'appendExposures') {
          return async (batch: Parameters<Store['appendExposures']>[0]) => {
            await gate;
            return real.appendExposures(batch);
          };
        }
        const value: unknown = Reflect.get(target, name);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    let dropped = 0;
    const experiments = await ExperimentRegistry.open(slow, {
      holdout: 0,
      metricNames: () => BUILT_IN_METRIC_NAMES,
      exposureFlushMs: 5,
      maxExposureBacklog: 512,
      onError: (error) => {
        throw error;
      },
      onDrop: (count) => (dropped += count),
      now: () => clock,
    });
    await experiments.create(twoArms('e', { traffic: 1 }));
    await experiments.start('e');
    const users = Array.from({ length: 600 }, (_, i) => `u${i}`);
    const exposeAll = (at: number) => {
      for (const user of users) {
        const plan = experiments.plan(user, null);
        if (plan.kind === 'personalized') experiments.expose(user, plan, plan.assignments, at);
      }
    };
    exposeAll(clock);
    expect(dropped).toBe(600 - 512);
    open();
    await experiments.flush();
    exposeAll(clock + 1);
    await experiments.flush();
    expect(dropped).toBe(600 - 512);
    const counts = await store.countExposures('e');
    expect((counts['control'] ?? 0) + (counts['ease'] ?? 0)).toBe(600);
    const firstAt = new Map<string, number>();
    for await (const batch of store.scanExposures('e')) for (const e of batch) firstAt.set(e.userId, e.at);
    // The first 512 at their first request; the dropped ones at the request that logged them.
    expect(firstAt.get('u0')).toBe(clock);
    expect(firstAt.get('u599')).toBe(clock + 1);
  });

  it('logs a client-side exposure under the user’s own variant, never the client’s word', async () => {
    const experiments = await registry();
    await experiments.create(twoArms('e', { traffic: 1 }));
    expect(
      (await refusal(Promise.resolve().then(() => experiments.exposeClient('u1', 'e', null, clock)))).status,
    ).toBe(409);
    await experiments.start('e');
    const assignment = experiments.exposeClient('u1', 'e', null, clock);
    const plan = experiments.plan('u1', null);
    expect(plan.kind === 'personalized' && plan.assignments[0]?.variant).toBe(assignment.variant);
    expect(() => experiments.exposeClient('u1', 'missing', null, clock)).toThrow(/no experiment "missing"/);
    await experiments.flush();
    expect(await store.countExposures('e')).toEqual({ [assignment.variant]: 1 });
  });

  it('assigns by a given salt reproducibly: the same salt in another store puts every user in the same arm', async () => {
    const variantsOf = async (experiments: ExperimentRegistry) => {
      await experiments.create(twoArms('salted', { salt: 'simulate-7' }));
      await experiments.start('salted');
      return Array.from(
        { length: 2000 },
        (_, u) => experiments.assignments(`u${u}`, null).assignments[0]?.variant,
      );
    };
    const first = await variantsOf(await registry());
    const otherDir = await mkdtemp(join(tmpdir(), 'attune-experiments-'));
    const other = await openStore(`sqlite:${otherDir}`);
    try {
      const second = await variantsOf(
        await ExperimentRegistry.open(other, {
          holdout: 0,
          metricNames: () => BUILT_IN_METRIC_NAMES,
          exposureFlushMs: 5,
          onError: (error) => {
            throw error;
          },
        }),
      );
      expect(second).toEqual(first);
      expect(new Set(first)).toEqual(new Set(['control', 'ease']));
    } finally {
      await other.close();
      await rm(otherDir, { recursive: true, force: true });
    }
    // An empty salt is refused, naming the field.
    const refused = await refusal((await registry()).create(twoArms('bad-salt', { salt: '' })));
    expect(refused.field).toBe('salt');
  });
});
