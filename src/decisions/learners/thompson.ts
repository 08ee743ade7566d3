import { LinearLearner } from './linear.js';
import type { ThompsonOptions } from './types.js';

export const DEFAULT_SCALE = 0.2;
export const DEFAULT_SAMPLES = 100;

/**
 * Linear Thompson sampling (Agrawal & Goyal 2013): draw θ̃ ~ N(θ̂, v²A⁻¹) and take the action it scores
 * highest.
 *
 * Disjoint models are independent across actions, so the draw of action a's score is exactly
 * N(x·θ̂_a, v²·xᵀA_a⁻¹x): one normal per action, no factor of A⁻¹ at all, at LinUCB's cost. A shared model
 * couples the actions' scores, so there θ̃ itself is drawn, through the Cholesky factor of A that the ridge
 * set keeps current by rank-1 updates.
 *
 * Propensities. The probability that a posterior draw picks action a has no closed form, and logging an
 * estimate of it beside an independently drawn choice would log a number that is not the probability of
 * what was done (it could even be zero for the chosen action). Instead the choice is made *from* the
 * estimate: K draws are taken, each action's share of the K argmaxes is the distribution, and `choose`
 * draws from that distribution. Picking one of K independent posterior draws at random is itself a
 * posterior draw, so the behaviour is exactly Thompson sampling, and the logged propensity is exactly the
 * probability of the logged action given the K draws — which is what inverse-propensity weighting needs,
 * since the K draws do not depend on the reward. The price: an action none of the K draws picked has
 * propensity 0 in that round, so a log evaluates only policies inside the draws' support; `floor` > 0
 * removes that limit. K = 100 gives propensities in steps of 0.01, at 100·|A| normals per decision.
 */
export class LinearThompson extends LinearLearner {
  readonly kind = 'thompson' as const;
  readonly scale: number;
  readonly samples: number;
  private readonly means: Float64Array;
  private readonly spreads: Float64Array;
  private readonly draws: Float64Array;
  private readonly thetaDraw: Float64Array;
  private readonly normal: () => number;

  constructor(options: Omit<ThompsonOptions, 'kind'>) {
    super(options, options.layout === 'shared');
    const scale = options.scale ?? DEFAULT_SCALE;
    if (!(scale >= 0) || !Number.isFinite(scale)) throw new RangeError('scale: must be a number ≥ 0');
    const samples = options.samples ?? DEFAULT_SAMPLES;
    if (!Number.isInteger(samples) || samples < 1) throw new RangeError('samples: must be an integer ≥ 1');
    this.scale = scale;
    this.samples = samples;
    this.means = new Float64Array(this.actions);
    this.spreads = new Float64Array(this.actions);
    this.draws = new Float64Array(this.actions);
    this.thetaDraw = new Float64Array(this.dimension);
    const random = this.random;
    this.normal = () => random.normal();
  }

  protected params(): Record<string, number> {
    return { scale: this.scale, samples: this.samples };
  }

  protected writeScores(features: Float64Array, out: Float64Array): void {
    if (this.layout === 'disjoint') {
      this.disjointMoments(features);
      this.disjointDraw(out);
    } else {
      this.sharedDraw(features, out);
    }
  }

  protected writeDistribution(features: Float64Array, out: Float64Array): void {
    // Wins are counted, then divided by K once, so that K wins of K give exactly 1 (adding 1/K K times
    // does not).
    out.fill(0);
    const draws = this.draws;
    if (this.layout === 'disjoint') this.disjointMoments(features);
    for (let k = 0; k < this.samples; k++) {
      if (this.layout === 'disjoint') this.disjointDraw(draws);
      else this.sharedDraw(features, draws);
      this.excludeDisallowed(draws);
      let best = -Infinity;
      let ties = 0;
      for (let a = 0; a < draws.length; a++) {
        const s = draws[a]!;
        if (s > best) {
          best = s;
          ties = 1;
        } else if (s === best) ties++;
      }
      const share = 1 / ties;
      for (let a = 0; a < draws.length; a++) if (draws[a] === best) out[a] = out[a]! + share;
    }
    for (let a = 0; a < out.length; a++) out[a] = out[a]! / this.samples;
  }

  private disjointMoments(features: Float64Array): void {
    const ridge = this.ridgeSet;
    for (let a = 0; a < this.actions; a++) {
      this.means[a] = ridge.mean(a, features, 0);
      this.spreads[a] = this.scale * Math.sqrt(ridge.variance(a, features, 0));
    }
  }

  private disjointDraw(out: Float64Array): void {
    for (let a = 0; a < this.actions; a++) out[a] = this.means[a]! + this.spreads[a]! * this.random.normal();
  }

  private sharedDraw(features: Float64Array, out: Float64Array): void {
    const theta = this.ridgeSet.sample(0, this.scale, this.normal, this.thetaDraw);
    const d = this.dimension;
    for (let a = 0; a < this.actions; a++) {
      let sum = 0;
      const offset = a * d;
      for (let i = 0; i < d; i++) sum += features[offset + i]! * theta[i]!;
      out[a] = sum;
    }
  }
}
