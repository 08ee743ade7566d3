import type { JsonValue } from '../shared/types.js';
import { instantiateAls, type AlsKernelExports } from './als-kernel.js';
import { trainAls } from './als-train.js';
import { ItemVectors } from './item-vectors.js';
import { PerProfile } from './per-profile.js';
import { assertTrainingInput } from './input.js';
import { paramsFromJson, paramsToJson, validateParams } from './params.js';
import { Wasm, WASM_PAGE } from './wasm.js';
import type {
  AlsParams,
  Evidence,
  Explanation,
  FactorContribution,
  FitOptions,
  ModelArtifact,
  Recommender,
  ScoredIndex,
  TrainingInput,
  UserProfile,
} from './types.js';

/** Fits implicit ALS (see `trainAls`) and returns the serving model. */
export async function fitAls(
  input: TrainingInput,
  params: AlsParams,
  options: FitOptions = {},
): Promise<AlsRecommender> {
  validateParams('als', params);
  assertTrainingInput(input);
  const { userFactors, itemFactors } = await trainAls(input.matrix, params, options);
  return new AlsRecommender(params, input.matrix.rows, input.matrix.cols, userFactors, itemFactors);
}

/**
 * Conjugate-gradient steps of a known user's update at serving time, chosen by measurement on a fitted
 * 64-factor model (3,000 synthetic users × 5,000 items with low-rank tastes, 40 users of 2,000+ items) at
 * five (α, λ) of the selection grid, for users of 50 to 2,000 items whose profile was the trained row, or
 * it plus 1 or 10 new items, each plain and recency-weighted (half-life 50): 120 cases. After 8 steps from
 * the trained factors the relative residual of the normal equations was at most 7e-4 (9e-6 at the default
 * α = 1, λ = 10) and the top 20 unseen items were the exact solution's in 119 cases, one swap at rank 20
 * in the other. 6 steps: residuals up to 3e-3 and 3 such swaps in 96 cases; 10 steps: up to 1.3e-4 and
 * none, for a fifth more work. An update costs ~35 µs for 200 items and ~320 µs for 2,000 (64 factors;
 * the Cholesky fold-in ~320 µs and ~3 ms, the same CG in double-precision JavaScript ~300 µs and ~2.6 ms).
 */
export const UPDATE_STEPS = 8;

/**
 * Serving side of ALS: whatever the profile, the user's factors are (an approximation of) the solution of
 * the training objective for that user, min Σ_i c_i (p_i - x·y_i)² + λ‖x‖² with c = 1 + α·w, i.e. of the
 * normal equations (YᵀY + λI + Σ_i (c_i - 1) y_i y_iᵀ) x = Σ_i c_i y_i over the profile's items.
 *
 * - A known user with a profile that is not fresh: the stored factors, as training left them.
 * - A known user with a fresh profile (the whole history, with feedback the model was not trained on, or
 *   recency-weighted): the stored factors updated by `UPDATE_STEPS` conjugate-gradient steps on that
 *   user's system for the full profile, warm-started from the stored factors. That is the per-row update
 *   of a training sweep (the same WebAssembly kernel, `cgRows`) run once more against the final item
 *   factors: what the model learned is kept, only what is new moves it, and the cost is
 *   O(steps · (|items| · f + f²)) with matrix-free products, so a user with thousands of items stays cheap.
 *   With nothing new the update still runs (the stored factors were solved against the previous sweep's
 *   item factors), deterministically, so evaluation and serving agree for the same profile.
 * - A user the model never saw: solved exactly from the profile (`foldIn`, a Cholesky factorisation of
 *   the f × f system; fine for the short histories new users have).
 *
 * YᵀY + λI is computed once at load. The solved factors (update or fold-in) are kept per profile object
 * (`PerProfile`): a request needs them for the scores and again for evidence, and a user's next request
 * reuses them until their history changes.
 */
export class AlsRecommender implements Recommender {
  readonly name = 'als' as const;
  readonly params: JsonValue;
  private readonly f: number;
  /** YᵀY + λI, f × f, double precision for a stable factorisation. */
  private readonly gram: Float64Array;
  private readonly itemNorms: Float64Array;
  // Scratch reused by every call (calls never interleave on one thread).
  private readonly system: Float64Array;
  private readonly rhs: Float64Array;
  private readonly user: Float64Array;
  /** Factors solved for profiles other than a known user's unchanged row; read-only once stored. */
  private readonly solved = new PerProfile<Float64Array>();
  private readonly vectors: ItemVectors;
  /** Whole-catalog scoring and the warm-started updates in WebAssembly, built on first use. */
  private kernel: AlsServingKernel | null = null;
  /** Fold-in scratch: the profile's scaled item factors, grown on demand. */
  private profileRows = new Float64Array(0);

  constructor(
    private readonly hyper: AlsParams,
    readonly nUsers: number,
    readonly nItems: number,
    private readonly userFactors: Float32Array,
    private readonly itemFactors: Float32Array,
  ) {
    const f = hyper.factors;
    if (userFactors.length !== nUsers * f || itemFactors.length !== nItems * f) {
      throw new RangeError(`als: factor arrays do not match ${nUsers} users, ${nItems} items × ${f} factors`);
    }
    this.f = f;
    this.params = paramsToJson('als', hyper);
    this.gram = new Float64Array(f * f);
    this.itemNorms = new Float64Array(nItems);
    for (let i = 0; i < nItems; i++) {
      const o = i * f;
      let norm = 0;
      for (let a = 0; a < f; a++) {
        const ya = itemFactors[o + a]!;
        norm += ya * ya;
        const row = a * f;
        for (let b = a; b < f; b++) this.gram[row + b]! += ya * itemFactors[o + b]!;
      }
      this.itemNorms[i] = Math.sqrt(norm);
    }
    for (let a = 0; a < f; a++) {
      this.gram[a * f + a]! += hyper.regularization;
      for (let b = 0; b < a; b++) this.gram[a * f + b] = this.gram[b * f + a]!;
    }
    this.system = new Float64Array(f * f);
    this.rhs = new Float64Array(f);
    this.user = new Float64Array(f);
    this.vectors = new ItemVectors(itemFactors, f, this.itemNorms);
  }

  static fromArtifact(artifact: ModelArtifact): AlsRecommender {
    const params = paramsFromJson('als', artifact.params);
    const { userFactors, itemFactors } = artifact.arrays;
    if (!(userFactors instanceof Float32Array) || !(itemFactors instanceof Float32Array)) {
      throw new TypeError('als artifact: userFactors and itemFactors must be Float32Arrays');
    }
    return new AlsRecommender(params, artifact.nUsers, artifact.nItems, userFactors, itemFactors);
  }

  toArtifact(): ModelArtifact {
    return {
      name: 'als',
      params: this.params,
      nUsers: this.nUsers,
      nItems: this.nItems,
      arrays: { userFactors: this.userFactors, itemFactors: this.itemFactors },
    };
  }

  eraseUser(user: number): void {
    if (user >= 0 && user < this.nUsers) this.userFactors.fill(0, user * this.f, (user + 1) * this.f);
  }

  score(profile: UserProfile, out: Float32Array): void {
    const x = this.userVector(profile);
    this.servingKernel(0).score(x, out);
  }

  similar(item: number, n: number): ScoredIndex[] {
    return this.validItem(item) ? this.vectors.similar(item, n) : [];
  }

  /**
   * The history item closest to `item` in factor space (cosine), weighting each history item by its
   * confidence; with no history, the user-item dot product.
   */
  evidence(profile: UserProfile, item: number): Evidence {
    const { f, itemFactors, itemNorms } = this;
    let best = -1;
    let bestCos = 0;
    let bestWeighted = 0;
    if (this.validItem(item) && itemNorms[item]! > 0) {
      for (let k = 0; k < profile.items.length; k++) {
        const h = profile.items[k]!;
        if (h === item || !this.validItem(h) || itemNorms[h]! === 0) continue;
        const cos = this.vectors.cosine(item, h);
        const weighted = cos * (1 + this.hyper.alpha * (profile.weights[k] ?? 1));
        if (cos > 0 && (best < 0 || weighted > bestWeighted)) {
          best = h;
          bestCos = cos;
          bestWeighted = weighted;
        }
      }
    }
    if (best >= 0) return { kind: 'item', item: best, similarity: bestCos };
    let score = 0;
    if (this.validItem(item)) {
      const x = this.userVector(profile);
      for (let a = 0; a < f; a++) score += x[a]! * itemFactors[item * f + a]!;
    }
    return { kind: 'taste', score };
  }

  /**
   * The score as a sum over latent dimensions (the `limit` largest products by magnitude) and the user's
   * history items closest to `item` in factor space (cosine), most similar first.
   */
  explain(profile: UserProfile, item: number, limit: number): Explanation {
    const { f, itemFactors } = this;
    if (!this.validItem(item)) return { kind: 'factors', score: 0, factors: [], similarItems: [] };
    const x = this.userVector(profile);
    const o = item * f;
    const factors: FactorContribution[] = [];
    let score = 0;
    for (let a = 0; a < f; a++) {
      const user = x[a]!;
      const value = itemFactors[o + a]!;
      score += user * value;
      factors.push({ dimension: a, user, item: value, product: user * value });
    }
    factors.sort((p, q) => Math.abs(q.product) - Math.abs(p.product) || p.dimension - q.dimension);
    const similarItems = this.vectors.closest(item, profile.items, (h) => this.validItem(h));
    const n = Math.max(0, limit);
    return { kind: 'factors', score, factors: factors.slice(0, n), similarItems: similarItems.slice(0, n) };
  }

  /**
   * The user's factors for this profile, read-only: a known user's stored row when the profile is not
   * fresh (copied into a scratch buffer valid until the next call), else the factors solved for this
   * profile object, once (`solved`).
   */
  private userVector(profile: UserProfile): Float64Array {
    const u = profile.userIndex;
    if (!(u >= 0 && u < this.nUsers) || profile.fresh) return this.solved.get(profile, this.solve);
    this.user.set(this.storedRow(u));
    return this.user;
  }

  /** The factors for a profile of a user the model never saw (fold-in) or a fresh one (the CG update). */
  private readonly solve = (profile: UserProfile): Float64Array => {
    const x = new Float64Array(this.f);
    const u = profile.userIndex;
    if (!(u >= 0 && u < this.nUsers)) {
      this.foldIn(profile.items, profile.weights, x);
      return x;
    }
    const stored = this.storedRow(u);
    // Nothing the model can score in the profile: what training stored.
    if (!this.update(stored, profile.items, profile.weights, x)) x.set(stored);
    return x;
  };

  private storedRow(u: number): Float32Array {
    return this.userFactors.subarray(u * this.f, (u + 1) * this.f);
  }

  /**
   * `UPDATE_STEPS` CG steps on the user's normal equations for the profile, from `start`, into `out`.
   * False (and `out` untouched) when the profile has no valid item: the system would then pull the factors
   * towards zero, a user who likes nothing, which is not what an empty profile means.
   */
  private update(start: Float32Array, items: Int32Array, weights: Float32Array, out: Float64Array): boolean {
    const kernel = this.servingKernel(items.length);
    const alpha = this.hyper.alpha;
    let n = 0;
    for (let k = 0; k < items.length; k++) {
      const i = items[k]!;
      if (!this.validItem(i)) continue;
      kernel.indices[n] = i;
      // Stored in single precision, as training stores alpha · weight for the kernel.
      kernel.conf[n] = alpha * (weights[k] ?? 1);
      n++;
    }
    if (n === 0) return false;
    kernel.solve(start, n, UPDATE_STEPS, out);
    return true;
  }

  /** The WebAssembly side; rebuilt larger for a profile with more entries than it holds (repeated items). */
  private servingKernel(entries: number): AlsServingKernel {
    if (this.kernel === null || this.kernel.capacity < entries) {
      const capacity = Math.max(this.nItems, entries, this.kernel === null ? 0 : 2 * this.kernel.capacity);
      this.kernel = new AlsServingKernel(this.itemFactors, this.gram, this.nItems, this.f, capacity);
    }
    return this.kernel;
  }

  /**
   * Solves (G + Σ c1_i y_i y_iᵀ) x = Σ (1 + c1_i) y_i with c1 = α·w: forming the system costs
   * |items| · f² / 2, the factorisation f³ / 6 (about 0.2 ms for 64 factors and 200 items).
   */
  foldIn(items: Int32Array, weights: Float32Array, out: Float64Array): void {
    const { f, system: a, rhs: b, itemFactors } = this;
    const alpha = this.hyper.alpha;
    let n = 0;
    for (let k = 0; k < items.length; k++) if (this.validItem(items[k]!)) n++;
    if (this.profileRows.length < n * f) this.profileRows = new Float64Array(n * f * 2);
    // z[r, k] = √c1_k · y_k[r], stored by factor, so that Σ_k c1_k y_k yₖᵀ = z zᵀ is a set of contiguous
    // dot products rather than rank-one updates with a store per multiply.
    const z = this.profileRows;
    b.fill(0);
    let col = 0;
    for (let k = 0; k < items.length; k++) {
      const i = items[k]!;
      if (!this.validItem(i)) continue;
      const c1 = alpha * (weights[k] ?? 1);
      const root = Math.sqrt(c1);
      const o = i * f;
      for (let r = 0; r < f; r++) {
        const yr = itemFactors[o + r]!;
        b[r]! += (1 + c1) * yr;
        z[r * n + col] = root * yr;
      }
      col++;
    }
    a.set(this.gram);
    addGramUpper(z, n, f, a);
    choleskySolveUpper(a, b, f, out);
  }

  private validItem(i: number): boolean {
    return Number.isInteger(i) && i >= 0 && i < this.nItems;
  }
}

/** Floats per padded row: the SIMD loops of the ALS kernels run over 16-float (64-byte) blocks. */
const BLOCK = 16;

/**
 * The ALS kernels (`als-kernel.ts`) on a WebAssembly memory of the serving model's own, laid out as
 * training lays out one row: the item factors (each row zero-padded to a multiple of 16 floats), G =
 * YᵀY + λI in single precision, one user vector, the profile as a one-row CSR matrix (indices and
 * α · weight), the CG scratch, and a score per item. Whole-catalog scoring (`scoreAll`, one call per
 * request: V8 runs the plain loop one scalar at a time, ~0.3 ms on 9,000 items × 64 factors) and the
 * warm-started updates (`cgRows`) share the one copy of the item factors. Built once per model; the
 * profile section holds `capacity` entries, at least the catalog size, so a profile of unique items
 * always fits and a request allocates nothing.
 */
class AlsServingKernel {
  readonly indices: Int32Array;
  readonly conf: Float32Array;
  private readonly kernels: AlsKernelExports;
  private readonly stride: number;
  private readonly at: {
    readonly items: number;
    readonly gram: number;
    readonly x: number;
    readonly scratch: number;
    readonly scores: number;
    readonly indptr: number;
    readonly indices: number;
    readonly conf: number;
  };
  private readonly x: Float32Array;
  private readonly indptr: Int32Array;
  private readonly scores: Float32Array;

  constructor(
    itemFactors: Float32Array,
    gram: Float64Array,
    private readonly nItems: number,
    private readonly f: number,
    readonly capacity: number,
  ) {
    const padded = Math.ceil(f / BLOCK) * BLOCK;
    const stride = padded * 4;
    let offset = 0;
    // 64-byte alignment keeps every vector access within one cache line, as in training's layout.
    const take = (bytes: number): number => {
      const start = offset;
      offset += Math.ceil(bytes / 64) * 64;
      return start;
    };
    this.at = {
      items: take(nItems * stride),
      gram: take(padded * stride),
      x: take(stride),
      scratch: take(3 * stride + 16),
      scores: take(nItems * 4),
      indptr: take(8),
      indices: take(capacity * 4),
      conf: take(capacity * 4),
    };
    const pages = Math.max(1, Math.ceil(offset / WASM_PAGE));
    // The module imports a shared memory (its training kernels run on worker threads); this one stays here.
    const memory = new Wasm.Memory({ initial: pages, maximum: pages, shared: true });
    const { buffer } = memory;
    const rows = new Float32Array(buffer, this.at.items, nItems * padded);
    for (let i = 0; i < nItems; i++) rows.set(itemFactors.subarray(i * f, (i + 1) * f), i * padded);
    // Padding rows and columns of G stay zero, so the padded parts of x, r and p stay zero too.
    const g = new Float32Array(buffer, this.at.gram, padded * padded);
    for (let a = 0; a < f; a++) {
      for (let b = 0; b < f; b++) g[a * padded + b] = gram[a * f + b]!;
    }
    this.stride = stride;
    this.x = new Float32Array(buffer, this.at.x, padded);
    this.indptr = new Int32Array(buffer, this.at.indptr, 2);
    this.indices = new Int32Array(buffer, this.at.indices, capacity);
    this.conf = new Float32Array(buffer, this.at.conf, capacity);
    this.scores = new Float32Array(buffer, this.at.scores, nItems);
    this.kernels = instantiateAls(memory);
  }

  /**
   * `steps` CG steps on the normal equations of the first `n` entries of `indices`/`conf` (the caller
   * fills them), warm-started from `start` (f floats); the result goes to `out`.
   */
  solve(start: Float32Array, n: number, steps: number, out: Float64Array): void {
    const { f, x, at } = this;
    x.set(start);
    this.indptr[0] = 0;
    this.indptr[1] = n;
    this.kernels.cgRows(
      at.indptr,
      at.indices,
      at.conf,
      at.x,
      at.items,
      at.gram,
      this.stride,
      steps,
      0,
      1,
      at.scratch,
    );
    for (let a = 0; a < f; a++) out[a] = x[a]!;
  }

  /** `out[i] = y_i · x` for every item, summed in single precision (the factors are f32 already). */
  score(user: Float64Array, out: Float32Array): void {
    for (let a = 0; a < this.f; a++) this.x[a] = user[a]!;
    this.kernels.scoreAll(this.at.items, this.nItems, this.stride, this.at.x, this.at.scores);
    out.set(this.scores);
  }
}

/**
 * a[r, c] += Σ_k z[r, k] z[c, k] for c ≥ r, where z is f × n row-major. Blocks of 2 × 2 outputs share
 * their loads (four products per two loads of each row), which is what makes fold-in fast in plain JS.
 */
function addGramUpper(z: Float64Array, n: number, f: number, a: Float64Array): void {
  let r = 0;
  for (; r + 1 < f; r += 2) {
    const z0 = r * n;
    const z1 = z0 + n;
    // The diagonal block: (r, r), (r, r + 1), (r + 1, r + 1).
    let d00 = 0;
    let d01 = 0;
    let d11 = 0;
    for (let k = 0; k < n; k++) {
      const x0 = z[z0 + k]!;
      const x1 = z[z1 + k]!;
      d00 += x0 * x0;
      d01 += x0 * x1;
      d11 += x1 * x1;
    }
    a[r * f + r]! += d00;
    a[r * f + r + 1]! += d01;
    a[(r + 1) * f + r + 1]! += d11;
    let c = r + 2;
    for (; c + 1 < f; c += 2) {
      const w0 = c * n;
      const w1 = w0 + n;
      let s00 = 0;
      let s01 = 0;
      let s10 = 0;
      let s11 = 0;
      for (let k = 0; k < n; k++) {
        const x0 = z[z0 + k]!;
        const x1 = z[z1 + k]!;
        const y0 = z[w0 + k]!;
        const y1 = z[w1 + k]!;
        s00 += x0 * y0;
        s01 += x0 * y1;
        s10 += x1 * y0;
        s11 += x1 * y1;
      }
      a[r * f + c]! += s00;
      a[r * f + c + 1]! += s01;
      a[(r + 1) * f + c]! += s10;
      a[(r + 1) * f + c + 1]! += s11;
    }
    if (c < f) {
      const w0 = c * n;
      let s0 = 0;
      let s1 = 0;
      for (let k = 0; k < n; k++) {
        s0 += z[z0 + k]! * z[w0 + k]!;
        s1 += z[z1 + k]! * z[w0 + k]!;
      }
      a[r * f + c]! += s0;
      a[(r + 1) * f + c]! += s1;
    }
  }
  if (r < f) {
    const z0 = r * n;
    let d = 0;
    for (let k = 0; k < n; k++) d += z[z0 + k]! * z[z0 + k]!;
    a[r * f + r]! += d;
  }
}

/**
 * Solves S x = b for symmetric positive-definite S given by its upper triangle (row-major n × n).
 * The Cholesky factor L is written into the lower triangle (diagonal included), so the upper triangle
 * survives. A non-positive pivot (λ = 0 with too little data) is clamped to keep the solve finite.
 */
export function choleskySolveUpper(s: Float64Array, b: Float64Array, n: number, x: Float64Array): void {
  for (let j = 0; j < n; j++) {
    const rj = j * n;
    let d = s[rj + j]!;
    for (let k = 0; k < j; k++) d -= s[rj + k]! * s[rj + k]!;
    const ljj = Math.sqrt(d > 1e-12 ? d : 1e-12);
    s[rj + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      const ri = i * n;
      let v = s[rj + i]!;
      for (let k = 0; k < j; k++) v -= s[ri + k]! * s[rj + k]!;
      s[ri + j] = v / ljj;
    }
  }
  // L z = b, then Lᵀ x = z.
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    let v = b[i]!;
    for (let k = 0; k < i; k++) v -= s[ri + k]! * x[k]!;
    x[i] = v / s[ri + i]!;
  }
  for (let i = n - 1; i >= 0; i--) {
    let v = x[i]!;
    for (let k = i + 1; k < n; k++) v -= s[k * n + i]! * x[k]!;
    x[i] = v / s[i * n + i]!;
  }
}
