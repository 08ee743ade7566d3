/**
 * k-means on a row-major matrix (n rows × d columns in one Float64Array), the way scikit-learn's `KMeans`
 * does it, so its inertias are comparable with the reference numbers: k-means++ seeding with several
 * candidates per step, Lloyd iterations until the centres stop moving (tolerance relative to the data's
 * mean column variance), several initialisations keeping the lowest inertia. Randomness comes from the
 * project's seeded generator: the same seed gives the same segments on every machine.
 */
import { availableParallelism } from 'node:os';
import { deriveSeed, Rng } from '../demo/random.js';
import { ASSIGN_CHUNKS, assignChunk, squaredDistance, type AssignBuffers } from './kmeans-assign.js';
import { assignTeam } from './kmeans-threads.js';

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
  /**
   * Threads sharing the assignment step, the calling one included (at most 8). Default: every core for
   * n × k ≥ 2^18 (100,000 × 16 with k = 32 is 3.2M), else 1, where starting a helper costs more than it
   * saves. The result is the same, bit for bit, for any number of threads.
   */
  readonly threads?: number;
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
  /** The most threads that took part in one assignment step (helpers join once they have started). */
  readonly threads: number;
}

/** n × k from which the assignment step is shared between threads by default. */
const PARALLEL_WORK = 1 << 18;

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

/**
 * Buffers one fit reuses across iterations and initialisations: nothing is allocated per row. The
 * assignment step's (kmeans-assign.ts) sit on SharedArrayBuffers when helper threads share it.
 */
interface Workspace extends AssignBuffers {
  /** How far each centre moved in the last update. */
  readonly moved: Float64Array;
  /** Per cluster, the sum of its rows: summed afresh in the first iteration, then moved row by row. */
  readonly sums: Float64Array;
  readonly counts: Int32Array;
  /** Whether helper threads share the assignment step. */
  readonly threaded: boolean;
  /** The most threads seen in one step. */
  threads: number;
  /** No initialisation has run yet: the bounds are the zeros of new memory. */
  fresh: boolean;
}

function workspace(
  data: Float64Array,
  n: number,
  d: number,
  k: number,
  maxPerCentreBounds: number,
  threaded: boolean,
): Workspace {
  // Shared memory only when threads share it: plain buffers otherwise (no copy of the data).
  const float64 = (length: number): Float64Array =>
    threaded ? new Float64Array(new SharedArrayBuffer(length * 8)) : new Float64Array(length);
  const int32 = (length: number): Int32Array =>
    threaded ? new Int32Array(new SharedArrayBuffer(length * 4)) : new Int32Array(length);
  let rows = data;
  // Helpers read the rows from shared memory: a copy unless they are there already (numericMatrix).
  if (threaded && !(data.buffer instanceof SharedArrayBuffer)) {
    rows = float64(n * d);
    rows.set(data);
  }
  return {
    data: rows,
    centers: float64(k * d),
    labels: int32(n),
    upper: float64(n),
    lower: float64(n * k <= maxPerCentreBounds ? n * k : 0),
    nearestOther: float64(n),
    drift: float64(k + 1),
    halfCentreDistances: float64(k * k),
    halfGap: float64(k),
    neighbours: int32(k * Math.max(k - 1, 0)),
    sumsDelta: float64(ASSIGN_CHUNKS * k * d),
    countsDelta: int32(ASSIGN_CHUNKS * k),
    changed: int32(ASSIGN_CHUNKS),
    moved: new Float64Array(k),
    sums: new Float64Array(k * d),
    counts: new Int32Array(k),
    threaded,
    threads: 1,
    fresh: true,
  };
}

/** Bounds that prove nothing (every lower bound ≤ 0, no upper bound): the next assignment scans all. */
function resetBounds(work: Workspace): void {
  work.upper.fill(Infinity);
  // New memory is zero already. Filling it anyway would touch every page of the n × k bounds first
  // (about 70 ms for 25 MB here, page faults, not the fill); left to the assignment step, the faults
  // fall to whichever thread first writes a chunk's rows.
  if (!work.fresh) {
    work.lower.fill(0);
    work.nearestOther.fill(0);
  }
  work.fresh = false;
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
 * Assigns each row to its nearest centre (kmeans-assign.ts, chunk by chunk, on helper threads too when
 * the workspace is threaded), returning how many labels changed. With `moveSums`, the rows that change
 * cluster move the clusters' `sums` and `counts`: each chunk's deltas are added in chunk order, so the
 * sums do not depend on which thread did which chunk.
 */
function assign(
  data: Float64Array,
  n: number,
  d: number,
  centers: Float64Array,
  k: number,
  work: Workspace,
  moveSums: boolean,
): number {
  if (data !== work.data) throw new Error('assign: the workspace holds another matrix');
  work.centers.set(centers);
  measureCentres(work.centers, k, d, work);
  if (work.threaded) {
    work.threads = Math.max(work.threads, assignTeam().run(work, n, d, k, moveSums));
  } else {
    for (let chunk = 0; chunk < ASSIGN_CHUNKS; chunk++) assignChunk(work, n, d, k, chunk, moveSums);
  }
  let changed = 0;
  for (let chunk = 0; chunk < ASSIGN_CHUNKS; chunk++) changed += work.changed[chunk]!;
  if (moveSums) {
    const { sums, counts, sumsDelta, countsDelta } = work;
    for (let chunk = 0; chunk < ASSIGN_CHUNKS; chunk++) {
      for (let c = 0; c < k; c++) counts[c]! += countsDelta[chunk * k + c]!;
      for (let at = 0, from = chunk * k * d; at < k * d; at++) sums[at]! += sumsDelta[from + at]!;
    }
    // An emptied cluster's sum is exactly 0, not what rounding leaves of adding and removing its rows.
    for (let c = 0; c < k; c++) if (counts[c] === 0) sums.fill(0, c * d, c * d + d);
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
  n: number,
  d: number,
  k: number,
  maxIterations: number,
  tolerance: number,
  rng: Rng,
  work: Workspace,
): Omit<KMeansResult, 'threads'> {
  const { data, labels } = work;
  let centers = seedCenters(data, n, d, k, rng);
  let next: Float64Array = new Float64Array(k * d);
  // Every row starts in cluster 0 with bounds that prove nothing: the first assignment scans them all.
  labels.fill(0);
  resetBounds(work);
  let iterations = 0;
  for (let iteration = 0; iteration < maxIterations; iteration++) {
    // The sums are computed afresh once; afterwards only the rows that change cluster move them (about
    // 0.4 s of 2.5 on 100,000 × 16 with k = 32, bench/kmeans.ts), at the price of rounding that differs
    // from a fresh sum in the last bits.
    const changed = assign(data, n, d, centers, k, work, iteration > 0);
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
  assign(data, n, d, centers, k, work, false);
  // A copy: the workspace's labels are the next initialisation's.
  return { centers, labels: labels.slice(), inertia: inertiaOf(data, n, d, centers, labels), iterations };
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
  const threads = options.threads ?? (n * k >= PARALLEL_WORK ? availableParallelism() : 1);
  positiveInteger('threads', threads);
  const helpers = Math.min(threads, ASSIGN_CHUNKS) - 1;
  const maxPerCentreBounds = options.maxPerCentreBounds ?? KMEANS_DEFAULTS.maxPerCentreBounds;
  const work = workspace(data, n, d, k, maxPerCentreBounds, helpers > 0);
  if (helpers > 0) {
    // Started now, they join the assignment steps once running; seeding meanwhile runs here.
    assignTeam().ensure(helpers);
    assignTeam().share(work);
  }
  const scaledTolerance = tolerance * meanColumnVariance(data, n, d);
  let best: Omit<KMeansResult, 'threads'> | undefined;
  for (let init = 0; init < nInit; init++) {
    const rng = new Rng(deriveSeed(seed, 'kmeans', init));
    const result = lloyd(n, d, k, maxIterations, scaledTolerance, rng, work);
    if (best === undefined || result.inertia < best.inertia) best = result;
  }
  return { ...best!, threads: work.threads };
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
