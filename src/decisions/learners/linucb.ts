import { argmaxShares, LinearLearner } from './linear.js';
import type { LinUcbOptions } from './types.js';

export const DEFAULT_ALPHA = 1;

/**
 * LinUCB (Li, Chu, Langford & Schapire 2010): the action with the highest upper confidence bound
 * x_aᵀθ̂_a + α·√(x_aᵀA_a⁻¹x_a). The policy is deterministic, so its propensities are 1 for the argmax (ties
 * split evenly) and 0 elsewhere, before the floor; a log of it can only evaluate policies that agree with
 * it unless `floor` > 0.
 */
export class LinUcb extends LinearLearner {
  readonly kind = 'linucb' as const;
  readonly alpha: number;
  private readonly bounds: Float64Array;

  constructor(options: Omit<LinUcbOptions, 'kind'>) {
    super(options, false);
    const alpha = options.alpha ?? DEFAULT_ALPHA;
    if (!(alpha >= 0) || !Number.isFinite(alpha)) throw new RangeError('alpha: must be a number ≥ 0');
    this.alpha = alpha;
    this.bounds = new Float64Array(this.actions);
  }

  protected params(): Record<string, number> {
    return { alpha: this.alpha };
  }

  protected writeScores(features: Float64Array, out: Float64Array): void {
    const ridge = this.ridgeSet;
    for (let a = 0; a < this.actions; a++) {
      const model = this.modelOf(a);
      const offset = this.offsetOf(a);
      out[a] =
        ridge.mean(model, features, offset) + this.alpha * Math.sqrt(ridge.variance(model, features, offset));
    }
  }

  protected writeDistribution(features: Float64Array, out: Float64Array): void {
    this.writeScores(features, this.bounds);
    this.excludeDisallowed(this.bounds);
    argmaxShares(this.bounds, out, 1);
  }
}
