/**
 * Metrics of a binary classifier's probabilities against 0/1 labels, as scikit-learn computes them
 * (`roc_auc_score`, `log_loss`, `brier_score_loss`), so churn numbers compare with its reference.
 */

/** Both arrays must be as long; labels 0 or 1. */
function checkInputs(labels: ArrayLike<number>, scores: ArrayLike<number>): void {
  if (labels.length !== scores.length) {
    throw new Error(`${labels.length} labels but ${scores.length} scores`);
  }
  if (labels.length === 0) throw new Error('no rows to score');
}

/**
 * Area under the ROC curve: the chance that a random positive scores above a random negative, ties
 * counting one half. Computed as the Mann–Whitney statistic with tied scores given their average rank,
 * which is exactly what the trapezoidal ROC area gives. Undefined (an error) without both classes.
 */
export function rocAuc(labels: ArrayLike<number>, scores: ArrayLike<number>): number {
  checkInputs(labels, scores);
  const n = labels.length;
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < n; i++) {
    if (Number.isNaN(scores[i]!)) throw new Error(`score ${i} is not a number`);
  }
  order.sort((a, b) => scores[a]! - scores[b]!);
  let positiveRankSum = 0;
  let positives = 0;
  let start = 0;
  while (start < n) {
    let end = start + 1;
    while (end < n && scores[order[end]!] === scores[order[start]!]) end++;
    // Ranks start..end-1 (0-based) are tied: each gets their mean, 1-based.
    const averageRank = (start + end + 1) / 2;
    for (let k = start; k < end; k++) {
      if (labels[order[k]!] === 1) {
        positiveRankSum += averageRank;
        positives++;
      }
    }
    start = end;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) {
    throw new Error('ROC AUC needs both classes among the labels');
  }
  return (positiveRankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** scikit-learn's long-standing clipping: a probability of exactly 0 or 1 costs ln(1e15) ≈ 34.5, not ∞. */
export const LOG_LOSS_EPSILON = 1e-15;

/** Mean negative log-likelihood of the labels, probabilities clipped to [ε, 1 − ε]. */
export function logLoss(
  labels: ArrayLike<number>,
  probabilities: ArrayLike<number>,
  epsilon = LOG_LOSS_EPSILON,
): number {
  checkInputs(labels, probabilities);
  let total = 0;
  for (let i = 0; i < labels.length; i++) {
    const p = Math.min(Math.max(probabilities[i]!, epsilon), 1 - epsilon);
    total -= labels[i] === 1 ? Math.log(p) : Math.log1p(-p);
  }
  return total / labels.length;
}

/** Mean squared difference between probability and label. */
export function brierScore(labels: ArrayLike<number>, probabilities: ArrayLike<number>): number {
  checkInputs(labels, probabilities);
  let total = 0;
  for (let i = 0; i < labels.length; i++) {
    const d = probabilities[i]! - labels[i]!;
    total += d * d;
  }
  return total / labels.length;
}

/**
 * Mean NDCG@k over queries, as LightGBM's and XGBoost's `ndcg@k`: gain 2^rel − 1, discount
 * 1 / log2(position + 2) for 0-based positions, each query's DCG@k over its ideal DCG@k. `groups` holds
 * query sizes: query q is the next `groups[q]` rows. Rows are ranked by descending score, ties in the
 * given row order. A query with no relevant row (ideal DCG 0) counts as 1, as both libraries count it.
 */
export function ndcgAt(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  groups: ArrayLike<number>,
  k: number,
): number {
  checkInputs(labels, scores);
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`ndcgAt: k must be a positive integer, got ${k}`);
  checkGroups(groups, labels.length);
  let largest = 0;
  for (let q = 0; q < groups.length; q++) largest = Math.max(largest, groups[q]!);
  const order = new Int32Array(largest);
  const ideal = new Float64Array(largest);
  let total = 0;
  for (let q = 0, start = 0; q < groups.length; start += groups[q]!, q++) {
    const size = groups[q]!;
    const top = Math.min(k, size);
    for (let i = 0; i < size; i++) {
      order[i] = start + i;
      ideal[i] = labels[start + i]!;
    }
    const ranked = order.subarray(0, size).sort((a, b) => scores[b]! - scores[a]! || a - b);
    const best = ideal.subarray(0, size).sort().reverse();
    let dcg = 0;
    let idcg = 0;
    for (let i = 0; i < top; i++) {
      const discount = 1 / Math.log2(i + 2);
      dcg += (2 ** labels[ranked[i]!]! - 1) * discount;
      idcg += (2 ** best[i]! - 1) * discount;
    }
    total += idcg > 0 ? dcg / idcg : 1;
  }
  return total / groups.length;
}

/** Query sizes: positive integers that add up to the number of rows. */
export function checkGroups(groups: ArrayLike<number>, rows: number): void {
  let sum = 0;
  for (let q = 0; q < groups.length; q++) {
    const size = groups[q]!;
    if (!Number.isInteger(size) || size < 1) {
      throw new RangeError(`query ${q} has size ${size}: sizes must be positive integers`);
    }
    sum += size;
  }
  if (sum !== rows) throw new RangeError(`query sizes add up to ${sum}, not the ${rows} rows`);
}

/**
 * Average precision (PR-AUC as scikit-learn's `average_precision_score`): Σ (Rₖ − Rₖ₋₁)·Pₖ over the
 * distinct score thresholds, highest first, tied scores entering together. Needs at least one positive.
 */
export function averagePrecision(labels: ArrayLike<number>, scores: ArrayLike<number>): number {
  checkInputs(labels, scores);
  const n = labels.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b]! - scores[a]!);
  let positives = 0;
  for (let i = 0; i < n; i++) positives += labels[i] === 1 ? 1 : 0;
  if (positives === 0) throw new Error('average precision needs a positive among the labels');
  let truePositives = 0;
  let total = 0;
  let start = 0;
  while (start < n) {
    let end = start;
    let gained = 0;
    while (end < n && scores[order[end]!] === scores[order[start]!]) {
      gained += labels[order[end]!] === 1 ? 1 : 0;
      end++;
    }
    truePositives += gained;
    // Recall rises by gained / positives at this threshold, where precision is truePositives / end.
    total += (gained / positives) * (truePositives / end);
    start = end;
  }
  return total;
}

/**
 * Expected calibration error: the row-weighted mean of |mean probability − observed rate| over `bins`
 * equal-width probability bins (Guo et al. 2017; 10 bins, the usual choice). 0 is perfectly calibrated.
 */
export function expectedCalibrationError(
  labels: ArrayLike<number>,
  probabilities: ArrayLike<number>,
  bins = 10,
): number {
  checkInputs(labels, probabilities);
  if (!(Number.isInteger(bins) && bins > 0))
    throw new RangeError(`bins must be a positive integer, got ${bins}`);
  const predicted = new Float64Array(bins);
  const observed = new Float64Array(bins);
  const counts = new Float64Array(bins);
  for (let i = 0; i < labels.length; i++) {
    const p = probabilities[i]!;
    const bin = Math.min(bins - 1, Math.max(0, Math.floor(p * bins)));
    predicted[bin]! += p;
    observed[bin]! += labels[i]!;
    counts[bin]!++;
  }
  let total = 0;
  for (let b = 0; b < bins; b++) total += Math.abs(predicted[b]! - observed[b]!);
  return total / labels.length;
}
