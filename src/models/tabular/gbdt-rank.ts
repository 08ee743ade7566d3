import type { GbdtObjective } from './gbdt-objective.js';
import { checkGroups, ndcgAt } from './metrics.js';

/**
 * LambdaRank for NDCG (Burges 2010; LightGBM's `lambdarank`, XGBoost's `rank:ndcg`): within each query,
 * every pair of rows with different relevance pulls the better one up and the other down by the
 * RankNet gradient σ·ρ, ρ = 1 / (1 + e^{σ(s_hi − s_lo)}), weighted by |ΔNDCG|, the change in the
 * query's NDCG if the two swapped places in the current ranking. Gains are 2^rel − 1, discounts
 * 1 / log2(position + 2), normalised by the ideal DCG at the truncation level.
 */
export interface LambdaRankOptions {
  /**
   * Only pairs whose better-placed row sits in the top `truncation` positions of the current ranking
   * contribute (LightGBM's `lambdarank_truncation_level`): the top of the list is what NDCG@k rewards,
   * and the pair count drops from O(m²) to O(m·truncation) per query.
   */
  readonly truncation: number;
  /** k of the NDCG@k that `loss` reports as 1 − NDCG@k (the early-stopping criterion). */
  readonly evalAt: number;
}

export const defaultLambdaRankOptions: LambdaRankOptions = { truncation: 30, evalAt: 10 };

/** The RankNet sigmoid's steepness σ (1 in both libraries). */
const SIGMA = 1;
/** As the pointwise objectives: a query with nothing to order must not leave H + λ at zero. */
const MIN_HESSIAN = 1e-16;
/** Relevance levels as both libraries allow them by default: integers 0..31 (2^31 − 1 stays exact). */
const MAX_LABEL = 31;

export function lambdaRank(options: Partial<LambdaRankOptions> = {}): GbdtObjective {
  const { truncation, evalAt } = { ...defaultLambdaRankOptions, ...options };
  if (!Number.isInteger(truncation) || truncation < 1) {
    throw new RangeError(`lambdaRank: truncation must be a positive integer, got ${truncation}`);
  }
  if (!Number.isInteger(evalAt) || evalAt < 1) {
    throw new RangeError(`lambdaRank: evalAt must be a positive integer, got ${evalAt}`);
  }
  // Scratch for the largest query seen, grown on demand (gradients run once per tree).
  let order = new Int32Array(0);
  let ideal = new Float64Array(0);
  const groupsOf = (groups: Int32Array | undefined, rows: number): Int32Array => {
    if (groups === undefined) throw new RangeError('rank:ndcg needs query groups (GbdtDataset.group)');
    checkGroups(groups, rows);
    return groups;
  };

  return {
    name: 'rank:ndcg',
    needsGroups: true,
    // A row's weight scales the pairs in which it is the more relevant row: with inverse-propensity
    // weights that is the unbiased pairwise estimate (Joachims et al. 2017; Agarwal et al. 2019), where
    // a per-row scale would also push the less relevant row by the other row's weight.
    weighsRows: true,
    // Scores are only compared within a query: the constant is irrelevant, 0 keeps margins readable.
    baseScore: () => 0,
    gradients(labels, margins, grad, hess, groups, weights) {
      const sizes = groupsOf(groups, labels.length);
      grad.fill(0);
      hess.fill(0);
      for (let q = 0, start = 0; q < sizes.length; start += sizes[q]!, q++) {
        const m = sizes[q]!;
        if (order.length < m) {
          order = new Int32Array(m);
          ideal = new Float64Array(m);
        }
        for (let i = 0; i < m; i++) {
          order[i] = start + i;
          ideal[i] = labels[start + i]!;
        }
        const top = Math.min(truncation, m);
        const best = ideal.subarray(0, m).sort().reverse();
        let maxDcg = 0;
        for (let i = 0; i < top; i++) maxDcg += (2 ** best[i]! - 1) / Math.log2(i + 2);
        if (maxDcg === 0) continue; // all rows irrelevant: no pair to order
        const inverseMaxDcg = 1 / maxDcg;
        // The current ranking, ties in row order so a fixed seed gives the same trees.
        const ranked = order.subarray(0, m).sort((a, b) => margins[b]! - margins[a]! || a - b);
        for (let i = 0; i < top; i++) {
          const a = ranked[i]!;
          const ya = labels[a]!;
          const discountA = 1 / Math.log2(i + 2);
          for (let j = i + 1; j < m; j++) {
            const b = ranked[j]!;
            const yb = labels[b]!;
            if (ya === yb) continue;
            const hi = ya > yb ? a : b;
            const lo = ya > yb ? b : a;
            const deltaNdcg =
              Math.abs((2 ** ya - 2 ** yb) * (discountA - 1 / Math.log2(j + 2))) * inverseMaxDcg;
            const rho = 1 / (1 + Math.exp(SIGMA * (margins[hi]! - margins[lo]!)));
            const pairWeight = weights === undefined ? deltaNdcg : deltaNdcg * weights[hi]!;
            const lambda = SIGMA * rho * pairWeight;
            const h = SIGMA * SIGMA * rho * (1 - rho) * pairWeight;
            grad[hi]! -= lambda;
            grad[lo]! += lambda;
            hess[hi]! += h;
            hess[lo]! += h;
          }
        }
      }
      for (let i = 0; i < hess.length; i++) if (hess[i]! < MIN_HESSIAN) hess[i] = MIN_HESSIAN;
    },
    loss(labels, margins, groups, weights) {
      const sizes = groupsOf(groups, labels.length);
      return (
        1 -
        (weights === undefined
          ? ndcgAt(margins, labels, sizes, evalAt)
          : weightedNdcg(margins, labels, sizes, evalAt, weights))
      );
    },
    transform: (m) => m,
    checkLabels(labels) {
      for (let i = 0; i < labels.length; i++) {
        const y = labels[i]!;
        if (!(Number.isInteger(y) && y >= 0 && y <= MAX_LABEL)) {
          throw new RangeError(`rank:ndcg: label ${y} at row ${i} is not an integer relevance in [0, 31]`);
        }
      }
    },
  };
}

/**
 * Mean NDCG@k with each row's gain (2^rel − 1) times its weight: with inverse-propensity weights, the
 * debiased NDCG. Ties in row order; a query with no weighted gain counts as 1, as `ndcgAt` does.
 */
function weightedNdcg(
  scores: Float64Array,
  labels: Float64Array,
  groups: Int32Array,
  k: number,
  weights: Float64Array,
): number {
  let total = 0;
  for (let q = 0, start = 0; q < groups.length; start += groups[q]!, q++) {
    const size = groups[q]!;
    const rows = Int32Array.from({ length: size }, (_, i) => start + i);
    const gainOf = (r: number): number => (2 ** labels[r]! - 1) * weights[r]!;
    const ranked = rows.slice().sort((a, b) => scores[b]! - scores[a]! || a - b);
    const ideal = Float64Array.from(rows, gainOf).sort().reverse();
    let dcg = 0;
    let idcg = 0;
    for (let i = 0; i < Math.min(k, size); i++) {
      const discount = 1 / Math.log2(i + 2);
      dcg += gainOf(ranked[i]!) * discount;
      idcg += ideal[i]! * discount;
    }
    total += idcg > 0 ? dcg / idcg : 1;
  }
  return groups.length === 0 ? 0 : total / groups.length;
}

/**
 * Query sizes from a query id per row, for data whose rows arrive grouped by query (each query's rows
 * consecutive, as LightGBM and XGBoost require). Throws when a query id comes back after another.
 */
export function groupsFromQueryIds(queryIds: ArrayLike<number>): Int32Array {
  const sizes: number[] = [];
  const seen = new Set<number>();
  for (let i = 0; i < queryIds.length; i++) {
    const id = queryIds[i]!;
    if (i > 0 && id === queryIds[i - 1]) {
      sizes[sizes.length - 1]!++;
      continue;
    }
    if (seen.has(id)) throw new RangeError(`groupsFromQueryIds: query ${id} is not contiguous (row ${i})`);
    seen.add(id);
    sizes.push(1);
  }
  return Int32Array.from(sizes);
}
