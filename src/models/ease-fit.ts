import { EASE_CTRL, instantiateEase, runEaseShare, type EaseLayout } from './ease-kernel.js';
import type { EaseWorkerJob } from './ease.worker.js';
import { FitHelpers, WorkerPool } from './kernel-threads.js';
import type { CsrMatrix, FitOptions } from './types.js';
import { WASM_MAX_PAGES, WASM_PAGE, Wasm, type WasmMemory } from './wasm.js';

/** Pivot block size: 64 rows of packed pivots (64 KB per 256 columns) and a 16 KB inverse per step. */
const BLOCK = 64;
/** Below this many items a whole fit takes tens of milliseconds, about what starting a helper costs. */
const MIN_ITEMS_PER_EXTRA_THREAD = 512;

/**
 * EASE's weights (Steck 2019): B = I − P · diagMat(1/diag(P)) with P = (XᵀX + λI)⁻¹ and diag(B) = 0,
 * returned as a dense items × items row-major Float32Array (row i: what item i contributes to each item),
 * a view on the fit's WebAssembly memory (see `extractWeights`).
 *
 * The inverse is a blocked sweep (Gauss-Jordan without pivoting, stable on a symmetric positive-definite
 * matrix): for each pivot block K, A_RR −= A_RK A_KK⁻¹ A_KR, A_RK ← A_RK A_KK⁻¹, A_KK ← −A_KK⁻¹. After all
 * blocks A = −P, and the sign cancels in P_ij / P_jj. Only the upper triangle is kept and updated, so the
 * work is n³ flops, nearly all of it in the rank-64 GEMM of `ease-kernel.ts` (WebAssembly SIMD, f32,
 * cache-blocked), split by rows between the calling thread and `threads − 1` pooled helpers sharing one
 * WebAssembly memory. Single precision suffices at EASE's λ (tens to thousands): the condition number of
 * XᵀX + λI is at most 1 + ‖XᵀX‖ / λ, and the small pivot blocks are inverted in double precision.
 *
 * Every entry is updated by one thread in a fixed order, so the result is bit-identical for any thread
 * count. The Gram matrix is built sparsely from the user rows (Σ_u |row u|² / 2 multiply-adds).
 */
export async function fitEaseWeights(
  matrix: CsrMatrix,
  lambda: number,
  options: FitOptions = {},
): Promise<Float32Array> {
  const n = matrix.cols;
  const ld = Math.max(16, Math.ceil(n / 16) * 16);
  const wanted = Math.max(1, Math.floor(options.threads ?? 1));
  const threads = Math.max(1, Math.min(wanted, Math.floor(ld / MIN_ITEMS_PER_EXTRA_THREAD)));
  const layout = planLayout(n, ld, threads);
  const pages = Math.ceil(layout.bytes / WASM_PAGE);
  if (pages > WASM_MAX_PAGES) throw new RangeError(`ease: ${n} items need more than 4 GB of memory`);
  const memory = new Wasm.Memory({ initial: pages, maximum: pages, shared: true });
  const a = new Float32Array(memory.buffer, layout.a, ld * ld);
  buildGram(matrix, a, ld, lambda);

  const kernel = instantiateEase(memory);
  const ctrl = new Int32Array(memory.buffer, layout.control, EASE_CTRL.length);
  const helpers = new FitHelpers<EaseWorkerJob>(easeWorkers, 'EASE', easeWorkers.acquire(threads - 1), {
    fit: ++fits,
    memory,
    layout,
  });
  const steps = Math.ceil(ld / BLOCK);
  try {
    for (let step = 0; step < steps; step++) {
      const k0 = step * BLOCK;
      const k1 = Math.min(k0 + BLOCK, ld);
      const p = prepareStep(memory, layout, k0, k1);
      Atomics.store(ctrl, EASE_CTRL.k0, k0);
      Atomics.store(ctrl, EASE_CTRL.k1, k1);
      Atomics.store(ctrl, EASE_CTRL.remaining, threads - 1);
      const generation = Atomics.add(ctrl, EASE_CTRL.generation, 1) + 1;
      Atomics.notify(ctrl, EASE_CTRL.generation);
      runEaseShare(kernel, layout, k0, k1, 0);
      if (Atomics.load(ctrl, EASE_CTRL.remaining) !== 0) await helpers.done(generation);
      if (Atomics.load(ctrl, EASE_CTRL.failed) !== 0)
        throw new Error('EASE helper thread failed during a step');
      finishStep(memory, layout, k0, k1, p);
      options.onProgress?.(step + 1, steps);
    }
  } finally {
    // Helpers leave their loop on this and return to the pool.
    Atomics.store(ctrl, EASE_CTRL.exit, 1);
    Atomics.add(ctrl, EASE_CTRL.generation, 1);
    Atomics.notify(ctrl, EASE_CTRL.generation);
    helpers.release(Atomics.load(ctrl, EASE_CTRL.failed) !== 0);
  }
  return extractWeights(memory, layout);
}

function planLayout(n: number, ld: number, threads: number): EaseLayout {
  let offset = 0;
  const take = (bytes: number): number => {
    const at = offset;
    offset += Math.ceil(bytes / 64) * 64;
    return at;
  };
  const a = take(ld * ld * 4);
  const r = take(BLOCK * ld * 4);
  const w = take(BLOCK * ld * 4);
  const p = take(BLOCK * BLOCK * 4);
  const control = take(EASE_CTRL.length * 4);
  // Row i of the upper triangle costs ~ld − i: split the triangle's area evenly, in groups of 4 rows.
  const ranges: number[] = [];
  const total = (ld * (ld + 1)) / 2;
  let start = 0;
  let done = 0;
  for (let t = 0; t < threads; t++) {
    let end = start;
    const target = (total * (t + 1)) / threads;
    while (end < ld && (t === threads - 1 || done < target)) {
      for (let i = end; i < end + 4; i++) done += ld - i;
      end += 4;
    }
    ranges.push(start, end);
    start = end;
  }
  return { n, ld, block: BLOCK, a, r, w, p, control, bytes: offset, ranges };
}

/**
 * Upper triangle of XᵀX + λI (padding rows get 1 on the diagonal: decoupled, they never touch real items).
 * Row indices are sorted, so within a user's row every pair (a ≤ b) lands in the upper triangle.
 */
function buildGram(matrix: CsrMatrix, a: Float32Array, ld: number, lambda: number): void {
  const { indptr, indices, data } = matrix;
  for (let u = 0; u < matrix.rows; u++) {
    const end = indptr[u + 1]!;
    for (let x = indptr[u]!; x < end; x++) {
      const base = indices[x]! * ld;
      const wx = data[x]!;
      for (let y = x; y < end; y++) a[base + indices[y]!]! += wx * data[y]!;
    }
  }
  for (let i = 0; i < ld; i++) a[i * ld + i]! += i < matrix.cols ? lambda : 1;
}

/**
 * Serial part of a step: pack the pivot rows A[K, :] (reading the lower part through symmetry) and invert
 * the pivot block in double precision. Returns the inverse for `finishStep`.
 */
function prepareStep(memory: WasmMemory, layout: EaseLayout, k0: number, k1: number): Float64Array {
  const { ld } = layout;
  const b = k1 - k0;
  const a = new Float32Array(memory.buffer, layout.a, ld * ld);
  const r = new Float32Array(memory.buffer, layout.r, b * ld);
  const at = (k: number, j: number): number => ((j >> 3) * b + k) * 8 + (j & 7);
  for (let j = 0; j < k0; j++) {
    const src = j * ld + k0;
    const dst = at(0, j);
    for (let k = 0; k < b; k++) r[dst + k * 8] = a[src + k]!;
  }
  for (let k = 0; k < b; k++) {
    const row = k0 + k;
    for (let j = k0; j < k1; j++) r[at(k, j)] = j >= row ? a[row * ld + j]! : a[j * ld + row]!;
    const src = row * ld;
    for (let j = k1; j < ld; j++) r[((j >> 3) * b + k) * 8 + (j & 7)] = a[src + j]!;
  }
  const inv = new Float64Array(b * b);
  for (let k = 0; k < b; k++) {
    for (let c = 0; c < b; c++) inv[k * b + c] = r[at(k, k0 + c)]!;
  }
  invertSpd(inv, b);
  new Float32Array(memory.buffer, layout.p, b * b).set(inv);
  return inv;
}

/**
 * Serial part after the GEMM: the pivot columns of rows above K and the pivot rows right of K take
 * A[:, K] · P (the helpers' W), and the pivot block becomes −P.
 */
function finishStep(memory: WasmMemory, layout: EaseLayout, k0: number, k1: number, inv: Float64Array): void {
  const { ld } = layout;
  const b = k1 - k0;
  const a = new Float32Array(memory.buffer, layout.a, ld * ld);
  const w = new Float32Array(memory.buffer, layout.w, b * ld);
  for (let i = 0; i < k0; i++) {
    const src = (i >> 2) * b * 4 + (i & 3);
    const dst = i * ld + k0;
    for (let k = 0; k < b; k++) a[dst + k] = w[src + k * 4]!;
  }
  for (let j = k1; j < ld; j++) {
    const src = (j >> 2) * b * 4 + (j & 3);
    for (let k = 0; k < b; k++) a[(k0 + k) * ld + j] = w[src + k * 4]!;
  }
  for (let k = 0; k < b; k++) {
    for (let c = k; c < b; c++) a[(k0 + k) * ld + k0 + c] = -inv[k * b + c]!;
  }
}

/**
 * In-place inverse of a small symmetric positive-definite matrix by the sweep operator (no pivoting
 * needed on SPD input): sweeping every index leaves −A⁻¹, so the result is negated at the end.
 */
export function invertSpd(m: Float64Array, n: number): void {
  for (let k = 0; k < n; k++) {
    const pivot = m[k * n + k]!;
    if (!(pivot > 0)) throw new RangeError('ease: the Gram matrix is not positive definite');
    const inv = 1 / pivot;
    for (let i = 0; i < n; i++) {
      if (i === k) continue;
      const f = m[i * n + k]! * inv;
      if (f === 0) continue;
      for (let j = 0; j < n; j++) if (j !== k) m[i * n + j]! -= f * m[k * n + j]!;
    }
    for (let i = 0; i < n; i++) {
      if (i === k) continue;
      m[i * n + k]! *= inv;
      m[k * n + i]! *= inv;
    }
    m[k * n + k] = -inv;
  }
  for (let i = 0; i < n * n; i++) m[i] = -m[i]!;
}

/**
 * Turns the swept matrix into B in place, so the fit never holds two items² matrices (3.2 GB at 20,000
 * items): B_ij = −Q_ij / Q_jj with Q = −P read from the upper triangle, written to both triangles (each
 * upper entry is read once, just before its own overwrite; lower entries are never read), diag 0; then
 * rows are compacted from stride ld to n, front to back. Tiled so the transposed writes stay in cache.
 * The result is a view on the WebAssembly memory, which it keeps alive (a few MB beyond B itself).
 */
function extractWeights(memory: WasmMemory, layout: EaseLayout): Float32Array {
  const { n, ld } = layout;
  const a = new Float32Array(memory.buffer, layout.a, ld * ld);
  const diag = new Float64Array(n);
  for (let i = 0; i < n; i++) diag[i] = a[i * ld + i]!;
  const T = 64;
  for (let i0 = 0; i0 < n; i0 += T) {
    const i1 = Math.min(i0 + T, n);
    for (let j0 = i0; j0 < n; j0 += T) {
      const j1 = Math.min(j0 + T, n);
      for (let i = i0; i < i1; i++) {
        const di = diag[i]!;
        for (let j = Math.max(j0, i + 1); j < j1; j++) {
          const q = a[i * ld + j]!;
          a[i * ld + j] = -q / diag[j]!;
          a[j * ld + i] = -q / di;
        }
      }
    }
  }
  for (let i = 0; i < n; i++) a[i * ld + i] = 0;
  if (ld !== n) for (let i = 1; i < n; i++) a.copyWithin(i * n, i * ld, i * ld + n);
  return new Float32Array(memory.buffer, layout.a, n * n);
}

let fits = 0;

/** The EASE fits' pooled helper threads (see `kernel-threads.ts`). */
const easeWorkers = new WorkerPool(import.meta.url, './ease.worker.js');

/** Ends every idle EASE helper now (tests, shutdown). */
export function closeEaseWorkers(): Promise<void> {
  return easeWorkers.close();
}
