import { afterAll, describe, expect, it } from 'vitest';
import { CatalogIndex, type Item } from '../catalog/index.js';
import { defaultFeedbackConfig, type TrackedEvent } from '../events/index.js';
import {
  closeAlsWorkers,
  defaultParams,
  fitRecommender,
  loadRecommender,
  type Evidence,
  type Recommender,
  type UserProfile,
} from '../models/index.js';
import { plantedClusters } from '../models/fixtures.js';
import { ModelBundle } from '../training/index.js';
import { cachedEvidence, EVIDENCE_KEPT } from './evidence-cache.js';
import { runPipeline } from './pipeline.js';
import { buildProfile, type ProfileSettings } from './profile.js';
import { defaultSessionConfig } from './session.js';
import { defaultStages } from './stages.js';
import { HistoryTables, UserHistory, type HistorySettings } from './user-history.js';

afterAll(() => closeAlsWorkers());

const NOW = Date.UTC(2026, 0, 15);

describe('cachedEvidence', () => {
  it('asks the model once per profile object and item, and again for a new profile', () => {
    const calls: number[] = [];
    const model = {
      evidence(_profile: UserProfile, item: number): Evidence {
        calls.push(item);
        return { kind: 'popular', popularity: item };
      },
    } as unknown as Recommender;
    const profile: UserProfile = {
      userIndex: 0,
      fresh: false,
      items: Int32Array.of(1),
      weights: Float32Array.of(1),
    };
    expect(cachedEvidence(model, profile, 4)).toEqual({ kind: 'popular', popularity: 4 });
    expect(cachedEvidence(model, profile, 4)).toEqual({ kind: 'popular', popularity: 4 });
    expect(calls).toEqual([4]);
    // The user's next event gives a new profile object: nothing found for it.
    cachedEvidence(model, { ...profile }, 4);
    expect(calls).toEqual([4, 4]);
    // Past the bound, evidence is given but not kept.
    for (let item = 0; item < EVIDENCE_KEPT + 10; item++) cachedEvidence(model, profile, 1000 + item);
    calls.length = 0;
    cachedEvidence(model, profile, 1000);
    cachedEvidence(model, profile, 1000 + EVIDENCE_KEPT + 5);
    expect(calls).toEqual([1000 + EVIDENCE_KEPT + 5]);
  });
});

/**
 * The whole pipeline with what serving keeps per profile (scores, ALS's and the hybrid's state, recency
 * views, evidence) against a bundle whose models are loaded anew (nothing kept): the same lists, scores
 * and reasons for the same history, before and after the user's next event.
 */
describe('state kept per profile, through the pipeline', () => {
  const users = 40;
  const matrix = plantedClusters(users, 20);
  const userIds = Array.from({ length: users }, (_, u) => `u${u}`);
  const itemIds = Array.from({ length: matrix.cols }, (_, i) => `i${i}`);
  const settings: ProfileSettings = { feedback: defaultFeedbackConfig, session: defaultSessionConfig };
  const historySettings: HistorySettings = {
    feedback: defaultFeedbackConfig,
    windowMs: defaultSessionConfig.windowMs,
    windowEvents: defaultSessionConfig.windowEvents,
  };
  const catalog = new CatalogIndex(itemIds.map((id, i) => item(id, [i % 2 === 0 ? 'even' : 'odd'])));
  const request = (userId: string) => ({
    requestId: 'r',
    userId,
    n: 5,
    excludeSeen: true,
    filter: null,
    now: NOW,
  });

  async function bundles(): Promise<{ kept: ModelBundle; anew: () => ModelBundle }> {
    const als = { ...defaultParams.als, factors: 8, iterations: 4, recency: 3 };
    const hybrid = { ...defaultParams.hybrid, components: 8, epochs: 4, recency: 3 };
    const rp3beta = { ...defaultParams.rp3beta, neighbors: 10, recency: 3 };
    const blend = await fitRecommender(
      'blend',
      { matrix },
      {
        components: [
          { model: 'hybrid', weight: 1, params: hybrid },
          { model: 'rp3beta', weight: 0.7, params: rp3beta },
          { model: 'als', weight: 0.5, params: als },
        ],
      },
    );
    const popularity = await fitRecommender('popularity', { matrix }, defaultParams.popularity);
    const bundleWith = (models: readonly Recommender[]): ModelBundle =>
      new ModelBundle(
        {
          version: 1,
          trainedAt: NOW - 1000,
          // Events up to this position were trained on; later ones make the profile fresh.
          position: 1_000,
          cutoff: NOW - 1000,
          primary: 'blend',
          eventsRead: 0,
          users,
          items: itemIds.length,
          interactions: 0,
          fitSeconds: {},
        },
        userIds,
        itemIds,
        new Map(models.map((m) => [m.name, m])),
      );
    return {
      kept: bundleWith([blend, popularity]),
      anew: () => bundleWith([blend, popularity].map((m) => loadRecommender(m.toArtifact()))),
    };
  }

  /** User `u`'s training row as events, oldest first, all at or below the bundle's position. */
  function rowEvents(u: number): { readonly event: TrackedEvent; readonly position: number }[] {
    const list = [];
    for (let k = matrix.indptr[u]!; k < matrix.indptr[u + 1]!; k++) {
      const itemId = itemIds[matrix.indices[k]!]!;
      list.push({ event: viewed(`u${u}`, itemId, NOW - 100_000 + k), position: k + 1 });
    }
    return list;
  }

  it('serves the same as models keeping nothing, before and after the next event', async () => {
    const { kept, anew } = await bundles();
    for (const u of [3, 27]) {
      const userId = `u${u}`;
      const tables = new HistoryTables();
      const history = UserHistory.empty(tables).withEvents(rowEvents(u), historySettings);
      const serve = (bundle: ModelBundle, h: UserHistory) =>
        runPipeline(
          defaultStages,
          request(userId),
          buildProfile(userId, h, bundle, settings),
          bundle,
          catalog,
        );

      const first = serve(kept, history);
      expect(serve(kept, history)).toEqual(first);
      expect(serve(anew(), history)).toEqual(first);

      // One more event, past the bundle's position: a fresh profile, a new object.
      const next = history.withEvents(
        [{ event: viewed(userId, 'i0', NOW - 10), position: 5_000 }],
        historySettings,
      );
      const after = serve(kept, next);
      expect(buildProfile(userId, next, kept, settings).model.fresh).toBe(true);
      expect(after).toEqual(serve(anew(), next));
      expect(after.items.map((i) => i.score)).not.toEqual(first.items.map((i) => i.score));
    }
  });
});

function viewed(userId: string, itemId: string, timestamp: number): TrackedEvent {
  return {
    eventId: `${userId}:${itemId}:${timestamp}`,
    name: 'product_viewed',
    userId,
    itemId,
    timestamp,
    receivedAt: timestamp,
    context: {},
    properties: {},
    requestId: null,
  };
}

function item(id: string, categories: readonly string[]): Item {
  return {
    id,
    categories: [...categories],
    tags: [],
    price: 10,
    available: true,
    createdAt: NOW - 100 * 86_400_000,
    expiresAt: null,
    attributes: {},
    updatedAt: NOW,
  };
}
