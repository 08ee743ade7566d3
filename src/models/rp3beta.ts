import { transpose } from './csr.js';
import { assertTrainingInput } from './input.js';
import { paramsFromJson, paramsToJson, validateParams } from './params.js';
import { ItemGraphRecommender } from './item-graph.js';
import type { CsrMatrix, FitOptions, ModelArtifact, Rp3betaParams, TrainingInput } from './types.js';

/**
 * RP3beta (Paudel et al. 2016), as in Dacrema et al.'s benchmark code: a random walk item → user → item
 * with transition probabilities raised to α, the landing item's weight divided by its popularity^β:
 *
 *   W_ij = Σ_u P(i→u)^α · P(u→j)^α / deg(j)^β,  P(i→u) = 1/deg(i),  P(u→j) = w_uj / Σ_k w_uk
 *
 * where deg(i) counts the users of item i (binary, as the reference binarises Xᵀ before normalising).
 * Each row keeps its `neighbors` largest entries (the item itself excluded) and a user's score is
 * Σ_i w_ui W_i·, so β trades accuracy for long-tail reach. Rows are accumulated sparsely like item-kNN:
 * the cost is Σ_u |row u|², never items².
 */
export function fitRp3beta(
  input: TrainingInput,
  params: Rp3betaParams,
  options: FitOptions = {},
): Rp3betaRecommender {
  validateParams('rp3beta', params);
  assertTrainingInput(input);
  const users = input.matrix;
  const items = transpose(users);
  const nItems = users.cols;
  const { alpha, beta, neighbors } = params;

  // P(u→j)^α, aligned with the users × items entries.
  const toItem = new Float64Array(users.indptr[users.rows]!);
  for (let u = 0; u < users.rows; u++) {
    let sum = 0;
    for (let q = users.indptr[u]!; q < users.indptr[u + 1]!; q++) sum += users.data[q]!;
    for (let q = users.indptr[u]!; q < users.indptr[u + 1]!; q++) {
      toItem[q] = Math.pow(users.data[q]! / sum, alpha);
    }
  }
  const degree = new Int32Array(nItems);
  const landing = new Float64Array(nItems);
  const popularity = new Float32Array(nItems);
  for (let i = 0; i < nItems; i++) {
    const d = items.indptr[i + 1]! - items.indptr[i]!;
    degree[i] = d;
    // Items nobody used get weight 0, as in the reference (they can never be reached anyway).
    landing[i] = d > 0 ? Math.pow(d, -beta) : 0;
    let sum = 0;
    for (let k = items.indptr[i]!; k < items.indptr[i + 1]!; k++) sum += items.data[k]!;
    popularity[i] = sum;
  }

  const { indptr: uIndptr, indices: uIndices } = users;
  const { indptr: iIndptr, indices: iIndices } = items;
  const acc = new Float64Array(nItems);
  const touched = new Int32Array(nItems);
  const k = Math.min(neighbors, Math.max(0, nItems - 1));
  const candidates = new Float64Array(nItems);
  const scratch = new Float64Array(nItems);
  const indptr = new Int32Array(nItems + 1);
  let indices: Int32Array = new Int32Array(Math.max(1, Math.min(nItems * k, 1 << 20)));
  let data: Float32Array = new Float32Array(indices.length);
  let nnz = 0;
  const progressEvery = Math.max(1, Math.ceil(nItems / 100));

  for (let i = 0; i < nItems; i++) {
    let nTouched = 0;
    const d = degree[i]!;
    if (d > 0) {
      const toUser = Math.pow(1 / d, alpha);
      for (let e = iIndptr[i]!; e < iIndptr[i + 1]!; e++) {
        const u = iIndices[e]!;
        const end = uIndptr[u + 1]!;
        for (let q = uIndptr[u]!; q < end; q++) {
          const j = uIndices[q]!;
          if (acc[j] === 0) touched[nTouched++] = j;
          acc[j]! += toUser * toItem[q]!;
        }
      }
    }
    // Candidates in index order (rows are stored sorted), compacted into the front of `touched`.
    touched.subarray(0, nTouched).sort();
    let c = 0;
    for (let t = 0; t < nTouched; t++) {
      const j = touched[t]!;
      const w = acc[j]! * landing[j]!;
      acc[j] = 0;
      if (j === i || !(w > 0)) continue;
      touched[c] = j;
      candidates[c++] = w;
    }
    // The k largest, ties to the lower index: everything above the k-th largest value, then as many
    // entries equal to it as fit, in index order. Linear (quickselect) rather than a heap plus a sort.
    let threshold = -Infinity;
    let ties = 0;
    if (c > k) {
      scratch.set(candidates.subarray(0, c));
      threshold = kthLargest(scratch, c, k);
      let above = 0;
      for (let t = 0; t < c; t++) if (candidates[t]! > threshold) above++;
      ties = k - above;
    }
    const count = Math.min(c, k);
    if (nnz + count > indices.length) {
      const grown = Math.max(indices.length * 2, nnz + count);
      const ni = new Int32Array(grown);
      ni.set(indices);
      indices = ni;
      const nd = new Float32Array(grown);
      nd.set(data);
      data = nd;
    }
    for (let t = 0; t < c; t++) {
      const w = candidates[t]!;
      if (w > threshold || (w === threshold && ties-- > 0)) {
        indices[nnz] = touched[t]!;
        data[nnz++] = w;
      }
    }
    indptr[i + 1] = nnz;
    if (options.onProgress && ((i + 1) % progressEvery === 0 || i + 1 === nItems)) {
      options.onProgress(i + 1, nItems);
    }
  }
  const graph: CsrMatrix = {
    rows: nItems,
    cols: nItems,
    indptr,
    indices: indices.slice(0, nnz),
    data: data.slice(0, nnz),
  };
  return new Rp3betaRecommender(params, users.rows, graph, popularity);
}

/** The k-th largest of `a[0..n)` (1-based k ≤ n), by Hoare-partition quickselect; reorders `a`. */
function kthLargest(a: Float64Array, n: number, k: number): number {
  const target = k - 1;
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >>> 1]!;
    let x = lo;
    let y = hi;
    while (x <= y) {
      while (a[x]! > pivot) x++;
      while (a[y]! < pivot) y--;
      if (x <= y) {
        const swap = a[x]!;
        a[x++] = a[y]!;
        a[y--] = swap;
      }
    }
    // a[lo..y] ≥ pivot ≥ a[x..hi]; anything strictly between equals the pivot.
    if (target <= y) hi = y;
    else if (target >= x) lo = x;
    else return pivot;
  }
  return a[target]!;
}

/**
 * Serving side of RP3beta: row i of the graph is what history item i passes on, so the same matrix
 * serves scoring and `similar` (a request costs Σ history × neighbours).
 */
export class Rp3betaRecommender extends ItemGraphRecommender {
  constructor(hyper: Rp3betaParams, nUsers: number, graph: CsrMatrix, popularity: Float32Array) {
    super('rp3beta', paramsToJson('rp3beta', hyper), nUsers, graph, graph, popularity);
  }

  static fromArtifact(artifact: ModelArtifact): Rp3betaRecommender {
    const { graph, popularity } = ItemGraphRecommender.graphFromArtifact(artifact);
    return new Rp3betaRecommender(
      paramsFromJson('rp3beta', artifact.params),
      artifact.nUsers,
      graph,
      popularity,
    );
  }
}
