import type { JsonValue } from '../shared/types.js';
import { assertCsr, findInRow } from './csr.js';
import { sparseRowSums, type RowSums } from './row-sums.js';
import { TopKHeap } from './topk.js';
import type {
  CsrMatrix,
  Evidence,
  Explanation,
  ModelArtifact,
  NeighborContribution,
  Recommender,
  ScoredIndex,
  UserProfile,
} from './types.js';

/** The models that serve from a sparse item × item graph. */
export type ItemGraphModel = 'itemknn' | 'rp3beta';

/**
 * The serving side shared by the item-graph models (item-kNN, RP3beta): a sparse item × item graph
 * plus item popularity. Two orientations of the graph matter:
 * - `stored`: what the model keeps and saves; its row i lists i's neighbours, for `similar`.
 * - `scatter`: row i holds what history item i passes on to other items, so scoring a profile scatters
 *   its rows (a request costs Σ history × neighbours), and the evidence for item j is found in them.
 * For RP3beta they are the same matrix; for item-kNN `scatter` is the transpose of `stored`.
 */
export class ItemGraphRecommender implements Recommender {
  readonly nItems: number;
  private readonly stored: CsrMatrix;
  private readonly scatter: CsrMatrix;
  /** Scores `scatter`, which is its matrix (in the kernel's memory), as `stored` is when the same. */
  private readonly scatterSums: RowSums & { readonly matrix: CsrMatrix };

  constructor(
    readonly name: ItemGraphModel,
    readonly params: JsonValue,
    readonly nUsers: number,
    stored: CsrMatrix,
    scatter: CsrMatrix,
    /** Σ_u w_ui per item: the evidence for items no history item reaches. */
    private readonly popularity: Float32Array,
  ) {
    if (
      stored.rows !== stored.cols ||
      popularity.length !== stored.rows ||
      stored.indptr.length !== stored.rows + 1
    ) {
      throw new RangeError(`${name}: the item graph and popularity do not describe the same items`);
    }
    this.nItems = stored.rows;
    this.scatterSums = sparseRowSums(scatter);
    this.scatter = this.scatterSums.matrix;
    this.stored = stored === scatter ? this.scatter : stored;
  }

  /** The stored graph and popularity of an artifact, checked. */
  static graphFromArtifact(artifact: ModelArtifact): { graph: CsrMatrix; popularity: Float32Array } {
    const { indptr, indices, data, popularity } = artifact.arrays;
    if (
      !(indptr instanceof Int32Array) ||
      !(indices instanceof Int32Array) ||
      !(data instanceof Float32Array) ||
      !(popularity instanceof Float32Array)
    ) {
      throw new TypeError(
        `${artifact.name} artifact: expected Int32Array indptr/indices, Float32Array data/popularity`,
      );
    }
    const n = artifact.nItems;
    const graph: CsrMatrix = { rows: n, cols: n, indptr, indices, data };
    assertCsr(graph, `${artifact.name} artifact`);
    return { graph, popularity };
  }

  toArtifact(): ModelArtifact {
    const { indptr, indices, data } = this.stored;
    return {
      name: this.name,
      params: this.params,
      nUsers: this.nUsers,
      nItems: this.nItems,
      arrays: { indptr, indices, data, popularity: this.popularity },
    };
  }

  score(profile: UserProfile, out: Float32Array): void {
    this.scatterSums.sum(profile.items, profile.weights, out);
  }

  similar(item: number, n: number): ScoredIndex[] {
    if (!this.validItem(item) || !(n > 0)) return [];
    const { indptr, indices, data } = this.stored;
    const start = indptr[item]!;
    const end = indptr[item + 1]!;
    const k = Math.min(Math.floor(n), end - start);
    const heap = new TopKHeap(k);
    heap.reset(k);
    for (let q = start; q < end; q++) heap.push(indices[q]!, data[q]!);
    return heap.drainScored();
  }

  /**
   * The history item passing the most to `item`'s score (`contributions`' first entry, found without
   * building the list: serving asks this for every listed item); popularity when none reaches it.
   */
  evidence(profile: UserProfile, item: number): Evidence {
    let best = -1;
    let bestContribution = 0;
    let bestSimilarity = 0;
    this.eachContribution(profile, item, (i, similarity, weight) => {
      const contribution = weight * similarity;
      if (best < 0 || contribution > bestContribution || (contribution === bestContribution && i < best)) {
        best = i;
        bestContribution = contribution;
        bestSimilarity = similarity;
      }
    });
    if (best >= 0) return { kind: 'item', item: best, similarity: bestSimilarity };
    return { kind: 'popular', popularity: this.validItem(item) ? this.popularity[item]! : 0 };
  }

  /**
   * Every history item that passes weight to `item`, with the edge weight, the user's weight and their
   * product, largest first; `score` is their sum, exactly what `score` computes.
   */
  explain(profile: UserProfile, item: number, limit: number): Explanation {
    const found: NeighborContribution[] = [];
    let score = 0;
    this.eachContribution(profile, item, (i, similarity, weight) => {
      found.push({ item: i, similarity, weight, contribution: weight * similarity });
      score += weight * similarity;
    });
    found.sort((a, b) => b.contribution - a.contribution || a.item - b.item);
    return { kind: 'neighbors', score, neighbors: found.slice(0, Math.max(0, limit)) };
  }

  /** Calls `visit` for each history item with an edge to `item`: its index, the edge, the user's weight. */
  private eachContribution(
    profile: UserProfile,
    item: number,
    visit: (i: number, similarity: number, weight: number) => void,
  ): void {
    if (!this.validItem(item)) return;
    const { indptr, indices, data } = this.scatter;
    for (let k = 0; k < profile.items.length; k++) {
      const i = profile.items[k]!;
      if (i === item || !this.validItem(i)) continue;
      const q = findInRow(indices, indptr[i]!, indptr[i + 1]!, item);
      if (q >= 0) visit(i, data[q]!, profile.weights[k] ?? 1);
    }
  }

  private validItem(i: number): boolean {
    return Number.isInteger(i) && i >= 0 && i < this.nItems;
  }
}
