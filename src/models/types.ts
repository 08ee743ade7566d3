import type { JsonValue } from '../shared/types.js';
import type { BlendParams } from './blend.js';

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

export type ModelName = 'popularity' | 'itemknn' | 'als' | 'hybrid' | 'blend' | 'ease' | 'rp3beta';

/**
 * How a model reads a user's history when scoring, whatever the model: with `recency` (a half-life counted
 * in interactions) the k-th newest interaction weighs `2^(-k / recency)` (`recency.ts`). It changes no
 * fitted state, so selection tunes it per fitted model without refitting. Absent or null: every
 * interaction weighs its feedback weight.
 */
export interface ProfileWeighting {
  readonly recency?: number | null;
}

export interface PopularityParams extends ProfileWeighting {
  /** Half-life of an interaction's contribution in days; `null` counts every interaction fully. */
  readonly halfLifeDays: number | null;
}

export interface ItemKnnParams extends ProfileWeighting {
  /** Neighbours kept per item. */
  readonly neighbors: number;
  /** Shrinkage added to the cosine denominator; damps similarities built on few co-occurrences. */
  readonly shrinkage: number;
}

export interface AlsParams extends ProfileWeighting {
  readonly factors: number;
  readonly iterations: number;
  readonly regularization: number;
  /** Confidence is `1 + alpha * weight`. */
  readonly alpha: number;
  /** Conjugate-gradient steps per row and sweep. */
  readonly cgSteps: number;
  readonly seed: number;
}

export interface HybridParams extends ProfileWeighting {
  /** Embedding size of every feature (identity and side features alike). */
  readonly components: number;
  /** Passes over the training entries. */
  readonly epochs: number;
  /** Adagrad's base learning rate. */
  readonly learningRate: number;
  /** 'warp' samples negatives until one violates the margin (rank-weighted); 'bpr' samples one. */
  readonly loss: 'warp' | 'bpr';
  /** L2 penalty on every embedding and bias a step touches. */
  readonly regularization: number;
  readonly seed: number;
  /** WARP: negatives tried per positive before giving up on it. */
  readonly maxSampled: number;
  /**
   * Share of steps (0..1) in which a side's identity feature is left out, so side features learn to score
   * alone, as a cold item or user must. Trades a little warm accuracy for cold-start accuracy.
   */
  readonly identityDropout: number;
}

export interface EaseParams extends ProfileWeighting {
  /** L2 penalty λ added to the Gram matrix's diagonal; larger values shrink item-item weights. */
  readonly lambda: number;
  /** Largest catalog EASE fits (its weights are a dense items² matrix); above it use ALS. */
  readonly maxItems: number;
}

export interface Rp3betaParams extends ProfileWeighting {
  /** Exponent on both transition probabilities of the item → user → item walk. */
  readonly alpha: number;
  /** Popularity penalty: the landing item's weight is divided by its user count^β. */
  readonly beta: number;
  /** Neighbours kept per item. */
  readonly neighbors: number;
}

export interface ModelParamsByName {
  readonly popularity: PopularityParams;
  readonly itemknn: ItemKnnParams;
  readonly als: AlsParams;
  readonly hybrid: HybridParams;
  readonly ease: EaseParams;
  readonly rp3beta: Rp3betaParams;
  /** A weighted combination of other models (`blend.ts`); chosen by selection, not tuned on a grid. */
  readonly blend: BlendParams;
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
  /**
   * Side features for the hybrid model (other models ignore them): items × item features and users ×
   * user features, values = weights (> 0). Rows align with the matrix's columns and rows; an item or user
   * with no interactions but a feature row is scored from its features (cold start).
   */
  readonly itemFeatures?: CsrMatrix;
  readonly userFeatures?: CsrMatrix;
  /** Names of the feature columns (`genre=Drama`), for explanations and debugging. */
  readonly itemFeatureNames?: readonly string[];
  readonly userFeatureNames?: readonly string[];
}

export interface FitOptions {
  /** Worker threads a kernel may use (default: 1; the training worker passes the core count). */
  readonly threads?: number;
  /** Called as work advances, for progress bars. */
  readonly onProgress?: (done: number, total: number) => void;
}

/**
 * What the model knows of the user it is asked to score: the user's whole aggregated history, in the
 * bundle's index space and in the layout of the user's row of the training matrix (every item with positive
 * summed feedback weight, as training aggregates it, items ascending). Serving builds it from the user's
 * events; evaluation builds it from the user's train row.
 */
export interface UserProfile {
  /** The user's row in the trained model, or -1 when the model never saw the user. */
  readonly userIndex: number;
  /**
   * True when the history holds feedback the model was not trained on: some of the user's events arrived
   * after the bundle's training position, or recency weighting changed the weights (`recency.ts` sets it).
   * Models that keep per-user state then score from that state updated by the whole profile, not from the
   * state alone: ALS runs conjugate-gradient steps on the user's system warm-started from the trained
   * factors; the hybrid mixes the trained representation with the profile's centroid by how much of the
   * feedback weight is new. False: the stored state is used as it is. A user the model never saw is scored
   * from the profile alone, whatever the flag.
   */
  readonly fresh: boolean;
  /** Item indices the user interacted with (unique; serving and evaluation give them ascending, as a row). */
  readonly items: Int32Array;
  /** Aggregated feedback weight per entry of `items` (> 0). */
  readonly weights: Float32Array;
  /**
   * Latest interaction time per entry of `items` (epoch ms), when known: recency weighting orders the
   * history by it. Without it, models weighted by recency score the plain weights.
   */
  readonly times?: Float64Array;
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

/** A history item's part in an item-kNN score: weight × similarity. */
export interface NeighborContribution {
  readonly item: number;
  readonly similarity: number;
  readonly weight: number;
  readonly contribution: number;
}

/** One latent dimension's part in a factor model's score: user factor × item factor. */
export interface FactorContribution {
  readonly dimension: number;
  readonly user: number;
  readonly item: number;
  readonly product: number;
}

/**
 * One feature's part in a hybrid score. `feature` is the feature's name (`category=Drama`, `age=25-34`),
 * or `null` for the row's own (identity) embedding: what the model learned about this very item or user
 * from its interactions, beyond its features.
 */
export interface FeatureContribution {
  readonly feature: string | null;
  /**
   * The feature's weight in the row's representation (side weights sum to 1, or for a fresh user profile to
   * the trained representation's share of the user vector; the identity weighs 1).
   */
  readonly weight: number;
  readonly contribution: number;
}

/** The full evidence behind one score, by the kind of model that computed it. */
export type Explanation =
  /** Item-kNN: the user's history items among the item's neighbours; `score` is their sum. */
  | {
      readonly kind: 'neighbors';
      readonly score: number;
      readonly neighbors: readonly NeighborContribution[];
    }
  /**
   * Factor models: the largest per-dimension products (by magnitude) of the score `score`, and the
   * user's history items closest to the item in factor space (cosine).
   */
  | {
      readonly kind: 'factors';
      readonly score: number;
      readonly factors: readonly FactorContribution[];
      readonly similarItems: readonly { readonly item: number; readonly similarity: number }[];
    }
  /**
   * Hybrid (feature) models: the score split by feature, both ways. `itemFeatures`: each item feature's
   * part, weight · (user · e_f + b_f), which with the identity's part sum to `score`. `userFeatures`: each
   * user feature's (trait's) part, weight · (e_f · item), which with the identity's part sum to
   * `score - bias` (`bias` = the item's bias, which no user feature carries). Largest |contribution| first,
   * at most `limit` each; `similarItems` as for factor models.
   */
  | {
      readonly kind: 'features';
      readonly score: number;
      readonly bias: number;
      readonly itemFeatures: readonly FeatureContribution[];
      readonly userFeatures: readonly FeatureContribution[];
      readonly similarItems: readonly { readonly item: number; readonly similarity: number }[];
    }
  /** Popularity: the item's (possibly decayed) interaction total and its rank among all items (0 = top). */
  | {
      readonly kind: 'popularity';
      readonly score: number;
      readonly popularity: number;
      readonly rank: number;
    }
  /**
   * A blend: each component's part in the item's score (weight × the component's z-scored score for this
   * user), largest first, each with the component's own explanation; `score` is their sum.
   */
  | {
      readonly kind: 'blend';
      readonly score: number;
      readonly components: readonly BlendContribution[];
    };

/** One blend component's part in a blended score. */
export interface BlendContribution {
  readonly model: ModelName;
  readonly weight: number;
  /** The component's score for the item, standardised over the items the user has not interacted with. */
  readonly standardized: number;
  readonly contribution: number;
  /** The component's own evidence (`null` for a component that cannot explain itself). */
  readonly explanation: Explanation | null;
}

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
  /**
   * All the evidence behind `item`'s score for this user, at most `limit` entries per list, for the
   * explain endpoint (slower than `evidence`; not on the serving path).
   */
  explain?(profile: UserProfile, item: number, limit: number): Explanation;
  /** Learned state as flat arrays, for storage; `loadRecommender` turns it back into a model. */
  toArtifact(): ModelArtifact;
  /**
   * Erasure: zeroes in place what the model learned for training row `user` alone (factors, a
   * representation, a trait row): the one exception to immutability, so that a person is out of the live
   * model at once. Models that learn nothing per user leave it out.
   */
  eraseUser?(user: number): void;
}

export type NumericArray = Float32Array | Float64Array | Int32Array;

export interface ModelArtifact {
  readonly name: ModelName;
  readonly params: JsonValue;
  readonly nUsers: number;
  readonly nItems: number;
  readonly arrays: Readonly<Record<string, NumericArray>>;
}
