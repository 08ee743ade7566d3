/**
 * k-means on a row-major matrix (n rows × d columns in one Float64Array), the way scikit-learn's `KMeans`
 * does it, so its inertias are comparable with the reference numbers: k-means++ seeding with several
 * candidates per step, Lloyd iterations until the centres stop moving (tolerance relative to the data's
 * mean column variance), several initialisations keeping the lowest inertia. Randomness comes from the
 * project's seeded generator: the same seed gives the same segments on every machine.
 */
import { deriveSeed, Rng } from '../demo/random.js';

export interface KMeansOptions {
  /** Clusters, 1 ≤ k ≤ n. */
  readonly k: number;
  /** Initialisations, each from its own stream of `seed`; the one of lowest inertia is kept. */
  readonly nInit?: number;
  readonly maxIterations?: number;
  /** Convergence when the centres' squared shift is at most `tolerance` × the mean column variance. */
  readonly tolerance?: number;
  readonly seed?: number;
  /**
   * Above this many n × k, one lower bound per row (Hamerly) instead of one per row and centre (Elkan):
   * less memory, more distances. The default keeps Elkan's bounds under 128 MB.
   */
  readonly maxPerCentreBounds?: number;
}

export interface KMeansResult {
  /** k × d, row-major. */
  readonly centers: Float64Array;
  /** Each row's cluster, 0 ≤ label < k. */
  readonly labels: Int32Array;
  /** Sum of the rows' squared distances to their centres. */
  readonly inertia: number;
  /** Lloyd iterations of the kept initialisation. */
  readonly iterations: number;
}

/** scikit-learn's defaults, except the seed (its streams are not ours anyway). */
export const KMEANS_DEFAULTS = {
  nInit: 1,
  maxIterations: 300,
  tolerance: 1e-4,
  seed: 1,
  maxPerCentreBounds: 1 << 24,
} as const;

function positiveInteger(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`${name} must be a positive integer, got ${value}`);
  }
}

/** Throws a RangeError naming the parameter when the matrix is not n × d finite numbers. */
export function checkMatrix(data: Float64Array, n: number, d: number): void {
  positiveInteger('n', n);
  positiveInteger('d', d);
  if (data.length !== n * d) {
    throw new RangeError(`data must hold n × d = ${n * d} values, got ${data.length}`);
  }
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i]!)) {
      throw new RangeError(`data must be finite: row ${Math.floor(i / d)}, column ${i % d} is ${data[i]}`);
    }
  }
}

/** Mean over columns of each column's population variance: the scale `tolerance` is relative to. */
function meanColumnVariance(data: Float64Array, n: number, d: number): number {
  let total = 0;
  for (let j = 0; j < d; j++) {
    let mean = 0;
    for (let i = 0; i < n; i++) mean += data[i * d + j]!;
    mean /= n;
    let squares = 0;
    for (let i = 0; i < n; i++) {
      const delta = data[i * d + j]! - mean;
      squares += delta * delta;
    }
    total += squares / n;
  }
  return total / d;
}

/**
 * Squared distance between row `row` of `a` and row `other` of `b`, both of width d. Four partial sums:
 * independent chains the CPU can overlap (about 1.4× faster at d = 16 than one running sum).
 */
function squaredDistance(a: Float64Array, row: number, b: Float64Array, other: number, d: number): number {
  const at = row * d;
  const bt = other * d;
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let j = 0;
  for (; j + 3 < d; j += 4) {
    const e0 = a[at + j]! - b[bt + j]!;
    const e1 = a[at + j + 1]! - b[bt + j + 1]!;
    const e2 = a[at + j + 2]! - b[bt + j + 2]!;
    const e3 = a[at + j + 3]! - b[bt + j + 3]!;
    s0 += e0 * e0;
    s1 += e1 * e1;
    s2 += e2 * e2;
    s3 += e3 * e3;
  }
  for (; j < d; j++) {
    const e = a[at + j]! - b[bt + j]!;
    s0 += e * e;
  }
  return s0 + s1 + s2 + s3;
}

/**
 * k-means++ (Arthur & Vassilvitskii) with scikit-learn's greedy variant: each step draws 2 + ⌊ln k⌋
 * candidates with probability proportional to D² (squared distance to the nearest centre so far) and keeps
 * the one that lowers the potential (the sum of D²) most. One candidate per step is noticeably worse.
 */
function seedCenters(data: Float64Array, n: number, d: number, k: number, rng: Rng): Float64Array {
  const centers = new Float64Array(k * d);
  const trials = 2 + Math.floor(Math.log(k));
  const first = Math.floor(rng.next() * n);
  centers.set(data.subarray(first * d, first * d + d), 0);
  const closest = new Float64Array(n);
  // Which chosen centre each row is nearest to: lets a candidate skip the rows it cannot come closer to.
  const nearestCentre = new Int32Array(n);
  for (let i = 0; i < n; i++) closest[i] = squaredDistance(data, i, data, first, d);
  const cumulative = new Float64Array(n);
  const trial: Trials = {
    candidates: new Int32Array(trials),
    toCentres: new Float64Array(trials * k),
    potentials: new Float64Array(trials),
    // The rows each candidate comes closer to, with their new distances: the chosen candidate's rows
    // are updated without computing anything again.
    nearer: Array.from({ length: trials }, () => ({
      rows: new Int32Array(n),
      distances: new Float64Array(n),
      size: 0,
    })),
  };
  for (let c = 1; c < k; c++) {
    let running = 0;
    for (let i = 0; i < n; i++) {
      running += closest[i]!;
      cumulative[i] = running;
    }
    for (let t = 0; t < trials; t++) trial.candidates[t] = firstAbove(cumulative, rng.next() * running);
    nearerTo(data, n, d, k, centers, c, closest, nearestCentre, trial);
    let best = 0;
    for (let t = 1; t < trials; t++) if (trial.potentials[t]! < trial.potentials[best]!) best = t;
    const bestCandidate = trial.candidates[best]!;
    centers.set(data.subarray(bestCandidate * d, bestCandidate * d + d), c * d);
    const { rows, distances, size } = trial.nearer[best]!;
    for (let m = 0; m < size; m++) {
      closest[rows[m]!] = distances[m]!;
      nearestCentre[rows[m]!] = c;
    }
  }
  return centers;
}

/** Rows (in row order) a candidate centre is nearer to than their nearest centre so far, and how near. */
interface Nearer {
  readonly rows: Int32Array;
  readonly distances: Float64Array;
  size: number;
}

/** One k-means++ step's candidates and, per candidate, what `nearerTo` finds. */
interface Trials {
  readonly candidates: Int32Array;
  /** trials × k: squared distance from each candidate to each chosen centre. */
  readonly toCentres: Float64Array;
  readonly potentials: Float64Array;
  readonly nearer: readonly Nearer[];
}

/**
 * For each candidate row, the potential (sum over rows of the squared distance to the nearest centre) once
 * it joins the first `chosen` centres, and the rows it is nearer to. A row whose nearest centre is at
 * least twice as far from the candidate as from the row keeps its distance (triangle inequality), so late
 * steps compute few distances. The potential is the same as computing them all. All candidates go
 * through the rows together, so that each row is read once per step (the step is bound by memory): each
 * potential still sums its rows in row order.
 */
function nearerTo(
  data: Float64Array,
  n: number,
  d: number,
  k: number,
  centers: Float64Array,
  chosen: number,
  closest: Float64Array,
  nearestCentre: Int32Array,
  trial: Trials,
): void {
  const { candidates, toCentres, potentials, nearer } = trial;
  const trials = candidates.length;
  for (let t = 0; t < trials; t++) {
    for (let c = 0; c < chosen; c++)
      toCentres[t * k + c] = squaredDistance(data, candidates[t]!, centers, c, d);
    potentials[t] = 0;
    nearer[t]!.size = 0;
  }
  for (let i = 0; i < n; i++) {
    const current = closest[i]!;
    const near = nearestCentre[i]!;
    for (let t = 0; t < trials; t++) {
      // Squared: d(candidate, centre)² ≥ 4 d(row, centre)² means d(row, candidate) ≥ d(row, centre).
      if (toCentres[t * k + near]! >= 4 * current) {
        potentials[t]! += current;
        continue;
      }
      const distance = squaredDistance(data, i, data, candidates[t]!, d);
      if (distance < current) {
        potentials[t]! += distance;
        const list = nearer[t]!;
        list.rows[list.size] = i;
        list.distances[list.size++] = distance;
      } else {
        potentials[t]! += current;
      }
    }
  }
}

/** The first index whose cumulative weight exceeds r (the last index if rounding leaves none). */
function firstAbove(cumulative: Float64Array, r: number): number {
  let lo = 0;
  let hi = cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cumulative[mid]! > r) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Buffers one fit reuses across iterations and initialisations: nothing is allocated per row. */
interface Workspace {
  /** An upper bound on each row's distance to its centre. */
  readonly upper: Float64Array;
  /**
   * n × k lower bounds on each row's distance to each centre (Elkan), or empty when they would take too
   * much memory. Stored lazily: a bound is kept plus its centre's `drift` when it was set, so that moving
   * the centres costs k additions instead of n × k subtractions.
   */
  readonly lower: Float64Array;
  /** A lower bound on each row's distance to every centre but its own (Hamerly), plus `drift[k]` when set. */
  readonly nearestOther: Float64Array;
  /** How far each centre has moved in all, and at [k] the sum over iterations of the largest move. */
  readonly drift: Float64Array;
  /** k × k: half the distance between two centres. */
  readonly halfCentreDistances: Float64Array;
  /** Half the distance from each centre to its nearest other centre. */
  readonly halfGap: Float64Array;
  /** k × (k − 1): for each centre, the other centres from nearest to farthest (ties by index). */
  readonly neighbours: Int32Array;
  /** How far each centre moved in the last update. */
  readonly moved: Float64Array;
  /** Per cluster, the sum of its rows: summed afresh in the first iteration, then moved row by row. */
  readonly sums: Float64Array;
  readonly counts: Int32Array;
}

function workspace(n: number, d: number, k: number, maxPerCentreBounds: number): Workspace {
  return {
    upper: new Float64Array(n),
    lower: new Float64Array(n * k <= maxPerCentreBounds ? n * k : 0),
    nearestOther: new Float64Array(n),
    drift: new Float64Array(k + 1),
    halfCentreDistances: new Float64Array(k * k),
    halfGap: new Float64Array(k),
    neighbours: new Int32Array(k * Math.max(k - 1, 0)),
    moved: new Float64Array(k),
    sums: new Float64Array(k * d),
    counts: new Int32Array(k),
  };
}

/** Bounds that prove nothing (every lower bound ≤ 0, no upper bound): the next assignment scans all. */
function resetBounds(work: Workspace): void {
  work.upper.fill(Infinity);
  work.lower.fill(0);
  work.nearestOther.fill(0);
  work.drift.fill(0);
}

function measureCentres(centers: Float64Array, k: number, d: number, work: Workspace): void {
  const { halfCentreDistances, halfGap } = work;
  halfGap.fill(Infinity);
  for (let c = 0; c < k; c++) {
    halfCentreDistances[c * k + c] = 0;
    for (let other = c + 1; other < k; other++) {
      const half = Math.sqrt(squaredDistance(centers, c, centers, other, d)) / 2;
      halfCentreDistances[c * k + other] = half;
      halfCentreDistances[other * k + c] = half;
      if (half < halfGap[c]!) halfGap[c] = half;
      if (half < halfGap[other]!) halfGap[other] = half;
    }
  }
  const { neighbours } = work;
  const width = k - 1;
  for (let c = 0; c < k; c++) {
    // Insertion sort: k is small, and it is stable (ties keep the lower index first).
    const at = c * width;
    let size = 0;
    for (let other = 0; other < k; other++) {
      if (other === c) continue;
      const half = halfCentreDistances[c * k + other]!;
      let slot = at + size;
      while (slot > at && halfCentreDistances[c * k + neighbours[slot - 1]!]! > half) {
        neighbours[slot] = neighbours[slot - 1]!;
        slot--;
      }
      neighbours[slot] = other;
      size++;
    }
  }
}

/**
 * Assigns each row to its nearest centre, returning how many labels changed. The result is Lloyd's
 * assignment (up to exact ties), but most distances are never computed: by the triangle inequality a
 * centre c cannot beat the row's own centre a when the distance to a is at most a lower bound on the
 * distance to c, or at most half the distance between a and c. First Hamerly's test (one bound for all
 * other centres) settles about half the rows; for the rest, Elkan's per-centre bounds rule out most
 * centres, visited nearest to the row's centre first so that the scan stops at the first centre too far
 * to compete (about 3.6 centres visited per scanned row instead of 31). On 100,000 × 16 with k = 32 this
 * computes 1–3% of the n × k distances after the first few iterations: brute force in plain JavaScript
 * was about 20× slower than scikit-learn's BLAS on two threads (bench/kmeans.ts).
 *
 * With `moveSums`, a row that changes cluster is moved between the clusters' `sums` and `counts` here,
 * so that the update step need not sum all rows again.
 */
function assign(
  data: Float64Array,
  n: number,
  d: number,
  centers: Float64Array,
  k: number,
  labels: Int32Array,
  work: Workspace,
  moveSums: boolean,
): number {
  measureCentres(centers, k, d, work);
  const { sums, counts } = work;
  const { upper, lower, nearestOther, drift, halfCentreDistances, halfGap, neighbours } = work;
  const perCentre = lower.length > 0;
  const mostDrift = drift[k]!;
  let changed = 0;
  for (let i = 0; i < n; i++) {
    const was = labels[i]!;
    const bound = Math.max(halfGap[was]!, nearestOther[i]! - mostDrift);
    if (upper[i]! <= bound) continue;
    let distance = Math.sqrt(squaredDistance(data, i, centers, was, d));
    upper[i] = distance;
    if (distance <= bound) continue;
    let own = was;
    let other = Infinity;
    if (perCentre) {
      const bounds = i * k;
      lower[bounds + own] = distance + drift[own]!;
      // The other centres from the nearest to `was` outwards: d(x, c) ≥ 2 half(was, c) − d(x, was), so
      // once that reaches the best distance so far it does for every centre after, and the scan stops.
      const toWas = distance;
      const from = was * (k - 1);
      for (let slot = from, end = from + k - 1; slot < end; slot++) {
        const c = neighbours[slot]!;
        const beyond = 2 * halfCentreDistances[was * k + c]! - toWas;
        if (beyond >= distance) {
          other = Math.min(other, beyond);
          break;
        }
        if (c === own) continue;
        const known = lower[bounds + c]! - drift[c]!;
        const half = halfCentreDistances[own * k + c]!;
        if (distance <= known || distance <= half) {
          // Also a bound for Hamerly's test: d(x, c) ≥ d(own, c) − d(x, own), and d(x, own) is exact.
          other = Math.min(other, Math.max(known, 2 * half - distance));
          continue;
        }
        const candidate = Math.sqrt(squaredDistance(data, i, centers, c, d));
        lower[bounds + c] = candidate + drift[c]!;
        if (candidate < distance) {
          other = Math.min(other, distance);
          own = c;
          distance = candidate;
        } else {
          other = Math.min(other, candidate);
        }
      }
    } else {
      let nearest = Infinity;
      for (let c = 0; c < k; c++) {
        const candidate = squaredDistance(data, i, centers, c, d);
        if (candidate < nearest) {
          other = nearest;
          nearest = candidate;
          own = c;
        } else if (candidate < other) {
          other = candidate;
        }
      }
      distance = Math.sqrt(nearest);
      other = Math.sqrt(other);
    }
    upper[i] = distance;
    nearestOther[i] = other + mostDrift;
    if (own !== was) {
      labels[i] = own;
      changed++;
      if (moveSums) {
        // The row leaves cluster `was` for `own`: the update step's sums follow it (see `lloyd`).
        const row = i * d;
        const from = was * d;
        const to = own * d;
        if (--counts[was]! === 0) sums.fill(0, from, from + d);
        else for (let j = 0; j < d; j++) sums[from + j]! -= data[row + j]!;
        counts[own]!++;
        for (let j = 0; j < d; j++) sums[to + j]! += data[row + j]!;
      }
    }
  }
  return changed;
}

/** Each cluster's row count and the sum of its rows, for the update step. */
function sumClusters(data: Float64Array, n: number, d: number, labels: Int32Array, work: Workspace): void {
  const { sums, counts } = work;
  sums.fill(0);
  counts.fill(0);
  // Four columns a step: each sum still adds its rows in row order, so the result does not change.
  const wide = d - (d % 4);
  for (let i = 0, row = 0; i < n; i++, row += d) {
    const label = labels[i]!;
    const to = label * d;
    counts[label]!++;
    let j = 0;
    for (; j < wide; j += 4) {
      const a = sums[to + j]! + data[row + j]!;
      const b = sums[to + j + 1]! + data[row + j + 1]!;
      const c = sums[to + j + 2]! + data[row + j + 2]!;
      const e = sums[to + j + 3]! + data[row + j + 3]!;
      sums[to + j] = a;
      sums[to + j + 1] = b;
      sums[to + j + 2] = c;
      sums[to + j + 3] = e;
    }
    for (; j < d; j++) sums[to + j]! += data[row + j]!;
  }
}

/**
 * A cluster left without rows gets the row farthest from its centre (as scikit-learn does): that row is
 * served worst, and the cluster it leaves keeps its other rows. Rare, so the exact distances are computed
 * here rather than kept up to date.
 */
function relocateEmptyClusters(
  data: Float64Array,
  n: number,
  d: number,
  centers: Float64Array,
  k: number,
  labels: Int32Array,
  work: Workspace,
): void {
  const { sums, counts, upper, lower } = work;
  if (!counts.includes(0)) return;
  const distances = new Float64Array(n);
  for (let i = 0; i < n; i++) distances[i] = squaredDistance(data, i, centers, labels[i]!, d);
  for (let c = 0; c < k; c++) {
    if (counts[c] !== 0) continue;
    let farthest = -1;
    let farthestDistance = -1;
    for (let i = 0; i < n; i++) {
      if (distances[i]! > farthestDistance && counts[labels[i]!]! > 1) {
        farthestDistance = distances[i]!;
        farthest = i;
      }
    }
    if (farthest < 0) return;
    const from = labels[farthest]!;
    for (let j = 0; j < d; j++) {
      const x = data[farthest * d + j]!;
      sums[from * d + j]! -= x;
      sums[c * d + j] = x;
    }
    counts[from]!--;
    counts[c] = 1;
    labels[farthest] = c;
    distances[farthest] = 0;
    // Its bounds say nothing about the new centre: force a full scan next time.
    upper[farthest] = Infinity;
    lower.fill(-Infinity, farthest * k, lower.length > 0 ? farthest * k + k : 0);
    work.nearestOther[farthest] = -Infinity;
  }
}

/** Sum of squared distances to the assigned centres, computed directly. */
function inertiaOf(
  data: Float64Array,
  n: number,
  d: number,
  centers: Float64Array,
  labels: Int32Array,
): number {
  let inertia = 0;
  for (let i = 0; i < n; i++) inertia += squaredDistance(data, i, centers, labels[i]!, d);
  return inertia;
}

/**
 * Moving the centres loosens the bounds by at most how far they moved (triangle inequality): each upper
 * bound by its centre's move; the lower bounds lazily, through `drift`.
 */
function loosenBounds(n: number, k: number, labels: Int32Array, work: Workspace): void {
  const { upper, moved, drift } = work;
  for (let i = 0; i < n; i++) upper[i]! += moved[labels[i]!]!;
  let most = 0;
  for (let c = 0; c < k; c++) {
    drift[c]! += moved[c]!;
    most = Math.max(most, moved[c]!);
  }
  drift[k]! += most;
}

/** One initialisation: seed, then Lloyd iterations. */
function lloyd(
  data: Float64Array,
  n: number,
  d: number,
  k: number,
  maxIterations: number,
  tolerance: number,
  rng: Rng,
  work: Workspace,
): KMeansResult {
  let centers = seedCenters(data, n, d, k, rng);
  let next: Float64Array = new Float64Array(k * d);
  // Every row starts in cluster 0 with bounds that prove nothing: the first assignment scans them all.
  const labels = new Int32Array(n);
  resetBounds(work);
  let iterations = 0;
  for (let iteration = 0; iteration < maxIterations; iteration++) {
    // The sums are computed afresh once; afterwards only the rows that change cluster move them (about
    // 0.4 s of 2.5 on 100,000 × 16 with k = 32, bench/kmeans.ts), at the price of rounding that differs
    // from a fresh sum in the last bits.
    const changed = assign(data, n, d, centers, k, labels, work, iteration > 0);
    if (iteration === 0) sumClusters(data, n, d, labels, work);
    relocateEmptyClusters(data, n, d, centers, k, labels, work);
    let shift = 0;
    for (let c = 0; c < k; c++) {
      const count = work.counts[c]!;
      let moved = 0;
      for (let j = 0, at = c * d; j < d; j++, at++) {
        // Only a cluster whose sole row was taken by a relocation can be empty here; it stays put.
        const value = count > 0 ? work.sums[at]! / count : centers[at]!;
        const delta = value - centers[at]!;
        moved += delta * delta;
        next[at] = value;
      }
      work.moved[c] = Math.sqrt(moved);
      shift += moved;
    }
    [centers, next] = [next, centers];
    loosenBounds(n, k, labels, work);
    iterations = iteration + 1;
    // Unchanged labels mean the new centres are the old ones: converged exactly.
    if ((iteration > 0 && changed === 0) || shift <= tolerance) break;
  }
  // The labels are those of the centres before the last update: assign once more to match the final ones.
  assign(data, n, d, centers, k, labels, work, false);
  return { centers, labels, inertia: inertiaOf(data, n, d, centers, labels), iterations };
}

/** Clusters the n × d matrix `data` into `options.k` clusters; throws a RangeError on bad input. */
export function kmeans(data: Float64Array, n: number, d: number, options: KMeansOptions): KMeansResult {
  checkMatrix(data, n, d);
  const { k } = options;
  const nInit = options.nInit ?? KMEANS_DEFAULTS.nInit;
  const maxIterations = options.maxIterations ?? KMEANS_DEFAULTS.maxIterations;
  const tolerance = options.tolerance ?? KMEANS_DEFAULTS.tolerance;
  const seed = options.seed ?? KMEANS_DEFAULTS.seed;
  positiveInteger('k', k);
  if (k > n) throw new RangeError(`k must be at most the number of rows (${n}), got ${k}`);
  positiveInteger('nInit', nInit);
  positiveInteger('maxIterations', maxIterations);
  if (!(Number.isFinite(tolerance) && tolerance >= 0)) {
    throw new RangeError(`tolerance must be a non-negative number, got ${tolerance}`);
  }
  if (!Number.isFinite(seed)) throw new RangeError(`seed must be a finite number, got ${seed}`);
  const work = workspace(n, d, k, options.maxPerCentreBounds ?? KMEANS_DEFAULTS.maxPerCentreBounds);
  const scaledTolerance = tolerance * meanColumnVariance(data, n, d);
  let best: KMeansResult | undefined;
  for (let init = 0; init < nInit; init++) {
    const rng = new Rng(deriveSeed(seed, 'kmeans', init));
    const result = lloyd(data, n, d, k, maxIterations, scaledTolerance, rng, work);
    if (best === undefined || result.inertia < best.inertia) best = result;
  }
  return best!;
}

/**
 * Mean silhouette of the clustering (Rousseeuw): per row, s = (b − a) / max(a, b), a the mean Euclidean
 * distance to the other rows of its cluster, b the smallest mean distance to another cluster's rows; 0 for
 * a row alone in its cluster. Exact on up to `sampleSize` rows; above, on a seeded sample of that many
 * (the exact score is quadratic in n).
 */
export function silhouetteScore(
  data: Float64Array,
  n: number,
  d: number,
  labels: Int32Array,
  k: number,
  sampleSize = 2_000,
  seed = 1,
): number {
  checkMatrix(data, n, d);
  positiveInteger('k', k);
  positiveInteger('sampleSize', sampleSize);
  if (labels.length !== n) throw new RangeError(`labels must hold n = ${n} labels, got ${labels.length}`);
  for (let i = 0; i < n; i++) {
    const label = labels[i]!;
    if (!(label >= 0 && label < k)) throw new RangeError(`labels must lie in [0, ${k}), got ${label}`);
  }
  const rows = sampleRows(n, sampleSize, seed);
  const m = rows.length;
  const sampleLabels = new Int32Array(m);
  const sizes = new Int32Array(k);
  for (let s = 0; s < m; s++) {
    sampleLabels[s] = labels[rows[s]!]!;
    sizes[sampleLabels[s]!]!++;
  }
  let clusters = 0;
  for (let c = 0; c < k; c++) if (sizes[c]! > 0) clusters++;
  if (clusters < 2 || clusters > m - 1) {
    throw new RangeError(`labels must form between 2 and ${m - 1} clusters, got ${clusters}`);
  }
  // distanceSums[s × k + c]: total distance from sampled row s to the sampled rows of cluster c.
  const distanceSums = new Float64Array(m * k);
  for (let s = 0; s < m; s++) {
    const ls = sampleLabels[s]!;
    for (let t = s + 1; t < m; t++) {
      const distance = Math.sqrt(squaredDistance(data, rows[s]!, data, rows[t]!, d));
      distanceSums[s * k + sampleLabels[t]!]! += distance;
      distanceSums[t * k + ls]! += distance;
    }
  }
  let total = 0;
  for (let s = 0; s < m; s++) {
    const own = sampleLabels[s]!;
    if (sizes[own]! < 2) continue;
    const a = distanceSums[s * k + own]! / (sizes[own]! - 1);
    let b = Infinity;
    for (let c = 0; c < k; c++) {
      if (c === own || sizes[c] === 0) continue;
      const mean = distanceSums[s * k + c]! / sizes[c]!;
      if (mean < b) b = mean;
    }
    const scale = Math.max(a, b);
    if (scale > 0) total += (b - a) / scale;
  }
  return total / m;
}

/** All rows when there are at most `size`, else `size` distinct rows drawn by a partial Fisher–Yates. */
function sampleRows(n: number, size: number, seed: number): Int32Array {
  const rows = new Int32Array(n);
  for (let i = 0; i < n; i++) rows[i] = i;
  if (n <= size) return rows;
  const rng = new Rng(deriveSeed(seed, 'silhouette'));
  for (let i = 0; i < size; i++) {
    const j = i + Math.floor(rng.next() * (n - i));
    const row = rows[i]!;
    rows[i] = rows[j]!;
    rows[j] = row;
  }
  return rows.slice(0, size);
}

export interface KScore {
  readonly k: number;
  readonly silhouette: number;
  readonly inertia: number;
}

export interface KChoice {
  readonly k: number;
  /** The clustering at the chosen k. */
  readonly result: KMeansResult;
  /** Every k tried, in the order of `kRange`. */
  readonly scores: readonly KScore[];
}

export interface ChooseKOptions {
  readonly nInit?: number;
  readonly sampleSize?: number;
}

/**
 * Clusters at each k of `kRange` and keeps the k of the best silhouette (the smaller k on a tie). Inertia
 * always falls as k grows, so it cannot choose k by itself; the silhouette rewards separation too.
 */
export function chooseK(
  data: Float64Array,
  n: number,
  d: number,
  kRange: readonly number[],
  seed = 1,
  options: ChooseKOptions = {},
): KChoice {
  if (kRange.length === 0) throw new RangeError('kRange must hold at least one k');
  for (const k of kRange) {
    if (!Number.isInteger(k) || k < 2 || k > n - 1) {
      throw new RangeError(`kRange must hold integers in [2, ${n - 1}], got ${k}`);
    }
  }
  const scores: KScore[] = [];
  let chosen: { k: number; result: KMeansResult; silhouette: number } | undefined;
  for (const k of kRange) {
    const result = kmeans(data, n, d, {
      k,
      seed,
      ...(options.nInit === undefined ? {} : { nInit: options.nInit }),
    });
    const silhouette = silhouetteScore(data, n, d, result.labels, k, options.sampleSize, seed);
    scores.push({ k, silhouette, inertia: result.inertia });
    if (chosen === undefined || silhouette > chosen.silhouette) chosen = { k, result, silhouette };
  }
  return { k: chosen!.k, result: chosen!.result, scores };
}
