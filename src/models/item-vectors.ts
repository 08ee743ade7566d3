import { topK } from './topk.js';
import type { ScoredIndex } from './types.js';

/**
 * Item vectors in a latent space (ALS factors, hybrid representations) with their norms: the cosine
 * arithmetic behind `similar`, evidence and explanations of the factor models, written once.
 */
export class ItemVectors {
  private readonly scores: Float32Array;

  constructor(
    private readonly vectors: Float32Array,
    private readonly f: number,
    readonly norms: Float32Array | Float64Array,
  ) {
    this.scores = new Float32Array(norms.length);
  }

  /** Cosine of items i and j; 0 when either vector is zero. */
  cosine(i: number, j: number): number {
    const { f, vectors, norms } = this;
    const denom = norms[i]! * norms[j]!;
    if (!(denom > 0)) return 0;
    const o = i * f;
    const p = j * f;
    // Four partial sums: one chain of dependent adds waited on each add's latency, and serving takes a
    // cosine per pair of listed item and recent history item (1,000 of them for a list of 20).
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let a = 0;
    for (; a + 3 < f; a += 4) {
      s0 += vectors[o + a]! * vectors[p + a]!;
      s1 += vectors[o + a + 1]! * vectors[p + a + 1]!;
      s2 += vectors[o + a + 2]! * vectors[p + a + 2]!;
      s3 += vectors[o + a + 3]! * vectors[p + a + 3]!;
    }
    for (; a < f; a++) s0 += vectors[o + a]! * vectors[p + a]!;
    return (s0 + s1 + (s2 + s3)) / denom;
  }

  /** The `n` items closest to `item` by cosine, `item` itself excluded. */
  similar(item: number, n: number): ScoredIndex[] {
    const { scores } = this;
    for (let j = 0; j < scores.length; j++) scores[j] = this.cosine(item, j);
    return topK(scores, n, (j) => j === item);
  }

  /** Each of `items` (other than `item`, non-zero) with its cosine to `item`, most similar first. */
  closest(
    item: number,
    items: Int32Array,
    valid: (i: number) => boolean,
  ): { item: number; similarity: number }[] {
    const found: { item: number; similarity: number }[] = [];
    if (this.norms[item] === 0) return found;
    for (let k = 0; k < items.length; k++) {
      const h = items[k]!;
      if (h === item || !valid(h) || this.norms[h] === 0) continue;
      found.push({ item: h, similarity: this.cosine(item, h) });
    }
    return found.sort((p, q) => q.similarity - p.similarity || p.item - q.item);
  }
}
