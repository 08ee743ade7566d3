import { lambdaRank } from './gbdt-rank.js';

/**
 * Boosting objectives: what a tree fits is the per-row gradient and hessian of the loss at the current
 * margins (second-order boosting, as XGBoost). An objective sees whole arrays rather than one row at a
 * time so that objectives over groups of rows (LambdaRank over a query's items) fit the same interface.
 */
export interface GbdtObjective {
  /** Stored with a model to find the objective again (`objectiveByName`). */
  readonly name: GbdtObjectiveName;
  /** The margin every prediction starts from before any tree (`weights`: per-row sample weights). */
  baseScore(labels: Float64Array, weights?: Float64Array): number;
  /**
   * Fills grad[i], hess[i] with the loss's first and second derivatives at margins[i]. `groups` (query
   * sizes, see `GbdtDataset.group`) is given when the data has queries; pointwise objectives ignore it.
   * `weights` (`GbdtDataset.weight`) is passed only to an objective that `weighsRows`; for the others the
   * trainer scales each row's gradient and hessian by its weight afterwards.
   */
  gradients(
    labels: Float64Array,
    margins: Float64Array,
    grad: Float64Array,
    hess: Float64Array,
    groups?: Int32Array,
    weights?: Float64Array,
  ): void;
  /**
   * Mean loss over the rows (lower is better): the training curve and the early-stopping criterion. For
   * a ranking objective, 1 − mean NDCG@k over the queries. With `weights`, the weighted mean (a ranking
   * objective weighs each row's gain).
   */
  loss(labels: Float64Array, margins: Float64Array, groups?: Int32Array, weights?: Float64Array): number;
  /** True when the objective needs query groups on every data set it sees. */
  readonly needsGroups?: boolean;
  /**
   * True when `gradients` applies sample weights itself: a pairwise objective weighs pairs, which
   * scaling each row's gradient afterwards cannot express.
   */
  readonly weighsRows?: boolean;
  /** A margin on the prediction scale (a probability for binary log loss). */
  transform(margin: number): number;
  /** Throws if a label is not valid for this objective. */
  checkLabels(labels: Float64Array): void;
}

export type GbdtObjectiveName = 'binary:logistic' | 'reg:squarederror' | 'rank:ndcg';

/** Hessians are floored so that a confidently right leaf cannot make H + λ collapse numerically. */
const MIN_HESSIAN = 1e-16;

const sigmoid = (m: number): number => 1 / (1 + Math.exp(-m));

/** log(1 + e^x) without overflow for large x. */
const softplus = (x: number): number => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)));

/** Binary log loss on a logit margin; labels in [0, 1] (soft labels are allowed). */
export const binaryLogistic: GbdtObjective = {
  name: 'binary:logistic',
  baseScore(labels, weights) {
    // The log-odds of the mean label: the best constant margin. Clamped so an all-0 or all-1 training
    // set gives a large finite margin rather than ±Infinity.
    const mean = weights === undefined ? meanOf(labels) : weightedMeanOf(labels, weights);
    const p = Math.min(1 - 1e-7, Math.max(1e-7, mean));
    return Math.log(p / (1 - p));
  },
  gradients(labels, margins, grad, hess) {
    for (let i = 0; i < labels.length; i++) {
      const p = sigmoid(margins[i]!);
      grad[i] = p - labels[i]!;
      const h = p * (1 - p);
      hess[i] = h > MIN_HESSIAN ? h : MIN_HESSIAN;
    }
  },
  loss(labels, margins, _groups, weights) {
    // -[y log p + (1 - y) log(1 - p)] = softplus(m) - y m, stable for any margin.
    if (weights !== undefined) {
      return weightedMeanOfRows(
        labels.length,
        weights,
        (i) => softplus(margins[i]!) - labels[i]! * margins[i]!,
      );
    }
    let sum = 0;
    for (let i = 0; i < labels.length; i++) sum += softplus(margins[i]!) - labels[i]! * margins[i]!;
    return labels.length === 0 ? 0 : sum / labels.length;
  },
  transform: sigmoid,
  checkLabels(labels) {
    for (let i = 0; i < labels.length; i++) {
      const y = labels[i]!;
      if (!(y >= 0 && y <= 1))
        throw new RangeError(`binary:logistic: label ${y} at row ${i} is not in [0, 1]`);
    }
  },
};

/** Squared error ½(m - y)²: gradient m - y, hessian 1, so leaves are shrunk means of residuals. */
export const squaredError: GbdtObjective = {
  name: 'reg:squarederror',
  baseScore: (labels, weights) => (weights === undefined ? meanOf(labels) : weightedMeanOf(labels, weights)),
  gradients(labels, margins, grad, hess) {
    for (let i = 0; i < labels.length; i++) {
      grad[i] = margins[i]! - labels[i]!;
      hess[i] = 1;
    }
  },
  loss(labels, margins, _groups, weights) {
    if (weights !== undefined) {
      return weightedMeanOfRows(labels.length, weights, (i) => (margins[i]! - labels[i]!) ** 2);
    }
    let sum = 0;
    for (let i = 0; i < labels.length; i++) {
      const e = margins[i]! - labels[i]!;
      sum += e * e;
    }
    // Reported as the mean squared error (not halved), the figure people compare.
    return labels.length === 0 ? 0 : sum / labels.length;
  },
  transform: (m) => m,
  checkLabels(labels) {
    for (let i = 0; i < labels.length; i++) {
      if (!Number.isFinite(labels[i]!))
        throw new RangeError(`reg:squarederror: label at row ${i} is not finite`);
    }
  },
};

export function objectiveByName(name: string): GbdtObjective {
  if (name === binaryLogistic.name) return binaryLogistic;
  if (name === squaredError.name) return squaredError;
  // A stored ranker only needs the objective's transform (the identity); the training options are moot.
  if (name === 'rank:ndcg') return lambdaRank();
  throw new RangeError(`unknown GBDT objective '${name}'`);
}

/** Σ wᵢyᵢ / Σ wᵢ (0 when the weights sum to 0). */
function weightedMeanOf(values: Float64Array, weights: Float64Array): number {
  return weightedMeanOfRows(values.length, weights, (i) => values[i]!);
}

function weightedMeanOfRows(n: number, weights: Float64Array, value: (i: number) => number): number {
  let sum = 0;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const w = weights[i]!;
    if (w === 0) continue;
    sum += w * value(i);
    total += w;
  }
  return total > 0 ? sum / total : 0;
}

function meanOf(values: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]!;
  return values.length === 0 ? 0 : sum / values.length;
}
