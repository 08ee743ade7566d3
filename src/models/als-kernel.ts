import {
  FunctionBuilder,
  WASM_MAX_PAGES,
  Wasm,
  assembleModule,
  op,
  type WasmMemory,
  type WasmModule,
} from './wasm.js';

/**
 * The ALS conjugate-gradient kernels as a WebAssembly SIMD module.
 *
 * All pointers are byte offsets into the shared memory. Factor rows are `stride` bytes apart, where the
 * stride covers the factors padded to a multiple of 16 floats (64 bytes): every vector loop then runs
 * four 4-lane accumulators with no remainder, and the padding stays zero through every update (its rows
 * of the Gram matrix and of every factor vector are zero, so the residual there is always zero).
 *
 * Exports:
 * - `gram(y, n, stride, g)`: g += Σ_i y_i y_iᵀ over n rows (g is fp × fp, row-major, same stride).
 * - `cgRows(indptr, indices, conf, x, y, g, stride, steps, start, end, scratch)`: for rows
 *   start..end of the CSR matrix, `steps` conjugate-gradient steps on
 *   (G + Σ_i c1_i y_i y_iᵀ) x_u = Σ_i (1 + c1_i) y_i, warm-started from x_u, where c1 = alpha · weight
 *   (so the confidence is 1 + c1) and G = YᵀY + λI. This is Takács et al.'s method as the implicit
 *   library runs it. `scratch` holds three vectors (r, p, Ap) and 16 bytes for dot4's results.
 */

const FN = {
  dot: 0,
  axpy: 1,
  xpby: 2,
  copy: 3,
  dot4: 4,
  axpy4: 5,
  gemv: 6,
  gram: 7,
  cgRows: 8,
  scoreAll: 9,
  rowSums: 10,
  scatterRows: 11,
} as const;

/** Offsets of the four 16-byte vectors a loop iteration handles (loops are unrolled over 64 bytes). */
const LANES = [0, 16, 32, 48] as const;

/** Emits `local += step` for each local. */
function advance(f: FunctionBuilder, step: number, ...locals: number[]): void {
  for (const l of locals) f.emit(op.get(l), op.i32(step), op.i32Add, op.set(l));
}

/** Emits a horizontal sum of a v128 local's four lanes (left on the stack as f32). */
function hsum(f: FunctionBuilder, v: number): void {
  f.emit(op.get(v), op.f32x4Lane(0), op.get(v), op.f32x4Lane(1), op.f32Add);
  f.emit(op.get(v), op.f32x4Lane(2), op.get(v), op.f32x4Lane(3), op.f32Add, op.f32Add);
}

/** dot(a, b, stride) -> f32, four vector accumulators to hide add latency. */
function buildDot(): FunctionBuilder {
  const f = new FunctionBuilder('dot', ['i32', 'i32', 'i32'], ['f32']);
  const [a, b, stride] = [f.param(0), f.param(1), f.param(2)];
  const end = f.local('i32');
  const acc = [f.local('v128'), f.local('v128'), f.local('v128'), f.local('v128')] as const;
  f.emit(op.get(a), op.get(stride), op.i32Add, op.set(end));
  f.emit(op.block, op.loop, op.get(a), op.get(end), op.i32GeU, op.brIf(1));
  LANES.forEach((off, j) => {
    f.emit(
      op.get(acc[j]!),
      op.get(a),
      op.v128Load(off),
      op.get(b),
      op.v128Load(off),
      op.f32x4Mul,
      op.f32x4Add,
    );
    f.emit(op.set(acc[j]!));
  });
  advance(f, 64, a, b);
  f.emit(op.br(0), op.end, op.end);
  f.emit(
    op.get(acc[0]),
    op.get(acc[1]),
    op.f32x4Add,
    op.get(acc[2]),
    op.get(acc[3]),
    op.f32x4Add,
    op.f32x4Add,
  );
  f.emit(op.set(acc[0]));
  hsum(f, acc[0]);
  return f;
}

/** axpy(out, w, y, stride): out += w · y. */
function buildAxpy(): FunctionBuilder {
  const f = new FunctionBuilder('axpy', ['i32', 'f32', 'i32', 'i32'], []);
  const [out, w, y, stride] = [f.param(0), f.param(1), f.param(2), f.param(3)];
  const end = f.local('i32');
  const ws = f.local('v128');
  f.emit(op.get(w), op.f32x4Splat, op.set(ws), op.get(out), op.get(stride), op.i32Add, op.set(end));
  f.emit(op.block, op.loop, op.get(out), op.get(end), op.i32GeU, op.brIf(1));
  for (const off of LANES) {
    f.emit(op.get(out), op.get(out), op.v128Load(off), op.get(ws), op.get(y), op.v128Load(off), op.f32x4Mul);
    f.emit(op.f32x4Add, op.v128Store(off));
  }
  advance(f, 64, out, y);
  f.emit(op.br(0), op.end, op.end);
  return f;
}

/** xpby(p, r, beta, stride): p = r + beta · p (the CG direction update). */
function buildXpby(): FunctionBuilder {
  const f = new FunctionBuilder('xpby', ['i32', 'i32', 'f32', 'i32'], []);
  const [p, r, beta, stride] = [f.param(0), f.param(1), f.param(2), f.param(3)];
  const end = f.local('i32');
  const bs = f.local('v128');
  f.emit(op.get(beta), op.f32x4Splat, op.set(bs), op.get(p), op.get(stride), op.i32Add, op.set(end));
  f.emit(op.block, op.loop, op.get(p), op.get(end), op.i32GeU, op.brIf(1));
  for (const off of LANES) {
    f.emit(op.get(p), op.get(r), op.v128Load(off), op.get(bs), op.get(p), op.v128Load(off), op.f32x4Mul);
    f.emit(op.f32x4Add, op.v128Store(off));
  }
  advance(f, 64, p, r);
  f.emit(op.br(0), op.end, op.end);
  return f;
}

/** copy(dst, src, stride). */
function buildCopy(): FunctionBuilder {
  const f = new FunctionBuilder('copy', ['i32', 'i32', 'i32'], []);
  const [dst, src, stride] = [f.param(0), f.param(1), f.param(2)];
  const end = f.local('i32');
  f.emit(op.get(dst), op.get(stride), op.i32Add, op.set(end));
  f.emit(op.block, op.loop, op.get(dst), op.get(end), op.i32GeU, op.brIf(1));
  for (const off of LANES) f.emit(op.get(dst), op.get(src), op.v128Load(off), op.v128Store(off));
  advance(f, 64, dst, src);
  f.emit(op.br(0), op.end, op.end);
  return f;
}

/**
 * dot4(v, y0, y1, y2, y3, stride, dst): dst[j] = v · y_j for four rows at once, so each chunk of v is
 * loaded once for four products (the kernel is bound by loads, not arithmetic).
 */
function buildDot4(): FunctionBuilder {
  const f = new FunctionBuilder('dot4', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'], []);
  const [v, y0, y1, y2, y3, stride, dst] = [0, 1, 2, 3, 4, 5, 6].map((k) => f.param(k)) as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const ys = [y0, y1, y2, y3] as const;
  const end = f.local('i32');
  const vv = f.local('v128');
  const acc = [f.local('v128'), f.local('v128'), f.local('v128'), f.local('v128')] as const;
  f.emit(op.get(v), op.get(stride), op.i32Add, op.set(end));
  f.emit(op.block, op.loop, op.get(v), op.get(end), op.i32GeU, op.brIf(1));
  for (const off of LANES) {
    f.emit(op.get(v), op.v128Load(off), op.set(vv));
    ys.forEach((y, j) => {
      f.emit(
        op.get(acc[j]!),
        op.get(y),
        op.v128Load(off),
        op.get(vv),
        op.f32x4Mul,
        op.f32x4Add,
        op.set(acc[j]!),
      );
    });
  }
  advance(f, 64, v, y0, y1, y2, y3);
  f.emit(op.br(0), op.end, op.end);
  acc.forEach((a, j) => {
    f.emit(op.get(dst));
    hsum(f, a);
    f.emit(op.f32Store(4 * j));
  });
  return f;
}

/** axpy4(out, w0, y0, w1, y1, w2, y2, w3, y3, stride): out += Σ_j w_j · y_j, one load/store of out. */
function buildAxpy4(): FunctionBuilder {
  const types = ['i32', 'f32', 'i32', 'f32', 'i32', 'f32', 'i32', 'f32', 'i32', 'i32'] as const;
  const f = new FunctionBuilder('axpy4', types, []);
  const out = f.param(0);
  const stride = f.param(9);
  const ys = [2, 4, 6, 8].map((k) => f.param(k));
  const ws = [1, 3, 5, 7].map((k) => f.param(k));
  const end = f.local('i32');
  const splats = [f.local('v128'), f.local('v128'), f.local('v128'), f.local('v128')];
  ws.forEach((w, j) => f.emit(op.get(w), op.f32x4Splat, op.set(splats[j]!)));
  f.emit(op.get(out), op.get(stride), op.i32Add, op.set(end));
  f.emit(op.block, op.loop, op.get(out), op.get(end), op.i32GeU, op.brIf(1));
  for (const off of LANES) {
    f.emit(op.get(out), op.get(out), op.v128Load(off));
    ys.forEach((y, j) => f.emit(op.get(splats[j]!), op.get(y), op.v128Load(off), op.f32x4Mul, op.f32x4Add));
    f.emit(op.v128Store(off));
  }
  advance(f, 64, out, ...ys);
  f.emit(op.br(0), op.end, op.end);
  return f;
}

/**
 * gemv(g, v, out, stride, scale): out = scale · G v. G is symmetric, so G v = Σ_b v_b · G[b, :]: four rows
 * per axpy4 call, with no horizontal sums.
 */
function buildGemv(): FunctionBuilder {
  const f = new FunctionBuilder('gemv', ['i32', 'i32', 'i32', 'i32', 'f32'], []);
  const [g, v, out, stride, scale] = [f.param(0), f.param(1), f.param(2), f.param(3), f.param(4)];
  const b = f.local('i32');
  const end = f.local('i32');
  f.forRange(b, op.i32(0), stride, 16, () => {
    f.emit(op.get(out), op.get(b), op.i32Add, op.v128Zero, op.v128Store(0));
  });
  f.emit(op.get(v), op.get(stride), op.i32Add, op.set(end));
  f.emit(op.block, op.loop, op.get(v), op.get(end), op.i32GeU, op.brIf(1));
  f.emit(op.get(out));
  for (let j = 0; j < 4; j++) {
    f.emit(op.get(scale), op.get(v), op.f32Load(4 * j), op.f32Mul);
    f.emit(op.get(g));
    if (j > 0) f.emit(op.get(stride), op.i32(j), op.i32Mul, op.i32Add);
  }
  f.emit(op.get(stride), op.call(FN.axpy4));
  f.emit(op.get(v), op.i32(16), op.i32Add, op.set(v));
  f.emit(op.get(g), op.get(stride), op.i32(4), op.i32Mul, op.i32Add, op.set(g));
  f.emit(op.br(0), op.end, op.end);
  return f;
}

/**
 * gram(y, n, stride, g): g += Σ_i y_i y_iᵀ over n rows. Row a of g gains Σ_i y_i[a] · y_i, four rows of y
 * per axpy4 call.
 */
function buildGram(): FunctionBuilder {
  const f = new FunctionBuilder('gram', ['i32', 'i32', 'i32', 'i32'], []);
  const [y, n, stride, g] = [f.param(0), f.param(1), f.param(2), f.param(3)];
  const a = f.local('i32');
  const row = f.local('i32');
  const end = f.local('i32');
  const ga = f.local('i32');
  f.emit(op.get(y), op.get(n), op.get(stride), op.i32Mul, op.i32Add, op.set(end), op.get(y), op.set(row));
  // Blocks of four rows.
  f.emit(op.block, op.loop);
  f.emit(op.get(row), op.get(stride), op.i32(4), op.i32Mul, op.i32Add, op.get(end), op.i32GtU, op.brIf(1));
  f.emit(op.get(g), op.set(ga));
  f.forRange(a, op.i32(0), stride, 4, () => {
    f.emit(op.get(ga));
    for (let j = 0; j < 4; j++) {
      f.emit(op.get(row), op.get(a), op.i32Add);
      if (j > 0) f.emit(op.get(stride), op.i32(j), op.i32Mul, op.i32Add);
      f.emit(op.f32Load(0), op.get(row));
      if (j > 0) f.emit(op.get(stride), op.i32(j), op.i32Mul, op.i32Add);
    }
    f.emit(op.get(stride), op.call(FN.axpy4));
    f.emit(op.get(ga), op.get(stride), op.i32Add, op.set(ga));
  });
  f.emit(op.get(row), op.get(stride), op.i32(4), op.i32Mul, op.i32Add, op.set(row), op.br(0), op.end, op.end);
  // Remaining rows one at a time.
  f.emit(op.block, op.loop, op.get(row), op.get(end), op.i32GeU, op.brIf(1));
  f.emit(op.get(g), op.set(ga));
  f.forRange(a, op.i32(0), stride, 4, () => {
    f.emit(op.get(ga), op.get(row), op.get(a), op.i32Add, op.f32Load(0), op.get(row), op.get(stride));
    f.emit(op.call(FN.axpy), op.get(ga), op.get(stride), op.i32Add, op.set(ga));
  });
  f.emit(op.get(row), op.get(stride), op.i32Add, op.set(row), op.br(0), op.end, op.end);
  return f;
}

function buildCgRows(): FunctionBuilder {
  const params = ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'] as const;
  const f = new FunctionBuilder('cgRows', params, []);
  const [indptr, indices, conf, x, y, g, stride, steps, start, end, scratch] = params.map((_, k) =>
    f.param(k),
  ) as [number, number, number, number, number, number, number, number, number, number, number];
  const u = f.local('i32');
  const xo = f.local('i32');
  const k = f.local('i32');
  const kStart = f.local('i32');
  const kEnd = f.local('i32');
  const it = f.local('i32');
  const r = f.local('i32');
  const p = f.local('i32');
  const ap = f.local('i32');
  const dots = f.local('i32');
  const yo = [f.local('i32'), f.local('i32'), f.local('i32'), f.local('i32')] as const;
  const c1 = [f.local('f32'), f.local('f32'), f.local('f32'), f.local('f32')] as const;
  const rs = f.local('f32');
  const rsNew = f.local('f32');
  const step = f.local('f32');
  const tmp = f.local('f32');
  f.emit(op.get(scratch), op.set(r), op.get(scratch), op.get(stride), op.i32Add, op.set(p));
  f.emit(
    op.get(p),
    op.get(stride),
    op.i32Add,
    op.set(ap),
    op.get(ap),
    op.get(stride),
    op.i32Add,
    op.set(dots),
  );

  /** Loads entry k + 4j's item row (yo[j]!) and confidence - 1 (c1[j]!); k is a byte offset. */
  const loadEntry = (j: number): void => {
    f.emit(op.get(y), op.get(indices), op.get(k), op.i32Add, op.i32Load(4 * j), op.get(stride), op.i32Mul);
    f.emit(op.i32Add, op.set(yo[j]!), op.get(conf), op.get(k), op.i32Add, op.f32Load(4 * j), op.set(c1[j]!));
  };
  /** Pushes the weight of entry j given its dot product (already on the stack). */
  const weight = (j: number, residual: boolean): void => {
    // residual: (1 + c1) - c1 · d, the entry's share of b - A x; otherwise c1 · d, its share of A p.
    f.emit(op.get(c1[j]!), op.f32Mul);
    if (residual) f.emit(op.set(tmp), op.f32(1), op.get(c1[j]!), op.f32Add, op.get(tmp), op.f32Sub);
  };
  /** out += Σ_entries weight(y·v) · y over the row's entries, four entries per pass. */
  const sparsePass = (out: number, v: number, residual: boolean): void => {
    f.emit(op.get(kStart), op.set(k));
    f.emit(op.block, op.loop, op.get(k), op.i32(16), op.i32Add, op.get(kEnd), op.i32GtS, op.brIf(1));
    for (let j = 0; j < 4; j++) loadEntry(j);
    f.emit(
      op.get(v),
      op.get(yo[0]),
      op.get(yo[1]),
      op.get(yo[2]),
      op.get(yo[3]),
      op.get(stride),
      op.get(dots),
    );
    f.emit(op.call(FN.dot4), op.get(out));
    for (let j = 0; j < 4; j++) {
      f.emit(op.get(dots), op.f32Load(4 * j));
      weight(j, residual);
      f.emit(op.get(yo[j]!));
    }
    f.emit(
      op.get(stride),
      op.call(FN.axpy4),
      op.get(k),
      op.i32(16),
      op.i32Add,
      op.set(k),
      op.br(0),
      op.end,
      op.end,
    );
    f.forRange(k, op.get(k), kEnd, 4, () => {
      loadEntry(0);
      f.emit(op.get(out), op.get(yo[0]), op.get(v), op.get(stride), op.call(FN.dot));
      weight(0, residual);
      f.emit(op.get(yo[0]), op.get(stride), op.call(FN.axpy));
    });
  };

  f.forRange(u, op.get(start), end, 1, () => {
    f.emit(op.get(x), op.get(u), op.get(stride), op.i32Mul, op.i32Add, op.set(xo));
    f.emit(op.get(indptr), op.get(u), op.i32(4), op.i32Mul, op.i32Add, op.set(kEnd));
    f.emit(op.get(kEnd), op.i32Load(0), op.i32(4), op.i32Mul, op.set(kStart));
    f.emit(op.get(kEnd), op.i32Load(4), op.i32(4), op.i32Mul, op.set(kEnd));
    // r = b - A x = -G x + Σ ((1 + c1) - c1 · y·x) y
    f.emit(op.get(g), op.get(xo), op.get(r), op.get(stride), op.f32(-1), op.call(FN.gemv));
    sparsePass(r, xo, true);
    f.emit(op.get(p), op.get(r), op.get(stride), op.call(FN.copy));
    f.emit(op.get(r), op.get(r), op.get(stride), op.call(FN.dot), op.set(rs));
    // Block for the CG steps; converged rows skip to its end.
    f.emit(op.block, op.get(rs), op.f32(1e-20), op.f32Lt, op.brIf(0));
    f.forRange(it, op.i32(0), steps, 1, () => {
      // Ap = G p + Σ c1 (y·p) y
      f.emit(op.get(g), op.get(p), op.get(ap), op.get(stride), op.f32(1), op.call(FN.gemv));
      sparsePass(ap, p, false);
      // step = rs / p·Ap; x += step p; r -= step Ap
      f.emit(op.get(rs), op.get(p), op.get(ap), op.get(stride), op.call(FN.dot), op.f32Div, op.set(step));
      f.emit(op.get(xo), op.get(step), op.get(p), op.get(stride), op.call(FN.axpy));
      f.emit(op.get(r), op.get(step), op.f32Neg, op.get(ap), op.get(stride), op.call(FN.axpy));
      f.emit(op.get(r), op.get(r), op.get(stride), op.call(FN.dot), op.set(rsNew));
      // Converged: leave the steps loop (depth 1 is forRange's enclosing block).
      f.emit(op.get(rsNew), op.f32(1e-20), op.f32Lt, op.brIf(1));
      f.emit(op.get(p), op.get(r), op.get(rsNew), op.get(rs), op.f32Div, op.get(stride), op.call(FN.xpby));
      f.emit(op.get(rsNew), op.set(rs));
    });
    f.emit(op.end);
  });
  return f;
}

/**
 * scoreAll(y, n, stride, x, out): out[i] = y_i · x for n rows of `stride` bytes (f32 results, 4 bytes
 * apart): a whole catalog's scores for one user vector in one call, so serving pays one crossing into
 * WebAssembly per request instead of one per item.
 */
function buildScoreAll(): FunctionBuilder {
  const f = new FunctionBuilder('scoreAll', ['i32', 'i32', 'i32', 'i32', 'i32'], []);
  const [y, n, stride, x, out] = [f.param(0), f.param(1), f.param(2), f.param(3), f.param(4)];
  const i = f.local('i32');
  f.forRange(i, op.i32(0), n, 1, () => {
    f.emit(op.get(out), op.get(y), op.get(x), op.get(stride), op.call(FN.dot), op.f32Store(0));
    advance(f, 4, out);
    f.emit(op.get(y), op.get(stride), op.i32Add, op.set(y));
  });
  return f;
}

/**
 * rowSums(rows, n, stride, items, weights, count, out): out += Σ_k weights[k] · rows[items[k]] over `count`
 * (i32 index, f32 weight) pairs, skipping indices outside 0..n-1. The sum a linear item-item model (EASE)
 * scores a history with, one axpy per history item, in one crossing into WebAssembly.
 */
function buildRowSums(): FunctionBuilder {
  const f = new FunctionBuilder('rowSums', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'], []);
  const [rows, n, stride] = [f.param(0), f.param(1), f.param(2)];
  const [items, weights, count, out] = [f.param(3), f.param(4), f.param(5), f.param(6)];
  forEachEntry(f, items, weights, count, n, (i, pushWeight) => {
    f.emit(op.get(out));
    pushWeight();
    f.emit(op.get(rows), op.get(i), op.get(stride), op.i32Mul, op.i32Add);
    f.emit(op.get(stride), op.call(FN.axpy));
  });
  return f;
}

/**
 * For k in 0..count-1 with i = items[k] inside 0..n-1 (unsigned, so a negative index is outside too):
 * `body(i, pushWeight)`, where `i` is the local holding the index and `pushWeight` emits weights[k] (f32).
 */
function forEachEntry(
  f: FunctionBuilder,
  items: number,
  weights: number,
  count: number,
  n: number,
  body: (i: number, pushWeight: () => void) => void,
): void {
  const k = f.local('i32');
  const i = f.local('i32');
  f.forRange(k, op.i32(0), count, 1, () => {
    f.emit(op.block);
    f.emit(op.get(items), op.get(k), op.i32(4), op.i32Mul, op.i32Add, op.i32Load(0), op.tee(i));
    f.emit(op.get(n), op.i32GeU, op.brIf(0));
    body(i, () => f.emit(op.get(weights), op.get(k), op.i32(4), op.i32Mul, op.i32Add, op.f32Load(0)));
    f.emit(op.end);
  });
}

/**
 * scatterRows(indptr, indices, data, n, items, weights, count, out): out[indices[q]] += weights[k] · data[q]
 * for q over row items[k] of the CSR matrix (indptr, indices, data; n rows), for each of `count` (i32 index,
 * f32 weight) pairs, skipping indices outside 0..n-1: a sparse item graph's scores for a history, scalar
 * (a scatter does not vectorise) but without the bounds checks and float conversions of the JS loop.
 */
function buildScatterRows(): FunctionBuilder {
  const f = new FunctionBuilder('scatterRows', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'], []);
  const [indptr, indices, data, n] = [f.param(0), f.param(1), f.param(2), f.param(3)];
  const [items, weights, count, out] = [f.param(4), f.param(5), f.param(6), f.param(7)];
  const q = f.local('i32');
  const end = f.local('i32');
  const w = f.local('f32');
  const at = f.local('i32');
  forEachEntry(f, items, weights, count, n, (i, pushWeight) => {
    pushWeight();
    f.emit(op.set(w));
    f.emit(op.get(indptr), op.get(i), op.i32(4), op.i32Mul, op.i32Add, op.i32Load(4), op.set(end));
    f.emit(op.get(indptr), op.get(i), op.i32(4), op.i32Mul, op.i32Add, op.i32Load(0), op.set(q));
    f.emit(op.block, op.loop, op.get(q), op.get(end), op.i32GeS, op.brIf(1));
    // at = out + 4 · indices[q]; *at += w · data[q]
    f.emit(op.get(out), op.get(indices), op.get(q), op.i32(4), op.i32Mul, op.i32Add, op.i32Load(0));
    f.emit(op.i32(4), op.i32Mul, op.i32Add, op.tee(at));
    f.emit(op.get(at), op.f32Load(0), op.get(w));
    f.emit(op.get(data), op.get(q), op.i32(4), op.i32Mul, op.i32Add, op.f32Load(0), op.f32Mul, op.f32Add);
    f.emit(op.f32Store(0));
    f.emit(op.get(q), op.i32(1), op.i32Add, op.set(q), op.br(0), op.end, op.end);
  });
  return f;
}

let compiled: WasmModule | undefined;

/** The compiled kernels, assembled and compiled once per thread. */
export function alsModule(): WasmModule {
  if (!compiled) {
    const fns = [
      buildDot(),
      buildAxpy(),
      buildXpby(),
      buildCopy(),
      buildDot4(),
      buildAxpy4(),
      buildGemv(),
      buildGram(),
      buildCgRows(),
      buildScoreAll(),
      buildRowSums(),
      buildScatterRows(),
    ];
    compiled = new Wasm.Module(assembleModule(fns, WASM_MAX_PAGES));
  }
  return compiled;
}

export interface AlsKernelExports {
  dot(a: number, b: number, stride: number): number;
  scoreAll(y: number, n: number, stride: number, x: number, out: number): void;
  axpy(out: number, w: number, y: number, stride: number): void;
  rowSums(
    rows: number,
    n: number,
    stride: number,
    items: number,
    weights: number,
    count: number,
    out: number,
  ): void;
  scatterRows(
    indptr: number,
    indices: number,
    data: number,
    n: number,
    items: number,
    weights: number,
    count: number,
    out: number,
  ): void;
  gram(y: number, n: number, stride: number, g: number): void;
  cgRows(
    indptr: number,
    indices: number,
    conf: number,
    x: number,
    y: number,
    g: number,
    stride: number,
    steps: number,
    start: number,
    end: number,
    scratch: number,
  ): void;
}

export function instantiateAls(memory: WasmMemory): AlsKernelExports {
  const instance = new Wasm.Instance(alsModule(), { env: { memory } });
  return instance.exports as unknown as AlsKernelExports;
}
