/**
 * Feature binning for histogram-based boosting (XGBoost's `hist`, LightGBM).
 *
 * Each feature's training values are cut into at most `maxBins` value bins: one bin per distinct value
 * when there are few, otherwise bins of roughly equal row counts from the quantiles. Missing values
 * (NaN) get a separate bin after the value bins, so a feature's codes run 0..binCount (the last being
 * missing) and fit a byte when binCount ≤ 255.
 *
 * The cuts are real values and the bins are defined by them: value bin b of a feature holds the values
 * v with cuts[b - 1] < v ≤ cuts[b] (the last value bin holds everything above the last cut). A split
 * "bins ≤ b go left" is therefore exactly "v ≤ cuts[b] goes left", so a trained tree can store the cut
 * as a real threshold and predict on raw features with the same outcome as on the bins.
 *
 * A categorical feature (integer codes ≥ 0, NaN = missing) gets one bin per category instead, in
 * ascending code order. With more categories than `maxBins`, the `maxBins − 1` most frequent keep a bin
 * and the rest share a last "other" bin, which a split never sends left: at prediction time a category
 * outside a split's set goes right, so the rare and the unseen categories take the same side.
 */

/** At most 255 value bins, so the missing bin (code = binCount) still fits a byte. */
export const MAX_BINS = 255;

export interface FeatureBins {
  readonly nRows: number;
  readonly nFeatures: number;
  /** Bin codes, column-major (`codes[f * nRows + row]`): a node's histogram reads one column at a time. */
  readonly codes: Uint8Array;
  /** Value bins per feature (≥ 1); the feature's missing code equals this count. */
  readonly binCount: Int32Array;
  /**
   * Feature f's cuts are `cuts[cutStart[f] .. cutStart[f + 1])`: for a numeric feature binCount[f] − 1
   * ascending thresholds; for a categorical one binCount[f] entries, the category code of each bin
   * (−1 for the "other" bin).
   */
  readonly cutStart: Int32Array;
  readonly cuts: Float64Array;
  /**
   * Feature f's histogram slots start at `histStart[f]`: binCount[f] value slots then the missing slot.
   * `histStart[nFeatures]` is the total number of slots.
   */
  readonly histStart: Int32Array;
  /** 1 where the feature is categorical. */
  readonly categorical: Uint8Array;
}

/** Category codes must be small non-negative integers: a split's set is a bitset over the codes. */
export const MAX_CATEGORY = 2 ** 24 - 1;

/** The category code of a categorical feature's value bin, or −1 for its "other" bin. */
export function categoryOf(bins: FeatureBins, feature: number, bin: number): number {
  return bins.cuts[bins.cutStart[feature]! + bin]!;
}

/** The real-valued threshold of the split "value bins ≤ bin go left" on feature f. */
export function thresholdOf(bins: FeatureBins, feature: number, bin: number): number {
  return bins.cuts[bins.cutStart[feature]! + bin]!;
}

/**
 * Bins a row-major n × d matrix (NaN = missing). Infinite values are rejected: they would make cuts
 * (midpoints) infinite or NaN, and a serialised model must hold finite thresholds.
 */
export function binFeatures(
  features: Float64Array,
  nRows: number,
  nFeatures: number,
  maxBins: number = MAX_BINS,
  categoricalFeatures: readonly number[] = [],
): FeatureBins {
  if (features.length !== nRows * nFeatures) {
    throw new RangeError(`binFeatures: ${features.length} values for ${nRows} × ${nFeatures}`);
  }
  if (!Number.isInteger(maxBins) || maxBins < 2 || maxBins > MAX_BINS) {
    throw new RangeError(`binFeatures: maxBins must be an integer in [2, ${MAX_BINS}], got ${maxBins}`);
  }
  const codes = new Uint8Array(nRows * nFeatures);
  const binCount = new Int32Array(nFeatures);
  const cutStart = new Int32Array(nFeatures + 1);
  const histStart = new Int32Array(nFeatures + 1);
  const featureCuts: Float64Array[] = [];
  const column = new Float64Array(nRows);
  const categorical = new Uint8Array(nFeatures);
  for (const f of categoricalFeatures) {
    if (!Number.isInteger(f) || f < 0 || f >= nFeatures) {
      throw new RangeError(`binFeatures: categorical feature ${f} is not one of the ${nFeatures} features`);
    }
    categorical[f] = 1;
  }

  for (let f = 0; f < nFeatures; f++) {
    if (categorical[f] === 1) {
      const categories = binCategories(features, nRows, nFeatures, f, maxBins, codes);
      featureCuts.push(categories);
      binCount[f] = categories.length;
      cutStart[f + 1] = cutStart[f]! + categories.length;
      histStart[f + 1] = histStart[f]! + categories.length + 1;
      continue;
    }
    let present = 0;
    // Distinct values while there are at most maxBins of them: then the cuts are every neighbour
    // midpoint (what cutsOf gives), found by sorting the few distinct values instead of every row
    // (one-hot and small integer columns, most of a customer table).
    let distinct: Set<number> | null = new Set<number>();
    for (let r = 0; r < nRows; r++) {
      const v = features[r * nFeatures + f]!;
      if (v !== v) continue;
      if (v === Infinity || v === -Infinity) {
        throw new RangeError(`binFeatures: infinite value at row ${r}, feature ${f}`);
      }
      column[present++] = v;
      if (distinct !== null && !distinct.has(v)) {
        distinct.add(v);
        if (distinct.size > maxBins) distinct = null;
      }
    }
    const cuts =
      distinct !== null
        ? cutsOf(Float64Array.from(distinct).sort(), maxBins)
        : cutsOf(column.subarray(0, present).sort(), maxBins);
    featureCuts.push(cuts);
    binCount[f] = cuts.length + 1;
    cutStart[f + 1] = cutStart[f]! + cuts.length;
    histStart[f + 1] = histStart[f]! + cuts.length + 2;

    const missingCode = cuts.length + 1;
    const out = f * nRows;
    for (let r = 0; r < nRows; r++) {
      const v = features[r * nFeatures + f]!;
      codes[out + r] = v !== v ? missingCode : binOf(cuts, v);
    }
  }

  const cuts = new Float64Array(cutStart[nFeatures]!);
  featureCuts.forEach((c, f) => cuts.set(c, cutStart[f]!));
  return { nRows, nFeatures, codes, binCount, cutStart, cuts, histStart, categorical };
}

/**
 * Writes categorical feature f's bin codes into `codes` and returns each value bin's category code
 * (−1 for the "other" bin). Codes must be integers in [0, MAX_CATEGORY].
 */
function binCategories(
  features: Float64Array,
  nRows: number,
  nFeatures: number,
  f: number,
  maxBins: number,
  codes: Uint8Array,
): Float64Array {
  const counts = new Map<number, number>();
  for (let r = 0; r < nRows; r++) {
    const v = features[r * nFeatures + f]!;
    if (v !== v) continue;
    if (!Number.isInteger(v) || v < 0 || v > MAX_CATEGORY) {
      throw new RangeError(
        `binFeatures: categorical feature ${f} has ${v} at row ${r}; codes must be integers in [0, ${MAX_CATEGORY}]`,
      );
    }
    counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  let kept = [...counts.keys()];
  const overflow = kept.length > maxBins;
  if (overflow) {
    // The most frequent keep their own bin (ties to the lower code, so binning is deterministic).
    kept.sort((a, b) => counts.get(b)! - counts.get(a)! || a - b);
    kept = kept.slice(0, maxBins - 1);
  }
  kept.sort((a, b) => a - b);
  const binOfCategory = new Map(kept.map((c, b) => [c, b]));
  const valueBins = kept.length + (overflow ? 1 : 0);
  // A feature with no present value still gets one (empty) value bin, as a constant numeric one does.
  const categories = new Float64Array(Math.max(1, valueBins)).fill(-1);
  categories.set(kept);
  const other = kept.length;
  const missingCode = categories.length;
  const out = f * nRows;
  for (let r = 0; r < nRows; r++) {
    const v = features[r * nFeatures + f]!;
    codes[out + r] = v !== v ? missingCode : (binOfCategory.get(v) ?? other);
  }
  return categories;
}

/**
 * Cuts for one feature's sorted present values: midpoints between neighbouring distinct values, at
 * every neighbour pair when there are at most `maxBins` distinct values, else where the running row
 * count crosses the next 1/maxBins quantile. A heavy value thus gets a bin to itself, and a midpoint
 * cut leaves both neighbours the same margin when raw values fall between them at prediction time.
 */
function cutsOf(sorted: Float64Array, maxBins: number): Float64Array {
  const n = sorted.length;
  let distinct = 0;
  for (let i = 0; i < n; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) distinct++;
  if (distinct <= 1) return new Float64Array(0);

  const cuts = new Float64Array(Math.min(distinct, maxBins) - 1);
  let made = 0;
  const perBin = n / maxBins;
  for (let i = 0; i < n - 1 && made < cuts.length; i++) {
    const a = sorted[i]!;
    const b = sorted[i + 1]!;
    if (a === b) continue;
    // i + 1 rows are at or below a; cut when that reaches the next quantile (always, with few values).
    if (distinct <= maxBins || i + 1 >= (made + 1) * perBin) cuts[made++] = midpoint(a, b);
  }
  return made === cuts.length ? cuts : cuts.slice(0, made);
}

/** A cut c with a ≤ c < b, so a goes left and b goes right (a + (b - a) / 2 can round up to b). */
function midpoint(a: number, b: number): number {
  const mid = a + (b - a) / 2;
  return mid < b ? mid : a;
}

/** The value bin of v: the first cut at or above v, else the last bin. */
function binOf(cuts: Float64Array, v: number): number {
  let lo = 0;
  let hi = cuts.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (v <= cuts[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
