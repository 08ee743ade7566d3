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
