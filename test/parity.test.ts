/**
 * Online–offline parity: what the HTTP API serves is what the evaluation harness ranks, for the same model
 * and data. The demo shop's first 80% (its "train split", heavy users of thousands of events included) is
 * imported, a fixed model trained, and every user's top 20 asked of the running app; the harness ranks the
 * same bundle's model over the same training matrix. The lists must be identical wherever serving knows
 * nothing the harness does not, and everywhere once that knowledge (items the user turned down, items the
 * catalog no longer offers) is given to the harness too.
 */
import { afterEach, describe, expect, it } from 'vitest';

import { generateDemoShop } from '../src/demo/index.js';
import { defaultFeedbackConfig, feedbackOf } from '../src/events/index.js';
import { compareLists, evaluatedLists } from '../src/evaluation/index.js';
import { defaultEngineConfig } from '../src/engine/index.js';
import type { ModelName } from '../src/models/index.js';
import { BUNDLE_ARTIFACT, ModelBundle, buildTrainingSet } from '../src/training/index.js';
import { ids, openTestApp, recommendOk, type TestApp } from './helpers.js';

const shop = generateDemoShop({ users: 400, days: 60 });
const cut = shop.truth.start + 0.8 * (shop.truth.end - shop.truth.start);
const train = shop.events.filter((e) => e.timestamp < cut);
const K = 20;

let t: TestApp | null = null;
afterEach(async () => {
  await t?.close();
  t = null;
});

async function importTrainSplit(app: TestApp): Promise<void> {
  await app.engine.putItems(shop.items.map((item) => ({ item, createdAtGiven: true })));
  for (let start = 0; start < train.length; start += 1000)
    await app.engine.appendEvents(train.slice(start, start + 1000));
}

/** Items serving leaves out for `userId` that a training row does not say: turned down, or not offered. */
async function servingOnlyExclusions(app: TestApp, userId: string, now: number): Promise<Set<string>> {
  const out = new Set<string>();
  for (const total of await app.engine.store.userItems(userId)) {
    if (feedbackOf(defaultFeedbackConfig, { name: total.name, properties: {} }).kind === 'negative')
      out.add(total.itemId);
  }
  for (const item of shop.items) if (!app.engine.catalog.isRecommendable(item.id, now)) out.add(item.id);
  return out;
}

const FIXED: readonly {
  readonly model: Exclude<ModelName, 'popularity' | 'blend'>;
  readonly recency?: number;
}[] = [
  { model: 'itemknn' },
  { model: 'ease' },
  { model: 'als' },
  // Recency-weighted: the model reads the whole history newest first, in evaluation and serving alike.
  { model: 'als', recency: 20 },
];

describe('online–offline parity', () => {
  it.each(FIXED)(
    'serves exactly the harness ranking of a fixed $model (recency $recency)',
    async ({ model, recency }) => {
      const { models } = defaultEngineConfig;
      const app = await openTestApp({
        selection: 'fixed',
        primaryModel: model,
        coldStart: false,
        // The personalized path: held-out users get popularity by design (test/experiments.test.ts).
        holdout: 0,
        models: recency === undefined ? models : { ...models, [model]: { ...models[model], recency } },
      });
      t = app;
      await importTrainSplit(app);
      await app.engine.train();

      const artifact = await app.engine.store.loadArtifact(BUNDLE_ARTIFACT);
      const bundle = ModelBundle.decode(artifact!.payload, artifact!.version);
      const set = await buildTrainingSet(app.engine.store, defaultFeedbackConfig);
      expect(set.userIds).toEqual(bundle.userIds);
      expect(set.itemIds).toEqual(bundle.itemIds);
      const fitted = bundle.model(model)!;
      expect(fitted.params).toMatchObject(recency === undefined ? {} : { recency });

      const served = new Map<string, string[]>();
      for (const userId of bundle.userIds) {
        const reply = await recommendOk(app.app, `user_id=${encodeURIComponent(userId)}&n=${K}`);
        expect(reply.model).toBe(model);
        expect(reply.fallback).toBeNull();
        served.set(userId, ids(reply.items));
      }
      const data = {
        userIds: set.userIds,
        itemIds: set.itemIds,
        matrix: set.input.matrix,
        ...(set.input.times ? { times: set.input.times } : {}),
      };

      const raw = compareLists(served, evaluatedLists(fitted, data, K));
      const now = Date.now();
      const exclusions = new Map<string, Set<string>>();
      for (const userId of bundle.userIds)
        exclusions.set(userId, await servingOnlyExclusions(app, userId, now));
      const explained = compareLists(
        served,
        evaluatedLists(fitted, data, K, (id) => exclusions.get(id)!),
      );

      // Every difference is explained by what serving knows beyond the training row: none remains.
      expect(explained.differing.slice(0, 3)).toEqual([]);
      expect(explained.identical).toBe(bundle.userIds.length);
      // Before explaining, a list differs only where the harness ranked an item serving may not show.
      for (const { userId, evaluated } of raw.differing) {
        expect(
          evaluated.some((id) => exclusions.get(userId)!.has(id)),
          userId,
        ).toBe(true);
      }
      // The heavy users are among the users compared, with their whole histories.
      for (const heavy of shop.truth.heavyUsers) {
        expect(served.get(heavy)).toHaveLength(K);
        expect(
          set.input.matrix.indptr[set.userIds.indexOf(heavy) + 1]! -
            set.input.matrix.indptr[set.userIds.indexOf(heavy)]!,
        ).toBeGreaterThan(200);
      }
    },
  );
});
