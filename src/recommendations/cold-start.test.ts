import { describe, expect, it } from 'vitest';
import { placeholderItem, type Item } from '../catalog/index.js';
import { defaultParams, HybridRecommender, type Recommender, type UserProfile } from '../models/index.js';
import { ModelBundle, type BundleInfo } from '../training/index.js';
import { coldStart, TRAITS_FALLBACK, wantsTraits, withTraits } from './cold-start.js';
import { defaultFeedbackConfig } from '../events/index.js';
import { buildProfile, type ServingProfile } from './profile.js';
import { defaultSessionConfig } from './session.js';
import { HistoryTables, UserHistory } from './user-history.js';
import type { CatalogView, PipelineContext } from './types.js';

/**
 * Items 0..4 are warm (0–2 category a, 3–4 category b), 5 (a) and 6 (b) are new. The hybrid has two
 * components: category a embeds as [1, 0], b as [0, 1]; user 0 is [1, -1] (likes a, dislikes b); the
 * trait `segment=b` embeds as [0, 1]. The primary model scores the items 5, 4, 3, 2, 1 and 0, 0.
 */
const ITEMS = 7;
const WARM = 5;
const category = (i: number): string => (i <= 2 || i === 5 ? 'a' : 'b');
const itemIds = Array.from({ length: ITEMS }, (_, i) => `i${i}`);

function hybrid(): HybridRecommender {
  const itemRepr = new Float32Array(ITEMS * 2);
  for (let i = 0; i < ITEMS; i++) itemRepr.set(category(i) === 'a' ? [1, 0] : [0, 1], i * 2);
  // Warm items carry identity embeddings too, here a large one in favour of b items: the full scores
  // would rank the new items among the warm ones differently from the features alone.
  for (let i = 0; i < WARM; i++) if (category(i) === 'b') itemRepr.set([3, 1], i * 2);
  const itemSide = {
    names: ['category=a', 'category=b'],
    embeddings: Float32Array.of(1, 0, 0, 1),
    biases: new Float32Array(2),
    indptr: Int32Array.from({ length: ITEMS + 1 }, (_, k) => k),
    indices: Int32Array.from({ length: ITEMS }, (_, i) => (category(i) === 'a' ? 0 : 1)),
    data: new Float32Array(ITEMS).fill(1),
  };
  const userSide = {
    names: ['segment=b'],
    embeddings: Float32Array.of(0, 1),
    biases: null,
    indptr: Int32Array.of(0, 0),
    indices: new Int32Array(0),
    data: new Float32Array(0),
  };
  return new HybridRecommender(
    { ...defaultParams.hybrid, components: 2 },
    1,
    ITEMS,
    Float32Array.of(1, -1),
    itemRepr,
    new Float32Array(ITEMS),
    { item: itemSide, user: userSide },
  );
}

const primaryScores = Float32Array.of(5, 4, 3, 2, 1, 0, 0);
const primary: Recommender = {
  name: 'als',
  params: {},
  nUsers: 1,
  nItems: ITEMS,
  score: (_profile, out) => out.set(primaryScores),
  similar: () => [],
  evidence: () => ({ kind: 'taste', score: 0 }),
  toArtifact: () => {
    throw new Error('not stored');
  },
};

function bundle(): ModelBundle {
  const info: BundleInfo = {
    version: 1,
    trainedAt: 0,
    position: 0,
    cutoff: 0,
    primary: 'als',
    eventsRead: 0,
    users: 1,
    items: ITEMS,
    interactions: 0,
    warmItems: WARM,
    fitSeconds: {},
  };
  const models = new Map<'als' | 'hybrid', Recommender>([
    ['als', primary],
    ['hybrid', hybrid()],
  ]);
  return new ModelBundle(info, ['user-0'], itemIds, models);
}

const catalog: CatalogView = {
  version: 1,
  get: (id: string): Item | undefined => ({
    ...placeholderItem(id, 0),
    categories: [category(Number(id.slice(1)))],
  }),
  isRecommendable: () => true,
  newest: () => [],
};

function profileOf(model: UserProfile): ServingProfile {
  const userId = model.userIndex === 0 ? 'user-0' : 'someone';
  const settings = { feedback: defaultFeedbackConfig, session: defaultSessionConfig };
  return { ...buildProfile(userId, UserHistory.empty(new HistoryTables()), null, settings), model };
}

const known = profileOf({
  userIndex: 0,
  fresh: false,
  items: new Int32Array(0),
  weights: new Float32Array(0),
});
const unknown = (): ServingProfile =>
  profileOf({ userIndex: -1, fresh: true, items: new Int32Array(0), weights: new Float32Array(0) });

/** A context as the stages before cold-start leave it: the primary chosen, scored and filtered. */
function contextFor(profile: ServingProfile, n: number, b = bundle()): PipelineContext {
  return {
    request: { requestId: 'r', userId: profile.userId, n, excludeSeen: true, filter: null, now: 0 },
    profile,
    bundle: b,
    catalog,
    model: primary,
    fallback: null,
    scores: primaryScores.slice(),
    excluded: new Uint8Array(ITEMS),
    candidates: [],
    items: [],
  };
}

describe('cold-start stage: new items', () => {
  it('places a new item at the rank the hybrid gives it among the model’s pool, by features alone', () => {
    const context = contextFor(known, 10);
    coldStart.run(context);
    // Item 5 (a) scores 1 by features, like the warm a items: above all of the pool → the top score.
    expect(context.scores![5]).toBe(5);
    // Item 6 (b) scores −1: below the three a items → between the 3rd and 4th of the pool: (3 + 2) / 2.
    expect(context.scores![6]).toBe(2.5);
    expect(Array.from(context.excluded!)).toEqual([0, 0, 0, 0, 0, 0, 0]);
    // The model's own scores stay as they were.
    expect(Array.from(context.scores!.subarray(0, WARM))).toEqual([5, 4, 3, 2, 1]);
    expect(context.model).toBe(primary);
  });

  it('takes at most a fifth of the list (at least one) and leaves the other new items out', () => {
    const context = contextFor(known, 2);
    coldStart.run(context);
    expect(context.scores![5]).toBe(5);
    expect(context.excluded![5]).toBe(0);
    expect(context.excluded![6]).toBe(1);
  });

  it('never brings back an excluded new item, and does nothing without new items', () => {
    const context = contextFor(known, 10);
    context.excluded![5] = 1;
    coldStart.run(context);
    expect(context.excluded![5]).toBe(1);
    const b = bundle();
    const allWarm = new ModelBundle({ ...b.info, warmItems: ITEMS }, b.userIds, b.itemIds, b.models);
    const plain = contextFor(known, 10, allWarm);
    coldStart.run(plain);
    expect(Array.from(plain.scores!)).toEqual(Array.from(primaryScores));
  });
});

describe('cold-start stage: users known only by traits', () => {
  it('serves the hybrid list for the traits and says so', () => {
    expect(wantsTraits(unknown(), bundle())).toBe(true);
    const profile = withTraits(unknown(), {
      id: 'someone',
      traits: { segment: 'b' },
      createdAt: 0,
      updatedAt: 0,
    });
    expect(profile.traits).toEqual(['segment=b']);
    const context = contextFor(profile, 3);
    context.model = null;
    context.fallback = 'unknown_user';
    coldStart.run(context);
    expect((context.model as Recommender | null)?.name).toBe('hybrid');
    expect(context.fallback).toBe(TRAITS_FALLBACK);
    // [0, 1] · item: the b items (warm ones with their identity) score 1, the a items 0.
    expect(Array.from(context.scores!)).toEqual([0, 0, 0, 1, 1, 0, 1]);
  });

  it('leaves a user with unknown traits, or a known user, to the model chosen before', () => {
    const stranger = withTraits(unknown(), { id: 'x', traits: { segment: 'z' }, createdAt: 0, updatedAt: 0 });
    const context = contextFor(stranger, 3);
    coldStart.run(context);
    expect(context.model).toBe(primary);
    expect(context.fallback).toBeNull();
    expect(wantsTraits(known, bundle())).toBe(false);
  });
});
