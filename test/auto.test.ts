import { availableParallelism } from 'node:os';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  get,
  loadShop,
  openTestApp,
  plantedShop,
  recommendOk,
  train,
  type ModelsReply,
  type TestApp,
} from './helpers.js';
import { plantedClusters, rowProfile } from '../src/models/fixtures.js';
import { temporalSelectionSet } from '../src/evaluation/auto.js';
import { rankHeldOut } from '../src/evaluation/scoring.js';
import {
  blendOf,
  fitRecommender,
  paramsFromJson,
  type ModelName,
  type Recommender,
} from '../src/models/index.js';
import type { JsonValue } from '../src/shared/types.js';
import { BUNDLE_ARTIFACT, buildTrainingSet, ModelBundle } from '../src/training/index.js';

/** `GET /v1/models`' `serving.selection`, as these tests read it. */
interface SelectionJson {
  readonly mode: string;
  readonly chosen: { readonly model: string; readonly params: unknown };
  readonly valNdcg: number | null;
  readonly fallback: string | null;
  readonly validationUsers: number;
  readonly tried: {
    readonly model: string;
    readonly params: unknown;
    readonly valNdcg: number | null;
    readonly skipped?: string;
    readonly msPerUser?: number;
    readonly overBudget?: boolean;
  }[];
}

async function servingSelection(t: TestApp): Promise<{ primary: string; selection: SelectionJson | null }> {
  const reply = await get<ModelsReply>(t.app, '/v1/models');
  expect(reply.status, reply.text).toBe(200);
  const serving = reply.body.serving as unknown as { primary_model: string; selection: SelectionJson | null };
  return { primary: serving.primary_model, selection: serving.selection };
}

describe('scheduled retrain with automatic selection', () => {
  // 120 users with 8 items each: every user holds out one item for validation, plenty to choose by.
  const shop = plantedShop({ usersPerGroup: 60, perUser: 8 });
  let t: TestApp;
  beforeAll(async () => {
    // No scoring budget: what is chosen must not depend on how fast this machine scores.
    t = await openTestApp({ selection: 'auto', scoringBudgetMs: Infinity });
    await loadShop(t.app, shop);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('tunes every model on a validation split, serves the winner and records what it tried', async () => {
    expect(await train(t.app)).toBe(1);
    const { primary, selection } = await servingSelection(t);
    expect(selection).not.toBeNull();
    expect(selection!.mode).toBe('auto');
    expect(selection!.fallback).toBeNull();
    expect(selection!.validationUsers).toBe(120);
    expect(primary).toBe(selection!.chosen.model);
    const singles = selection!.tried.filter((t) => t.model !== 'blend');
    expect([...new Set(singles.map((t) => t.model))].sort()).toEqual(
      ['als', 'ease', 'hybrid', 'itemknn', 'popularity', 'rp3beta'].sort(),
    );
    // Every single model was timed, and read with recency weighting too (popularity ignores history).
    for (const trial of singles) expect(trial.msPerUser).toBeGreaterThan(0);
    const recencies = (model: string) =>
      singles.filter((t) => t.model === model).map((t) => (t.params as { recency?: number }).recency ?? null);
    expect(recencies('itemknn')).toContain(null);
    expect(recencies('itemknn').filter((r) => r !== null).length).toBeGreaterThan(0);
    expect(recencies('popularity')).toEqual([null]);

    // Each candidate fitted and scored again here, through the evaluation harness, on the validation cut
    // of the same event log: the recorded scores are true and the winner is the best of them.
    const events = await buildTrainingSet(t.engine.store, t.engine.config.feedback);
    const set = temporalSelectionSet(events.input);
    const fitOptions = { threads: Math.min(2, availableParallelism()) };
    const scored: { model: string; params: unknown; ndcg: number }[] = [];
    for (const trial of singles) {
      const name = trial.model as ModelName;
      const params = paramsFromJson(name, trial.params as JsonValue);
      const model = await fitRecommender(name, set.input, params, fitOptions);
      const { ndcg } = rankHeldOut(model, set.input.matrix, set.validation, 20, set.input.times);
      expect(trial.valNdcg, `${name} ${JSON.stringify(trial.params)}`).toBeCloseTo(ndcg, 6);
      scored.push({ model: name, params: trial.params, ndcg });
    }
    const best = Math.max(...scored.map((s) => s.ndcg));
    // A blend serves only when it beats every single model (scored here from its recipe); otherwise the
    // best single model serves.
    const chosen = selection!.chosen;
    let chosenNdcg: number;
    if (chosen.model === 'blend') {
      const recipe = chosen.params as {
        components: { model: ModelName; weight: number; params: JsonValue }[];
      };
      const parts = [];
      for (const c of recipe.components) {
        const params = paramsFromJson(c.model, c.params);
        parts.push({ model: await fitRecommender(c.model, set.input, params, fitOptions), weight: c.weight });
      }
      chosenNdcg = rankHeldOut(blendOf(parts), set.input.matrix, set.validation, 20, set.input.times).ndcg;
      expect(chosenNdcg).toBeGreaterThan(best + 1e-6);
    } else {
      const match = scored.find(
        (s) => s.model === chosen.model && JSON.stringify(s.params) === JSON.stringify(chosen.params),
      );
      expect(match, JSON.stringify(chosen)).toBeDefined();
      chosenNdcg = match!.ndcg;
      expect(chosenNdcg).toBeCloseTo(best, 9);
    }
    expect(selection!.valNdcg).toBeCloseTo(chosenNdcg, 6);
  });

  it('serves recommendations from the chosen model, decoded from the stored bundle', async () => {
    const { primary } = await servingSelection(t);
    const user = shop.groupA[0]!;
    const reply = await recommendOk(t.app, `user_id=${user}&n=5`);
    expect(reply.model).toBe(primary);
    // The group's own items come first whatever model won.
    for (const item of reply.items.slice(0, 3)) expect(item.item_id.startsWith('a-')).toBe(true);
    // What serves was decoded from the stored bundle: the chosen model (a blend too) survives storage.
    const stored = await t.engine.store.loadArtifact(BUNDLE_ARTIFACT, 1);
    const bundle = ModelBundle.decode(stored!.payload);
    expect(bundle.info.primary).toBe(primary);
    expect(bundle.model(bundle.info.primary)?.name).toBe(primary);
  });
});

describe('automatic selection under a scoring budget', () => {
  it('serves the fastest model measured when nothing scores within the budget', async () => {
    const t = await openTestApp({ selection: 'auto', scoringBudgetMs: 1e-9 });
    try {
      await loadShop(t.app, plantedShop({ usersPerGroup: 60, perUser: 8 }));
      expect(await train(t.app)).toBe(1);
      const { primary, selection } = await servingSelection(t);
      const singles = selection!.tried.filter((t) => t.model !== 'blend');
      expect(singles.every((t) => t.overBudget === true)).toBe(true);
      // No blend is tried: every pair of components costs more than one.
      expect(selection!.tried.some((t) => t.model === 'blend')).toBe(false);
      const fastest = singles.reduce((a, b) => (b.msPerUser! < a.msPerUser! ? b : a));
      expect(primary).toBe(fastest.model);
    } finally {
      await t.close();
    }
  });
});

describe('automatic selection on too little data', () => {
  it('falls back to the configured primary model and says why', async () => {
    const t = await openTestApp({ selection: 'auto' });
    try {
      await loadShop(t.app, plantedShop({ usersPerGroup: 10 }));
      expect(await train(t.app)).toBe(1);
      const { primary, selection } = await servingSelection(t);
      expect(primary).toBe('als');
      expect(selection?.fallback).toMatch(/too few/);
      expect(selection?.tried).toEqual([]);
    } finally {
      await t.close();
    }
  });

  it("'fixed' keeps the configured model and records no selection", async () => {
    const t = await openTestApp({ selection: 'fixed', primaryModel: 'itemknn' });
    try {
      await loadShop(t.app, plantedShop({ usersPerGroup: 60, perUser: 8 }));
      expect(await train(t.app)).toBe(1);
      const { primary, selection } = await servingSelection(t);
      expect(primary).toBe('itemknn');
      expect(selection).toBeNull();
    } finally {
      await t.close();
    }
  });
});

describe('a blend in a bundle', () => {
  it('is stored by reference to the bundle’s own models and decodes to the same scores', async () => {
    const matrix = plantedClusters(30, 18);
    const input = { matrix };
    const itemknn = await fitRecommender('itemknn', input, { neighbors: 5, shrinkage: 0 });
    const popularity = await fitRecommender('popularity', input, { halfLifeDays: null });
    const blend = blendOf([
      { model: itemknn, weight: 1 },
      { model: popularity, weight: 0.3 },
    ]);
    const info = {
      version: 1,
      trainedAt: 0,
      position: 0,
      cutoff: 0,
      primary: 'blend' as const,
      eventsRead: 0,
      users: 30,
      items: 18,
      interactions: matrix.data.length,
      fitSeconds: {},
    };
    const ids = (n: number, prefix: string) => Array.from({ length: n }, (_, j) => `${prefix}${j}`);
    const models = new Map<ModelName, Recommender>([
      ['popularity', popularity],
      ['itemknn', itemknn],
    ]);
    const without = new ModelBundle(info, ids(30, 'u'), ids(18, 'i'), models).encode();
    const withBlend = new ModelBundle(
      info,
      ids(30, 'u'),
      ids(18, 'i'),
      new Map([...models, ['blend', blend]]),
    ).encode();
    // Only a few hundred bytes of JSON more: the components' arrays are not copied.
    expect(withBlend.length - without.length).toBeLessThan(512);
    const decoded = ModelBundle.decode(withBlend).model('blend')!;
    expect(decoded.params).toEqual(blend.params);
    for (const user of [0, 20]) {
      const a = new Float32Array(18);
      const b = new Float32Array(18);
      blend.score(rowProfile(matrix, user), a);
      decoded.score(rowProfile(matrix, user), b);
      expect(b).toEqual(a);
    }
  });
});
