/**
 * Multiple-comparison corrections across the m treatment-vs-control tests of one metric: Holm's step-down
 * (family-wise error) and Benjamini–Hochberg's step-up (false discovery rate), exactly as statsmodels
 * `multipletests(p, method="holm")` and `method="fdr_bh"`.
 *
 * A NaN p-value (a comparison without variance) has no rank, so the whole family is NaN rather than
 * adjusted as if it were smaller.
 */

/** Indices of `pValues` by ascending p-value; ties keep their order (which cannot change the result). */
function ascendingOrder(pValues: readonly number[]): number[] {
  return pValues.map((_, index) => index).sort((i, j) => pValues[i]! - pValues[j]!);
}

function validated(pValues: readonly number[]): boolean {
  for (const p of pValues) {
    if (Number.isNaN(p)) return false;
    if (p < 0 || p > 1) throw new RangeError(`corrections: p-value ${p} is outside [0, 1]`);
  }
  return true;
}

/**
 * Holm: the j-th smallest p-value times (m − j + 1), made non-decreasing by carrying the running maximum
 * upwards, capped at 1. Returned in the input's order.
 */
export function holm(pValues: readonly number[]): number[] {
  const m = pValues.length;
  if (!validated(pValues)) return pValues.map(() => NaN);
  const adjusted = new Array<number>(m);
  let runningMax = 0;
  ascendingOrder(pValues).forEach((index, rank) => {
    runningMax = Math.max(runningMax, (m - rank) * pValues[index]!);
    adjusted[index] = Math.min(1, runningMax);
  });
  return adjusted;
}

/**
 * Benjamini–Hochberg: the j-th smallest p-value times m / j, made non-decreasing by carrying the running
 * minimum downwards from the largest, capped at 1. Returned in the input's order.
 */
export function benjaminiHochberg(pValues: readonly number[]): number[] {
  const m = pValues.length;
  if (!validated(pValues)) return pValues.map(() => NaN);
  const order = ascendingOrder(pValues);
  const adjusted = new Array<number>(m);
  let runningMin = Infinity;
  for (let rank = m - 1; rank >= 0; rank--) {
    const index = order[rank]!;
    runningMin = Math.min(runningMin, (pValues[index]! * m) / (rank + 1));
    adjusted[index] = Math.min(1, runningMin);
  }
  return adjusted;
}
