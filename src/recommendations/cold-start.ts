import type { User } from '../catalog/index.js';
import { HybridRecommender, topK } from '../models/index.js';
import { extend } from '../shared/extend.js';
import type { ModelBundle } from '../training/index.js';
import { userFeatureTokens } from '../training/features.js';
import type { ServingProfile } from './profile.js';
import { candidatePoolSize } from './rules-stage.js';
import type { PipelineContext, Stage } from './types.js';

/**
 * Cold start at serving time, with the bundle's hybrid model (item features and user traits):
 *
 * 1. A user neither the bundle nor their recent events tell anything about, but whose traits the hybrid
 *    learned embeddings for, is served the hybrid's list for those traits (`model: 'hybrid'`, fallback
 *    `unknown_user_traits`) instead of plain popularity.
 * 2. Items indexed without interactions (new catalog items, `ModelBundle.newItems`) get a chance in every
 *    other list: the hybrid scores the new items only, and the best of them enter the chosen model's
 *    scores on that model's scale (see `injectNewItems` for the mapping). The primary model's own scores
 *    for them are those of an untrained, empty column and mean nothing, so new items the hybrid does not
 *    put forward are left out of the model's pool (the catalog backfill may still take them, as before).
 *
 * One stage, placed after the filters (it needs the request's exclusions) and before the session and the
 * candidate selection, so everything downstream (session blend, rules, diversity, reasons) treats the
 * injected items like the model's own.
 */
export const coldStart: Stage = {
  name: 'cold-start',
  run(context) {
    const { bundle } = context;
    if (context.request.personalized === false) return;
    const hybrid = bundle?.model('hybrid');
    if (!bundle || !(hybrid instanceof HybridRecommender) || hybrid.nItems !== bundle.itemIds.length) return;
    if (serveColdUser(context, hybrid)) return;
    injectNewItems(context, bundle, hybrid);
  },
};

/** Why the primary model did not serve a user the hybrid served from traits (the reply's `fallback`). */
export const TRAITS_FALLBACK = 'unknown_user_traits';

// --- cold users -----------------------------------------------------------------------------------------

/** Whether serving should look up this user's traits: only a user no model knows, with a hybrid to use. */
export function wantsTraits(profile: ServingProfile, bundle: ModelBundle | null): boolean {
  const hybrid = bundle?.model('hybrid');
  return hybrid instanceof HybridRecommender && hybrid.sides.user !== null && isColdProfile(profile);
}

/**
 * A request's profile with a stored user's traits attached (for `coldStart`): a copy, as profiles are
 * shared between requests and traits change with `PUT /v1/users/:id` while the history does not.
 */
export function withTraits(profile: ServingProfile, user: User | null): ServingProfile {
  return user === null ? profile : extend(profile, { traits: userFeatureTokens(user) });
}

function isColdProfile(profile: ServingProfile): boolean {
  return profile.model.userIndex < 0 && profile.model.items.length === 0;
}

/**
 * The hybrid's vector for a user served from traits (a cold profile with traits the hybrid learned), or
 * null: what both the list and the explain endpoint score such a user with.
 */
export function coldUserVector(
  profile: ServingProfile,
  hybrid: HybridRecommender,
): { readonly x: Float32Array; readonly traits: readonly string[] } | null {
  if (!isColdProfile(profile)) return null;
  const { traits } = profile;
  const x = traits === undefined ? null : hybrid.traitVector(traits);
  return x === null || traits === undefined ? null : { x, traits };
}

function serveColdUser(context: PipelineContext, hybrid: HybridRecommender): boolean {
  const user = coldUserVector(context.profile, hybrid);
  if (user === null) return false;
  const { x } = user;
  // The chosen model's scores array is overwritten whole (the score stage may reuse it across requests).
  const scores = context.scores?.length === hybrid.nItems ? context.scores : new Float32Array(hybrid.nItems);
  hybrid.scoreVector(x, scores);
  context.model = hybrid;
  context.fallback = TRAITS_FALLBACK;
  context.scores = scores;
  return true;
}

// --- new items ------------------------------------------------------------------------------------------

/**
 * At most this many new items are scored per request: the newest first (by `created_at`), so a catalog
 * that adds thousands of items between retrains still costs a bounded f multiply-adds each per request.
 */
export const MAX_NEW_SCORED = 1000;

/** Share of a list's `n` that new items may take (at least one): exposure without crowding the list out. */
export const NEW_ITEM_SHARE = 0.2;

const newestFirst = new WeakMap<ModelBundle, Int32Array>();

/** The bundle's new items, newest first, at most `MAX_NEW_SCORED`; sorted once per bundle. */
function newItemsOf(context: PipelineContext, bundle: ModelBundle): Int32Array {
  let list = newestFirst.get(bundle);
  if (list === undefined) {
    const { start, end } = bundle.newItems;
    const created = (index: number): number => context.catalog.get(bundle.itemIds[index]!)?.createdAt ?? 0;
    const all = Array.from({ length: end - start }, (_, k) => start + k);
    all.sort((a, b) => created(b) - created(a) || a - b);
    list = Int32Array.from(all.slice(0, MAX_NEW_SCORED));
    newestFirst.set(bundle, list);
  }
  return list;
}

/**
 * Puts the hybrid's best new items into the chosen model's scores.
 *
 * The mapping onto the model's scale is by rank against the model's own candidates, because the two
 * models' scores share no unit (ALS dot products, item-kNN similarity sums, popularity counts, WARP
 * scores) and only the hybrid can score a new item. Take the model's pool P (its best allowed warm items,
 * as many as the candidate selection takes) with scores p_1 ≥ … ≥ p_m, and score P's items with the hybrid
 * too, by their features alone (`HybridRecommender.scoreByFeatures`): a new item has nothing but its
 * features, and a warm item's full score carries its identity embedding, which makes warm scores larger in
 * magnitude both ways; compared with those, any new item would sit near zero, above every item the user
 * dislikes and below every item they like, whatever its features (the first version did exactly that:
 * kitchen items in an outdoor fan's list). A new item c that scores above exactly r of P's items on that
 * like-for-like scale is placed at rank r + 1 of P: it gets p_1 when r = 0, else the midpoint
 * (p_r + p_{r+1}) / 2; when the hybrid prefers all m items of P to c, c does not enter the pool. So a new
 * item goes exactly as far up the model's list as the hybrid thinks it deserves relative to the items the
 * model put forward, and the rules, diversity and session stages see a score on the model's scale. At most
 * `NEW_ITEM_SHARE` of the list's n are placed, best rank first.
 *
 * Cost per request: one top-m selection over the model's scores, (features × f) multiply-adds for each of
 * the m pool items and f for each new item (at most `MAX_NEW_SCORED`); never the whole catalog through the
 * hybrid. The newest-first order of the new items is sorted once per bundle, on its first request.
 */
function injectNewItems(context: PipelineContext, bundle: ModelBundle, hybrid: HybridRecommender): void {
  const { scores, excluded, model, request } = context;
  if (!scores || !excluded || !model || model === hybrid || scores.length !== bundle.itemIds.length) return;
  const { start } = bundle.newItems;
  if (start >= bundle.itemIds.length) return;
  const candidates = newItemsOf(context, bundle).filter((index) => excluded[index] !== 1);
  // The model's empty-column scores for new items are no evidence: only the hybrid may put them forward.
  excluded.fill(1, start);
  if (candidates.length === 0) return;
  const pool = topK(scores, candidatePoolSize(request), excluded);
  if (pool.length === 0) return;
  const poolIndex = Int32Array.from(pool, (p) => p.index);
  const onHybrid = new Float32Array(pool.length);
  hybrid.scoreByFeatures(context.profile.model, poolIndex, onHybrid);
  onHybrid.sort().reverse();
  const newScores = new Float32Array(candidates.length);
  // A new item's representation is its features alone already: its full score is the like-for-like one,
  // at f multiply-adds instead of f per feature.
  hybrid.scoreSome(context.profile.model, candidates, newScores);
  const placed: { index: number; rank: number; hybrid: number }[] = [];
  for (let k = 0; k < candidates.length; k++) {
    const rank = countAbove(onHybrid, newScores[k]!);
    if (rank < pool.length) placed.push({ index: candidates[k]!, rank, hybrid: newScores[k]! });
  }
  placed.sort((a, b) => a.rank - b.rank || b.hybrid - a.hybrid || a.index - b.index);
  const share = Math.max(1, Math.ceil(request.n * NEW_ITEM_SHARE));
  for (const { index, rank } of placed.slice(0, share)) {
    scores[index] = rank === 0 ? pool[0]!.score : (pool[rank - 1]!.score + pool[rank]!.score) / 2;
    excluded[index] = 0;
  }
}

/** How many of `sorted` (descending) are greater than `value`: binary search. */
function countAbove(sorted: Float32Array, value: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (sorted[mid]! > value) low = mid + 1;
    else high = mid;
  }
  return low;
}
