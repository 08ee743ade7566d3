import { matchesItem } from '../catalog/index.js';
import { topK } from '../models/index.js';
import type { ModelBundle } from '../training/index.js';
import type { Candidate, CatalogView, PipelineContext, Stage } from './types.js';
import { diversityStage } from './diversity.js';
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

/**
 * Picks the model for this request. The primary model serves whenever it knows something about the
 * user: a trained row, or just-sent events on items it knows (folded in, so a brand-new user is
 * personalised from their first events). Otherwise popularity serves, and the reply says why.
 */
export const chooseModel: Stage = {
  name: 'choose-model',
  run(context) {
    const { bundle, profile } = context;
    if (!bundle) {
      context.fallback = 'no_model';
      return;
    }
    const primary = bundle.model(bundle.info.primary);
    const popularity = bundle.model('popularity') ?? null;
    const knowsUser = profile.model.userIndex >= 0 || profile.model.items.length > 0;
    if (primary && primary !== popularity && knowsUser) {
      context.model = primary;
      return;
    }
    context.model = popularity;
    context.fallback = knowsUser ? 'no_personal_model' : 'unknown_user';
  },
};

/** Scores every bundle item with the chosen model. */
export const scoreItems: Stage = {
  name: 'score',
  run(context) {
    const { model, profile } = context;
    if (!model) return;
    const scores = new Float32Array(model.nItems);
    model.score(profile.model, scores);
    context.scores = scores;
  },
};

interface UnrecommendableMask {
  readonly catalogVersion: number;
  readonly second: number;
  readonly mask: Uint8Array;
}

const unrecommendable = new WeakMap<ModelBundle, UnrecommendableMask>();

/**
 * Bundle items the catalog does not allow now (unknown, unavailable, expired). The same for every request
 * until the catalog changes, so it is computed once per catalog version and bundle, and at most once a
 * second for expiry.
 */
function unrecommendableMask(bundle: ModelBundle, catalog: CatalogView, now: number): Uint8Array {
  const second = Math.floor(now / 1000);
  const cached = unrecommendable.get(bundle);
  if (cached && cached.catalogVersion === catalog.version && cached.second === second) return cached.mask;
  const mask = new Uint8Array(bundle.itemIds.length);
  for (let index = 0; index < mask.length; index++) {
    if (!catalog.isRecommendable(bundle.itemIds[index]!, now)) mask[index] = 1;
  }
  unrecommendable.set(bundle, { catalogVersion: catalog.version, second, mask });
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
    const excluded = unrecommendableMask(bundle, catalog, request.now).slice();
    const exclude = (itemId: string): void => {
      const index = bundle.itemIndex.get(itemId);
      if (index !== undefined) excluded[index] = 1;
    };
    for (const itemId of profile.rejected) exclude(itemId);
    // A re-show rule replaces `exclude_seen`; the rules stage applies it.
    if (request.excludeSeen && !request.rules?.reshow) for (const itemId of profile.seen) exclude(itemId);
    const { filter } = request;
    if (filter) {
      for (let index = 0; index < excluded.length; index++) {
        if (excluded[index] === 1) continue;
        const item = catalog.get(bundle.itemIds[index]!);
        if (!item || !matchesItem(item, filter)) excluded[index] = 1;
      }
    }
    context.excluded = excluded;
  },
};

function allowed(context: PipelineContext, itemId: string): boolean {
  const { catalog, request, profile } = context;
  if (profile.rejected.has(itemId)) return false;
  if (request.excludeSeen && !request.rules?.reshow && profile.seen.has(itemId)) return false;
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
    const chosen = new Set<string>();
    const take = (list: Candidate[]): void => {
      for (const candidate of list) {
        if (context.candidates.length >= pool || chosen.has(candidate.itemId)) continue;
        chosen.add(candidate.itemId);
        context.candidates.push(candidate);
      }
    };
    if (bundle && context.model && context.scores && context.excluded) {
      const model = context.model;
      take(
        topK(context.scores, pool, context.excluded).map(({ index, score }) => ({
          itemId: bundle.itemIds[index]!,
          index,
          score,
          source: model,
        })),
      );
    }
    const popularity = bundle?.model('popularity');
    if (context.candidates.length < pool && bundle && popularity && popularity !== context.model) {
      const scores = new Float32Array(popularity.nItems);
      popularity.score(context.profile.model, scores);
      const excluded = context.excluded ?? new Uint8Array(scores.length);
      const missing = pool - context.candidates.length;
      take(
        topK(scores, missing, (index) => excluded[index] === 1 || chosen.has(bundle.itemIds[index]!))
          .filter(({ score }) => score > 0)
          .map(({ index, score }) => ({ itemId: bundle.itemIds[index]!, index, score, source: popularity })),
      );
    }
    if (context.candidates.length < pool) {
      const missing = pool - context.candidates.length;
      const newest = context.catalog.newest(
        missing,
        request.now,
        (item) => !chosen.has(item.id) && allowed(context, item.id),
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
const EVIDENCE_ITEMS = 50;

/** Gives every item a reason grounded in the model that put it forward. */
export const explainItems: Stage = {
  name: 'explain',
  run(context) {
    const { model } = context.profile;
    const recent =
      model.items.length <= EVIDENCE_ITEMS
        ? model
        : {
            ...model,
            items: model.items.subarray(0, EVIDENCE_ITEMS),
            weights: model.weights.subarray(0, EVIDENCE_ITEMS),
          };
    context.items = context.candidates.map((candidate) => ({
      itemId: candidate.itemId,
      score: candidate.score,
      reason: ruleReason(context, candidate) ?? reasonFor(context, candidate, recent),
    }));
  },
};

/** The default recommendation pipeline, in order. Later capabilities insert their stages here. */
export const defaultStages: readonly Stage[] = [
  chooseModel,
  scoreItems,
  filterItems,
  ruleFilter,
  sessionItems,
  selectCandidates,
  ruleScore,
  diversityStage,
  placePins,
  truncate,
  explainItems,
  explainSessionItems,
];
