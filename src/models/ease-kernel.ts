import {
  FunctionBuilder,
  WASM_MAX_PAGES,
  Wasm,
  assembleModule,
  op,
  uleb,
  type WasmMemory,
  type WasmModule,
} from './wasm.js';

/**
 * The dense kernels of the EASE fit as a WebAssembly SIMD module: the two O(n²·b) parts of one step of the
 * blocked sweep (Gauss-Jordan on a symmetric positive-definite matrix, see `ease-fit.ts`).
 *
 * Layouts (all f32, pointers are byte offsets into the shared memory, b a multiple of 16):
 * - A: the n × n matrix being swept, row-major with `ld` floats per row; only the upper triangle is kept.
 * - R: the pivot rows A[K, :] (b × n) packed in chunks of 8 columns: R[k, j] sits at float
 *   ((j >> 3) · b + k) · 8 + (j & 7), so the GEMM micro-kernel reads its b × 8 panel contiguously.
 * - P: (A_KK)⁻¹, b × b, symmetric.
 * - W: A[:, K] · P (n × b) in groups of 4 rows: W[i, k] sits at float ((i >> 2) · b + k) · 4 + (i & 3), so
 *   the four rows' values for one k are one 16-byte load apart and splat from static offsets.
 *
 * Exports:
 * - `wgroups(r, p, w, b, rowStart, rowEnd, k0, k1)`: W for rows rowStart..rowEnd (step 4), skipping K.
 * - `gemm(a, r, w, b, ld, rowStart, rowEnd, k0, k1, jFrom, jTo)`: A[i, j] -= Σ_k W[i, k] R[k, j] for
 *   those rows and columns max(jFrom, i & ~7)..jTo, 4 rows × 8 columns per register tile.
 */

const I32_AND = [0x71];
const I32_SHR_U = op.i32ShrU;
const load32Splat = (offset: number): number[] => [0xfd, ...uleb(0x09), 2, ...uleb(offset)];

/** Emits `if (from <= row < to) br depth` for a row group starting at `row`. */
function skipIfIn(f: FunctionBuilder, row: number, from: number, to: number, depth: number): void {
  f.emit(op.get(row), op.get(from), op.i32GeS, op.get(row), op.get(to), op.i32LtS, I32_AND, op.brIf(depth));
}

function buildWgroups(): FunctionBuilder {
  const types = ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'] as const;
  const f = new FunctionBuilder('wgroups', types, []);
  const [r, p, w, b, rowStart, rowEnd, k0, k1] = types.map((_, k) => f.param(k)) as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const i0 = f.local('i32');
  const k = f.local('i32');
  const rbase = f.local('i32');
  const rptr = f.local('i32');
  const rend = f.local('i32');
  const pptr = f.local('i32');
  const wout = f.local('i32');
  const bBytes4 = f.local('i32');
  const rv = f.local('v128');
  const acc = [f.local('v128'), f.local('v128'), f.local('v128'), f.local('v128')] as const;
  f.emit(op.get(b), op.i32(4), op.i32Mul, op.set(bBytes4));
  f.forRange(i0, op.get(rowStart), rowEnd, 4, () => {
    f.emit(op.block);
    skipIfIn(f, i0, k0, k1, 0);
    // rbase = r + (i0 >> 3) · b · 32 + (i0 & 7) · 4; wout = w + (i0 >> 2) · b · 16
    f.emit(op.get(r), op.get(i0), op.i32(3), I32_SHR_U, op.get(b), op.i32Mul, op.i32(32), op.i32Mul);
    f.emit(op.i32Add, op.get(i0), op.i32(7), I32_AND, op.i32(4), op.i32Mul, op.i32Add, op.set(rbase));
    f.emit(op.get(w), op.get(i0), op.i32(2), I32_SHR_U, op.get(b), op.i32Mul, op.i32(16), op.i32Mul);
    f.emit(op.i32Add, op.set(wout));
    f.emit(op.get(rbase), op.get(b), op.i32(32), op.i32Mul, op.i32Add, op.set(rend));
    // Four output columns k..k+3 at a time share each R load; P is symmetric, so P[k + m, kk] is read
    // as P[kk, k + m], four floats in a row.
    f.forRange(k, op.i32(0), b, 4, () => {
      for (const a of acc) f.emit(op.v128Zero, op.set(a));
      f.emit(
        op.get(rbase),
        op.set(rptr),
        op.get(p),
        op.get(k),
        op.i32(4),
        op.i32Mul,
        op.i32Add,
        op.set(pptr),
      );
      f.emit(op.block, op.loop, op.get(rptr), op.get(rend), op.i32GeU, op.brIf(1));
      f.emit(op.get(rptr), op.v128Load(0), op.set(rv));
      acc.forEach((a, m) => {
        f.emit(op.get(a), op.get(rv), op.get(pptr), load32Splat(4 * m), op.f32x4Mul, op.f32x4Add, op.set(a));
      });
      f.emit(op.get(rptr), op.i32(32), op.i32Add, op.set(rptr));
      f.emit(op.get(pptr), op.get(bBytes4), op.i32Add, op.set(pptr), op.br(0), op.end, op.end);
      acc.forEach((a, m) => f.emit(op.get(wout), op.get(a), op.v128Store(16 * m)));
      f.emit(op.get(wout), op.i32(64), op.i32Add, op.set(wout));
    });
    f.emit(op.end);
  });
  return f;
}

function buildGemm(): FunctionBuilder {
  const types = ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'] as const;
  const f = new FunctionBuilder('gemm', types, []);
  const [a, r, w, b, ld, rowStart, rowEnd, k0, k1, jFrom, jTo] = types.map((_, k) => f.param(k)) as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const i0 = f.local('i32');
  const j = f.local('i32');
  const jStart = f.local('i32');
  const ldBytes = f.local('i32');
  const wg = f.local('i32');
  const rptr = f.local('i32');
  const rend = f.local('i32');
  const wptr = f.local('i32');
  const arow = f.local('i32');
  const ap = f.local('i32');
  const panel = f.local('i32');
  const r0 = f.local('v128');
  const r1 = f.local('v128');
  const s = f.local('v128');
  const acc = Array.from({ length: 8 }, () => f.local('v128'));
  f.emit(op.get(ld), op.i32(4), op.i32Mul, op.set(ldBytes));
  f.emit(op.get(b), op.i32(32), op.i32Mul, op.set(panel));
  f.forRange(i0, op.get(rowStart), rowEnd, 4, () => {
    f.emit(op.block);
    skipIfIn(f, i0, k0, k1, 0);
    // Only the upper triangle matters: start at the 8-column chunk holding the diagonal.
    f.emit(op.get(i0), op.i32(-8), I32_AND, op.set(jStart));
    f.emit(op.get(jStart), op.get(jFrom), op.i32LtS, op.if, op.get(jFrom), op.set(jStart), op.end);
    f.emit(op.get(w), op.get(i0), op.i32(2), I32_SHR_U, op.get(b), op.i32Mul, op.i32(16), op.i32Mul);
    f.emit(op.i32Add, op.set(wg));
    f.emit(op.get(a), op.get(i0), op.get(ldBytes), op.i32Mul, op.i32Add, op.set(arow));
    f.forRange(j, op.get(jStart), jTo, 8, () => {
      for (const x of acc) f.emit(op.v128Zero, op.set(x));
      f.emit(op.get(r), op.get(j), op.i32(3), I32_SHR_U, op.get(panel), op.i32Mul, op.i32Add, op.tee(rptr));
      f.emit(op.get(panel), op.i32Add, op.set(rend), op.get(wg), op.set(wptr));
      f.emit(op.block, op.loop, op.get(rptr), op.get(rend), op.i32GeU, op.brIf(1));
      f.emit(op.get(rptr), op.v128Load(0), op.set(r0), op.get(rptr), op.v128Load(16), op.set(r1));
      for (let m = 0; m < 4; m++) {
        f.emit(op.get(wptr), load32Splat(4 * m), op.set(s));
        f.emit(op.get(acc[2 * m]!), op.get(s), op.get(r0), op.f32x4Mul, op.f32x4Add, op.set(acc[2 * m]!));
        f.emit(op.get(acc[2 * m + 1]!), op.get(s), op.get(r1), op.f32x4Mul, op.f32x4Add);
        f.emit(op.set(acc[2 * m + 1]!));
      }
      f.emit(op.get(rptr), op.i32(32), op.i32Add, op.set(rptr));
      f.emit(op.get(wptr), op.i32(16), op.i32Add, op.set(wptr), op.br(0), op.end, op.end);
      f.emit(op.get(arow), op.get(j), op.i32(4), op.i32Mul, op.i32Add, op.set(ap));
      for (let m = 0; m < 4; m++) {
        if (m > 0) f.emit(op.get(ap), op.get(ldBytes), op.i32Add, op.set(ap));
        f.emit(op.get(ap), op.get(ap), op.v128Load(0), op.get(acc[2 * m]!), op.f32x4Sub, op.v128Store(0));
        f.emit(op.get(ap), op.get(ap), op.v128Load(16), op.get(acc[2 * m + 1]!), op.f32x4Sub);
        f.emit(op.v128Store(16));
      }
    });
    f.emit(op.end);
  });
  return f;
}

let compiled: WasmModule | undefined;

/** The compiled kernels, assembled and compiled once per thread. */
export function easeModule(): WasmModule {
  compiled ??= new Wasm.Module(assembleModule([buildWgroups(), buildGemm()], WASM_MAX_PAGES));
  return compiled;
}

export interface EaseKernelExports {
  wgroups(
    r: number,
    p: number,
    w: number,
    b: number,
    rowStart: number,
    rowEnd: number,
    k0: number,
    k1: number,
  ): void;
  gemm(
    a: number,
    r: number,
    w: number,
    b: number,
    ld: number,
    rowStart: number,
    rowEnd: number,
    k0: number,
    k1: number,
    jFrom: number,
    jTo: number,
  ): void;
}

export function instantiateEase(memory: WasmMemory): EaseKernelExports {
  const instance = new Wasm.Instance(easeModule(), { env: { memory } });
  return instance.exports as unknown as EaseKernelExports;
}

/** Where a fit's arrays sit in the shared memory (byte offsets) and how rows are split between threads. */
export interface EaseLayout {
  /** Items, and the padded order ld (a multiple of 16: padding rows decouple, see `ease-fit.ts`). */
  readonly n: number;
  readonly ld: number;
  /** Pivot block size (the last block may be smaller, always a multiple of 16). */
  readonly block: number;
  readonly a: number;
  readonly r: number;
  readonly w: number;
  readonly p: number;
  readonly control: number;
  readonly bytes: number;
  /** [start, end) row ranges per thread, flattened; multiples of 4, balanced by triangle area. */
  readonly ranges: readonly number[];
}

/** Control block slots (Int32 indices from `layout.control`). */
export const EASE_CTRL = {
  generation: 0,
  remaining: 1,
  k0: 2,
  k1: 3,
  exit: 4,
  failed: 5,
  length: 8,
} as const;

/**
 * Columns per cache block of the GEMM: the packed pivot rows for 256 columns (64 KB at b = 64) stay in
 * L2 while every row of the thread's range streams past them.
 */
const COLUMN_BLOCK = 256;

/** Thread `thread`'s share of the sweep step over pivot block k0..k1. */
export function runEaseShare(
  kernel: EaseKernelExports,
  layout: EaseLayout,
  k0: number,
  k1: number,
  thread: number,
): void {
  const start = layout.ranges[2 * thread]!;
  const end = layout.ranges[2 * thread + 1]!;
  if (end <= start) return;
  const b = k1 - k0;
  kernel.wgroups(layout.r, layout.p, layout.w, b, start, end, k0, k1);
  for (let jb = 0; jb < layout.ld; jb += COLUMN_BLOCK) {
    const jTo = Math.min(jb + COLUMN_BLOCK, layout.ld);
    kernel.gemm(layout.a, layout.r, layout.w, b, layout.ld, start, end, k0, k1, jb, jTo);
  }
}
