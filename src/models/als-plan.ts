import type { AlsKernelExports } from './als-kernel.js';
import { WASM_MAX_PAGES, WASM_PAGE, type WasmMemory } from './wasm.js';

/**
 * Where every array of an ALS fit lives in the shared WebAssembly memory, and how rows are split between
 * threads. Computed once by the coordinating thread and handed to each worker, so all threads run the
 * same jobs over the same memory without copying anything.
 */
export interface AlsLayout {
  readonly nUsers: number;
  readonly nItems: number;
  readonly nnz: number;
  readonly factors: number;
  /** Factors padded to a multiple of 16 floats, so the SIMD loops need no remainder handling. */
  readonly padded: number;
  /** Bytes between consecutive factor rows (`padded * 4`). */
  readonly stride: number;
  readonly cgSteps: number;
  readonly threads: number;
  readonly bytes: number;
  /** Byte offsets. `u*` is the users × items matrix, `i*` its transpose; `conf` holds alpha · weight. */
  readonly uIndptr: number;
  readonly uIndices: number;
  readonly uConf: number;
  readonly iIndptr: number;
  readonly iIndices: number;
  readonly iConf: number;
  readonly userFactors: number;
  readonly itemFactors: number;
  /** G = (other side)ᵀ(other side) + λI, padded × padded. */
  readonly gram: number;
  /** Partial Gram matrices, one per fixed row chunk (see GRAM_CHUNKS), `padded * stride` bytes each. */
  readonly partials: readonly number[];
  /** Per-thread CG vectors r, p, Ap, and 16 bytes for four dot products. */
  readonly scratch: readonly number[];
  readonly control: number;
  /** Row ranges per thread: [start, end) pairs, flattened; rows split by estimated work. */
  readonly userRanges: readonly number[];
  readonly itemRanges: readonly number[];
}

/** Control block slots (Int32 indices from `layout.control`). */
export const CTRL = { generation: 0, remaining: 1, command: 2, side: 3, failed: 4, length: 8 } as const;
export const COMMAND = { gram: 1, cg: 2, exit: 3 } as const;
/**
 * The Gram matrix is summed from this many row chunks whatever the thread count, in a fixed order, so
 * float rounding (and thus the fitted factors) does not depend on how many threads ran the fit.
 */
export const GRAM_CHUNKS = 8;
/** `side` 0: solve user factors from item factors; 1: the reverse. */
export type Side = 0 | 1;

export function planAlsLayout(
  userIndptr: Int32Array,
  itemIndptr: Int32Array,
  factors: number,
  cgSteps: number,
  threads: number,
): AlsLayout {
  const nUsers = userIndptr.length - 1;
  const nItems = itemIndptr.length - 1;
  const nnz = userIndptr[nUsers]!;
  const padded = Math.ceil(factors / 16) * 16;
  const stride = padded * 4;
  let offset = 0;
  // 64-byte alignment keeps every vector access within one cache line.
  const take = (bytes: number): number => {
    const at = offset;
    offset += Math.ceil(bytes / 64) * 64;
    return at;
  };
  const uIndptr = take((nUsers + 1) * 4);
  const uIndices = take(nnz * 4);
  const uConf = take(nnz * 4);
  const iIndptr = take((nItems + 1) * 4);
  const iIndices = take(nnz * 4);
  const iConf = take(nnz * 4);
  const userFactors = take(nUsers * stride);
  const itemFactors = take(nItems * stride);
  const gram = take(padded * stride);
  const partials: number[] = [];
  const scratch: number[] = [];
  for (let c = 0; c < GRAM_CHUNKS; c++) partials.push(take(padded * stride));
  for (let t = 0; t < threads; t++) scratch.push(take(3 * stride + 16));
  const control = take(CTRL.length * 4);
  if (offset > WASM_MAX_PAGES * WASM_PAGE) {
    throw new RangeError(
      `ALS needs ${offset} bytes of kernel memory; WebAssembly memory is limited to 4 GiB`,
    );
  }
  // A row's CG work is padded² (the Gram product) plus 2 · padded per interaction, once per step.
  return {
    nUsers,
    nItems,
    nnz,
    factors,
    padded,
    stride,
    cgSteps,
    threads,
    bytes: offset,
    uIndptr,
    uIndices,
    uConf,
    iIndptr,
    iIndices,
    iConf,
    userFactors,
    itemFactors,
    gram,
    partials,
    scratch,
    control,
    userRanges: splitByWork(userIndptr, padded, threads),
    itemRanges: splitByWork(itemIndptr, padded, threads),
  };
}

/** Splits rows into `parts` contiguous ranges of about equal CG work (padded + 2 · nnz per row). */
export function splitByWork(indptr: Int32Array, padded: number, parts: number): number[] {
  const n = indptr.length - 1;
  const total = n * padded + 2 * indptr[n]!;
  const ranges: number[] = [];
  let row = 0;
  for (let t = 0; t < parts; t++) {
    const start = row;
    if (t === parts - 1) row = n;
    else {
      const target = (total * (t + 1)) / parts;
      while (row < n && row * padded + 2 * indptr[row + 1]! <= target) row++;
    }
    ranges.push(start, row);
  }
  return ranges;
}

export function memoryPages(layout: AlsLayout): number {
  return Math.max(1, Math.ceil(layout.bytes / WASM_PAGE));
}

/**
 * Runs one job's share for thread `t`. Both the coordinating thread and the workers call this, so a fit
 * with one thread and a fit with several execute exactly the same arithmetic per row: results do not
 * depend on the thread count.
 */
export function runShare(
  kernel: AlsKernelExports,
  memory: WasmMemory,
  layout: AlsLayout,
  command: number,
  side: Side,
  t: number,
): void {
  const ranges = side === 0 ? layout.userRanges : layout.itemRanges;
  if (command === COMMAND.gram) {
    // The Gram matrix of the side being held fixed: items when solving users, users when solving items.
    const source = side === 0 ? layout.itemFactors : layout.userFactors;
    const n = side === 0 ? layout.nItems : layout.nUsers;
    for (let c = t; c < GRAM_CHUNKS; c += layout.threads) {
      const start = Math.floor((n * c) / GRAM_CHUNKS);
      const end = Math.floor((n * (c + 1)) / GRAM_CHUNKS);
      const partial = layout.partials[c]!;
      new Float32Array(memory.buffer, partial, layout.padded * layout.padded).fill(0);
      kernel.gram(source + start * layout.stride, end - start, layout.stride, partial);
    }
  } else if (command === COMMAND.cg) {
    const start = ranges[2 * t]!;
    const end = ranges[2 * t + 1]!;
    if (side === 0) {
      kernel.cgRows(
        layout.uIndptr,
        layout.uIndices,
        layout.uConf,
        layout.userFactors,
        layout.itemFactors,
        layout.gram,
        layout.stride,
        layout.cgSteps,
        start,
        end,
        layout.scratch[t]!,
      );
    } else {
      kernel.cgRows(
        layout.iIndptr,
        layout.iIndices,
        layout.iConf,
        layout.itemFactors,
        layout.userFactors,
        layout.gram,
        layout.stride,
        layout.cgSteps,
        start,
        end,
        layout.scratch[t]!,
      );
    }
  }
}
