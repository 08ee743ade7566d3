import { instantiateAls } from './als-kernel.js';
import {
  COMMAND,
  CTRL,
  GRAM_CHUNKS,
  memoryPages,
  planAlsLayout,
  runShare,
  type AlsLayout,
  type Side,
} from './als-plan.js';
import { alsWorkers } from './als-pool.js';
import type { AlsWorkerJob } from './als.worker.js';
import { transpose } from './csr.js';
import { FitHelpers } from './kernel-threads.js';
import { mulberry32 } from './random.js';
import type { AlsParams, CsrMatrix, FitOptions } from './types.js';
import { Wasm, type WasmMemory } from './wasm.js';

export interface AlsFactors {
  /** nUsers × factors, row-major. */
  readonly userFactors: Float32Array;
  /** nItems × factors, row-major. */
  readonly itemFactors: Float32Array;
}

/**
 * Multiply-adds a fit must have per extra thread before a helper pays off. The kernel runs ~8 G
 * multiply-adds/s per core and each job hand-off costs tens of microseconds, but a helper that is not yet
 * pooled takes ~40 ms to start (compiled code; ~150 ms under a TS loader): from about 1 G on a second
 * thread wins even then. MovieLens 100K at 64 factors is 1.9 G.
 */
const MIN_WORK_PER_EXTRA_THREAD = 1e9;

/** Fits started by this thread; tags helper messages. */
let fits = 0;

export interface AlsTrainTuning {
  /** Overrides MIN_WORK_PER_EXTRA_THREAD (tests force threads on tiny data with 0). */
  readonly minWorkPerExtraThread?: number;
}

/**
 * Implicit ALS (Hu, Koren & Volinsky 2008) with conjugate-gradient row solves (Takács et al. 2011), the
 * method of the implicit library: per half-sweep, G = YᵀY + λI once, then `cgSteps` CG steps per row
 * warm-started from its current factors. The kernels are WebAssembly SIMD (`als-kernel.ts`).
 *
 * With `options.threads` > 1 the calling thread and pooled helper threads (`als-pool.ts`) share one
 * WebAssembly memory: each job (a Gram matrix, or the CG solves of one side) is split into fixed row
 * ranges, helpers are woken through an Atomics control block, and the caller takes its own share before
 * awaiting the rest. The result is bit-identical for any thread count.
 */
export async function trainAls(
  matrix: CsrMatrix,
  params: AlsParams,
  options: FitOptions = {},
  tuning: AlsTrainTuning = {},
): Promise<AlsFactors> {
  const { factors, iterations, regularization, alpha, cgSteps, seed } = params;
  const itemMatrix = transpose(matrix);
  const nnz = matrix.indptr[matrix.rows]!;
  const padded = Math.ceil(factors / 16) * 16;
  // Per sweep and CG step: a Gram product per row of both sides, a dot and an axpy per entry and side.
  const work =
    iterations * (cgSteps + 1) * ((matrix.rows + matrix.cols) * padded * padded + 4 * nnz * padded);
  const perThread = tuning.minWorkPerExtraThread ?? MIN_WORK_PER_EXTRA_THREAD;
  const wanted = Math.max(1, Math.floor(options.threads ?? 1));
  const threads = Math.min(wanted, perThread > 0 ? 1 + Math.floor(work / perThread) : wanted);
  const layout = planAlsLayout(matrix.indptr, itemMatrix.indptr, factors, cgSteps, threads);
  const pages = memoryPages(layout);
  const memory = new Wasm.Memory({ initial: pages, maximum: pages, shared: true });
  fillMemory(memory, layout, matrix, itemMatrix, alpha, seed);

  const kernel = instantiateAls(memory);
  const ctrl = new Int32Array(memory.buffer, layout.control, CTRL.length);
  const helpers = new FitHelpers<AlsWorkerJob>(alsWorkers, 'ALS', alsWorkers.acquire(threads - 1), {
    fit: ++fits,
    memory,
    layout,
  });
  try {
    const run = async (command: number, side: Side): Promise<void> => {
      Atomics.store(ctrl, CTRL.command, command);
      Atomics.store(ctrl, CTRL.side, side);
      Atomics.store(ctrl, CTRL.remaining, threads - 1);
      const generation = Atomics.add(ctrl, CTRL.generation, 1) + 1;
      Atomics.notify(ctrl, CTRL.generation);
      runShare(kernel, memory, layout, command, side, 0);
      if (Atomics.load(ctrl, CTRL.remaining) !== 0) await helpers.done(generation);
      if (Atomics.load(ctrl, CTRL.failed) !== 0) throw new Error('ALS helper thread failed during a job');
    };
    for (let iteration = 0; iteration < iterations; iteration++) {
      for (const side of [0, 1] as const) {
        await run(COMMAND.gram, side);
        sumGram(memory, layout, regularization);
        await run(COMMAND.cg, side);
      }
      options.onProgress?.(iteration + 1, iterations);
    }
  } finally {
    // Helpers leave their job loop on this and go back to the pool; a late-starting helper sees the exit
    // command as soon as it picks up its job.
    Atomics.store(ctrl, CTRL.command, COMMAND.exit);
    Atomics.add(ctrl, CTRL.generation, 1);
    Atomics.notify(ctrl, CTRL.generation);
    helpers.release(Atomics.load(ctrl, CTRL.failed) !== 0);
  }
  return {
    userFactors: unpad(memory, layout.userFactors, layout.nUsers, layout),
    itemFactors: unpad(memory, layout.itemFactors, layout.nItems, layout),
  };
}

function fillMemory(
  memory: WasmMemory,
  layout: AlsLayout,
  users: CsrMatrix,
  items: CsrMatrix,
  alpha: number,
  seed: number,
): void {
  const buf = memory.buffer;
  const { nUsers, nItems, nnz } = layout;
  new Int32Array(buf, layout.uIndptr, nUsers + 1).set(users.indptr.subarray(0, nUsers + 1));
  new Int32Array(buf, layout.uIndices, nnz).set(users.indices.subarray(0, nnz));
  new Int32Array(buf, layout.iIndptr, nItems + 1).set(items.indptr);
  new Int32Array(buf, layout.iIndices, nnz).set(items.indices);
  // The kernels take confidence - 1 = alpha · weight per entry.
  const uConf = new Float32Array(buf, layout.uConf, nnz);
  const iConf = new Float32Array(buf, layout.iConf, nnz);
  for (let k = 0; k < nnz; k++) uConf[k] = alpha * users.data[k]!;
  for (let k = 0; k < nnz; k++) iConf[k] = alpha * items.data[k]!;
  // Small uniform values (as implicit does); padding columns stay zero.
  const random = mulberry32(seed);
  const initRows = (offset: number, rows: number): void => {
    const view = new Float32Array(buf, offset, rows * layout.padded);
    for (let r = 0; r < rows; r++) {
      for (let f = 0; f < layout.factors; f++) view[r * layout.padded + f] = random() * 0.01;
    }
  };
  initRows(layout.userFactors, nUsers);
  initRows(layout.itemFactors, nItems);
}

/** G = Σ partials (in chunk order) + λI on the real factors; the padding block stays zero. */
function sumGram(memory: WasmMemory, layout: AlsLayout, regularization: number): void {
  const size = layout.padded * layout.padded;
  const gram = new Float32Array(memory.buffer, layout.gram, size);
  gram.set(new Float32Array(memory.buffer, layout.partials[0]!, size));
  for (let c = 1; c < GRAM_CHUNKS; c++) {
    const part = new Float32Array(memory.buffer, layout.partials[c]!, size);
    for (let k = 0; k < size; k++) gram[k]! += part[k]!;
  }
  for (let f = 0; f < layout.factors; f++) gram[f * layout.padded + f]! += regularization;
}

function unpad(memory: WasmMemory, offset: number, rows: number, layout: AlsLayout): Float32Array {
  const src = new Float32Array(memory.buffer, offset, rows * layout.padded);
  if (layout.padded === layout.factors) return src.slice();
  const out = new Float32Array(rows * layout.factors);
  for (let r = 0; r < rows; r++) {
    out.set(src.subarray(r * layout.padded, r * layout.padded + layout.factors), r * layout.factors);
  }
  return out;
}
