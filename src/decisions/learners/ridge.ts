/**
 * Online ridge regression for one or many models of the same dimension, in flat Float64Arrays (model m's
 * d × d matrices at m·d², its vectors at m·d), with no allocation after construction.
 *
 * Each model keeps A = λI + Σ xxᵀ, A⁻¹, b = Σ r·x and θ̂ = A⁻¹b. A reward updates A⁻¹ by Sherman–Morrison,
 *
 *   A⁻¹ ← A⁻¹ − (A⁻¹x)(A⁻¹x)ᵀ / (1 + xᵀA⁻¹x),
 *
 * O(d²) instead of the O(d³) of a fresh inverse. Rank-1 updates let rounding accumulate, so every
 * `refreshEvery` updates of a model A⁻¹ is recomputed from A (kept for that purpose, d² more doubles) by
 * Cholesky: O(d³) once per thousand rewards is nothing per reward, and the error stays that of a few
 * thousand updates however long the learner runs.
 *
 * Only the upper triangle of A⁻¹ is computed and then mirrored, so the stored matrix is exactly symmetric
 * and xᵀA⁻¹x can be read from one triangle.
 *
 * With `withFactor`, each model also keeps the lower Cholesky factor L of A (A = LLᵀ), updated by the
 * stable rank-1 Cholesky update in O(d²); a posterior draw is then θ̂ + v·L⁻ᵀz, z ~ N(0, I), one
 * triangular solve, exact at every step: Cov(L⁻ᵀz) = (LLᵀ)⁻¹ = A⁻¹. Factoring A⁻¹ instead would need the
 * rank-1 *downdate*, which loses accuracy as A⁻¹ shrinks; refreshing a factor lazily every k updates
 * would draw from a stale posterior.
 */
export class RidgeSet {
  readonly a: Float64Array;
  readonly ainv: Float64Array;
  readonly b: Float64Array;
  readonly theta: Float64Array;
  readonly counts: Float64Array;
  readonly factor: Float64Array | null;
  /** Scratch: A⁻¹x, and a working copy of x for the Cholesky update and triangular solves. */
  private readonly u: Float64Array;
  private readonly work: Float64Array;
  /** Where a refresh factors A when no factor is kept. */
  private readonly scratchFactor: Float64Array;

  constructor(
    readonly models: number,
    readonly dimension: number,
    readonly ridge: number,
    readonly refreshEvery: number,
    withFactor: boolean,
  ) {
    const d = dimension;
    const dd = d * d;
    this.a = new Float64Array(models * dd);
    this.ainv = new Float64Array(models * dd);
    this.b = new Float64Array(models * d);
    this.theta = new Float64Array(models * d);
    this.counts = new Float64Array(models);
    this.factor = withFactor ? new Float64Array(models * dd) : null;
    this.u = new Float64Array(d);
    this.work = new Float64Array(d);
    this.scratchFactor = withFactor ? new Float64Array(0) : new Float64Array(dd);
    const root = Math.sqrt(ridge);
    for (let m = 0; m < models; m++) {
      for (let i = 0; i < d; i++) {
        const at = m * dd + i * d + i;
        this.a[at] = ridge;
        this.ainv[at] = 1 / ridge;
        if (this.factor) this.factor[at] = root;
      }
    }
  }

  /** x·θ̂ of model m, x read from `x` at `offset`. */
  mean(m: number, x: Float64Array, offset: number): number {
    const d = this.dimension;
    const theta = this.theta;
    const base = m * d;
    let sum = 0;
    for (let i = 0; i < d; i++) sum += x[offset + i]! * theta[base + i]!;
    return sum;
  }

  /** xᵀA⁻¹x of model m: the posterior variance of x·θ in units of the noise variance. */
  variance(m: number, x: Float64Array, offset: number): number {
    const d = this.dimension;
    const ainv = this.ainv;
    const base = m * d * d;
    let sum = 0;
    for (let i = 0; i < d; i++) {
      const xi = x[offset + i]!;
      const row = base + i * d;
      let cross = 0;
      for (let j = i + 1; j < d; j++) cross += ainv[row + j]! * x[offset + j]!;
      sum += xi * (ainv[row + i]! * xi + 2 * cross);
    }
    // A⁻¹ is positive definite, so only rounding can push this below zero.
    return sum > 0 ? sum : 0;
  }

  /** Learns reward r for features x (at `offset`) in model m. */
  update(m: number, x: Float64Array, offset: number, reward: number): void {
    const d = this.dimension;
    const dd = d * d;
    const base = m * dd;
    const { a, ainv, u } = this;

    for (let i = 0; i < d; i++) {
      const xi = x[offset + i]!;
      const row = base + i * d;
      for (let j = 0; j < d; j++) a[row + j] = a[row + j]! + xi * x[offset + j]!;
    }

    const vb = m * d;
    for (let i = 0; i < d; i++) this.b[vb + i] = this.b[vb + i]! + reward * x[offset + i]!;

    this.counts[m] = this.counts[m]! + 1;
    if (this.factor) this.updateFactor(m, x, offset);

    if (this.refreshEvery > 0 && this.counts[m]! % this.refreshEvery === 0) {
      this.refresh(m);
      return;
    }

    let quad = 0;
    for (let i = 0; i < d; i++) {
      const row = base + i * d;
      let sum = 0;
      for (let j = 0; j < d; j++) sum += ainv[row + j]! * x[offset + j]!;
      u[i] = sum;
      quad += x[offset + i]! * sum;
    }
    const inv = 1 / (1 + quad);
    for (let i = 0; i < d; i++) {
      const ui = u[i]! * inv;
      const row = base + i * d;
      for (let j = i; j < d; j++) {
        const value = ainv[row + j]! - ui * u[j]!;
        ainv[row + j] = value;
        ainv[base + j * d + i] = value;
      }
    }
    this.solveTheta(m);
  }

  /**
   * One posterior draw θ̃ = θ̂ + scale·L⁻ᵀz of model m into `out`, z from `normal`; needs `withFactor`.
   */
  sample(m: number, scale: number, normal: () => number, out: Float64Array): Float64Array {
    const factor = this.factor;
    if (!factor) throw new Error('this ridge set keeps no Cholesky factor');
    const d = this.dimension;
    const base = m * d * d;
    const y = this.work;
    for (let i = 0; i < d; i++) y[i] = normal();
    // Back substitution with Lᵀ (upper): (Lᵀ)[i][j] = L[j][i].
    for (let i = d - 1; i >= 0; i--) {
      let sum = y[i]!;
      for (let j = i + 1; j < d; j++) sum -= factor[base + j * d + i]! * y[j]!;
      y[i] = sum / factor[base + i * d + i]!;
    }
    const vb = m * d;
    for (let i = 0; i < d; i++) out[i] = this.theta[vb + i]! + scale * y[i]!;
    return out;
  }

  /** Recomputes A⁻¹ (and the factor, when kept) of model m from A by Cholesky, then θ̂. */
  refresh(m: number): void {
    const d = this.dimension;
    const base = m * d * d;
    const l = this.factor ?? this.scratchFactor;
    const lBase = this.factor ? base : 0;
    const a = this.a;
    for (let j = 0; j < d; j++) {
      let diag = a[base + j * d + j]!;
      for (let k = 0; k < j; k++) diag -= l[lBase + j * d + k]! ** 2;
      const root = Math.sqrt(diag);
      l[lBase + j * d + j] = root;
      for (let i = j + 1; i < d; i++) {
        let sum = a[base + i * d + j]!;
        for (let k = 0; k < j; k++) sum -= l[lBase + i * d + k]! * l[lBase + j * d + k]!;
        l[lBase + i * d + j] = sum / root;
      }
      for (let i = 0; i < j; i++) l[lBase + i * d + j] = 0;
    }
    // A⁻¹ = L⁻ᵀL⁻¹ column by column: L y = e_c, then Lᵀ z = y; z is column c, mirrored to keep symmetry.
    const y = this.work;
    const ainv = this.ainv;
    for (let c = 0; c < d; c++) {
      for (let i = 0; i < d; i++) {
        let sum = i === c ? 1 : 0;
        for (let k = 0; k < i; k++) sum -= l[lBase + i * d + k]! * y[k]!;
        y[i] = sum / l[lBase + i * d + i]!;
      }
      for (let i = d - 1; i >= 0; i--) {
        let sum = y[i]!;
        for (let k = i + 1; k < d; k++) sum -= l[lBase + k * d + i]! * y[k]!;
        y[i] = sum / l[lBase + i * d + i]!;
      }
      for (let i = 0; i <= c; i++) {
        ainv[base + i * d + c] = y[i]!;
        ainv[base + c * d + i] = y[i]!;
      }
    }
    this.solveTheta(m);
  }

  /** θ̂ = A⁻¹b for model m. */
  private solveTheta(m: number): void {
    const d = this.dimension;
    const base = m * d * d;
    const vb = m * d;
    for (let i = 0; i < d; i++) {
      const row = base + i * d;
      let sum = 0;
      for (let j = 0; j < d; j++) sum += this.ainv[row + j]! * this.b[vb + j]!;
      this.theta[vb + i] = sum;
    }
  }

  /** The rank-1 Cholesky update L ← chol(LLᵀ + xxᵀ) of model m (Golub & Van Loan's rotation form). */
  private updateFactor(m: number, x: Float64Array, offset: number): void {
    const factor = this.factor!;
    const d = this.dimension;
    const base = m * d * d;
    const w = this.work;
    for (let i = 0; i < d; i++) w[i] = x[offset + i]!;
    for (let k = 0; k < d; k++) {
      const lkk = factor[base + k * d + k]!;
      const wk = w[k]!;
      const r = Math.sqrt(lkk * lkk + wk * wk);
      const c = r / lkk;
      const s = wk / lkk;
      factor[base + k * d + k] = r;
      for (let i = k + 1; i < d; i++) {
        const at = base + i * d + k;
        const lik = (factor[at]! + s * w[i]!) / c;
        factor[at] = lik;
        w[i] = c * w[i]! - s * lik;
      }
    }
  }
}
