/**
 * The direct-method reward model of DR: per action, a ridge regression of the reward on the encoded
 * context, cross-fitted. Rows are split at random into folds; the rows of fold s are scored only by the
 * model fitted on the other folds, so no row's reward helps predict itself. Without that, q̂ would chase
 * each row's own noise, the correction term wᵢ(rᵢ − q̂(xᵢ, aᵢ)) would shrink, and DR's interval would be
 * narrower than its real spread.
 *
 * The penalty of each regression is chosen by generalized cross-validation inside its own training folds,
 * from sufficient statistics (counts, sums, Gram matrices) gathered in one pass over the log, so the
 * choice costs a few d×d Cholesky factorisations per action and never touches a scored row.
 *
 * A linear model of a 0/1 reward is misspecified, and that is fine here: DR is unbiased for any q̂ fitted
 * on other rows; a better q̂ only narrows the interval.
 */
import type { EncodedContext } from './features.js';
import type { DecisionLog } from './log.js';
import { mulberry32 } from '../../models/random.js';

export const DEFAULT_FOLDS = 2;
/** Penalties tried, as multiples of the mean diagonal of the centred Gram matrix. */
const PENALTY_GRID = [1e-4, 1e-3, 1e-2, 1e-1, 1, 10] as const;
/**
 * Above this many numbers for per-action Gram matrices (folds × actions × d²), the actions share their
 * slopes (each keeps its own intercept), whose statistics take one Gram matrix per fold.
 */
const PER_ACTION_BUDGET = 2e7;

export interface RewardModelOptions {
  /** Number of folds, ≥ 2. */
  readonly folds?: number;
  /** Seed of the random split into folds. */
  readonly seed?: number;
  /** The fold of each row, instead of a random split (for tests). */
  readonly foldOf?: Uint8Array;
  /** Force slopes shared by all actions (each action its own intercept). */
  readonly sharedSlopes?: boolean;
}

/** A random split of `rows` into `folds` folds whose sizes differ by at most one. */
export function randomFolds(rows: number, folds: number, seed: number): Uint8Array {
  const order = new Int32Array(rows);
  for (let i = 0; i < rows; i++) order[i] = i;
  const next = mulberry32(seed);
  for (let i = rows - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  const fold = new Uint8Array(rows);
  for (let k = 0; k < rows; k++) fold[order[k]!] = k % folds;
  return fold;
}

/** Cholesky factor in place (lower triangle of a d×d row-major matrix); false if not positive definite. */
function cholesky(a: Float64Array, d: number): boolean {
  for (let j = 0; j < d; j++) {
    let diagonal = a[j * d + j]!;
    for (let k = 0; k < j; k++) diagonal -= a[j * d + k]! * a[j * d + k]!;
    if (!(diagonal > 0)) return false;
    const root = Math.sqrt(diagonal);
    a[j * d + j] = root;
    for (let i = j + 1; i < d; i++) {
      let value = a[i * d + j]!;
      for (let k = 0; k < j; k++) value -= a[i * d + k]! * a[j * d + k]!;
      a[i * d + j] = value / root;
    }
  }
  return true;
}

/** Solves L Lᵀ x = b in place in `x` (which holds b on entry). */
function choleskySolve(l: Float64Array, d: number, x: Float64Array): void {
  for (let i = 0; i < d; i++) {
    let value = x[i]!;
    for (let k = 0; k < i; k++) value -= l[i * d + k]! * x[k]!;
    x[i] = value / l[i * d + i]!;
  }
  for (let i = d - 1; i >= 0; i--) {
    let value = x[i]!;
    for (let k = i + 1; k < d; k++) value -= l[k * d + i]! * x[k]!;
    x[i] = value / l[i * d + i]!;
  }
}

/** tr((L Lᵀ)⁻¹) = ‖L⁻¹‖²_F, column by column of L⁻¹ (forward substitution on each unit vector). */
function traceOfInverse(l: Float64Array, d: number, scratch: Float64Array): number {
  let trace = 0;
  for (let j = 0; j < d; j++) {
    scratch.fill(0);
    for (let i = j; i < d; i++) {
      let value = i === j ? 1 : 0;
      for (let k = j; k < i; k++) value -= l[i * d + k]! * scratch[k]!;
      scratch[i] = value / l[i * d + i]!;
      trace += scratch[i]! * scratch[i]!;
    }
  }
  return trace;
}

/**
 * Ridge on centred statistics: S = centred Gram (d×d), b = centred Σxy, syy = centred Σy², n rows, with
 * `intercepts` unpenalised intercepts. Chooses the penalty by GCV: (RSS/n) / (1 − df/n)², df the trace
 * of the hat matrix plus the intercepts. Writes the slopes into `beta`.
 */
function ridgeByGcv(
  s: Float64Array,
  b: Float64Array,
  syy: number,
  n: number,
  intercepts: number,
  d: number,
  beta: Float64Array,
): void {
  beta.fill(0);
  let scale = 0;
  for (let j = 0; j < d; j++) scale += s[j * d + j]!;
  scale /= d;
  if (!(scale > 0) || n <= intercepts + 1) return;
  const a = new Float64Array(d * d);
  const x = new Float64Array(d);
  const scratch = new Float64Array(d);
  let best = Number.POSITIVE_INFINITY;
  for (let g = PENALTY_GRID.length - 1; g >= 0; g--) {
    const lambda = PENALTY_GRID[g]! * scale;
    a.set(s);
    for (let j = 0; j < d; j++) a[j * d + j] = a[j * d + j]! + lambda;
    if (!cholesky(a, d)) continue;
    x.set(b);
    choleskySolve(a, d, x);
    // RSS = syy − 2βᵀb + βᵀSβ, all from the statistics.
    let fit = 0;
    for (let j = 0; j < d; j++) {
      let sx = 0;
      for (let k = 0; k < d; k++) sx += s[j * d + k]! * x[k]!;
      fit += x[j]! * (sx - 2 * b[j]!);
    }
    const rss = Math.max(0, syy + fit);
    const df = d - lambda * traceOfInverse(a, d, scratch) + intercepts;
    const gcv = df < n ? rss / n / (1 - df / n) ** 2 : Number.POSITIVE_INFINITY;
    // The largest penalty is the fallback when every GCV is infinite (fewer rows than parameters).
    if (gcv < best || g === PENALTY_GRID.length - 1) {
      if (gcv < best) best = gcv;
      beta.set(x);
    }
  }
}

/** Per fold and action: count, Σx, Σy, Σxy, Σy², and Σxxᵀ per action or per fold. */
class FoldStatistics {
  readonly count: Float64Array;
  readonly sumX: Float64Array;
  readonly sumY: Float64Array;
  readonly sumXY: Float64Array;
  readonly sumYY: Float64Array;
  /** Upper triangles filled while gathering; full symmetric after `finish`. */
  readonly gram: Float64Array;

  constructor(
    readonly folds: number,
    readonly actions: number,
    readonly d: number,
    readonly perAction: boolean,
  ) {
    const cells = folds * actions;
    this.count = new Float64Array(cells);
    this.sumX = new Float64Array(cells * d);
    this.sumY = new Float64Array(cells);
    this.sumXY = new Float64Array(cells * d);
    this.sumYY = new Float64Array(cells);
    this.gram = new Float64Array((perAction ? cells : folds) * d * d);
  }

  add(fold: number, action: number, x: Float64Array, offset: number, y: number): void {
    const d = this.d;
    const cell = fold * this.actions + action;
    this.count[cell]!++;
    this.sumY[cell]! += y;
    this.sumYY[cell]! += y * y;
    const base = cell * d;
    const g = (this.perAction ? cell : fold) * d * d;
    const sumX = this.sumX;
    const sumXY = this.sumXY;
    const gram = this.gram;
    for (let j = 0; j < d; j++) {
      const xj = x[offset + j]!;
      // One-hot rows are mostly zeros.
      if (xj === 0) continue;
      sumX[base + j]! += xj;
      sumXY[base + j]! += xj * y;
      const row = g + j * d - offset;
      for (let k = offset + j; k < offset + d; k++) gram[row + k]! += xj * x[k]!;
    }
  }

  finish(): void {
    const d = this.d;
    const blocks = this.gram.length / (d * d);
    for (let m = 0; m < blocks; m++) {
      const g = m * d * d;
      for (let j = 0; j < d; j++)
        for (let k = 0; k < j; k++) this.gram[g + j * d + k] = this.gram[g + k * d + j]!;
    }
  }
}

/**
 * A cross-fitted reward model: q̂(row, a) from the model of the folds other than the row's. Actions the
 * log never shows (a fixed policy may name them) are predicted at the training folds' mean reward.
 */
export class CrossFitRewardModel {
  constructor(
    readonly folds: number,
    /** The fold of each row. */
    readonly fold: Uint8Array,
    /** Actions with a fitted model (the log's). */
    readonly actions: number,
    readonly features: EncodedContext,
    /** Per scoring fold and action: intercept then d slopes. */
    private readonly coefficients: Float64Array,
    /** Per scoring fold: the training folds' mean reward. */
    private readonly fallback: Float64Array,
  ) {}

  private base(row: number, action: number): number {
    return (this.fold[row]! * this.actions + action) * (this.features.dimension + 1);
  }

  /** q̂(row's context, action), from a model that never saw the row. */
  predict(row: number, action: number): number {
    if (action >= this.actions) return this.fallback[this.fold[row]!]!;
    const d = this.features.dimension;
    const c = this.base(row, action);
    const x = this.features.values;
    const offset = row * d;
    let value = this.coefficients[c]!;
    for (let j = 0; j < d; j++) value += this.coefficients[c + 1 + j]! * x[offset + j]!;
    return value;
  }

  /** Σₐ π(a) q̂(row, a) for a distribution over actions (entries past the log's actions allowed). */
  expected(row: number, distribution: Float64Array): number {
    let value = 0;
    for (let a = 0; a < distribution.length; a++) {
      const p = distribution[a]!;
      if (p !== 0) value += p * this.predict(row, a);
    }
    return value;
  }

  /**
   * The model averaged over a fixed distribution, per scoring fold: Σₐ π(a) q̂ is linear in the
   * coefficients, so a policy that does not depend on the context costs one dot product per row.
   */
  averaged(distribution: Float64Array): Float64Array {
    const width = this.features.dimension + 1;
    const out = new Float64Array(this.folds * width);
    for (let s = 0; s < this.folds; s++) {
      for (let a = 0; a < distribution.length; a++) {
        const p = distribution[a]!;
        if (p === 0) continue;
        if (a >= this.actions) {
          out[s * width] = out[s * width]! + p * this.fallback[s]!;
          continue;
        }
        const c = (s * this.actions + a) * width;
        for (let j = 0; j < width; j++) out[s * width + j]! += p * this.coefficients[c + j]!;
      }
    }
    return out;
  }

  /** Σₐ π(a) q̂(row, a) from `averaged(π)`. */
  expectedAveraged(row: number, averaged: Float64Array): number {
    const d = this.features.dimension;
    const c = this.fold[row]! * (d + 1);
    const x = this.features.values;
    const offset = row * d;
    let value = averaged[c]!;
    for (let j = 0; j < d; j++) value += averaged[c + 1 + j]! * x[offset + j]!;
    return value;
  }
}

/** Fits the cross-fitted reward model of a log on its encoded context. */
export function fitRewardModel(
  log: Pick<DecisionLog, 'rows' | 'actions' | 'action' | 'reward'>,
  features: EncodedContext,
  options: RewardModelOptions = {},
): CrossFitRewardModel {
  const folds = options.folds ?? DEFAULT_FOLDS;
  if (!(Number.isInteger(folds) && folds >= 2 && folds <= 255)) {
    throw new RangeError(`folds must be an integer in [2, 255], got ${folds}`);
  }
  const n = log.rows;
  const fold = options.foldOf ?? randomFolds(n, folds, options.seed ?? 1);
  if (fold.length !== n) throw new RangeError(`foldOf has ${fold.length} entries for ${n} rows`);
  const actions = log.actions.length;
  const d = features.dimension;
  const perAction = !(options.sharedSlopes ?? folds * actions * d * d > PER_ACTION_BUDGET);

  const stats = new FoldStatistics(folds, actions, d, perAction);
  for (let i = 0; i < n; i++) stats.add(fold[i]!, log.action[i]!, features.values, i * d, log.reward[i]!);
  stats.finish();

  const width = d + 1;
  const coefficients = new Float64Array(folds * actions * width);
  const fallback = new Float64Array(folds);
  const gram = new Float64Array(d * d);
  const b = new Float64Array(d);
  const beta = new Float64Array(d);
  const meanX = new Float64Array(actions * d);
  const meanY = new Float64Array(actions);
  const count = new Float64Array(actions);

  for (let s = 0; s < folds; s++) {
    // Training statistics of scoring fold s: everything outside it.
    const train = (array: Float64Array, cell: number, size: number, j: number) => {
      let sum = 0;
      for (let f = 0; f < folds; f++) if (f !== s) sum += array[(f * actions + cell) * size + j]!;
      return sum;
    };
    let totalCount = 0;
    let totalY = 0;
    for (let a = 0; a < actions; a++) {
      count[a] = train(stats.count, a, 1, 0);
      totalCount += count[a]!;
      totalY += train(stats.sumY, a, 1, 0);
    }
    // An empty training side (a one-row log) predicts 0: DR falls back to IPS there.
    fallback[s] = totalCount > 0 ? totalY / totalCount : 0;
    for (let a = 0; a < actions; a++) {
      if (count[a] === 0) continue;
      meanY[a] = train(stats.sumY, a, 1, 0) / count[a]!;
      for (let j = 0; j < d; j++) meanX[a * d + j] = train(stats.sumX, a, d, j) / count[a]!;
    }

    const centred = (a: number) => {
      // S = Σxxᵀ − n x̄x̄ᵀ, b = Σxy − n x̄ȳ, syy = Σy² − nȳ² over the training folds of action a.
      const na = count[a]!;
      for (let j = 0; j < d; j++) {
        b[j] = train(stats.sumXY, a, d, j) - na * meanX[a * d + j]! * meanY[a]!;
        for (let k = 0; k < d; k++) {
          let sum = 0;
          for (let f = 0; f < folds; f++)
            if (f !== s) sum += stats.gram[((f * actions + a) * d + j) * d + k]!;
          gram[j * d + k] = sum - na * meanX[a * d + j]! * meanX[a * d + k]!;
        }
      }
      return train(stats.sumYY, a, 1, 0) - na * meanY[a]! ** 2;
    };

    if (perAction) {
      for (let a = 0; a < actions; a++) {
        const c = (s * actions + a) * width;
        if (count[a] === 0) {
          coefficients[c] = fallback[s]!;
          continue;
        }
        const syy = centred(a);
        ridgeByGcv(gram, b, syy, count[a]!, 1, d, beta);
        let intercept = meanY[a]!;
        for (let j = 0; j < d; j++) {
          coefficients[c + 1 + j] = beta[j]!;
          intercept -= beta[j]! * meanX[a * d + j]!;
        }
        coefficients[c] = intercept;
      }
      continue;
    }

    // Shared slopes: the within-action scatter, Σxxᵀ − Σₐ nₐ x̄ₐx̄ₐᵀ, and the matching Σxy and Σy².
    let syy = 0;
    let seen = 0;
    b.fill(0);
    for (let j = 0; j < d; j++) {
      for (let k = 0; k < d; k++) {
        let sum = 0;
        for (let f = 0; f < folds; f++) if (f !== s) sum += stats.gram[(f * d + j) * d + k]!;
        gram[j * d + k] = sum;
      }
    }
    for (let a = 0; a < actions; a++) {
      const na = count[a]!;
      if (na === 0) continue;
      seen++;
      syy += train(stats.sumYY, a, 1, 0) - na * meanY[a]! ** 2;
      for (let j = 0; j < d; j++) {
        b[j] = b[j]! + train(stats.sumXY, a, d, j) - na * meanX[a * d + j]! * meanY[a]!;
        for (let k = 0; k < d; k++)
          gram[j * d + k] = gram[j * d + k]! - na * meanX[a * d + j]! * meanX[a * d + k]!;
      }
    }
    ridgeByGcv(gram, b, syy, totalCount, seen, d, beta);
    for (let a = 0; a < actions; a++) {
      const c = (s * actions + a) * width;
      let intercept = count[a] === 0 ? fallback[s]! : meanY[a]!;
      if (count[a]! > 0) for (let j = 0; j < d; j++) intercept -= beta[j]! * meanX[a * d + j]!;
      coefficients[c] = intercept;
      if (count[a]! > 0) coefficients.set(beta, c + 1);
    }
  }
  return new CrossFitRewardModel(folds, fold, actions, features, coefficients, fallback);
}
