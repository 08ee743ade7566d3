/**
 * Sufficient statistics of a variant's per-user columns: the count, each column's sum, and the sum of each
 * product of two columns. Means, variances, the CUPED adjustment (covariance with the pre-exposure
 * covariate) and the delta method for ratios are all functions of these, so a daily series of moments is
 * enough to draw the result over time without keeping per-user values per day.
 *
 * Columns are the metric's `components` (`compute.ts`): `[value, covariate]`, or for a ratio
 * `[numerator, denominator, covariateNumerator, covariateDenominator]`.
 */
export interface Moments {
  /** Users. */
  readonly n: number;
  /** `sums[i]` = Σ column i. */
  readonly sums: Float64Array;
  /** Σ column i × column j for i ≤ j; read with `productOf`. */
  readonly products: Float64Array;
}

/** Where Σ c_i·c_j (i ≤ j) sits among the products of `k` columns: the upper triangle, row by row. */
export function productIndex(k: number, i: number, j: number): number {
  if (i > j) return productIndex(k, j, i);
  return i * k - (i * (i - 1)) / 2 + (j - i);
}

/** Σ column i × column j. */
export function productOf(moments: Moments, i: number, j: number): number {
  return moments.products[productIndex(moments.sums.length, i, j)]!;
}

/** Slots of the flat form the series accumulates: `[n, sums…, products…]`. */
export function momentsWidth(k: number): number {
  return 1 + k + (k * (k + 1)) / 2;
}

/** The moments of equally long columns, one entry per user. */
export function momentsOf(columns: readonly Float64Array[]): Moments {
  const k = columns.length;
  const n = k === 0 ? 0 : columns[0]!.length;
  const flat = new Float64Array(momentsWidth(k));
  const row = new Float64Array(k);
  for (let u = 0; u < n; u++) {
    for (let i = 0; i < k; i++) row[i] = columns[i]![u]!;
    addRow(flat, 0, k, row, 1, true);
  }
  return unflatten(flat, 0, k);
}

/** Adds `sign` × the moments of one user's row into `flat` at `base`; `counted` adds the user to n. */
export function addRow(
  flat: Float64Array,
  base: number,
  k: number,
  row: Float64Array,
  sign: number,
  counted: boolean,
): void {
  if (counted) flat[base]! += sign;
  let at = base + 1;
  for (let i = 0; i < k; i++) flat[at++]! += sign * row[i]!;
  for (let i = 0; i < k; i++) {
    const ci = row[i]!;
    for (let j = i; j < k; j++) flat[at++]! += sign * ci * row[j]!;
  }
}

export function unflatten(flat: Float64Array, base: number, k: number): Moments {
  return {
    n: flat[base]!,
    sums: flat.slice(base + 1, base + 1 + k),
    products: flat.slice(base + 1 + k, base + momentsWidth(k)),
  };
}
