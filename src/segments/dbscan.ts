/**
 * DBSCAN (Ester et al. 1996) with scikit-learn's semantics, so that its clusters can be compared label for
 * label with `sklearn.cluster.DBSCAN(eps, min_samples)`: Euclidean distance, a row is core when at least
 * `minSamples` rows (itself included) lie within eps (a distance equal to eps counts), clusters are the
 * connected components of core rows, a non-core row within eps of a core row is a border row of the
 * cluster found first, and every other row is noise (label −1).
 *
 * "Found first" is scikit-learn's order: clusters are grown from the unlabelled core rows in row order, so
 * cluster c is the one whose lowest core row is the c-th lowest among the clusters, and a border row near
 * several clusters joins the lowest-numbered. The labels are therefore the same numbers as scikit-learn's,
 * not only the same partition (the pair test is the same rounded one, see spatial.ts).
 *
 * Memory stays O(n): the core test counts neighbours only up to minSamples, and the growth step asks the
 * index for each core row's neighbours once, instead of storing every neighbourhood as scikit-learn does.
 */
import { checkMatrix } from './kmeans.js';
import { KdTree, radiusIndex, type RadiusIndex } from './spatial.js';

export interface DbscanOptions {
  /** Neighbourhood radius, > 0. */
  readonly eps: number;
  /** Rows within eps (the row itself included) that make a row core, ≥ 1. scikit-learn's default is 5. */
  readonly minSamples: number;
  /** The spatial index; 'auto' is a grid for up to 3 columns, else a k-d tree ('brute' is for tests). */
  readonly index?: 'auto' | RadiusIndex['kind'];
}

export interface DbscanResult {
  /** Each row's cluster, 0 ≤ label < clusters, or −1 for noise; numbered as scikit-learn numbers them. */
  readonly labels: Int32Array;
  /** 1 for a core row, else 0. */
  readonly core: Uint8Array;
  readonly clusters: number;
  /** Rows labelled −1. */
  readonly noise: number;
  /** Core rows. */
  readonly coreCount: number;
  /** The index that answered the radius queries. */
  readonly index: RadiusIndex['kind'];
}

export const DBSCAN_DEFAULTS = { minSamples: 5 } as const;

function checkEps(eps: number): void {
  if (!(Number.isFinite(eps) && eps > 0)) throw new RangeError(`eps must be a positive number, got ${eps}`);
}

function checkMinSamples(minSamples: number): void {
  if (!Number.isInteger(minSamples) || minSamples < 1) {
    throw new RangeError(`minSamples must be a positive integer, got ${minSamples}`);
  }
}

/** Clusters the n × d matrix `data`; throws a RangeError on bad input. */
export function dbscan(data: Float64Array, n: number, d: number, options: DbscanOptions): DbscanResult {
  checkMatrix(data, n, d);
  const { eps, minSamples } = options;
  checkEps(eps);
  checkMinSamples(minSamples);
  const index = radiusIndex(data, n, d, eps, options.index ?? 'auto');
  const core = new Uint8Array(n);
  let coreCount = 0;
  for (let i = 0; i < n; i++) {
    if (index.count(i, minSamples) >= minSamples) {
      core[i] = 1;
      coreCount++;
    }
  }
  const labels = new Int32Array(n).fill(-1);
  // A row is labelled when it is pushed, not when it is popped (as scikit-learn does): the label is the
  // same, since one cluster is grown to its end before the next starts, and each row is pushed once.
  const stack = new Int32Array(n);
  const neighbours = new Int32Array(n);
  let clusters = 0;
  for (let seed = 0; seed < n; seed++) {
    if (labels[seed] !== -1 || core[seed] === 0) continue;
    const label = clusters++;
    labels[seed] = label;
    let top = 0;
    stack[top++] = seed;
    while (top > 0) {
      const row = stack[--top]!;
      if (core[row] === 0) continue;
      const size = index.neighbours(row, neighbours);
      for (let m = 0; m < size; m++) {
        const other = neighbours[m]!;
        if (labels[other] !== -1) continue;
        labels[other] = label;
        stack[top++] = other;
      }
    }
  }
  let noise = 0;
  for (let i = 0; i < n; i++) if (labels[i] === -1) noise++;
  return { labels, core, clusters, noise, coreCount, index: index.kind };
}

/**
 * Each row's k-distance: the distance to its k-th nearest row, the row itself counted first. It is the
 * smallest eps at which the row is core with minSamples = k (k = 1 gives 0).
 */
export function kDistances(data: Float64Array, n: number, d: number, k: number): Float64Array {
  checkMatrix(data, n, d);
  checkMinSamples(k);
  if (k > n) throw new RangeError(`k must be at most the number of rows (${n}), got ${k}`);
  const tree = new KdTree(data, n, d);
  const heap = new Float64Array(k);
  const distances = new Float64Array(n);
  for (let i = 0; i < n; i++) distances[i] = Math.sqrt(tree.kthNearestSquared(i, k, heap));
  return distances;
}

/**
 * The knee of an increasing curve (y sorted ascending against its index): the point farthest below the
 * chord from its first to its last point, both axes scaled to [0, 1] (the "Kneedle" of Satopää et al.
 * 2011, without smoothing). On a sorted k-distance curve the flat part is the rows inside clusters and the
 * steep tail the noise; the knee is where one turns into the other. Returns the index; 0 when the curve is
 * a straight line (or shorter than 3 points).
 */
export function kneeIndex(sorted: Float64Array): number {
  const m = sorted.length;
  if (m < 3) return 0;
  const first = sorted[0]!;
  const range = sorted[m - 1]! - first;
  if (!(range > 0)) return 0;
  let best = 0;
  let bestGap = 0;
  for (let i = 1; i < m - 1; i++) {
    // Chord at x = i / (m − 1) is y = x; the curve's scaled height is (y − first) / range.
    const gap = i / (m - 1) - (sorted[i]! - first) / range;
    if (gap > bestGap) {
      bestGap = gap;
      best = i;
    }
  }
  return best;
}

export interface EpsSuggestion {
  /** The k-distance at the knee of the sorted curve. */
  readonly eps: number;
  /** k = minSamples. */
  readonly k: number;
  /** Rows whose k-distance is at most eps (so that are core at it): the knee's place on the curve. */
  readonly quantile: number;
}

/**
 * eps for DBSCAN from the k-distance curve (Ester et al.'s heuristic, with the knee found by `kneeIndex`
 * instead of by eye): the rows' k-distances with k = minSamples, sorted, and the value at the knee. Rows
 * left of it become core at that eps; the tail right of it (sparse rows) is left as noise or border. The
 * suggestion is only as good as the curve's knee is sharp: data with no dense regions has none.
 */
export function suggestEps(data: Float64Array, n: number, d: number, minSamples: number): EpsSuggestion {
  const sorted = kDistances(data, n, d, minSamples).sort();
  let knee = kneeIndex(sorted);
  // Duplicated rows can put the knee on a k-distance of 0, which is no radius: take the first positive.
  while (knee < n && !(sorted[knee]! > 0)) knee++;
  if (knee === n)
    throw new RangeError(`every row has ${minSamples - 1} others at distance 0: no eps to suggest`);
  const eps = sorted[knee]!;
  let atMost = knee;
  while (atMost < n && sorted[atMost]! <= eps) atMost++;
  return { eps, k: minSamples, quantile: atMost / n };
}
