import { instantiateAls, type AlsKernelExports } from './als-kernel.js';
import { Wasm, WASM_PAGE } from './wasm.js';

/** Floats per padded row: the SIMD dot product runs over 16-float (64-byte) blocks with no remainder. */
const BLOCK = 16;

/**
 * Every item's score for one user vector, `v_i · x`, on the ALS module's SIMD dot product. V8 runs the
 * plain typed-array loop one scalar multiply-add at a time: on a 9,000-item catalog with 64 factors that
 * was ~0.3 ms per request, most of a retrain's 0.5 ms scoring budget, which then left no room to blend
 * the factor models with anything. The item vectors are copied once into a memory of the scorer's own,
 * each row zero-padded to a multiple of 16 floats, so a request costs one copy of `x` in, one call, and
 * one copy of the scores out. Sums are in single precision (the factors are f32 already).
 */
export class DenseScorer {
  private readonly kernels: AlsKernelExports;
  private readonly strideBytes: number;
  private readonly xOffset: number;
  private readonly outOffset: number;
  private readonly x: Float32Array;
  private readonly scores: Float32Array;

  /** `vectors` holds `nItems` rows of `f` floats, row-major. */
  constructor(
    vectors: Float32Array,
    private readonly nItems: number,
    private readonly f: number,
  ) {
    if (vectors.length !== nItems * f) {
      throw new RangeError(`dense scores: ${vectors.length} floats are not ${nItems} rows of ${f}`);
    }
    const padded = Math.max(BLOCK, Math.ceil(f / BLOCK) * BLOCK);
    this.strideBytes = padded * 4;
    this.xOffset = nItems * this.strideBytes;
    this.outOffset = this.xOffset + this.strideBytes;
    const bytes = this.outOffset + nItems * 4;
    const pages = Math.max(1, Math.ceil(bytes / WASM_PAGE));
    // The module imports a shared memory (its ALS kernels run on worker threads); this one stays here.
    const memory = new Wasm.Memory({ initial: pages, maximum: pages, shared: true });
    const rows = new Float32Array(memory.buffer, 0, nItems * padded);
    for (let i = 0; i < nItems; i++) rows.set(vectors.subarray(i * f, (i + 1) * f), i * padded);
    this.x = new Float32Array(memory.buffer, this.xOffset, padded);
    this.scores = new Float32Array(memory.buffer, this.outOffset, nItems);
    this.kernels = instantiateAls(memory);
  }

  /** `out[i] = v_i · x` for every item; `x` holds `f` numbers. */
  score(x: ArrayLike<number>, out: Float32Array): void {
    for (let a = 0; a < this.f; a++) this.x[a] = x[a]!;
    this.kernels.scoreAll(0, this.nItems, this.strideBytes, this.xOffset, this.outOffset);
    out.set(this.scores);
  }
}
