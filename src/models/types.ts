import type { JsonValue } from '../shared/types.js';

/**
 * A sparse matrix in compressed sparse row form: row r's entries are `indices[indptr[r]..indptr[r+1]]`
 * with values `data[…]`. Column indices within a row are sorted ascending and unique.
 * Training matrices are users × items with aggregated feedback weights (> 0) as values.
 */
export interface CsrMatrix {
  readonly rows: number;
  readonly cols: number;
  readonly indptr: Int32Array;
  readonly indices: Int32Array;
  readonly data: Float32Array;
}

export type ModelName = 'popularity' | 'itemknn' | 'als';

export interface PopularityParams {
  /** Half-life of an interaction's contribution in days; `null` counts every interaction fully. */
  readonly halfLifeDays: number | null;
}

export interface ItemKnnParams {
  /** Neighbours kept per item. */
  readonly neighbors: number;
  /** Shrinkage added to the cosine denominator; damps similarities built on few co-occurrences. */
  readonly shrinkage: number;
}

export interface AlsParams {
  readonly factors: number;
  readonly iterations: number;
  readonly regularization: number;
  /** Confidence is `1 + alpha * weight`. */
  readonly alpha: number;
  /** Conjugate-gradient steps per row and sweep. */
  readonly cgSteps: number;
  readonly seed: number;
}

export interface ModelParamsByName {
  readonly popularity: PopularityParams;
  readonly itemknn: ItemKnnParams;
  readonly als: AlsParams;
}

/** What the models are trained on. */
export interface TrainingInput {
  /** users × items, aggregated feedback weights. */
  readonly matrix: CsrMatrix;
  /**
   * Time of the latest interaction behind each matrix entry (epoch ms, aligned with `matrix.data`),
   * for time-decayed popularity. Absent: no decay is possible and every interaction counts fully.
   */
  readonly times?: Float64Array;
  /** The reference time for decay (epoch ms); defaults to the latest of `times`. */
  readonly now?: number;
}

export interface FitOptions {
  /** Worker threads a kernel may use (default: 1; the training worker passes the core count). */
  readonly threads?: number;
  /** Called as work advances, for progress bars. */
  readonly onProgress?: (done: number, total: number) => void;
}

/**
 * What the model knows of the user it is asked to score. Serving builds it from the user's recent
 * events; evaluation builds it from the user's train row.
 */
export interface UserProfile {
  /** The user's row in the trained model, or -1 when the model never saw the user. */
  readonly userIndex: number;
  /**
   * True when `items`/`weights` hold feedback the model was not trained on. Models that keep per-user
   * state (ALS) then fold the profile in instead of using the stored state.
   */
  readonly fresh: boolean;
  /** Item indices the user interacted with (unique). */
  readonly items: Int32Array;
  /** Aggregated feedback weight per entry of `items` (> 0). */
  readonly weights: Float32Array;
}

export interface ScoredIndex {
  readonly index: number;
  readonly score: number;
}

/** Why a model scored an item for a user, grounded in what the model holds. */
export type Evidence =
  /** The item is close to `item` from the user's history. */
  | { readonly kind: 'item'; readonly item: number; readonly similarity: number }
  /** The item is popular overall. */
  | { readonly kind: 'popular'; readonly popularity: number }
  /** The user's latent tastes match the item; `score` is the dot product. */
  | { readonly kind: 'taste'; readonly score: number };

/**
 * The one surface every model offers, so evaluation, serving, blending and model selection treat all
 * models alike. Learned state is immutable once fitted; hyper-parameters live in `params`.
 */
export interface Recommender {
  readonly name: ModelName;
  readonly params: JsonValue;
  readonly nUsers: number;
  readonly nItems: number;
  /** Writes a score for every item into `out` (length `nItems`); higher is better. */
  score(profile: UserProfile, out: Float32Array): void;
  /** The `n` items most similar to `item`, best first, `item` itself excluded. */
  similar(item: number, n: number): ScoredIndex[];
  /** The strongest evidence behind `item`'s score for this user. */
  evidence(profile: UserProfile, item: number): Evidence;
  /** Learned state as flat arrays, for storage; `loadRecommender` turns it back into a model. */
  toArtifact(): ModelArtifact;
}

export type NumericArray = Float32Array | Float64Array | Int32Array;

export interface ModelArtifact {
  readonly name: ModelName;
  readonly params: JsonValue;
  readonly nUsers: number;
  readonly nItems: number;
  readonly arrays: Readonly<Record<string, NumericArray>>;
}
