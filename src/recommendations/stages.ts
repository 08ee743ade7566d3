import { isItemRecommendable, matchesItem } from '../catalog/index.js';
import { topK, type Recommender, type UserProfile } from '../models/index.js';
import type { ModelBundle } from '../training/index.js';
import type { Candidate, CatalogView, PipelineContext, Reason, Stage } from './types.js';
import { diversityStage } from './diversity.js';
import { filterMask } from './filter-mask.js';
import { LruMap } from '../shared/lru.js';
import { forgetProfile, newestItems } from './profile.js';
import { reasonFor } from './reasons.js';
import {
  candidatePoolSize,
  placePins,
  ruleAllows,
  ruleFilter,
  ruleReason,
  ruleScore,
  truncate,
} from './rules-stage.js';
import { explainSessionItems, sessionItems } from './session.js';
import { coldStart } from './cold-start.js';
import { reranks, rerankStage } from './rerank-stage.js';

/** Why the primary model did not serve a user in the global holdout (the reply's `fallback`). */
export const HOLDOUT_FALLBACK = 'holdout';

/**
 * Picks the model for this request. The primary model (or the one the request names: an experiment's
 * variant) serves whenever it knows something about the user: a trained row, or just-sent events on items
 * it knows (folded in, so a brand-new user is personalised from their first events). Otherwise popularity
 * serves, and the reply says why. A held-out user gets popularity whatever they did.
 */
export const chooseModel: Stage = {
  name: 'choose-model',
  run(context) {
    const { bundle, profile } = context;
    if (!bundle) {
      context.fallback = 'no_model';
      return;
    }
    const popularity = bundle.model('popularity') ?? null;
    if (context.request.personalized === false) {
      context.model = popularity;
      context.fallback = HOLDOUT_FALLBACK;
      return;
    }
    const wanted = context.request.model;
    const primary =
      (wanted === undefined ? undefined : bundle.model(wanted)) ?? bundle.model(bundle.info.primary);
    const knowsUser = profile.model.userIndex >= 0 || profile.model.items.length > 0;
    if (wanted === 'popularity' && knowsUser) {
      // A variant that serves popularity on purpose: not a fallback.
      context.model = popularity;
      return;
    }
    if (primary && primary !== popularity && knowsUser) {
      context.model = primary;
      return;
    }
    context.model = popularity;
    context.fallback = knowsUser ? 'no_personal_model' : 'unknown_user';
  },
};

/**
 * Per-request arrays as long as the catalog (scores, the exclusion mask), reused from one request to the
 * next instead of allocated each time: at 1,000 requests/s fresh ones are megabytes a second of garbage
 * held outside the JS heap, which brings collections (and latency spikes) forward. Safe because a
 * pipeline runs synchronously from its first stage to its last and nothing keeps these arrays past
 * `runPipeline` (the reply holds item ids and numbers only); each request overwrites them whole first.
 */
const scratch = { scores: new Float32Array(0), excluded: new Uint8Array(0) };

/** A zeroed scores array of `length` for this request (see `scratch`). */
function scratchScores(length: number): Float32Array {
  if (scratch.scores.length !== length) scratch.scores = new Float32Array(length);
  else scratch.scores.fill(0);
  return scratch.scores;
}

/** A copy of `mask` for this request to add its own exclusions to (see `scratch`). */
function scratchExcluded(mask: Uint8Array): Uint8Array {
  if (scratch.excluded.length !== mask.length) scratch.excluded = new Uint8Array(mask.length);
  scratch.excluded.set(mask);
  return scratch.excluded;
}

/**
 * The latest score arrays by (profile, model), most recent last. A model's scores are a function of the
 * profile it is given, and a user's profile object is reused as long as their history, the bundle and the
 * feedback settings are unchanged (`buildProfile`), so a user who asks again before doing anything gets
 * the same scores: one copy instead of a pass of the model over the whole catalog. Bounded in bytes; a
 * request copies the cached array into its own buffer, so later stages (session, cold start) that add to
 * the scores never touch the cache. Arrays evicted to make room hold the next copies: with a large catalog
 * and users who each ask once, a fresh array per request was 400 KB (100,000 items) of memory outside the
 * heap per request, and collections to match.
 */
const spareScores: Float32Array[] = [];
const scoreCache = new LruMap<UserProfile, { readonly model: Recommender; readonly scores: Float32Array }>(
  32 * 1024 * 1024,
  (entry) => entry.scores.byteLength,
  (entry) => {
    if (spareScores.length < 2) spareScores.push(entry.scores);
  },
);

/** `scores` copied into a spare array of its length, or a new one. */
function cachedCopy(scores: Float32Array): Float32Array {
  let spare = spareScores.pop();
  while (spare !== undefined && spare.length !== scores.length) spare = spareScores.pop();
  if (spare === undefined) return scores.slice();
  spare.set(scores);
  return spare;
}

/** Erasure: the user's cached serving profile and the scores computed for it. */
export function forgetServedUser(userId: string): void {
  const profile = forgetProfile(userId);
  if (profile !== null) scoreCache.delete(profile);
}

/** Scores every bundle item with the chosen model. */
export const scoreItems: Stage = {
  name: 'score',
  run(context) {
    const { model, profile } = context;
    if (!model) return;
    const scores = scratchScores(model.nItems);
    const key = profile.model;
    const cached = scoreCache.get(key);
    if (cached !== undefined && cached.model === model && cached.scores.length === scores.length) {
      scores.set(cached.scores);
    } else {
      model.score(key, scores);
      scoreCache.set(key, { model, scores: cachedCopy(scores) });
    }
    context.scores = scores;
  },
};

interface UnrecommendableMask {
  readonly catalogVersion: number;
  /** The mask holds for times in [computedAt, validUntil]: until the next listed item expires. */
  readonly computedAt: number;
  readonly validUntil: number;
  readonly mask: Uint8Array;
}

const unrecommendable = new WeakMap<ModelBundle, UnrecommendableMask>();

/**
 * Bundle items the catalog does not allow now (unknown, unavailable, expired). The same for every request
 * until the catalog changes or a listed item's `expiresAt` passes, so it is computed once for that span
 * (a pass over the catalog: ~16 ms at 100,000 items, which recomputing every second used to add to one
 * request a second).
 */
function unrecommendableMask(bundle: ModelBundle, catalog: CatalogView, now: number): Uint8Array {
  const cached = unrecommendable.get(bundle);
  if (
    cached &&
    cached.catalogVersion === catalog.version &&
    cached.computedAt <= now &&
    now <= cached.validUntil
  ) {
    return cached.mask;
  }
  const mask = new Uint8Array(bundle.itemIds.length);
  let validUntil = Infinity;
  for (let index = 0; index < mask.length; index++) {
    const item = catalog.get(bundle.itemIds[index]!);
    if (item === undefined || !isItemRecommendable(item, now)) mask[index] = 1;
    else if (item.expiresAt !== null) validUntil = Math.min(validUntil, item.expiresAt);
  }
  unrecommendable.set(bundle, { catalogVersion: catalog.version, computedAt: now, validUntil, mask });
  return mask;
}

/**
 * Marks the bundle items this request may not show: not recommendable (unavailable, expired, deleted),
 * turned down by the user, already seen (with `exclude_seen`), or outside the request's filters.
 */
export const filterItems: Stage = {
  name: 'filter',
  run(context) {
    const { bundle, catalog, request, profile } = context;
    if (!bundle) return;
    const excluded = scratchExcluded(unrecommendableMask(bundle, catalog, request.now));
    for (const index of profile.rejectedIndices) excluded[index] = 1;
    // A re-show rule replaces `exclude_seen`; the rules stage applies it.
    if (request.excludeSeen && !request.rules?.reshow) {
      for (const index of profile.historyIndex) if (index >= 0) excluded[index] = 1;
    }
    const { filter } = request;
    if (filter) {
      const mask = filterMask(filter, bundle, catalog);
      for (let index = 0; index < excluded.length; index++) if (mask[index] === 1) excluded[index] = 1;
    }
    context.excluded = excluded;
  },
};

function allowed(context: PipelineContext, itemId: string): boolean {
  const { catalog, request, profile } = context;
  const k = profile.history.find(itemId);
  if (k >= 0 && profile.history.rejectedAt(k)) return false;
  if (request.excludeSeen && !request.rules?.reshow && k >= 0) return false;
  if (request.rules && !ruleAllows(request.rules, profile, itemId, request.now)) return false;
  if (!catalog.isRecommendable(itemId, request.now)) return false;
  if (!request.filter) return true;
  const item = catalog.get(itemId);
  return item !== undefined && matchesItem(item, request.filter);
}

/**
 * Takes a pool of the best allowed items from the chosen model (larger than `n`, for the re-ranking
 * stages; see `candidatePoolSize`), then fills any shortfall from popularity and, last, from the newest
 * catalog items, so a narrow filter or a tiny model still gets a full list.
 */
export const selectCandidates: Stage = {
  name: 'select',
  run(context) {
    const { request, bundle } = context;
    const pool = candidatePoolSize(request);
    // The ids taken so far, built only when a backfill needs them: the model's own top items are
    // distinct bundle items, so the common request (the model fills the pool) never builds the set.
    let taken: Set<string> | null = null;
    const chosen = (): Set<string> => (taken ??= new Set(context.candidates.map((c) => c.itemId)));
    const take = (list: Candidate[]): void => {
      const ids = chosen();
      for (const candidate of list) {
        if (context.candidates.length >= pool || ids.has(candidate.itemId)) continue;
        ids.add(candidate.itemId);
        context.candidates.push(candidate);
      }
    };
    if (bundle && context.model && context.scores && context.excluded) {
      const model = context.model;
      const best = topK(
        context.scores,
        reranks(context) ? Math.max(pool, context.bundle.reranker.depth) : pool,
        context.excluded,
      );
      context.modelBest = best;
      const size = Math.min(best.length, pool);
      const list: Candidate[] = new Array<Candidate>(size);
      for (let k = 0; k < size; k++) {
        const { index, score } = best[k]!;
        list[k] = { itemId: bundle.itemIds[index]!, index, score, source: model };
      }
      if (context.candidates.length === 0) context.candidates.push(...list);
      else take(list);
    }
    const popularity = bundle?.model('popularity');
    if (context.candidates.length < pool && bundle && popularity && popularity !== context.model) {
      const scores = new Float32Array(popularity.nItems);
      popularity.score(context.profile.model, scores);
      const excluded = context.excluded ?? new Uint8Array(scores.length);
      const missing = pool - context.candidates.length;
      take(
        topK(scores, missing, (index) => excluded[index] === 1 || chosen().has(bundle.itemIds[index]!))
          .filter(({ score }) => score > 0)
          .map(({ index, score }) => ({ itemId: bundle.itemIds[index]!, index, score, source: popularity })),
      );
    }
    if (context.candidates.length < pool) {
      const missing = pool - context.candidates.length;
      const newest = context.catalog.newest(
        missing,
        request.now,
        (item) => !chosen().has(item.id) && allowed(context, item.id),
      );
      take(
        newest.map((item) => ({
          itemId: item.id,
          index: bundle?.itemIndex.get(item.id) ?? -1,
          score: 0,
          source: null,
        })),
      );
    }
  },
};

/**
 * How many of the user's items (newest first) are searched for the evidence behind each reason. A reason
 * points at something recent, and the search is the costliest part of explaining: n × this × factors.
 */
export const EVIDENCE_ITEMS = 50;

/** Gives every item a reason grounded in the model that put it forward. */
export const explainItems: Stage = {
  name: 'explain',
  run(context) {
    const recent = newestItems(context.profile.model, EVIDENCE_ITEMS);
    context.items = context.candidates.map((candidate) => ({
      itemId: candidate.itemId,
      score: candidate.score,
      reason:
        ruleReason(context, candidate) ?? rerankedReason(candidate, reasonFor(context, candidate, recent)),
    }));
  },
};

/** A re-ranked item's reason says that the re-ranker, not the model's score, placed it. */
function rerankedReason(candidate: Candidate, reason: Reason): Reason {
  return candidate.reranked === true
    ? { ...reason, text: `${reason.text} (ordered by the re-ranker)` }
    : reason;
}

/** The default recommendation pipeline, in order. Later capabilities insert their stages here. */
export const defaultStages: readonly Stage[] = [
  chooseModel,
  scoreItems,
  filterItems,
  ruleFilter,
  coldStart,
  sessionItems,
  selectCandidates,
  rerankStage(),
  ruleScore,
  diversityStage,
  placePins,
  truncate,
  explainItems,
  explainSessionItems,
];
