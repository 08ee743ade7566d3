/**
 * Sample summaries on Float64Array: sums, means, variances and covariances, in the two-pass form.
 *
 * Revenue per user is mostly zeros with a few large values, so sum(x²) − n·mean² would cancel away most of
 * the variance's digits; the two-pass form sums squared deviations from the mean instead. Sums are
 * compensated (Neumaier), which makes the result independent of the order of the rows to about an ulp.
 */

/** Σ values, with Neumaier's compensation. */
export function sum(values: Float64Array): number {
  let total = 0;
  let compensation = 0;
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!;
    const next = total + value;
    compensation += Math.abs(total) >= Math.abs(value) ? total - next + value : value - next + total;
    total = next;
  }
  return total + compensation;
}

/** The arithmetic mean; NaN for no values. */
export function mean(values: Float64Array): number {
  return values.length === 0 ? NaN : sum(values) / values.length;
}

/** A sample's size, mean and variance (divided by n − 1, numpy's `ddof=1`). */
export interface MeanVariance {
  readonly n: number;
  readonly mean: number;
  readonly variance: number;
}

/**
 * Mean and sample variance by two passes: the mean first, then the squared deviations from it. The sum of
 * the deviations (zero but for the mean's rounding) corrects the second pass (Chan, Golub and LeVeque's
 * corrected two-pass algorithm). The variance is NaN for fewer than two values.
 */
export function meanVariance(values: Float64Array): MeanVariance {
  const n = values.length;
  const center = mean(values);
  if (n < 2) return { n, mean: center, variance: NaN };
  let squares = 0;
  let squaresCompensation = 0;
  let deviations = 0;
  for (let i = 0; i < n; i++) {
    const deviation = values[i]! - center;
    deviations += deviation;
    const square = deviation * deviation;
    const next = squares + square;
    squaresCompensation += squares >= square ? squares - next + square : square - next + squares;
    squares = next;
  }
  const variance = (squares + squaresCompensation - (deviations * deviations) / n) / (n - 1);
  return { n, mean: center, variance: Math.max(0, variance) };
}

/** The sample variance (divided by n − 1). */
export function variance(values: Float64Array): number {
  return meanVariance(values).variance;
}

/**
 * The sample covariance of paired values (divided by n − 1), by two passes about the two means, with the
 * same correction for the means' rounding as `meanVariance`.
 */
export function covariance(x: Float64Array, y: Float64Array): number {
  const n = x.length;
  if (y.length !== n) throw new RangeError(`covariance: ${n} x values but ${y.length} y values`);
  if (n < 2) return NaN;
  const meanX = mean(x);
  const meanY = mean(y);
  let products = 0;
  let productsCompensation = 0;
  let deviationsX = 0;
  let deviationsY = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i]! - meanX;
    const dy = y[i]! - meanY;
    deviationsX += dx;
    deviationsY += dy;
    const product = dx * dy;
    const next = products + product;
    productsCompensation +=
      Math.abs(products) >= Math.abs(product) ? products - next + product : product - next + products;
    products = next;
  }
  return (products + productsCompensation - (deviationsX * deviationsY) / n) / (n - 1);
}

/** The values of several samples end to end, for statistics pooled over all of them. */
export function concatenate(parts: readonly Float64Array[]): Float64Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const all = new Float64Array(length);
  let offset = 0;
  for (const part of parts) {
    all.set(part, offset);
    offset += part.length;
  }
  return all;
}
