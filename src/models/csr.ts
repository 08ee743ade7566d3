import type { CsrMatrix } from './types.js';

export { topK, TopKHeap, type Exclusion } from './topk.js';

/** Coordinate-form entries; `rowIdx[k]`, `colIdx[k]`, `values[k]` describe entry k. */
export interface CooInput {
  readonly rows: number;
  readonly cols: number;
  readonly rowIdx: ArrayLike<number>;
  readonly colIdx: ArrayLike<number>;
  readonly values: ArrayLike<number>;
  /** Per-entry times; duplicates keep the latest, aligned with the result's `data`. */
  readonly times?: ArrayLike<number>;
}

export interface CooResult {
  readonly matrix: CsrMatrix;
  /** Latest time behind each stored entry, when `times` were given. */
  readonly times?: Float64Array;
}

/**
 * Builds a CSR matrix from coordinate triplets: duplicates are summed (their times reduced to the latest),
 * column indices in each row end up sorted and unique. Two counting passes plus a per-row insertion sort,
 * so the cost is linear in the entries for typical row lengths.
 */
export function csrFromCoo(input: CooInput): CooResult {
  const { rows, cols, rowIdx, colIdx, values, times } = input;
  const n = rowIdx.length;
  if (colIdx.length !== n || values.length !== n || (times && times.length !== n)) {
    throw new RangeError('csrFromCoo: rowIdx, colIdx, values (and times) must have the same length');
  }
  const counts = new Int32Array(rows + 1);
  for (let k = 0; k < n; k++) {
    const r = rowIdx[k] as number;
    const c = colIdx[k] as number;
    if (!(r >= 0 && r < rows && c >= 0 && c < cols) || !Number.isInteger(r) || !Number.isInteger(c)) {
      throw new RangeError(`csrFromCoo: entry ${k} (${r}, ${c}) is outside ${rows} x ${cols}`);
    }
    counts[r + 1]!++;
  }
  for (let r = 0; r < rows; r++) counts[r + 1]! += counts[r]!;
  // Scatter into row buckets (unsorted within a row), then sort and merge each row in place.
  const next = counts.slice(0, rows);
  const cIdx = new Int32Array(n);
  const vals = new Float64Array(n);
  const tms = times ? new Float64Array(n) : undefined;
  for (let k = 0; k < n; k++) {
    const pos = next[rowIdx[k] as number]!++;
    cIdx[pos] = colIdx[k] as number;
    vals[pos] = values[k] as number;
    if (tms) tms[pos] = (times as ArrayLike<number>)[k] as number;
  }
  const indptr = new Int32Array(rows + 1);
  let out = 0;
  for (let r = 0; r < rows; r++) {
    const start = counts[r]!;
    const end = counts[r + 1]!;
    sortRowSegment(cIdx, vals, tms, start, end);
    for (let k = start; k < end; k++) {
      if (out > indptr[r]! && cIdx[out - 1] === cIdx[k]) {
        vals[out - 1]! += vals[k]!;
        if (tms && tms[k]! > tms[out - 1]!) tms[out - 1] = tms[k]!;
      } else {
        cIdx[out] = cIdx[k]!;
        vals[out] = vals[k]!;
        if (tms) tms[out] = tms[k]!;
        out++;
      }
    }
    indptr[r + 1] = out;
  }
  const matrix: CsrMatrix = {
    rows,
    cols,
    indptr,
    indices: cIdx.slice(0, out),
    data: Float32Array.from(vals.subarray(0, out)),
  };
  return tms ? { matrix, times: tms.slice(0, out) } : { matrix };
}

/** Sorts entries `start..end` by column; insertion sort for short rows, a keyed sort for long ones. */
function sortRowSegment(
  cols: Int32Array,
  vals: Float64Array,
  times: Float64Array | undefined,
  start: number,
  end: number,
): void {
  const len = end - start;
  if (len < 2) return;
  if (len <= 32) {
    for (let i = start + 1; i < end; i++) {
      const c = cols[i]!;
      const v = vals[i]!;
      const t = times ? times[i]! : 0;
      let j = i - 1;
      while (j >= start && cols[j]! > c) {
        cols[j + 1] = cols[j]!;
        vals[j + 1] = vals[j]!;
        if (times) times[j + 1] = times[j]!;
        j--;
      }
      cols[j + 1] = c;
      vals[j + 1] = v;
      if (times) times[j + 1] = t;
    }
    return;
  }
  const order = new Int32Array(len);
  for (let i = 0; i < len; i++) order[i] = start + i;
  // Stable by position so duplicate merging stays deterministic.
  order.sort((a, b) => cols[a]! - cols[b]! || a - b);
  const c2 = new Int32Array(len);
  const v2 = new Float64Array(len);
  const t2 = times ? new Float64Array(len) : undefined;
  for (let i = 0; i < len; i++) {
    const src = order[i]!;
    c2[i] = cols[src]!;
    v2[i] = vals[src]!;
    if (t2 && times) t2[i] = times[src]!;
  }
  cols.set(c2, start);
  vals.set(v2, start);
  if (t2 && times) times.set(t2, start);
}

/** The transpose, with sorted column indices (a counting sort over columns; rows are walked in order). */
export function transpose(m: CsrMatrix): CsrMatrix {
  const nnz = m.indptr[m.rows]!;
  const indptr = new Int32Array(m.cols + 1);
  for (let k = 0; k < nnz; k++) indptr[m.indices[k]! + 1]!++;
  for (let c = 0; c < m.cols; c++) indptr[c + 1]! += indptr[c]!;
  const next = indptr.slice(0, m.cols);
  const indices = new Int32Array(nnz);
  const data = new Float32Array(nnz);
  for (let r = 0; r < m.rows; r++) {
    for (let k = m.indptr[r]!; k < m.indptr[r + 1]!; k++) {
      const pos = next[m.indices[k]!]!++;
      indices[pos] = r;
      data[pos] = m.data[k]!;
    }
  }
  return { rows: m.cols, cols: m.rows, indptr, indices, data };
}

/** Gathers arbitrary per-entry values (e.g. times aligned with `m.data`) into the transpose's order. */
export function transposeAligned(m: CsrMatrix, values: Float64Array): Float64Array {
  const nnz = m.indptr[m.rows]!;
  const next = new Int32Array(m.cols + 1);
  for (let k = 0; k < nnz; k++) next[m.indices[k]! + 1]!++;
  for (let c = 0; c < m.cols; c++) next[c + 1]! += next[c]!;
  const out = new Float64Array(nnz);
  for (let k = 0; k < nnz; k++) out[next[m.indices[k]!]!++] = values[k]!;
  return out;
}

export function rowNnz(m: CsrMatrix, r: number): number {
  return m.indptr[r + 1]! - m.indptr[r]!;
}

/** Row `r`'s column indices as a view (no copy). */
export function rowIndices(m: CsrMatrix, r: number): Int32Array {
  return m.indices.subarray(m.indptr[r]!, m.indptr[r + 1]!);
}

/** Row `r`'s values as a view (no copy). */
export function rowData(m: CsrMatrix, r: number): Float32Array {
  return m.data.subarray(m.indptr[r]!, m.indptr[r + 1]!);
}

/** The stored value at (r, c), or 0; binary search within the sorted row. */
export function csrGet(m: CsrMatrix, r: number, c: number): number {
  const k = findInRow(m.indices, m.indptr[r]!, m.indptr[r + 1]!, c);
  return k < 0 ? 0 : m.data[k]!;
}

/** Position of `c` within the sorted slice `indices[start..end)`, or -1. */
export function findInRow(indices: Int32Array, start: number, end: number, c: number): number {
  let lo = start;
  let hi = end - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = indices[mid]!;
    if (v === c) return mid;
    if (v < c) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** Checks the structural invariants `CsrMatrix` promises; throws on the first violation. */
export function assertCsr(m: CsrMatrix, what = 'matrix'): void {
  const nnz = m.indptr[m.rows];
  if (m.indptr.length !== m.rows + 1 || m.indptr[0] !== 0 || nnz === undefined) {
    throw new RangeError(`${what}: indptr must have rows + 1 entries starting at 0`);
  }
  if (m.indices.length < nnz || m.data.length < nnz) {
    throw new RangeError(`${what}: indices/data shorter than indptr[rows]`);
  }
  for (let r = 0; r < m.rows; r++) {
    const start = m.indptr[r]!;
    const end = m.indptr[r + 1]!;
    if (end < start) throw new RangeError(`${what}: indptr decreases at row ${r}`);
    let prev = -1;
    for (let k = start; k < end; k++) {
      const c = m.indices[k]!;
      if (c <= prev || c >= m.cols)
        throw new RangeError(`${what}: row ${r} has unsorted or out-of-range columns`);
      prev = c;
    }
  }
}
