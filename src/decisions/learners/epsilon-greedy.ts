import { argmaxShares, LinearLearner } from './linear.js';
import type { EpsilonGreedyOptions } from './types.js';

export const DEFAULT_EPSILON = 0.05;

/**
 * Epsilon-greedy over the ridge estimates: the action with the highest x_aᵀθ̂_a, except that a share ε of
 * choices is uniform. Its propensity is exact: (1 − ε)·1[a is greedy]/|ties| + ε/|A|.
 */
export class EpsilonGreedy extends LinearLearner {
  readonly kind = 'epsilon-greedy' as const;
  readonly epsilon: number;
  private readonly means: Float64Array;

  constructor(options: Omit<EpsilonGreedyOptions, 'kind'>) {
    super(options, false);
    const epsilon = options.epsilon ?? DEFAULT_EPSILON;
    if (!(epsilon >= 0 && epsilon <= 1)) throw new RangeError('epsilon: must lie in [0, 1]');
    this.epsilon = epsilon;
    this.means = new Float64Array(this.actions);
  }

  protected params(): Record<string, number> {
    return { epsilon: this.epsilon };
  }

  protected writeScores(features: Float64Array, out: Float64Array): void {
    const ridge = this.ridgeSet;
    for (let a = 0; a < this.actions; a++) out[a] = ridge.mean(this.modelOf(a), features, this.offsetOf(a));
  }

  protected writeDistribution(features: Float64Array, out: Float64Array): void {
    this.writeScores(features, this.means);
    this.excludeDisallowed(this.means);
    argmaxShares(this.means, out, 1 - this.epsilon);
    const uniform = this.epsilon / this.allowedCount;
    const allowed = this.allowed;
    for (let a = 0; a < this.actions; a++) if (allowed === null || allowed[a]) out[a] = out[a]! + uniform;
  }
}
