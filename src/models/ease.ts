import type { JsonValue } from '../shared/types.js';
import { fitEaseWeights } from './ease-fit.js';
import { assertTrainingInput } from './input.js';
import { ParamsError, paramsFromJson, paramsToJson, validateParams } from './params.js';
import { denseRowSums, type RowSums } from './row-sums.js';
import { TopKHeap } from './topk.js';
import type {
  EaseParams,
  Evidence,
  Explanation,
  FitOptions,
  ModelArtifact,
  NeighborContribution,
  Recommender,
  ScoredIndex,
  TrainingInput,
  UserProfile,
} from './types.js';

/**
 * Fits EASE (Steck 2019, "Embarrassingly Shallow Autoencoders"): the item-item weights B minimising
 * ‖X − XB‖² + λ‖B‖² with diag(B) = 0, in closed form (see `fitEaseWeights`). A user's scores are x_u · B.
 * B is dense (items²), so catalogs above `maxItems` are refused: ALS serves those.
 */
export async function fitEase(
  input: TrainingInput,
  params: EaseParams,
  options: FitOptions = {},
): Promise<EaseRecommender> {
  validateParams('ease', params);
  assertTrainingInput(input);
  const nItems = input.matrix.cols;
  if (nItems > params.maxItems) {
    throw new ParamsError(
      `ease: the catalog has ${nItems} items, above the limit of ${params.maxItems} (maxItems); EASE keeps a ` +
        `dense items × items matrix, so use 'als' for a catalog this large or raise maxItems`,
    );
  }
  const weights = await fitEaseWeights(input.matrix, params.lambda, options);
  return new EaseRecommender(params, input.matrix.rows, nItems, weights, itemPopularity(input));
}

function itemPopularity(input: TrainingInput): Float32Array {
  const { indices, data, indptr, rows, cols } = input.matrix;
  const out = new Float32Array(cols);
  for (let k = 0; k < indptr[rows]!; k++) out[indices[k]!]! += data[k]!;
  return out;
}

/** Serving side of EASE: scoring sums the history's rows of B. */
export class EaseRecommender implements Recommender {
  readonly name = 'ease' as const;
  readonly params: JsonValue;
  /**
   * What scores B's rows (a second copy of B in the SIMD kernel's memory, within `rowSumsLimits`), made on
   * the first `score`: a bundle loads every model, and one its blend leaves out is never scored.
   */
  private rowSums: RowSums | undefined;

  constructor(
    hyper: EaseParams,
    readonly nUsers: number,
    readonly nItems: number,
    /** B, nItems × nItems row-major: row i is what item i in a history adds to every item. */
    private readonly weights: Float32Array,
    /** Σ_u w_ui per item, the evidence for items no history item supports. */
    private readonly popularity: Float32Array,
  ) {
    if (weights.length !== nItems * nItems || popularity.length !== nItems) {
      throw new RangeError(`ease: weights or popularity do not match ${nItems} items`);
    }
    this.params = paramsToJson('ease', hyper);
  }

  static fromArtifact(artifact: ModelArtifact): EaseRecommender {
    const params = paramsFromJson('ease', artifact.params);
    const { weights, popularity } = artifact.arrays;
    if (!(weights instanceof Float32Array) || !(popularity instanceof Float32Array)) {
      throw new TypeError('ease artifact: weights and popularity must be Float32Arrays');
    }
    return new EaseRecommender(params, artifact.nUsers, artifact.nItems, weights, popularity);
  }

  toArtifact(): ModelArtifact {
    return {
      name: 'ease',
      params: this.params,
      nUsers: this.nUsers,
      nItems: this.nItems,
      arrays: { weights: this.weights, popularity: this.popularity },
    };
  }

  score(profile: UserProfile, out: Float32Array): void {
    this.rowSums ??= denseRowSums(this.weights, this.nItems, this.nItems);
    this.rowSums.sum(profile.items, profile.weights, out);
  }

  /** The items `item` pushes up most: the largest entries of its row of B. */
  similar(item: number, n: number): ScoredIndex[] {
    if (!this.validItem(item) || !(n > 0)) return [];
    const k = Math.min(Math.floor(n), this.nItems - 1);
    const heap = new TopKHeap(k);
    heap.reset(k);
    const base = item * this.nItems;
    for (let j = 0; j < this.nItems; j++) if (j !== item) heap.push(j, this.weights[base + j]!);
    return heap.drainScored();
  }

  /** The history item with the largest contribution w_i · B_i,item; popularity when none is positive. */
  evidence(profile: UserProfile, item: number): Evidence {
    let best = -1;
    let bestSim = 0;
    let bestContribution = 0;
    if (this.validItem(item)) {
      for (let k = 0; k < profile.items.length; k++) {
        const i = profile.items[k]!;
        if (i === item || !this.validItem(i)) continue;
        const b = this.weights[i * this.nItems + item]!;
        const contribution = (profile.weights[k] ?? 1) * b;
        if (contribution > bestContribution || (contribution === bestContribution && best >= 0 && i < best)) {
          best = i;
          bestSim = b;
          bestContribution = contribution;
        }
      }
    }
    if (best >= 0) return { kind: 'item', item: best, similarity: bestSim };
    return { kind: 'popular', popularity: this.validItem(item) ? this.popularity[item]! : 0 };
  }

  /**
   * Every history item's contribution w_i · B_i,item, largest first (EASE's can be negative: a history
   * item can argue against another); `score` is their sum, what `score` computes (up to its single-precision
   * rounding).
   */
  explain(profile: UserProfile, item: number, limit: number): Explanation {
    const found: NeighborContribution[] = [];
    if (this.validItem(item)) {
      for (let k = 0; k < profile.items.length; k++) {
        const i = profile.items[k]!;
        if (i === item || !this.validItem(i)) continue;
        const similarity = this.weights[i * this.nItems + item]!;
        const weight = profile.weights[k] ?? 1;
        found.push({ item: i, similarity, weight, contribution: weight * similarity });
      }
    }
    let score = 0;
    for (const entry of found) score += entry.contribution;
    found.sort((a, b) => b.contribution - a.contribution || a.item - b.item);
    return { kind: 'neighbors', score, neighbors: found.slice(0, Math.max(0, limit)) };
  }

  private validItem(i: number): boolean {
    return Number.isInteger(i) && i >= 0 && i < this.nItems;
  }
}
