import type { Item, ItemFilter } from '../catalog/index.js';
import type { ModelName, Recommender, ScoredIndex } from '../models/index.js';
import type { ModelBundle } from '../training/index.js';
import type { ServingProfile } from './profile.js';
import type { SessionBoost } from './session.js';
import type { Rules } from './rules.js';

/** Why an item is in a list, in words a shopper would accept, with the evidence kind behind it. */
export interface Reason {
  readonly kind: 'because_item' | 'taste' | 'popular' | 'new' | 'similar_item' | 'pinned' | 'boosted';
  readonly text: string;
  /** The item the reason points at ("because you viewed X", "similar to X"). */
  readonly itemId?: string;
}

export interface RecommendedItem {
  readonly itemId: string;
  readonly score: number;
  readonly reason: Reason;
}

export interface RecommendationRequest {
  readonly requestId: string;
  readonly userId: string;
  readonly n: number;
  readonly excludeSeen: boolean;
  /** Request filters (category, property expressions); `null` allows every recommendable item. */
  readonly filter: ItemFilter | null;
  readonly now: number;
  /** Business rules, diversity and freshness (`rules.ts`); absent = none. */
  readonly rules?: Rules;
  /**
   * The model to rank with instead of the bundle's primary (an experiment's variant); ignored, with the
   * primary serving, when the bundle does not hold it.
   */
  readonly model?: ModelName;
  /**
   * False serves the non-personalized baseline (the global holdout): popularity under the same filters,
   * rules and diversity, with no cold-start or session personalization. Absent means true.
   */
  readonly personalized?: boolean;
  /**
   * Per item id, how many of the user's recent lists showed it (`shown-lists.ts`), for a re-ranker that
   * reads it; absent: none known.
   */
  readonly shown?: ReadonlyMap<string, number>;
}

/** What a served list says about itself. */
export interface RecommendationResult {
  readonly requestId: string;
  readonly userId: string;
  /** The model that ranked the list (`catalog` when not even popularity had enough items). */
  readonly model: ModelName | 'catalog';
  readonly modelVersion: number | null;
  /** Why the primary model did not serve, or `null` when it did. */
  readonly fallback: string | null;
  readonly items: readonly RecommendedItem[];
}

/** The catalog as the serving path sees it. */
export interface CatalogView {
  /** Changes with every catalog write. */
  readonly version: number;
  get(itemId: string): Item | undefined;
  /** Exists, available, not expired. */
  isRecommendable(itemId: string, now: number): boolean;
  /** Recommendable items, newest first: the last resort when no model can fill a list. */
  newest(limit: number, now: number, accept: (item: Item) => boolean): Item[];
}

/** A candidate under way through the pipeline. */
export interface Candidate {
  readonly itemId: string;
  /** The item's index in the bundle, or -1 for catalog items no model knows. */
  readonly index: number;
  readonly score: number;
  /** The model that put it forward, `null` for catalog backfill. */
  readonly source: Recommender | null;
  /** Set when a rule, not the model, is why the item is in the list; its reason then says so. */
  readonly rule?: 'pinned' | 'boosted' | 'fresh';
  /** Set when the bundle's re-ranker, not the model's score, placed it (`rerank-stage.ts`). */
  readonly reranked?: boolean;
}

/**
 * The state one request carries through the stages. Stages read what earlier ones left and add their
 * part; later capabilities (rules, diversity, re-ranking, experiments) are further stages.
 */
export interface PipelineContext {
  readonly request: RecommendationRequest;
  readonly profile: ServingProfile;
  readonly bundle: ModelBundle | null;
  readonly catalog: CatalogView;
  /** The model chosen to score; `null` when none can. */
  model: Recommender | null;
  fallback: string | null;
  /** One score per bundle item, from `model`. */
  scores: Float32Array | null;
  /** Bundle items excluded from this request (1 = excluded). */
  excluded: Uint8Array | null;
  /**
   * The model's best allowed items, best first, as deep as the stages after selection need (the
   * re-ranker's depth when one will run, else the candidate pool's); set by selection.
   */
  modelBest?: readonly ScoredIndex[];
  /** Selected candidates, best first; may be longer than `n` until a stage trims it. */
  candidates: Candidate[];
  /** The final list, with reasons. */
  items: RecommendedItem[];
  /** What the current session added to the scores (`session.ts`); absent when it added nothing. */
  session?: SessionBoost;
}

export interface Stage {
  readonly name: string;
  run(context: PipelineContext): void;
}
