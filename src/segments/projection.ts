/**
 * A 2-D view of segment vectors for the dashboard: principal component analysis of rows already
 * standardized by the segment model (so no column dominates by its units), centred on the sample's mean.
 * The covariance matrix is d × d with d the segmentation's few columns, so its eigenvectors come from a
 * cyclic Jacobi sweep: exact to rounding, no iteration count to tune, and deterministic.
 */

export interface Pca2 {
  readonly dimensions: number;
  /** The sample mean that points are centred on before projecting. */
  readonly mean: Float64Array;
  /** The two unit axes, row-major (axis 0 at `[0, d)`, axis 1 at `[d, 2d)`), largest variance first. */
  readonly axes: Float64Array;
  /** Share of the sample's total variance along each axis (0 when the sample has no variance). */
  readonly explained: readonly [number, number];
}

/** Largest off-diagonal magnitude below which Jacobi stops (relative to the matrix's scale). */
const TOLERANCE = 1e-12;
const MAX_SWEEPS = 100;

/**
 * Fits the first two principal axes of `rows` (`n` rows of `d` values, row-major). Each axis's sign is
 * fixed so that its largest-magnitude coordinate is positive, so the same data always draws the same way.
 */
export function fitPca2(rows: Float64Array, n: number, d: number): Pca2 {
  if (!Number.isInteger(n) || !Number.isInteger(d) || n < 0 || d < 1 || rows.length !== n * d) {
    throw new RangeError(`rows must hold n × d values (n=${n}, d=${d}, got ${rows.length})`);
  }
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j]! += rows[i * d + j]!;
  if (n > 0) for (let j = 0; j < d; j++) mean[j]! /= n;
  const cov = new Float64Array(d * d);
  const centred = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) centred[j] = rows[i * d + j]! - mean[j]!;
    for (let a = 0; a < d; a++) {
      const x = centred[a]!;
      for (let b = a; b < d; b++) cov[a * d + b]! += x * centred[b]!;
    }
  }
  const denominator = Math.max(1, n - 1);
  for (let a = 0; a < d; a++) {
    for (let b = a; b < d; b++) {
      cov[a * d + b]! /= denominator;
      cov[b * d + a] = cov[a * d + b]!;
    }
  }
  const { values, vectors } = symmetricEigen(cov, d);
  const order = Array.from({ length: d }, (_, k) => k).sort((p, q) => values[q]! - values[p]!);
  const total = values.reduce((sum, v) => sum + Math.max(0, v), 0);
  const axes = new Float64Array(2 * d);
  const explained: [number, number] = [0, 0];
  for (let axis = 0; axis < 2; axis++) {
    const k = order[axis];
    // Fewer columns than axes: the second axis stays zero and explains nothing.
    if (k === undefined) continue;
    let largest = 0;
    for (let j = 0; j < d; j++) {
      const v = vectors[j * d + k]!;
      if (Math.abs(v) > Math.abs(largest)) largest = v;
    }
    const sign = largest < 0 ? -1 : 1;
    for (let j = 0; j < d; j++) axes[axis * d + j] = sign * vectors[j * d + k]!;
    explained[axis] = total > 0 ? Math.max(0, values[k]!) / total : 0;
  }
  return { dimensions: d, mean, axes, explained };
}

/** The coordinates of one vector on the two axes. */
export function project(pca: Pca2, x: ArrayLike<number>): [number, number] {
  const d = pca.dimensions;
  let u = 0;
  let v = 0;
  for (let j = 0; j < d; j++) {
    const c = x[j]! - pca.mean[j]!;
    u += c * pca.axes[j]!;
    v += c * pca.axes[d + j]!;
  }
  return [u, v];
}

/**
 * Eigenvalues and eigenvectors (as the columns of `vectors`, row-major d × d) of a symmetric matrix, by
 * cyclic Jacobi rotations. `matrix` is not changed.
 */
export function symmetricEigen(
  matrix: Float64Array,
  d: number,
): { readonly values: Float64Array; readonly vectors: Float64Array } {
  const a = Float64Array.from(matrix);
  const v = new Float64Array(d * d);
  for (let i = 0; i < d; i++) v[i * d + i] = 1;
  let scale = 0;
  for (let i = 0; i < d * d; i++) scale = Math.max(scale, Math.abs(a[i]!));
  const threshold = TOLERANCE * (scale || 1);
  for (let sweep = 0; sweep < MAX_SWEEPS; sweep++) {
    let off = 0;
    for (let p = 0; p < d; p++) for (let q = p + 1; q < d; q++) off = Math.max(off, Math.abs(a[p * d + q]!));
    if (off <= threshold) break;
    for (let p = 0; p < d; p++) {
      for (let q = p + 1; q < d; q++) {
        const apq = a[p * d + q]!;
        if (Math.abs(apq) <= threshold) continue;
        const app = a[p * d + p]!;
        const aqq = a[q * d + q]!;
        // The rotation that zeroes a[p][q]: t = tan θ, the smaller root of t² + 2θ't − 1 = 0.
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < d; k++) {
          const akp = a[k * d + p]!;
          const akq = a[k * d + q]!;
          a[k * d + p] = c * akp - s * akq;
          a[k * d + q] = s * akp + c * akq;
        }
        for (let k = 0; k < d; k++) {
          const apk = a[p * d + k]!;
          const aqk = a[q * d + k]!;
          a[p * d + k] = c * apk - s * aqk;
          a[q * d + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < d; k++) {
          const vkp = v[k * d + p]!;
          const vkq = v[k * d + q]!;
          v[k * d + p] = c * vkp - s * vkq;
          v[k * d + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const values = new Float64Array(d);
  for (let i = 0; i < d; i++) values[i] = a[i * d + i]!;
  return { values, vectors: v };
}
