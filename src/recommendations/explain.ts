import { HybridRecommender } from '../models/index.js';
import type {
  Explanation,
  FactorContribution,
  FeatureContribution,
  ModelName,
  Recommender,
} from '../models/index.js';
import type { ModelBundle } from '../training/index.js';
import type { ServingProfile } from './profile.js';
import { reasonFor } from './reasons.js';
import { coldStart, coldUserVector, TRAITS_FALLBACK } from './cold-start.js';
import { newContext } from './pipeline.js';
import { newestItems } from './profile.js';
import { explainSessionItems, sessionItems } from './session.js';
import { chooseModel, EVIDENCE_ITEMS, filterItems, scoreItems } from './stages.js';

/** The stages that give an item the score a list ranks it by (before rules), in the pipeline's order. */
const SERVED_SCORE_STAGES = [scoreItems, filterItems, coldStart, sessionItems];
const SCORE_STAGE = [scoreItems];
import type { CatalogView, Reason } from './types.js';

/** A history item named by its id, with the user's strongest action on it ("purchased", …). */
interface HistoryRef {
  readonly itemId: string;
  readonly action: string | null;
}

/** A model's explanation with bundle indices turned into item ids. */
export type ResolvedExplanation =
  | {
      readonly kind: 'neighbors';
      readonly score: number;
      readonly neighbors: readonly (HistoryRef & {
        readonly similarity: number;
        readonly weight: number;
        readonly contribution: number;
      })[];
    }
  | {
      readonly kind: 'factors';
      readonly score: number;
      readonly factors: readonly FactorContribution[];
      readonly similarItems: readonly (HistoryRef & { readonly similarity: number })[];
    }
  | {
      readonly kind: 'features';
      readonly score: number;
      readonly bias: number;
      readonly itemFeatures: readonly FeatureContribution[];
      readonly userFeatures: readonly FeatureContribution[];
      readonly similarItems: readonly (HistoryRef & { readonly similarity: number })[];
    }
  | {
      readonly kind: 'popularity';
      readonly score: number;
      readonly popularity: number;
      readonly rank: number;
    }
  /** A blend: each component's part in the score, with its own evidence. */
  | {
      readonly kind: 'blend';
      readonly score: number;
      readonly components: readonly {
        readonly model: ModelName;
        readonly weight: number;
        readonly standardized: number;
        readonly contribution: number;
        readonly explanation: ResolvedExplanation | null;
      }[];
    }
  /** Models without `explain`: their single strongest piece of evidence. */
  | {
      readonly kind: 'evidence';
      readonly evidence:
        | (HistoryRef & { readonly kind: 'item'; readonly similarity: number })
        | { readonly kind: 'popular'; readonly popularity: number }
        | { readonly kind: 'taste'; readonly score: number };
    };

export interface ExplainResult {
  readonly userId: string;
  readonly itemId: string;
  /** The model explained: the one that would rank the user's list, or the one asked for. */
  readonly model: ModelName | null;
  readonly modelVersion: number | null;
  /** Why the primary model was not the one explained (as in a list's `fallback`). */
  readonly fallback: string | null;
  /** The reason a list would show for the item. */
  readonly reason: Reason;
  /**
   * The item's score as the user's list ranks it before rules (what a list reports for it): the model's
   * score, plus what the current session added; `null` when no model scores the item. With `model=` the
   * named model's own score, without the session.
   */
  readonly score: number | null;
  /** What the current session added to the score, and the session item behind it; `null` when nothing. */
  readonly session: {
    readonly added: number;
    readonly itemId: string;
    readonly action: string;
  } | null;
  /** `null` when no model knows the item (not trained on yet) or no model is loaded. */
  readonly explanation: ResolvedExplanation | null;
}

export interface ExplainRequest {
  readonly userId: string;
  readonly itemId: string;
  /** Explain this model of the bundle instead of the one that would serve. */
  readonly model?: ModelName;
  /** Entries per evidence list. */
  readonly limit: number;
  readonly now: number;
}

/**
 * The evidence behind one item's score for one user: the model that would serve the user's list (or the
 * one asked for) explains it with the user's whole known history, not just the newest items reasons
 * look at. Not on the serving path: costs a pass over the history and, for popularity, the catalog.
 */
export function explainRecommendation(
  request: ExplainRequest,
  profile: ServingProfile,
  bundle: ModelBundle | null,
  catalog: CatalogView,
): ExplainResult {
  const context = newContext(
    {
      requestId: 'explain',
      userId: request.userId,
      n: 1,
      // As the default list: the session's part is scaled against the items a list may show.
      excludeSeen: true,
      filter: null,
      now: request.now,
    },
    profile,
    bundle,
    catalog,
  );
  if (request.model !== undefined) {
    context.model = bundle?.model(request.model) ?? null;
    if (!context.model) context.fallback = 'model_not_loaded';
  } else {
    chooseModel.run(context);
  }
  const hybrid = bundle?.model('hybrid');
  // A user the list serves from traits is explained from the same trait vector (`cold-start.ts`).
  const traitUser =
    hybrid instanceof HybridRecommender && (request.model === undefined || request.model === 'hybrid')
      ? coldUserVector(profile, hybrid)
      : null;
  if (traitUser !== null && hybrid instanceof HybridRecommender) {
    context.model = hybrid;
    context.fallback = TRAITS_FALLBACK;
  }
  const model = context.model;
  const index = bundle?.itemIndex.get(request.itemId) ?? -1;
  const base = {
    userId: request.userId,
    itemId: request.itemId,
    model: model?.name ?? null,
    modelVersion: bundle?.version ?? null,
    fallback: context.fallback,
  };
  const evidence = newestItems(profile.model, EVIDENCE_ITEMS);
  if (!bundle || !model || index < 0) {
    const candidate = { itemId: request.itemId, index, score: 0, source: model };
    const reason = reasonFor(context, candidate, evidence);
    return { ...base, reason, score: null, session: null, explanation: null };
  }
  // Scored as the user's list scores it, by the same stages: the model (or the trait vector), the new
  // items the hybrid places, the session's part. A model asked for by name is explained on its own.
  for (const stage of request.model === undefined ? SERVED_SCORE_STAGES : SCORE_STAGE) stage.run(context);
  const score = context.scores?.[index] ?? null;
  const candidate = { itemId: request.itemId, index, score: score ?? 0, source: model };
  context.items = [
    { itemId: request.itemId, score: score ?? 0, reason: reasonFor(context, candidate, evidence) },
  ];
  explainSessionItems.run(context);
  const reason = context.items[0]!.reason;
  const part = context.session?.contributions.get(index);
  const session =
    part === undefined ? null : { added: part.added, itemId: part.item.itemId, action: part.item.action };
  const ref = historyRef(bundle, profile);
  const explanation =
    traitUser !== null && model instanceof HybridRecommender
      ? resolveExplanation(model.explainVector(traitUser.x, traitUser.traits, index, request.limit), ref)
      : resolve(model, bundle, profile, index, request.limit);
  return { ...base, reason, score, session, explanation };
}

function resolve(
  model: Recommender,
  bundle: ModelBundle,
  profile: ServingProfile,
  index: number,
  limit: number,
): ResolvedExplanation {
  const ref = historyRef(bundle, profile);
  if (!model.explain) {
    const evidence = model.evidence(profile.model, index);
    if (evidence.kind === 'item') {
      return {
        kind: 'evidence',
        evidence: { kind: 'item', ...ref(evidence.item), similarity: evidence.similarity },
      };
    }
    return { kind: 'evidence', evidence };
  }
  return resolveExplanation(model.explain(profile.model, index, limit), ref);
}

/** Names a bundle item index by id, with the user's strongest action on it. */
function historyRef(bundle: ModelBundle, profile: ServingProfile): (item: number) => HistoryRef {
  return (item) => {
    const itemId = bundle.itemIds[item] ?? String(item);
    return { itemId, action: profile.history.action(itemId) };
  };
}

function resolveExplanation(
  explanation: Explanation,
  ref: (item: number) => HistoryRef,
): ResolvedExplanation {
  switch (explanation.kind) {
    case 'neighbors':
      return {
        kind: 'neighbors',
        score: explanation.score,
        neighbors: explanation.neighbors.map(({ item, similarity, weight, contribution }) => ({
          ...ref(item),
          similarity,
          weight,
          contribution,
        })),
      };
    case 'factors':
      return {
        kind: 'factors',
        score: explanation.score,
        factors: explanation.factors,
        similarItems: explanation.similarItems.map(({ item, similarity }) => ({ ...ref(item), similarity })),
      };
    case 'features':
      // Feature names need no resolving; only the history items do.
      return {
        ...explanation,
        similarItems: explanation.similarItems.map(({ item, similarity }) => ({ ...ref(item), similarity })),
      };
    case 'popularity':
      return explanation;
    case 'blend':
      return {
        kind: 'blend',
        score: explanation.score,
        components: explanation.components.map(({ explanation: inner, ...part }) => ({
          ...part,
          explanation: inner === null ? null : resolveExplanation(inner, ref),
        })),
      };
  }
}
