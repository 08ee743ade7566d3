/**
 * The serving pipeline's fast paths (shared compiled rules, cached filter masks, reused buffers, cached
 * category sets, the leaner profile) against straightforward reference implementations, and the
 * per-category caps and per-request session settings they serve.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { CatalogIndex, type Item } from '../src/catalog/index.js';
import {
  defaultFeedbackConfig,
  feedbackOf,
  type FeedbackConfig,
  type TrackedEvent,
} from '../src/events/index.js';
import {
  buildProfile,
  compileRules,
  defaultSessionConfig,
  defaultStages,
  diversify,
  runPipeline,
  RulesError,
  withServingOptions,
  type RecommendationRequest,
  type Rules,
  type RulesSpec,
  type ServingProfile,
} from '../src/recommendations/index.js';
import { truncate } from '../src/recommendations/rules-stage.js';
import {
  chooseModel,
  explainItems,
  filterItems,
  scoreItems,
  selectCandidates,
} from '../src/recommendations/stages.js';
import { currentSession, requestSession } from '../src/recommendations/session.js';
import type { Candidate, PipelineContext, Stage } from '../src/recommendations/types.js';
import { ModelBundle } from '../src/training/index.js';
import {
  emptyProfile,
  FixedScores,
  fixedBundle,
  historyOf,
  profileOf,
  servingSettings,
  tracked,
} from './fixed-scores.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 0, 15);
const CATEGORIES = ['a', 'b', 'c', 'd', 'e'];

// --- reference implementations (the code before the fast paths, kept as the specification) -----------

function referenceJaccard(a: Int32Array, b: Int32Array): number {
  if (a.length === 0 || b.length === 0) return 0;
  let i = 0;
  let j = 0;
  let both = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      both++;
      i++;
      j++;
    } else if (a[i]! < b[j]!) i++;
    else j++;
  }
  return both / (a.length + b.length - both);
}

/**
 * Rank values as `rankValues` documents them, written out: 1 − rank / pool size, where a run of
 * neighbouring candidates with the same score from the same source shares the rank of its first one.
 */
function referenceRankValues(candidates: readonly Candidate[]): Float64Array {
  return Float64Array.from(candidates, (candidate, i) => {
    let first = i;
    while (
      first > 0 &&
      candidates[first - 1]!.score === candidate.score &&
      candidates[first - 1]!.source === candidate.source
    ) {
      first--;
    }
    return 1 - first / candidates.length;
  });
}

/**
 * MMR as documented in `recommendations/diversity.ts`: greedily take the candidate maximising
 * (1 − λ)·relevance − λ·(its highest Jaccard category overlap with those taken), ties to the earlier
 * candidate, for the first `n` slots; the rest follow in pool order. Relevance is the min-max scaled score
 * when one source scored the whole pool with finite, not all equal scores, else the rank value.
 */
function referenceDiversify(
  candidates: readonly Candidate[],
  n: number,
  lambda: number,
  categoriesOf: (candidate: Candidate) => readonly string[],
  byRank = false,
): Candidate[] {
  const size = candidates.length;
  if (lambda <= 0 || size <= 1) return candidates.slice();
  const ids = new Map<string, number>();
  const sets = candidates.map((candidate) => {
    const list = [...new Set(categoriesOf(candidate))].map((name) => {
      if (!ids.has(name)) ids.set(name, ids.size);
      return ids.get(name)!;
    });
    return Int32Array.from(list).sort();
  });
  let relevance: Float64Array;
  const source = candidates[0]!.source;
  const scores = candidates.map((c) => c.score);
  const min = Math.min(...scores);
  const max = Math.max(...scores);
  if (byRank || candidates.some((c) => c.source !== source || !Number.isFinite(c.score)) || !(max > min)) {
    relevance = referenceRankValues(candidates);
  } else {
    relevance = Float64Array.from(candidates, (c) => (c.score - min) / (max - min));
  }
  const maxSim = new Float64Array(size);
  const taken = new Uint8Array(size);
  const out: Candidate[] = [];
  for (let slot = 0; slot < Math.min(n, size); slot++) {
    let best = -1;
    let bestValue = -Infinity;
    for (let i = 0; i < size; i++) {
      if (taken[i]) continue;
      const value = (1 - lambda) * relevance[i]! - lambda * maxSim[i]!;
      if (value > bestValue) {
        best = i;
        bestValue = value;
      }
    }
    taken[best] = 1;
    out.push(candidates[best]!);
    for (let i = 0; i < size; i++) {
      if (!taken[i]) maxSim[i] = Math.max(maxSim[i]!, referenceJaccard(sets[i]!, sets[best]!));
    }
  }
  for (let i = 0; i < size; i++) if (!taken[i]) out.push(candidates[i]!);
  return out;
}

/**
 * Purchase event names among those the profile test sends: a purchase is a name like purchased, bought,
 * order completed or checkout completed; of `product_viewed`, `added_to_cart`, `purchased`, `dismissed`,
 * `impression`, `rated` and `unknown_x`, only `purchased` is one.
 */
const isPurchase = (name: string): boolean => name === 'purchased';

interface ReferenceProfile {
  readonly seen: readonly string[];
  readonly rejected: readonly string[];
  readonly purchased: readonly string[];
  readonly lastSeenAt: ReadonlyMap<string, number>;
  readonly actions: ReadonlyMap<string, string>;
  readonly model: ServingProfile['model'];
}

/**
 * What a profile must say, computed the plain way from every event the user ever sent (commit order,
 * positions 1, 2, …): no window, no arrays, Maps of objects. Fresh when a feedback event is newer than the
 * bundle's training position.
 */
function referenceProfile(
  userId: string,
  events: readonly TrackedEvent[],
  bundle: ModelBundle,
  feedback: FeedbackConfig,
): ReferenceProfile {
  const rejected = new Set<string>();
  const purchased = new Set<string>();
  const lastSeenAt = new Map<string, number>();
  const actions = new Map<string, { name: string; weight: number }>();
  const weights = new Map<string, number>();
  let fresh = false;
  events.forEach((event, index) => {
    if (event.itemId === null) return;
    const kind = feedbackOf(feedback, event);
    if (kind.kind === 'exposure' || kind.kind === 'none') return;
    const itemId = event.itemId;
    lastSeenAt.set(itemId, Math.max(lastSeenAt.get(itemId) ?? -Infinity, event.timestamp));
    if (index + 1 > bundle.info.position) fresh = true;
    if (kind.kind === 'negative') {
      weights.set(itemId, (weights.get(itemId) ?? 0) - kind.weight);
      rejected.add(itemId);
      return;
    }
    weights.set(itemId, (weights.get(itemId) ?? 0) + kind.weight);
    if (isPurchase(event.name)) purchased.add(itemId);
    const strongest = actions.get(itemId);
    const wins =
      !strongest ||
      kind.weight > strongest.weight ||
      (kind.weight === strongest.weight && event.name < strongest.name);
    if (wins) actions.set(itemId, { name: event.name, weight: kind.weight });
  });
  const entries = [...weights]
    .map(([itemId, weight]) => ({ itemId, weight, index: bundle.itemIndex.get(itemId) }))
    .filter(
      (e): e is { itemId: string; weight: number; index: number } => e.index !== undefined && e.weight > 0,
    )
    .sort((x, y) => x.index - y.index);
  const userIndex = bundle.userIndex.get(userId) ?? -1;
  return {
    seen: [...lastSeenAt.keys()].sort(),
    rejected: [...rejected].sort(),
    purchased: [...purchased].sort(),
    lastSeenAt,
    actions: new Map([...actions].map(([id, action]) => [id, action.name])),
    model: {
      userIndex,
      fresh: fresh || userIndex < 0,
      items: Int32Array.from(entries, (e) => e.index),
      weights: Float32Array.from(entries, (e) => e.weight),
      // The latest event on the item: what recency-weighted models order the history by.
      times: Float64Array.from(entries, (e) => lastSeenAt.get(e.itemId)!),
    },
  };
}

/** A profile's history in the reference's terms. */
function describeProfile(profile: ServingProfile): Omit<ReferenceProfile, 'model'> {
  const { history } = profile;
  const ids = Array.from({ length: history.size }, (_, k) => history.itemId(k));
  return {
    seen: [...ids].sort(),
    rejected: ids.filter((id) => history.rejected(id)).sort(),
    purchased: ids.filter((id) => history.purchased(id)).sort(),
    lastSeenAt: new Map(ids.map((id) => [id, history.lastSeenAt(id)!])),
    actions: new Map(
      ids.flatMap((id) => {
        const action = history.action(id);
        return action === null ? [] : [[id, action] as const];
      }),
    ),
  };
}

// --- a small world ---------------------------------------------------------------------------------

function item(id: string, categories: readonly string[], extra: Partial<Item> = {}): Item {
  return {
    id,
    categories: [...categories],
    tags: [],
    price: 10,
    available: true,
    createdAt: NOW - 100 * DAY,
    expiresAt: null,
    attributes: {},
    updatedAt: NOW,
    ...extra,
  };
}

const bundleOf = (
  itemIds: readonly string[],
  scores: readonly number[],
  users = ['u'],
  position = 0,
): ModelBundle => fixedBundle(itemIds, scores, NOW, users, position);

function serve(
  items: readonly Item[],
  scores: readonly number[],
  n: number,
  rules: Rules | null,
  catalog?: CatalogIndex,
) {
  const bundle = bundleOf(
    items.map((i) => i.id),
    scores,
  );
  const index = catalog ?? new CatalogIndex(items);
  const request: RecommendationRequest = {
    requestId: 'r',
    userId: 'u',
    n,
    excludeSeen: true,
    filter: rules?.filter ?? null,
    now: NOW,
    ...(rules ? { rules } : {}),
  };
  return runPipeline(defaultStages, request, emptyProfile(bundle), bundle, index).items.map((i) => i.itemId);
}

const categoriesArb = fc.subarray(CATEGORIES, { minLength: 0, maxLength: 3 });
const MANY = Array.from({ length: 60 }, (_, k) => `g${k}`);
const manyCategoriesArb = fc.subarray(MANY, { minLength: 0, maxLength: 4 });

// --- the fast paths equal the reference --------------------------------------------------------------

describe('fast paths keep the behaviour', () => {
  it('MMR with cached category sets and reused buffers picks exactly what the reference picks', () => {
    fc.assert(
      fc.property(
        // Few category names (one bit mask per item) or more than 32 in a pool (sorted sets).
        fc.oneof(
          fc.array(fc.tuple(fc.integer({ min: -5, max: 5 }), categoriesArb, fc.boolean()), { maxLength: 60 }),
          fc.array(fc.tuple(fc.integer({ min: -5, max: 5 }), manyCategoriesArb, fc.boolean()), {
            minLength: 30,
            maxLength: 80,
          }),
        ),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer({ min: 1, max: 25 }),
        fc.boolean(),
        // One source for the whole pool (relevance by score) or a mix (relevance by rank value).
        fc.boolean(),
        (rows, lambda, n, byRank, oneSource) => {
          const sources = [null, new FixedScores(new Float32Array(1))];
          const pool: Candidate[] = rows
            .map(([score, , other], i) => ({
              itemId: `i${i}`,
              index: i,
              score,
              source: sources[other && !oneSource ? 1 : 0]!,
            }))
            .sort((x, y) => y.score - x.score);
          // A repeated category in an item's list counts once.
          const cats = new Map(rows.map(([, c], i) => [`i${i}`, i % 7 === 0 ? [...c, ...c] : c]));
          const of = (c: Candidate) => cats.get(c.itemId)!;
          const got = diversify(pool, n, lambda, of, byRank).map((c) => c.itemId);
          const want = referenceDiversify(pool, n, lambda, of, byRank).map((c) => c.itemId);
          expect(got).toEqual(want);
          // Twice in a row (buffers reused, sets cached): the same answer.
          expect(diversify(pool, n, lambda, of, byRank).map((c) => c.itemId)).toEqual(want);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('MMR picks what the documented formula gives on small pools, computed by hand', () => {
    const other = new FixedScores(new Float32Array(1));
    const pool = (rows: [string, number, string[], FixedScores | null][]) => {
      const cats = new Map(rows.map(([id, , c]) => [id, c]));
      return {
        candidates: rows.map(([itemId, score, , source], index) => ({ itemId, index, score, source })),
        of: (c: Candidate) => cats.get(c.itemId)!,
      };
    };
    const ids = (list: readonly Candidate[]) => list.map((c) => c.itemId);
    // Relevance (min-max over 4..10): a1 1, a2 5/6, b1 4/6, c1 0. Jaccard: a1–a2 1, a1–c1 1/2, b1–c1 1/2.
    const four = pool([
      ['a1', 10, ['x'], null],
      ['a2', 9, ['x'], null],
      ['b1', 8, ['y'], null],
      ['c1', 4, ['x', 'y'], null],
    ]);
    const mmr = (p: typeof four, n: number, lambda: number, byRank = false) =>
      ids(diversify(p.candidates, n, lambda, p.of, byRank));
    // λ = 0.5: a1 (0.5); then b1 0.333 over a2 −0.083 and c1 −0.25; then a2 −0.083 over c1 −0.25.
    expect(mmr(four, 3, 0.5)).toEqual(['a1', 'b1', 'a2', 'c1']);
    // λ = 0.9: a1; b1 0.067 over c1 −0.45 and a2 −0.817; then c1 −0.45 over a2 −0.817.
    expect(mmr(four, 3, 0.9)).toEqual(['a1', 'b1', 'c1', 'a2']);
    // λ = 0.5 but one slot: the rest keep pool order behind the pick.
    expect(mmr(four, 1, 0.5)).toEqual(['a1', 'a2', 'b1', 'c1']);
    expect(mmr(four, 4, 0)).toEqual(['a1', 'a2', 'b1', 'c1']);
    // λ = 0.3, second slot. By score (min-max): a2 0.7·0.944 − 0.3 = 0.361 beats b1 0. By rank values
    // (1, 2/3, 1/3): b1 0.233 beats a2 0.167.
    const three = pool([
      ['a1', 10, ['x'], null],
      ['a2', 9.5, ['x'], null],
      ['b1', 1, ['y'], null],
    ]);
    expect(mmr(three, 2, 0.3)).toEqual(['a1', 'a2', 'b1']);
    expect(mmr(three, 2, 0.3, true)).toEqual(['a1', 'b1', 'a2']);
    // A pool that mixes sources is ranked by rank values even when not asked to.
    const mixed = pool([
      ['a1', 10, ['x'], null],
      ['a2', 9.5, ['x'], null],
      ['b1', 1, ['y'], other],
    ]);
    expect(mmr(mixed, 2, 0.3)).toEqual(['a1', 'b1', 'a2']);
    // Equal scores from one source share a rank value; from different sources they do not.
    const tied = pool([
      ['t1', 5, [], null],
      ['t2', 5, [], null],
      ['t3', 5, [], other],
      ['t4', 2, [], other],
    ]);
    expect(Array.from(referenceRankValues(tied.candidates))).toEqual([1, 1, 0.5, 0.25]);
  });

  it('the profile says what the whole history says, for random histories longer than any window', () => {
    const names = [
      'product_viewed',
      'added_to_cart',
      'purchased',
      'dismissed',
      'impression',
      'rated',
      'unknown_x',
    ];
    const ids = Array.from({ length: 40 }, (_, k) => `i${k}`);
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            item: fc.option(fc.constantFrom(...ids, 'x9'), { nil: null, freq: 10 }),
            name: fc.constantFrom(...names),
            ago: fc.integer({ min: 0, max: 100_000 }),
          }),
          { maxLength: 1500, size: 'max' },
        ),
        fc.integer({ min: 0, max: 1600 }),
        (rows, position) => {
          const bundle = bundleOf(
            ids,
            ids.map(() => 0),
            ['u'],
            position,
          );
          const events = rows.map((r, k) =>
            tracked(r.name, r.item, NOW - r.ago * 60_000, { eventId: `e${k}` }),
          );
          const got = profileOf(bundle, events);
          const want = referenceProfile('u', events, bundle, defaultFeedbackConfig);
          const { model, ...rest } = want;
          expect(describeProfile(got)).toEqual(rest);
          expect(got.model).toEqual(model);
          // Exclusions in the bundle's index space say the same as the history.
          expect(Array.from(got.rejectedIndices).sort((x, y) => x - y)).toEqual(
            want.rejected.flatMap((id) => bundle.itemIndex.get(id) ?? []).sort((x, y) => x - y),
          );
        },
      ),
      { numRuns: 100, endOnFailure: true },
    );
  });

  it('a profile is kept for an unchanged history and rebuilt once events arrive', () => {
    const bundle = bundleOf(['i0', 'i1', 'i2'], [0, 0, 0], ['cache-user']);
    const first = historyOf([tracked('product_viewed', 'i0', NOW - 2000, { userId: 'cache-user' })]);
    const profile = buildProfile('cache-user', first, bundle, servingSettings);
    expect(buildProfile('cache-user', first, bundle, servingSettings)).toBe(profile);
    const second = first.withEvents(
      [{ event: tracked('purchased', 'i1', NOW - 1000, { userId: 'cache-user' }), position: 2 }],
      { feedback: defaultFeedbackConfig, windowMs: defaultSessionConfig.windowMs, windowEvents: 1000 },
    );
    // The history that was read stays as it was; the new one is a new object.
    expect(first.has('i1')).toBe(false);
    expect(second.purchased('i1')).toBe(true);
    const after = buildProfile('cache-user', second, bundle, servingSettings);
    expect(after).not.toBe(profile);
    expect(after.history.purchased('i1')).toBe(true);
    expect(profile.history.purchased('i1')).toBe(false);
    // Another bundle (a retrain) is another profile, even for the same history.
    const retrained = bundleOf(['i0', 'i1', 'i2'], [0, 0, 0], ['cache-user']);
    expect(buildProfile('cache-user', second, retrained, servingSettings)).not.toBe(after);
  });

  it('scores kept for a profile are copied, so a stage that adds to them never changes the next request', () => {
    const bundle = bundleOf(['i0', 'i1', 'i2'], [3, 2, 1]);
    const catalog = new CatalogIndex(['i0', 'i1', 'i2'].map((id) => item(id, ['a'])));
    const profile = emptyProfile(bundle);
    const seen: number[][] = [];
    const lift: Stage = {
      name: 'lift',
      run(context) {
        seen.push(Array.from(context.scores!));
        context.scores![2]! += 10;
      },
    };
    const request: RecommendationRequest = {
      requestId: 'r',
      userId: 'u',
      n: 3,
      excludeSeen: true,
      filter: null,
      now: NOW,
    };
    const stages = [chooseModel, scoreItems, filterItems, lift, selectCandidates, truncate, explainItems];
    const first = runPipeline(stages, request, profile, bundle, catalog);
    const second = runPipeline(stages, request, profile, bundle, catalog);
    expect(seen).toEqual([
      [3, 2, 1],
      [3, 2, 1],
    ]);
    expect(first.items.map((i) => i.itemId)).toEqual(['i2', 'i0', 'i1']);
    expect(second.items).toEqual(first.items);
  });

  it('equal specs share one compiled Rules; an invalid spec throws every time', () => {
    const spec: RulesSpec = { boost: ['category=a:1.5'], exclude: ['x'], diversity: 0.2 };
    const first = compileRules(spec);
    expect(compileRules({ ...spec })).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(compileRules({ ...spec, diversity: 0.3 })).not.toBe(first);
    expect(compileRules({ ...spec, diversity: 0.3 }).diversity).toBe(0.3);
    for (let k = 0; k < 2; k++) expect(() => compileRules({ diversity: 2 })).toThrow(RulesError);
  });

  it('a filter matched once per catalog version sees a changed item on the next request', () => {
    const items = ['p0', 'p1', 'p2', 'p3'].map((id, k) => item(id, [k < 2 ? 'a' : 'b']));
    const catalog = new CatalogIndex(items);
    const rules = compileRules({ filter: ['category=a'] });
    expect(serve(items, [4, 3, 2, 1], 4, rules, catalog)).toEqual(['p0', 'p1']);
    catalog.upsert(item('p2', ['a']));
    catalog.upsert(item('p0', ['b']));
    expect(serve(items, [4, 3, 2, 1], 4, rules, catalog)).toEqual(['p1', 'p2']);
  });

  it('a boost matched through the cached mask lifts exactly the matching items, also after a catalog change', () => {
    const items = ['p0', 'p1', 'p2', 'p3', 'p4'].map((id) => item(id, ['a']));
    const catalog = new CatalogIndex(items);
    const rules = compileRules({ boost: ['category=b:10'] });
    expect(serve(items, [5, 4, 3, 2, 1], 5, rules, catalog)).toEqual(['p0', 'p1', 'p2', 'p3', 'p4']);
    catalog.upsert(item('p4', ['b']));
    expect(serve(items, [5, 4, 3, 2, 1], 5, rules, catalog)).toEqual(['p4', 'p0', 'p1', 'p2', 'p3']);
  });
});

// --- per-category caps -------------------------------------------------------------------------------

describe('expiry while the catalog stands still', () => {
  it('an item leaves the lists the moment after its expiresAt, with no catalog change, and not before', () => {
    const items = [
      item('soon', ['c'], { expiresAt: NOW + 1_000 }),
      item('later', ['c'], { expiresAt: NOW + 5_000 }),
      item('always', ['c']),
    ];
    // One bundle and one catalog for every request: the mask of unrecommendable items is cached between them.
    const bundle = bundleOf(
      items.map((i) => i.id),
      [3, 2, 1],
    );
    const catalog = new CatalogIndex(items);
    const listAt = (now: number) =>
      runPipeline(
        defaultStages,
        { requestId: 'r', userId: 'u', n: 3, excludeSeen: true, filter: null, now },
        emptyProfile(bundle),
        bundle,
        catalog,
      ).items.map((i) => i.itemId);
    expect(listAt(NOW)).toEqual(['soon', 'later', 'always']);
    expect(listAt(NOW + 1_000)).toEqual(['soon', 'later', 'always']);
    expect(listAt(NOW + 1_001)).toEqual(['later', 'always']);
    expect(listAt(NOW + 4_000)).toEqual(['later', 'always']);
    expect(listAt(NOW + 5_001)).toEqual(['always']);
    // A clock set back (a simulation) sees the items that were recommendable then.
    expect(listAt(NOW + 500)).toEqual(['soon', 'later', 'always']);
  });
});

describe('max_per_category', () => {
  const countsOf = (ids: readonly string[], catalog: CatalogIndex, skip: ReadonlySet<string> = new Set()) => {
    const counts = new Map<string, number>();
    for (const id of ids) {
      if (skip.has(id)) continue;
      for (const c of new Set(catalog.get(id)!.categories)) counts.set(c, (counts.get(c) ?? 0) + 1);
    }
    return counts;
  };

  it('keeps at most N per category, counting an item in each of its categories, in model order', () => {
    const items = [
      item('a1', ['a']),
      item('a2', ['a']),
      item('ab', ['a', 'b']),
      item('a3', ['a']),
      item('b1', ['b']),
      item('b2', ['b']),
      item('c1', ['c']),
      item('none', []),
    ];
    const scores = [8, 7, 6, 5, 4, 3, 2, 1];
    expect(serve(items, scores, 5, null)).toEqual(['a1', 'a2', 'ab', 'a3', 'b1']);
    const capped = serve(items, scores, 5, compileRules({ max_per_category: 2 }));
    // ab would be a third "a"; b1 and b2 fill "b"; an item without categories is never capped.
    expect(capped).toEqual(['a1', 'a2', 'b1', 'b2', 'c1']);
    expect(serve(items, scores, 6, compileRules({ max_per_category: 2 }))).toEqual([
      'a1',
      'a2',
      'b1',
      'b2',
      'c1',
      'none',
    ]);
  });

  it('when the pool runs out, fills from the best remaining so the list keeps n items', () => {
    const items = ['x1', 'x2', 'x3', 'y1'].map((id) => item(id, [id[0]!]));
    expect(serve(items, [4, 3, 2, 1], 4, compileRules({ max_per_category: 1 }))).toEqual([
      'x1',
      'y1',
      'x2',
      'x3',
    ]);
  });

  it('pins are exempt: placed on their slot, not counted against their category', () => {
    const items = ['a1', 'a2', 'a3', 'a4', 'b1', 'b2'].map((id) => item(id, [id[0]!]));
    const rules = compileRules({ max_per_category: 1, pin: ['a4:0'] });
    const list = serve(items, [6, 5, 4, 3, 2, 1], 3, rules);
    expect(list).toEqual(['a4', 'a1', 'b1']);
  });

  it('works with MMR: caps hold and the list stays full', () => {
    const items = Array.from({ length: 30 }, (_, i) => item(`i${i}`, [CATEGORIES[i % 3]!]));
    const scores = items.map((_, i) => 30 - i);
    const list = serve(items, scores, 6, compileRules({ diversity: 0.5, max_per_category: 2 }));
    expect(list).toHaveLength(6);
    const catalog = new CatalogIndex(items);
    expect(Math.max(...countsOf(list, catalog).values())).toBe(2);
  });

  it('property: no category exceeds N unless every candidate left would exceed it too', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(categoriesArb, fc.integer({ min: 0, max: 9 })), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 15 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.option(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 5 })), { nil: undefined }),
        (rows, max, n, diversity, pinAt) => {
          const items = rows.map(([c], i) => item(`i${i}`, c));
          const scores = rows.map(([, s]) => s);
          const catalog = new CatalogIndex(items);
          const pin =
            pinAt === undefined ? undefined : { itemId: `i${pinAt[0] % rows.length}`, slot: pinAt[1] };
          const rules = compileRules({
            max_per_category: max,
            diversity,
            ...(pin ? { pin: [`${pin.itemId}:${pin.slot}`] } : {}),
          });
          const list = serve(items, scores, n, rules, catalog);
          expect(new Set(list).size).toBe(list.length);
          expect(list).toHaveLength(Math.min(n, items.length));
          const pinned = new Set(pin && pin.slot < n ? [pin.itemId] : []);
          if (pin && pin.slot < n) expect(list.indexOf(pin.itemId)).toBe(Math.min(pin.slot, list.length - 1));
          // Walk the list as the caps did: an item that breaks a cap is allowed only when no unlisted
          // candidate of the pool could have taken its place within the caps.
          const counts = new Map<string, number>();
          const unlisted = items.filter((i) => !list.includes(i.id) && !pinned.has(i.id));
          for (const id of list) {
            if (pinned.has(id)) continue;
            const cats = [...new Set(catalog.get(id)!.categories)];
            const fits = (cs: readonly string[]) => [...new Set(cs)].every((c) => (counts.get(c) ?? 0) < max);
            if (!fits(cats)) {
              // Pool exhausted for the caps at this point: nothing that fits was left out.
              expect(
                unlisted.filter((i) => fits(i.categories)).map((i) => i.id),
                `${id} in ${list.join(',')}`,
              ).toEqual([]);
            }
            for (const c of cats) counts.set(c, (counts.get(c) ?? 0) + 1);
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  it('compiles from specs and presets, request over preset; bad values name the field', () => {
    expect(compileRules({}).maxPerCategory).toBe(0);
    expect(compileRules({ max_per_category: 3 }).maxPerCategory).toBe(3);
    const preset = compileRules({ max_per_category: 3, diversity: 0.1 });
    expect(withServingOptions(preset, { max_per_category: 1 })?.maxPerCategory).toBe(1);
    expect(withServingOptions(preset, {})).toBe(preset);
    expect(withServingOptions(null, {})).toBeNull();
    for (const bad of [-1, 1.5, 1001, Number.NaN]) {
      expect(() => compileRules({ max_per_category: bad })).toThrow(/"max_per_category"/);
      expect(() => withServingOptions(null, { max_per_category: bad })).toThrow(/"max_per_category"/);
    }
  });
});

// --- per-request session settings ----------------------------------------------------------------------

describe('session_weight and session_items', () => {
  const MINUTE = 60_000;
  const bundle = bundleOf(['s0', 's1', 's2', 's3', 's4', 's5', 's6'], [0, 0, 0, 0, 0, 0, 0]);
  // Viewed newest-first s0, s1, …: s6 seven minutes ago, s0 a minute ago (commit order oldest first).
  const events = ['s6', 's5', 's4', 's3', 's2', 's1', 's0'].map((itemId, k) =>
    tracked('product_viewed', itemId, NOW - (7 - k) * MINUTE, { context: { session_id: 'v' } }),
  );

  const contextFor = (profile: ServingProfile, rules: Rules | null) =>
    ({
      request: {
        requestId: 'r',
        userId: 'u',
        n: 3,
        excludeSeen: true,
        filter: null,
        now: NOW,
        ...(rules ? { rules } : {}),
      },
      profile,
      bundle,
    }) as unknown as PipelineContext;

  const profileWith = (weight: number) =>
    profileOf(bundle, events, 'u', { ...servingSettings, session: { ...defaultSessionConfig, weight } });

  it('without settings the configured session serves; weight 0 turns it off', () => {
    const profile = profileWith(1);
    expect(requestSession(contextFor(profile, null))).toBe(profile.session);
    expect(requestSession(contextFor(profile, withServingOptions(null, { session_weight: 0 })))).toBeNull();
  });

  it('a weight replaces the configured one; more items than configured are read again from the events', () => {
    const profile = profileWith(1);
    const heavier = requestSession(contextFor(profile, withServingOptions(null, { session_weight: 2.5 })));
    expect(heavier?.config.weight).toBe(2.5);
    expect(heavier?.items.map((i) => i.itemId)).toEqual(profile.session?.items.map((i) => i.itemId));
    expect(profile.session?.items).toHaveLength(defaultSessionConfig.maxItems);
    const more = requestSession(contextFor(profile, withServingOptions(null, { session_items: 7 })));
    expect(more?.items.map((i) => i.itemId)).toEqual(['s0', 's1', 's2', 's3', 's4', 's5', 's6']);
    const fewer = requestSession(contextFor(profile, withServingOptions(null, { session_items: 2 })));
    expect(fewer?.items.map((i) => i.itemId)).toEqual(['s0', 's1']);
  });

  it('a request can turn the session on where the engine has it off', () => {
    const off = profileWith(0);
    expect(off.session).toBeNull();
    const on = requestSession(contextFor(off, withServingOptions(null, { session_weight: 1 })));
    expect(on?.items.map((i) => i.itemId)).toEqual(['s0', 's1', 's2', 's3', 's4']);
    expect(on).toEqual(
      currentSession(off.history.recent, bundle, defaultFeedbackConfig, defaultSessionConfig, () => false),
    );
  });

  it('validates the values, naming the field', () => {
    expect(() => withServingOptions(null, { session_weight: 5.5 })).toThrow(/"session_weight"/);
    expect(() => withServingOptions(null, { session_weight: -1 })).toThrow(/"session_weight"/);
    expect(() => withServingOptions(null, { session_items: 0 })).toThrow(/"session_items"/);
    expect(() => compileRules({ session_items: 2.5 })).toThrow(/"session_items"/);
    expect(compileRules({ session_weight: 0 }).session).toEqual({ weight: 0 });
  });
});
