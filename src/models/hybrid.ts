import type { JsonValue } from '../shared/types.js';
import { ItemVectors } from './item-vectors.js';
import { assertCsr } from './csr.js';
import { featureLayout, represent, trainHybrid, type FeatureLayout } from './hybrid-train.js';
import { assertTrainingInput } from './input.js';
import { paramsFromJson, paramsToJson, validateParams } from './params.js';
import type {
  CsrMatrix,
  Evidence,
  Explanation,
  FactorContribution,
  FitOptions,
  HybridParams,
  ModelArtifact,
  Recommender,
  ScoredIndex,
  TrainingInput,
  UserProfile,
} from './types.js';

/**
 * Fits the hybrid factorisation model (LightFM: Kula 2015). Every item is the weighted sum of the
 * embeddings of its features — its identity when it has interactions, plus `input.itemFeatures` — and
 * likewise every user; the score is the dot product of the two plus the item's bias.
 *
 * Cold start lives in the item and user spaces: a catalog item with no interactions is an empty matrix
 * column with a feature row, so it is scored from its features (its genres, tags, price band) like any
 * other item and needs nothing special at serving; the training set only has to index every catalog item,
 * not just those with events. A user known only by traits is likewise an empty row with a feature row.
 */
export async function fitHybrid(
  input: TrainingInput,
  params: HybridParams,
  options: FitOptions = {},
): Promise<HybridRecommender> {
  validateParams('hybrid', params);
  assertTrainingInput(input);
  const { matrix, itemFeatures, userFeatures } = input;
  checkFeatures(itemFeatures, matrix.cols, 'itemFeatures');
  checkFeatures(userFeatures, matrix.rows, 'userFeatures');
  const nnz = matrix.indptr[matrix.rows]!;
  const userCounts = new Int32Array(matrix.rows);
  for (let u = 0; u < matrix.rows; u++) userCounts[u] = matrix.indptr[u + 1]! - matrix.indptr[u]!;
  const itemCounts = new Int32Array(matrix.cols);
  for (let k = 0; k < nnz; k++) itemCounts[matrix.indices[k]!]! += 1;
  const users = featureLayout(matrix.rows, userCounts, userFeatures);
  const items = featureLayout(matrix.cols, itemCounts, itemFeatures);
  const learned = trainHybrid(matrix, users, items, params, options);
  const f = params.components;
  const userRepr = representAll(users, learned.userEmbeddings, f);
  const itemRepr = representAll(items, learned.itemEmbeddings, f, learned.itemBiases);
  // Async like the other fits, so a bad input rejects rather than throws (and a worker can slot in later).
  await Promise.resolve();
  return new HybridRecommender(params, matrix.rows, matrix.cols, userRepr.repr, itemRepr.repr, itemRepr.bias);
}

function checkFeatures(features: CsrMatrix | undefined, rows: number, what: string): void {
  if (features === undefined) return;
  assertCsr(features, what);
  if (features.rows !== rows) throw new RangeError(`${what}: ${features.rows} rows, need ${rows}`);
  const nnz = features.indptr[features.rows]!;
  for (let k = 0; k < nnz; k++) {
    const w = features.data[k]!;
    if (!(w > 0 && w < Infinity)) throw new RangeError(`${what}: entry ${k} has weight ${w}; need > 0`);
  }
}

function representAll(
  layout: FeatureLayout,
  emb: Float32Array,
  f: number,
  biases?: Float32Array,
): { repr: Float32Array; bias: Float32Array } {
  const repr = new Float32Array(layout.rows * f);
  const bias = new Float32Array(layout.rows);
  for (let r = 0; r < layout.rows; r++) {
    bias[r] = represent(layout, r, emb, f, repr.subarray(r * f, (r + 1) * f), biases);
  }
  return { repr, bias };
}

/**
 * Serving side of the hybrid model: the user and item representations are computed once at fit time, so
 * scoring is one dot product per item, as for ALS. Features are not needed after the fit.
 *
 * A profile the model has no row for (or fresh feedback) is folded in heuristically: WARP cannot be solved
 * in closed form, so the user becomes the weighted centroid of the profile's item representations, scaled
 * to the mean trained user norm (so it weighs against the item biases as a trained user would); a known
 * user with fresh feedback averages that with the stored representation. An empty unknown profile is the
 * zero vector: items rank by their biases, the model's popularity.
 */
export class HybridRecommender implements Recommender {
  readonly name = 'hybrid' as const;
  readonly params: JsonValue;
  private readonly f: number;
  private readonly itemNorms: Float32Array;
  private readonly meanUserNorm: number;
  private readonly user: Float64Array;
  private readonly vectors: ItemVectors;

  constructor(
    hyper: HybridParams,
    readonly nUsers: number,
    readonly nItems: number,
    private readonly userRepr: Float32Array,
    private readonly itemRepr: Float32Array,
    private readonly itemBias: Float32Array,
  ) {
    const f = hyper.components;
    if (userRepr.length !== nUsers * f || itemRepr.length !== nItems * f || itemBias.length !== nItems) {
      throw new RangeError(`hybrid: arrays do not match ${nUsers} users, ${nItems} items × ${f} components`);
    }
    this.f = f;
    this.params = paramsToJson('hybrid', hyper);
    this.itemNorms = rowNorms(itemRepr, nItems, f);
    const userNorms = rowNorms(userRepr, nUsers, f);
    let sum = 0;
    let count = 0;
    for (let u = 0; u < nUsers; u++) {
      if (userNorms[u]! > 0) {
        sum += userNorms[u]!;
        count += 1;
      }
    }
    this.meanUserNorm = count > 0 ? sum / count : 1;
    this.user = new Float64Array(f);
    this.vectors = new ItemVectors(itemRepr, f, this.itemNorms);
  }

  static fromArtifact(artifact: ModelArtifact): HybridRecommender {
    const params = paramsFromJson('hybrid', artifact.params);
    const { userRepr, itemRepr, itemBias } = artifact.arrays;
    if (
      !(userRepr instanceof Float32Array) ||
      !(itemRepr instanceof Float32Array) ||
      !(itemBias instanceof Float32Array)
    ) {
      throw new TypeError('hybrid artifact: userRepr, itemRepr and itemBias must be Float32Arrays');
    }
    return new HybridRecommender(params, artifact.nUsers, artifact.nItems, userRepr, itemRepr, itemBias);
  }

  toArtifact(): ModelArtifact {
    return {
      name: 'hybrid',
      params: this.params,
      nUsers: this.nUsers,
      nItems: this.nItems,
      arrays: { userRepr: this.userRepr, itemRepr: this.itemRepr, itemBias: this.itemBias },
    };
  }

  score(profile: UserProfile, out: Float32Array): void {
    const x = this.userVector(profile);
    const { f, itemRepr, itemBias, nItems } = this;
    for (let i = 0; i < nItems; i++) {
      const o = i * f;
      let s0 = 0;
      let s1 = 0;
      let a = 0;
      for (; a + 1 < f; a += 2) {
        s0 += x[a]! * itemRepr[o + a]!;
        s1 += x[a + 1]! * itemRepr[o + a + 1]!;
      }
      if (a < f) s0 += x[a]! * itemRepr[o + a]!;
      out[i] = s0 + s1 + itemBias[i]!;
    }
  }

  /** Cosine in representation space, so a cold item's neighbours are the items sharing its features. */
  similar(item: number, n: number): ScoredIndex[] {
    return this.validItem(item) ? this.vectors.similar(item, n) : [];
  }

  /** The history item closest to `item` in representation space (cosine > 0); else the taste score. */
  evidence(profile: UserProfile, item: number): Evidence {
    const { f, itemRepr, itemNorms } = this;
    if (!this.validItem(item)) return { kind: 'taste', score: 0 };
    let best = -1;
    let bestCos = 0;
    if (itemNorms[item]! > 0) {
      for (let k = 0; k < profile.items.length; k++) {
        const h = profile.items[k]!;
        if (h === item || !this.validItem(h) || itemNorms[h]! === 0) continue;
        const cos = this.vectors.cosine(item, h);
        if (cos > bestCos) {
          best = h;
          bestCos = cos;
        }
      }
    }
    if (best >= 0) return { kind: 'item', item: best, similarity: bestCos };
    const x = this.userVector(profile);
    let score = this.itemBias[item]!;
    for (let a = 0; a < f; a++) score += x[a]! * itemRepr[item * f + a]!;
    return { kind: 'taste', score };
  }

  /**
   * The score as per-dimension products of user and item representations (the `limit` largest by
   * magnitude; `score` also holds the item's bias, which no dimension carries) and the user's history items
   * closest to `item` in representation space.
   */
  explain(profile: UserProfile, item: number, limit: number): Explanation {
    const { f, itemRepr } = this;
    if (!this.validItem(item)) return { kind: 'factors', score: 0, factors: [], similarItems: [] };
    const x = this.userVector(profile);
    const o = item * f;
    const factors: FactorContribution[] = [];
    let score = this.itemBias[item]!;
    for (let a = 0; a < f; a++) {
      const user = x[a]!;
      const value = itemRepr[o + a]!;
      score += user * value;
      factors.push({ dimension: a, user, item: value, product: user * value });
    }
    factors.sort((p, q) => Math.abs(q.product) - Math.abs(p.product) || p.dimension - q.dimension);
    const similarItems = this.vectors.closest(item, profile.items, (h) => this.validItem(h));
    const n = Math.max(0, limit);
    return { kind: 'factors', score, factors: factors.slice(0, n), similarItems: similarItems.slice(0, n) };
  }

  /** The user's representation for this profile, in a scratch buffer valid until the next call. */
  private userVector(profile: UserProfile): Float64Array {
    const { f, user } = this;
    const known = profile.userIndex >= 0 && profile.userIndex < this.nUsers;
    if (known && (!profile.fresh || profile.items.length === 0)) {
      const o = profile.userIndex * f;
      for (let a = 0; a < f; a++) user[a] = this.userRepr[o + a]!;
      return user;
    }
    this.centroid(profile, user);
    if (known) {
      const o = profile.userIndex * f;
      for (let a = 0; a < f; a++) user[a] = 0.5 * (user[a]! + this.userRepr[o + a]!);
    }
    return user;
  }

  /** The weighted centroid of the profile's item representations, scaled to the mean user norm. */
  private centroid(profile: UserProfile, out: Float64Array): void {
    const { f, itemRepr } = this;
    out.fill(0);
    for (let k = 0; k < profile.items.length; k++) {
      const i = profile.items[k]!;
      if (!this.validItem(i)) continue;
      const w = profile.weights[k] ?? 1;
      const o = i * f;
      for (let a = 0; a < f; a++) out[a]! += w * itemRepr[o + a]!;
    }
    let norm = 0;
    for (let a = 0; a < f; a++) norm += out[a]! * out[a]!;
    norm = Math.sqrt(norm);
    if (norm > 0) for (let a = 0; a < f; a++) out[a]! *= this.meanUserNorm / norm;
  }

  private validItem(i: number): boolean {
    return Number.isInteger(i) && i >= 0 && i < this.nItems;
  }
}

function rowNorms(m: Float32Array, rows: number, f: number): Float32Array {
  const out = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let a = 0; a < f; a++) s += m[r * f + a]! * m[r * f + a]!;
    out[r] = Math.sqrt(s);
  }
  return out;
}
