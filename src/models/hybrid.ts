import { DenseScorer } from './dense-scores.js';
import type { JsonValue } from '../shared/types.js';
import { ItemVectors } from './item-vectors.js';
import { assertCsr } from './csr.js';
import { featureLayout, represent, trainHybrid, type FeatureLayout } from './hybrid-train.js';
import { assertTrainingInput } from './input.js';
import { paramsFromJson, paramsToJson, validateParams } from './params.js';
import { PerProfile } from './per-profile.js';
import { feedbackWeights, isRecencyWeighted } from './recency.js';
import type {
  CsrMatrix,
  Evidence,
  Explanation,
  FeatureContribution,
  FitOptions,
  HybridParams,
  ModelArtifact,
  NumericArray,
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
 * other item; the training set only has to index every catalog item, not just those with events
 * (`training/side.ts`). A user known only by traits is likewise an empty row with a feature row, or, when
 * the training set never indexed them, represented from trait names at request time (`traitVector`).
 * Serving mixes the new items into other models' lists in `recommendations/cold-start.ts`.
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
  // Each user's total feedback weight at training: how much the trained representation stands for when a
  // fresh profile is mixed in (`HybridRecommender`). Summed in double precision in row order, as
  // `userVector` sums a profile, so a profile equal to the row gives the same total.
  const userWeights = new Float32Array(matrix.rows);
  for (let u = 0; u < matrix.rows; u++) {
    let total = 0;
    for (let k = matrix.indptr[u]!; k < matrix.indptr[u + 1]!; k++) total += matrix.data[k]!;
    userWeights[u] = total;
  }
  const users = featureLayout(matrix.rows, userCounts, userFeatures);
  const items = featureLayout(matrix.cols, itemCounts, itemFeatures);
  const learned = trainHybrid(matrix, users, items, params, options);
  const f = params.components;
  const userRepr = representAll(users, learned.userEmbeddings, f);
  const itemRepr = representAll(items, learned.itemEmbeddings, f, learned.itemBiases);
  const sides: HybridSides = {
    item: sideOf(
      itemFeatures,
      input.itemFeatureNames,
      learned.itemEmbeddings,
      matrix.cols,
      f,
      learned.itemBiases,
    ),
    user: sideOf(userFeatures, input.userFeatureNames, learned.userEmbeddings, matrix.rows, f),
  };
  // Async like the other fits, so a bad input rejects rather than throws (and a worker can slot in later).
  await Promise.resolve();
  return new HybridRecommender(
    params,
    matrix.rows,
    matrix.cols,
    userRepr.repr,
    itemRepr.repr,
    itemRepr.bias,
    sides,
    userWeights,
  );
}

/**
 * One side's features as serving keeps them: the names, their learned embeddings (and item biases), and
 * each row's side features (the fit's input, unnormalised). Serving needs them for what the per-row
 * representations cannot give: a user the bundle never indexed, represented from traits at request time
 * (`traitVector`), and explanations in feature terms. All linear in rows + features.
 */
export interface HybridSide {
  readonly names: readonly string[];
  /** names.length × components. */
  readonly embeddings: Float32Array;
  /** names.length; item side only. */
  readonly biases: Float32Array | null;
  /** rows × names CSR of the row's side features (weights > 0, normalised to sum 1 when used). */
  readonly indptr: Int32Array;
  readonly indices: Int32Array;
  readonly data: Float32Array;
}

export interface HybridSides {
  readonly item: HybridSide | null;
  readonly user: HybridSide | null;
}

/** A user's representation for one profile, and the trained representation's share of it. */
interface MixedUser {
  readonly vector: Float64Array;
  readonly trainedShare: number;
}

function sideOf(
  features: CsrMatrix | undefined,
  names: readonly string[] | undefined,
  emb: Float32Array,
  rows: number,
  f: number,
  biases?: Float32Array,
): HybridSide | null {
  if (features === undefined || features.cols === 0) return null;
  // Names are optional in `TrainingInput`; without them a feature is known by its column.
  const named = names !== undefined && names.length === features.cols;
  return {
    names: named ? [...names] : Array.from({ length: features.cols }, (_, c) => `feature_${c}`),
    embeddings: emb.slice(rows * f, (rows + features.cols) * f),
    biases: biases === undefined ? null : biases.slice(rows, rows + features.cols),
    indptr: features.indptr.slice(),
    indices: features.indices.slice(0, features.indptr[features.rows]!),
    data: features.data.slice(0, features.indptr[features.rows]!),
  };
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
 * scoring is one dot product per item, as for ALS. The side features' names, embeddings and rows are kept
 * too (`sides`, linear in rows + features): for users represented from traits at request time, for
 * feature-only scores (`scoreByFeatures`) and for explanations in feature terms.
 *
 * A profile the model has no row for is folded in heuristically: WARP cannot be solved in closed form, so
 * the user becomes c, the weighted centroid of the profile's item representations scaled to the mean
 * trained user norm (so it weighs against the item biases as a trained user would). An empty unknown
 * profile is the zero vector: items rank by their biases, the model's popularity.
 *
 * A known user with a fresh profile (their whole history, some of it newer than the model) keeps the
 * trained representation x_t for the feedback it was trained on and takes c for what was added since:
 *
 *   x = (W_t · x_t + max(0, W_now - W_t) · c) / max(W_now, W_t)
 *
 * where W_t is the user's total feedback weight in the training matrix (`userWeights`, the row sums) and
 * W_now the profile's total feedback weight. One new view on a user with hundreds barely moves them; a
 * user whose history doubled moves halfway to c; a profile holding no more than training saw scores as
 * trained. Artifacts saved before `userWeights` existed average instead: x = (x_t + c) / 2.
 *
 * Recency weighting (`recency.ts`, a hyper-parameter selection tunes) is a deliberate reading of the recent
 * past on top of that state: the user is x_r = (x + c_r) / 2, with c_r the centroid of the recency-weighted
 * profile and x the state above, computed from the feedback before weighting (W_now in the units of W_t:
 * the decayed total would stay below W_t for any long history, and a user who doubled their history would
 * not move). So recency pulls every user toward their newest items, in evaluation and serving alike, and
 * events after training still move the state itself.
 */
export class HybridRecommender implements Recommender {
  readonly name = 'hybrid' as const;
  readonly params: JsonValue;
  private readonly f: number;
  private readonly itemNorms: Float32Array;
  private readonly meanUserNorm: number;
  private readonly user: Float64Array;
  /** Scratch for the recency view's centroid (`userVector`). */
  private readonly recent: Float64Array;
  /** The trained representation's share of the vector `userVector` last returned (for `explain`). */
  private trainedShare = 0;
  /** Representations mixed for profiles other than a known user's unchanged row; read-only once stored. */
  private readonly mixed = new PerProfile<MixedUser>();
  private readonly vectors: ItemVectors;
  /** Whole-catalog scoring in WebAssembly, built on first use. */
  private dense: DenseScorer | null = null;
  private userFeatureIndex: Map<string, number> | null = null;

  constructor(
    hyper: HybridParams,
    readonly nUsers: number,
    readonly nItems: number,
    private readonly userRepr: Float32Array,
    private readonly itemRepr: Float32Array,
    private readonly itemBias: Float32Array,
    readonly sides: HybridSides = { item: null, user: null },
    /** Each user's total feedback weight in the training matrix; null for artifacts saved without it. */
    private readonly userWeights: Float32Array | null = null,
  ) {
    const f = hyper.components;
    if (userRepr.length !== nUsers * f || itemRepr.length !== nItems * f || itemBias.length !== nItems) {
      throw new RangeError(`hybrid: arrays do not match ${nUsers} users, ${nItems} items × ${f} components`);
    }
    if (userWeights !== null && userWeights.length !== nUsers) {
      throw new RangeError(`hybrid: userWeights has ${userWeights.length} entries, need ${nUsers}`);
    }
    checkSide(sides.item, nItems, f, 'item');
    checkSide(sides.user, nUsers, f, 'user');
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
    this.recent = new Float64Array(f);
    this.vectors = new ItemVectors(itemRepr, f, this.itemNorms);
  }

  static fromArtifact(artifact: ModelArtifact): HybridRecommender {
    const params = paramsFromJson('hybrid', artifact.params);
    const { userRepr, itemRepr, itemBias, userWeights } = artifact.arrays;
    if (
      !(userRepr instanceof Float32Array) ||
      !(itemRepr instanceof Float32Array) ||
      !(itemBias instanceof Float32Array)
    ) {
      throw new TypeError('hybrid artifact: userRepr, itemRepr and itemBias must be Float32Arrays');
    }
    // Absent in bundles saved before fresh profiles were weighed by how much is new: those still load.
    if (userWeights !== undefined && !(userWeights instanceof Float32Array)) {
      throw new TypeError('hybrid artifact: userWeights must be a Float32Array');
    }
    const names = featureNamesOf(artifact.params);
    const sides: HybridSides = {
      item: sideFromArrays(artifact.arrays, 'item', names.item),
      user: sideFromArrays(artifact.arrays, 'user', names.user),
    };
    return new HybridRecommender(
      params,
      artifact.nUsers,
      artifact.nItems,
      userRepr,
      itemRepr,
      itemBias,
      sides,
      userWeights ?? null,
    );
  }

  /**
   * The feature names travel in the artifact's params under `features` (the arrays hold numbers only);
   * `params` as the model reports it stays the hyper-parameters alone.
   */
  eraseUser(user: number): void {
    if (user < 0 || user >= this.nUsers) return;
    const f = this.f;
    this.userRepr.fill(0, user * f, (user + 1) * f);
    if (this.userWeights !== null) this.userWeights[user] = 0;
    const side = this.sides.user;
    if (side !== null) {
      // The row keeps its length (the CSR's offsets stay valid) but names no trait and weighs nothing.
      side.indices.fill(0, side.indptr[user]!, side.indptr[user + 1]!);
      side.data.fill(0, side.indptr[user]!, side.indptr[user + 1]!);
    }
  }

  toArtifact(): ModelArtifact {
    const { item, user } = this.sides;
    const params =
      item === null && user === null
        ? this.params
        : {
            ...(this.params as { readonly [key: string]: JsonValue }),
            features: { item: item?.names ?? [], user: user?.names ?? [] },
          };
    return {
      name: 'hybrid',
      params,
      nUsers: this.nUsers,
      nItems: this.nItems,
      arrays: {
        userRepr: this.userRepr,
        itemRepr: this.itemRepr,
        itemBias: this.itemBias,
        ...(this.userWeights === null ? {} : { userWeights: this.userWeights }),
        ...sideArrays(item, 'item'),
        ...sideArrays(user, 'user'),
      },
    };
  }

  /**
   * The representation of a user from feature names alone (traits as `key=value`, as
   * `training/features.ts` writes them): the mean of the known features' embeddings, exactly what the fit
   * makes of a user with traits and no interactions. `null` when none of the names is known. Lets serving
   * personalise for a user the bundle never indexed (traits sent after training, or no events at all).
   */
  traitVector(names: readonly string[]): Float32Array | null {
    const side = this.sides.user;
    if (side === null || names.length === 0) return null;
    this.userFeatureIndex ??= new Map(side.names.map((name, c) => [name, c]));
    const { f } = this;
    const out = new Float32Array(f);
    let known = 0;
    for (const name of new Set(names)) {
      const c = this.userFeatureIndex.get(name);
      if (c === undefined) continue;
      known += 1;
      for (let a = 0; a < f; a++) out[a]! += side.embeddings[c * f + a]!;
    }
    if (known === 0) return null;
    for (let a = 0; a < f; a++) out[a]! /= known;
    return out;
  }

  /** Scores every item for a user given as a representation (`traitVector`). */
  scoreVector(x: Float32Array, out: Float32Array): void {
    for (let i = 0; i < this.nItems; i++) out[i] = this.dotItem(x, i);
  }

  /**
   * Scores only `items` (into `out[k]` for `items[k]`): the serving path scores a few new items and a
   * candidate pool this way, f multiply-adds each, instead of the whole catalog.
   */
  scoreSome(profile: UserProfile, items: Int32Array, out: Float32Array): void {
    const x = this.userVector(profile);
    for (let k = 0; k < items.length; k++) {
      const i = items[k]!;
      out[k] = this.validItem(i) ? this.dotItem(x, i) : Number.NEGATIVE_INFINITY;
    }
  }

  /**
   * Scores `items` by their side features alone, leaving out what each learned from its own interactions
   * (its identity embedding): Σ_f w_f · (x · e_f + b_f). A new item has nothing but features, so this is
   * the like-for-like scale to compare warm items with it (`recommendations/cold-start.ts`). An item
   * without features scores 0, the fit's value for a featureless cold item.
   *
   * On the serving path: each item's feature-only representation is built the first time it is asked for
   * and kept (items × components floats, allocated on first use; the same size as `itemRepr`), so a request
   * pays f multiply-adds per item, as `score` does, instead of f per feature.
   */
  scoreByFeatures(profile: UserProfile, items: Int32Array, out: Float32Array): void {
    const x = this.userVector(profile);
    for (let k = 0; k < items.length; k++) {
      const i = items[k]!;
      if (!this.validItem(i)) {
        out[k] = Number.NEGATIVE_INFINITY;
        continue;
      }
      const { repr, bias } = this.featureOnly(i);
      const o = i * this.f;
      let s0 = bias[i]!;
      let s1 = 0;
      let a = 0;
      for (; a + 1 < this.f; a += 2) {
        s0 += x[a]! * repr[o + a]!;
        s1 += x[a + 1]! * repr[o + a + 1]!;
      }
      if (a < this.f) s0 += x[a]! * repr[o + a]!;
      out[k] = s0 + s1;
    }
  }

  private featureRepr: { repr: Float32Array; bias: Float32Array; done: Uint8Array } | null = null;

  /** Item i's feature-only representation and bias, built on first use (see `scoreByFeatures`). */
  private featureOnly(i: number): { readonly repr: Float32Array; readonly bias: Float32Array } {
    const { f, nItems } = this;
    this.featureRepr ??= {
      repr: new Float32Array(nItems * f),
      bias: new Float32Array(nItems),
      done: new Uint8Array(nItems),
    };
    const cache = this.featureRepr;
    if (cache.done[i] === 1) return cache;
    cache.done[i] = 1;
    const side = this.sides.item;
    if (side === null) return cache;
    const { total, start, end } = rowWeights(side, i);
    const o = i * f;
    let bias = 0;
    for (let q = start; q < end; q++) {
      const c = side.indices[q]!;
      const w = side.data[q]! / total;
      bias += w * (side.biases?.[c] ?? 0);
      for (let a = 0; a < f; a++) cache.repr[o + a]! += w * side.embeddings[c * f + a]!;
    }
    cache.bias[i] = bias;
    return cache;
  }

  private dotItem(x: Float32Array | Float64Array, i: number): number {
    const { f, itemRepr } = this;
    const o = i * f;
    let s0 = 0;
    let s1 = 0;
    let a = 0;
    for (; a + 1 < f; a += 2) {
      s0 += x[a]! * itemRepr[o + a]!;
      s1 += x[a + 1]! * itemRepr[o + a + 1]!;
    }
    if (a < f) s0 += x[a]! * itemRepr[o + a]!;
    return s0 + s1 + this.itemBias[i]!;
  }

  score(profile: UserProfile, out: Float32Array): void {
    this.dense ??= new DenseScorer(this.itemRepr, this.nItems, this.f);
    this.dense.score(this.userVector(profile), out);
    for (let i = 0; i < this.nItems; i++) out[i]! += this.itemBias[i]!;
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
   * The score in feature terms (`kind: 'features'`): how much each of the item's features (its categories,
   * tags, price band, attributes) and each of the user's traits contributed, and the item's and user's own
   * (identity) parts, plus the user's history items closest to `item` in representation space. The item
   * side decomposes the score exactly: s = Σ_f w_f · (x · e_f + b_f) over the item's features including
   * its identity; the user side likewise decomposes s - bias. The traits' parts are scaled by the trained
   * representation's share of the user vector (all of it unless the profile is fresh, W_t / W_now when it
   * adds feedback); a user without a trained row (folded in from their items) has no trait part. The rest
   * of the representation is reported as the identity part.
   */
  explain(profile: UserProfile, item: number, limit: number): Explanation {
    const empty = { score: 0, bias: 0, itemFeatures: [], userFeatures: [], similarItems: [] };
    if (!this.validItem(item)) return { kind: 'features', ...empty };
    const x = Float32Array.from(this.userVector(profile));
    const share = this.trainedShare;
    const bias = this.itemBias[item]!;
    const score = this.dotItem(x, item);
    const n = Math.max(0, limit);
    const itemParts = this.itemParts(x, item, score);
    const userParts: FeatureContribution[] = [];
    let userSide = 0;
    const uSide = this.sides.user;
    if (uSide !== null && share > 0) {
      const { total, start, end } = rowWeights(uSide, profile.userIndex);
      for (let k = start; k < end; k++) {
        const c = uSide.indices[k]!;
        const weight = (share * uSide.data[k]!) / total;
        const part = this.traitPart(uSide.embeddings, c, item);
        userParts.push({ feature: uSide.names[c]!, weight, contribution: weight * part });
        userSide += weight * part;
      }
    }
    if (Math.abs(score - bias - userSide) > 1e-6 || userParts.length === 0)
      userParts.push({ feature: null, weight: 1, contribution: score - bias - userSide });
    userParts.sort(byMagnitude);
    const similarItems = this.vectors.closest(item, profile.items, (h) => this.validItem(h));
    return {
      kind: 'features',
      score,
      bias,
      itemFeatures: itemParts.slice(0, n),
      userFeatures: userParts.slice(0, n),
      similarItems: similarItems.slice(0, n),
    };
  }

  /** A user's explanation in feature terms for a user given as a representation (from `traitVector`). */
  explainVector(x: Float32Array, traits: readonly string[], item: number, limit: number): Explanation {
    const empty = { score: 0, bias: 0, itemFeatures: [], userFeatures: [], similarItems: [] };
    if (!this.validItem(item)) return { kind: 'features', ...empty };
    const score = this.dotItem(x, item);
    const bias = this.itemBias[item]!;
    const userParts: FeatureContribution[] = [];
    const side = this.sides.user;
    if (side !== null) {
      this.userFeatureIndex ??= new Map(side.names.map((name, c) => [name, c]));
      const known = [...new Set(traits)].filter((t) => this.userFeatureIndex!.has(t));
      for (const name of known) {
        const part = this.traitPart(side.embeddings, this.userFeatureIndex.get(name)!, item);
        userParts.push({ feature: name, weight: 1 / known.length, contribution: part / known.length });
      }
    }
    if (userParts.length === 0) userParts.push({ feature: null, weight: 1, contribution: score - bias });
    userParts.sort(byMagnitude);
    const n = Math.max(0, limit);
    const itemParts = this.itemParts(x, item, score);
    return {
      kind: 'features',
      score,
      bias,
      itemFeatures: itemParts.slice(0, n),
      userFeatures: userParts.slice(0, n),
      similarItems: [],
    };
  }

  /** User feature `c`'s embedding · `item`'s representation: the trait's part of the score, before weighting. */
  private traitPart(embeddings: Float32Array, c: number, item: number): number {
    const { f, itemRepr } = this;
    let part = 0;
    for (let a = 0; a < f; a++) part += embeddings[c * f + a]! * itemRepr[item * f + a]!;
    return part;
  }

  /** The item side of an explanation: each item feature's part of `score`, and the identity's rest. */
  private itemParts(x: Float32Array, item: number, score: number): FeatureContribution[] {
    const { f } = this;
    const parts: FeatureContribution[] = [];
    let explained = 0;
    const side = this.sides.item;
    if (side !== null) {
      const { total, start, end } = rowWeights(side, item);
      for (let k = start; k < end; k++) {
        const c = side.indices[k]!;
        const weight = side.data[k]! / total;
        let part = side.biases?.[c] ?? 0;
        for (let a = 0; a < f; a++) part += x[a]! * side.embeddings[c * f + a]!;
        parts.push({ feature: side.names[c]!, weight, contribution: weight * part });
        explained += weight * part;
      }
    }
    // The identity's part is what the features do not explain (zero for an item with no interactions).
    if (Math.abs(score - explained) > 1e-6 || parts.length === 0)
      parts.push({ feature: null, weight: 1, contribution: score - explained });
    return parts.sort(byMagnitude);
  }

  /**
   * The user's representation for this profile (see the class comment), read-only; sets `trainedShare`.
   * A known user's profile that is not fresh is the trained representation, copied into a scratch buffer
   * valid until the next call; any other profile's is mixed once per profile object (`mixed`).
   */
  private userVector(profile: UserProfile): Float64Array {
    const { f, user } = this;
    const u = profile.userIndex;
    if (!(u >= 0 && u < this.nUsers) || profile.fresh) {
      const state = this.mixed.get(profile, this.mix);
      this.trainedShare = state.trainedShare;
      return state.vector;
    }
    // Nothing beyond what training saw (recency-weighted profiles are always fresh, `weighByRecency`).
    for (let a = 0; a < f; a++) user[a] = this.userRepr[u * f + a]!;
    this.trainedShare = 1;
    return user;
  }

  /** The representation of a profile other than a known user's unchanged row (see the class comment). */
  private readonly mix = (profile: UserProfile): MixedUser => {
    const { f } = this;
    const user = new Float64Array(f);
    const u = profile.userIndex;
    if (!(u >= 0 && u < this.nUsers)) {
      this.centroid(profile, user);
      return { vector: user, trainedShare: 0 };
    }
    const trained = this.userRepr.subarray(u * f, (u + 1) * f);
    let share = 1;
    if (profile.fresh && profile.items.length > 0) {
      if (this.userWeights === null) share = 0.5;
      else {
        const then = this.userWeights[u]!;
        const now = this.feedbackTotal(profile);
        if (now > then) share = then / now;
      }
    }
    if (share === 1) {
      // Nothing beyond what training saw: the trained representation itself, bit for bit.
      for (let a = 0; a < f; a++) user[a] = trained[a]!;
    } else {
      this.centroid(profile, user);
      for (let a = 0; a < f; a++) user[a] = share * trained[a]! + (1 - share) * user[a]!;
    }
    if (!(isRecencyWeighted(profile) && profile.items.length > 0))
      return { vector: user, trainedShare: share };
    const { recent } = this;
    this.centroid(profile, recent);
    for (let a = 0; a < f; a++) user[a] = 0.5 * (user[a]! + recent[a]!);
    return { vector: user, trainedShare: share / 2 };
  };

  /**
   * W_now: the profile's total feedback weight over the items the model knows, before any recency
   * weighting, summed as `fitHybrid` sums a training row (double precision, then single), so a profile
   * equal to the row gives exactly W_t.
   */
  private feedbackTotal(profile: UserProfile): number {
    const weights = feedbackWeights(profile);
    let total = 0;
    for (let k = 0; k < profile.items.length; k++) {
      if (this.validItem(profile.items[k]!)) total += weights[k] ?? 1;
    }
    return Math.fround(total);
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

function byMagnitude(p: FeatureContribution, q: FeatureContribution): number {
  return Math.abs(q.contribution) - Math.abs(p.contribution);
}

function rowWeights(side: HybridSide, r: number): { total: number; start: number; end: number } {
  const start = side.indptr[r]!;
  const end = side.indptr[r + 1]!;
  let total = 0;
  for (let k = start; k < end; k++) total += side.data[k]!;
  return { total: total > 0 ? total : 1, start, end };
}

function checkSide(side: HybridSide | null, rows: number, f: number, what: string): void {
  if (side === null) return;
  const n = side.names.length;
  if (side.embeddings.length !== n * f || (side.biases !== null && side.biases.length !== n)) {
    throw new RangeError(`hybrid: ${what} feature arrays do not match ${n} features × ${f} components`);
  }
  if (side.indptr.length !== rows + 1 || side.indices.length !== side.indptr[rows]) {
    throw new RangeError(`hybrid: ${what} feature rows do not match ${rows} ${what}s`);
  }
  for (let k = 0; k < side.indices.length; k++) {
    if (!(side.indices[k]! >= 0 && side.indices[k]! < n))
      throw new RangeError(`hybrid: ${what} feature index out of range`);
  }
}

function sideArrays(side: HybridSide | null, prefix: 'item' | 'user'): Record<string, NumericArray> {
  if (side === null) return {};
  return {
    [`${prefix}FeatureEmb`]: side.embeddings,
    ...(side.biases === null ? {} : { [`${prefix}FeatureBias`]: side.biases }),
    [`${prefix}FeatureIndptr`]: side.indptr,
    [`${prefix}FeatureIndices`]: side.indices,
    [`${prefix}FeatureData`]: side.data,
  };
}

function sideFromArrays(
  arrays: Readonly<Record<string, NumericArray>>,
  prefix: 'item' | 'user',
  names: readonly string[] | null,
): HybridSide | null {
  const embeddings = arrays[`${prefix}FeatureEmb`];
  if (embeddings === undefined || names === null) return null;
  const biases = arrays[`${prefix}FeatureBias`];
  const indptr = arrays[`${prefix}FeatureIndptr`];
  const indices = arrays[`${prefix}FeatureIndices`];
  const data = arrays[`${prefix}FeatureData`];
  if (
    !(embeddings instanceof Float32Array) ||
    !(biases === undefined || biases instanceof Float32Array) ||
    !(indptr instanceof Int32Array) ||
    !(indices instanceof Int32Array) ||
    !(data instanceof Float32Array)
  ) {
    throw new TypeError(`hybrid artifact: ${prefix} feature arrays have the wrong types`);
  }
  return { names, embeddings, biases: biases ?? null, indptr, indices, data };
}

function featureNamesOf(params: JsonValue): {
  item: readonly string[] | null;
  user: readonly string[] | null;
} {
  const features =
    params !== null && typeof params === 'object' && !Array.isArray(params)
      ? (params as { readonly [key: string]: JsonValue })['features']
      : undefined;
  const list = (key: string): readonly string[] | null => {
    if (features === null || typeof features !== 'object' || Array.isArray(features)) return null;
    const names = (features as { readonly [key: string]: JsonValue })[key];
    return Array.isArray(names) && names.every((n) => typeof n === 'string') ? (names as string[]) : null;
  };
  return { item: list('item'), user: list('user') };
}
