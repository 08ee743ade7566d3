import { instantiateAls, type AlsKernelExports } from './als-kernel.js';
import type { CsrMatrix } from './types.js';
import { Wasm, WASM_MAX_PAGES, WASM_PAGE } from './wasm.js';

/**
 * Weighted sums of a matrix's rows, `out[j] = Σ_k w_k · A[i_k, j]` over a history's (item, weight) pairs:
 * how the linear item-item models score a user (EASE's x_u · B, the item graphs' scatter of each history
 * item's neighbours). These are the largest part of a list computed after a user's event, and the plain
 * typed-array loops pay a bounds check and a float conversion per multiply-add; here the matrix is copied
 * once into a memory of the kernels' own and a history costs one copy in, one call, one copy out. Sums are
 * in single precision, in history order.
 */

/** The weighted row sums of one matrix, on a kernel or by the plain loop (see `rowSumsLimits`). */
export interface RowSums {
  /** `out[j] = Σ_k weights[k] · A[items[k], j]` (`out` holds the columns); other indices add nothing. */
  sum(items: Int32Array, weights: Float32Array, out: Float32Array): void;
}

/**
 * The most kernel memory a matrix may take before the plain loop scores it instead. Dense: 256 MiB (a
 * catalog of ~8,000 items for EASE's items² B), since the kernel holds a second copy of a matrix its model
 * keeps too, and past that doubling costs more than the loop's speed. Sparse: what a 32-bit WebAssembly
 * memory can hold (4 GiB, a graph of ~1.7 million items at 300 neighbours), since the kernel's copy is the
 * only one; a larger graph then loads and scores rather than failing. Variables so tests reach the loops.
 */
export const rowSumsLimits = { denseBytes: 256 * 1024 * 1024, sparseBytes: WASM_MAX_PAGES * WASM_PAGE };

/** Row sums of a dense `rows` × `cols` row-major matrix: the kernel within `rowSumsLimits.denseBytes`. */
export function denseRowSums(matrix: Float32Array, rows: number, cols: number): RowSums {
  if (DenseRowSums.bytesFor(rows, cols) <= rowSumsLimits.denseBytes)
    return new DenseRowSums(matrix, rows, cols);
  return {
    sum(items, weights, out) {
      out.fill(0, 0, cols);
      for (let k = 0; k < items.length; k++) {
        const i = items[k]!;
        if (!(i >= 0 && i < rows)) continue;
        const w = weights[k] ?? 1;
        const row = matrix.subarray(i * cols, (i + 1) * cols);
        for (let j = 0; j < cols; j++) out[j]! += w * row[j]!;
      }
    },
  };
}

/**
 * Row sums of a CSR matrix, with the matrix they read (`matrix`: views of the kernel's memory, or `source`
 * itself past `rowSumsLimits.sparseBytes`), so a model keeps one copy.
 */
export function sparseRowSums(source: CsrMatrix): RowSums & { readonly matrix: CsrMatrix } {
  if (SparseRowSums.bytesFor(source) <= rowSumsLimits.sparseBytes) return new SparseRowSums(source);
  const { rows, indptr, indices, data } = source;
  return {
    matrix: source,
    sum(items, weights, out) {
      out.fill(0, 0, source.cols);
      for (let k = 0; k < items.length; k++) {
        const i = items[k]!;
        if (!(i >= 0 && i < rows)) continue;
        const w = weights[k] ?? 1;
        const end = indptr[i + 1]!;
        for (let q = indptr[i]!; q < end; q++) out[indices[q]!]! += w * data[q]!;
      }
    },
  };
}

/** History entries copied into kernel memory per call; longer histories run in several calls. */
const CHUNK = 4096;
/** Floats per padded dense row: the SIMD axpy runs over 16-float (64-byte) blocks with no remainder. */
const BLOCK = 16;

/**
 * The kernel memory both kinds share: the matrix at offset 0 (`matrixBytes`), then the history chunk's
 * indices and weights, then the sums (`outBytes`).
 */
class KernelMemory {
  readonly kernels: AlsKernelExports;
  readonly buffer: SharedArrayBuffer;
  readonly itemsOffset: number;
  readonly weightsOffset: number;
  readonly outOffset: number;
  private readonly items: Int32Array;
  private readonly weights: Float32Array;
  private readonly sums: Float32Array;

  static bytes(matrixBytes: number, outBytes: number): number {
    return matrixBytes + 2 * CHUNK * 4 + outBytes;
  }

  constructor(matrixBytes: number, outBytes: number, what: string) {
    const pages = Math.ceil(KernelMemory.bytes(matrixBytes, outBytes) / WASM_PAGE);
    if (pages > WASM_MAX_PAGES) throw new RangeError(`${what}: exceeds WebAssembly's 4 GiB`);
    const memory = new Wasm.Memory({ initial: pages, maximum: pages, shared: true });
    this.buffer = memory.buffer;
    this.itemsOffset = matrixBytes;
    this.weightsOffset = matrixBytes + CHUNK * 4;
    this.outOffset = matrixBytes + 2 * CHUNK * 4;
    this.items = new Int32Array(this.buffer, this.itemsOffset, CHUNK);
    this.weights = new Float32Array(this.buffer, this.weightsOffset, CHUNK);
    this.sums = new Float32Array(this.buffer, this.outOffset, outBytes / 4);
    this.kernels = instantiateAls(memory);
  }

  /**
   * Zeroes the sums, runs `kernel(count)` over the history a chunk at a time (each chunk copied into kernel
   * memory first), and copies the first `out.length` sums out.
   */
  sum(items: Int32Array, weights: Float32Array, out: Float32Array, kernel: (count: number) => void): void {
    this.sums.fill(0);
    for (let start = 0; start < items.length; start += CHUNK) {
      const count = Math.min(CHUNK, items.length - start);
      this.items.set(items.subarray(start, start + count));
      this.weights.set(weights.subarray(start, start + count));
      kernel(count);
    }
    out.set(this.sums.subarray(0, out.length));
  }
}

/** A dense row-major matrix, rows zero-padded to a multiple of 16 floats (SIMD axpy per history item). */
export class DenseRowSums implements RowSums {
  private readonly memory: KernelMemory;
  private readonly strideBytes: number;

  /** The bytes of kernel memory a `rows` × `cols` matrix takes. */
  static bytesFor(rows: number, cols: number): number {
    const strideBytes = paddedCols(cols) * 4;
    return KernelMemory.bytes(rows * strideBytes, strideBytes);
  }

  /** `matrix` holds `rows` rows of `cols` floats, row-major. */
  constructor(
    matrix: Float32Array,
    private readonly rows: number,
    private readonly cols: number,
  ) {
    if (matrix.length !== rows * cols) {
      throw new RangeError(`row sums: ${matrix.length} floats are not ${rows} rows of ${cols}`);
    }
    const padded = paddedCols(cols);
    this.strideBytes = padded * 4;
    this.memory = new KernelMemory(
      rows * this.strideBytes,
      this.strideBytes,
      `row sums of ${rows} × ${cols}`,
    );
    const cells = new Float32Array(this.memory.buffer, 0, rows * padded);
    for (let i = 0; i < rows; i++) cells.set(matrix.subarray(i * cols, (i + 1) * cols), i * padded);
  }

  /** `out[j] = Σ_k weights[k] · matrix[items[k], j]` (`out` holds `cols`); other indices add nothing. */
  sum(items: Int32Array, weights: Float32Array, out: Float32Array): void {
    const { memory, rows, strideBytes } = this;
    const { itemsOffset, weightsOffset, outOffset } = memory;
    memory.sum(items, weights, out.subarray(0, this.cols), (count) =>
      memory.kernels.rowSums(0, rows, strideBytes, itemsOffset, weightsOffset, count, outOffset),
    );
  }
}

/**
 * A sparse matrix (CSR), scattered row by row. The copy in kernel memory is also what `matrix` reads, so
 * the model keeps one copy, not two.
 */
export class SparseRowSums implements RowSums {
  /** The matrix, as views of the kernel's memory. */
  readonly matrix: CsrMatrix;
  private readonly memory: KernelMemory;
  private readonly indicesOffset: number;
  private readonly dataOffset: number;

  /** The bytes of kernel memory `source` would take (at most `WASM_MAX_PAGES` pages can be had). */
  static bytesFor(source: CsrMatrix): number {
    return KernelMemory.bytes((source.rows + 1 + 2 * source.indptr[source.rows]!) * 4, source.cols * 4);
  }

  constructor(source: CsrMatrix) {
    const { rows, cols, indptr, indices, data } = source;
    const nnz = indptr[rows]!;
    this.indicesOffset = (rows + 1) * 4;
    this.dataOffset = this.indicesOffset + nnz * 4;
    this.memory = new KernelMemory(this.dataOffset + nnz * 4, cols * 4, `a graph of ${rows} rows`);
    const { buffer } = this.memory;
    this.matrix = {
      rows,
      cols,
      indptr: new Int32Array(buffer, 0, rows + 1),
      indices: new Int32Array(buffer, this.indicesOffset, nnz),
      data: new Float32Array(buffer, this.dataOffset, nnz),
    };
    this.matrix.indptr.set(indptr.subarray(0, rows + 1));
    this.matrix.indices.set(indices.subarray(0, nnz));
    this.matrix.data.set(data.subarray(0, nnz));
  }

  /** `out[j] = Σ_k weights[k] · matrix[items[k], j]` (`out` holds `cols`); other indices add nothing. */
  sum(items: Int32Array, weights: Float32Array, out: Float32Array): void {
    const { memory, indicesOffset, dataOffset } = this;
    const { itemsOffset, weightsOffset, outOffset } = memory;
    const { rows, cols } = this.matrix;
    memory.sum(items, weights, out.subarray(0, cols), (count) =>
      memory.kernels.scatterRows(
        0,
        indicesOffset,
        dataOffset,
        rows,
        itemsOffset,
        weightsOffset,
        count,
        outOffset,
      ),
    );
  }
}

function paddedCols(cols: number): number {
  return Math.max(BLOCK, Math.ceil(cols / BLOCK) * BLOCK);
}
