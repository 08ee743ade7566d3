import { describe, expect, it } from 'vitest';
import { LinearThompson } from './thompson.js';

const x = (...values: number[]): Float64Array => Float64Array.from(values);

/** Φ by Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7): plenty for checking frequencies. */
function normalCdf(z: number): number {
  const t = 1 / (1 + (0.3275911 * Math.abs(z)) / Math.SQRT2);
  const poly =
    t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-(z * z) / 2);
  return z >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

/** Two disjoint actions over two features, a few rewards each. */
function trained(
  scale: number,
  options: { samples?: number; floor?: number; seed?: number } = {},
): LinearThompson {
  const learner = new LinearThompson({ actions: 2, dimension: 2, scale, seed: 17, ...options });
  learner.update(0, x(1, 0), 1);
  learner.update(0, x(1, 1), 0.5);
  learner.update(1, x(0, 1), 0.8);
  learner.update(1, x(1, 1), 0.4);
  return learner;
}

describe('LinearThompson', () => {
  it('draws disjoint scores from N(x·θ̂_a, v²·xᵀA_a⁻¹x)', () => {
    const scale = 0.7;
    const learner = trained(scale);
    const features = x(1, 0.5);
    const means = learner.estimates(features);
    const sds = [0, 1].map((a) => scale * Math.sqrt(learner.ridgeSet.variance(a, features, 0)));
    const n = 20_000;
    const sum = [0, 0];
    const squares = [0, 0];
    const out = new Float64Array(2);
    for (let i = 0; i < n; i++) {
      learner.scores(features, out);
      for (let a = 0; a < 2; a++) {
        sum[a]! += out[a]!;
        squares[a]! += (out[a]! - means[a]!) ** 2;
      }
    }
    for (let a = 0; a < 2; a++) {
      const sd = sds[a]!;
      expect(Math.abs(sum[a]! / n - means[a]!)).toBeLessThan((4 * sd) / Math.sqrt(n));
      expect(Math.abs(Math.sqrt(squares[a]! / n) / sd - 1)).toBeLessThan(0.03);
    }
  });

  it('draws shared θ̃ from N(θ̂, v²A⁻¹) through the Cholesky factor of A', () => {
    const scale = 0.5;
    const learner = new LinearThompson({ actions: 2, dimension: 2, scale, layout: 'shared', seed: 3 });
    const rows = x(1, 0.5, -0.5, 1);
    learner.update(0, rows, 1);
    learner.update(1, rows, -1);
    learner.update(0, rows, 0.5);
    const ridge = learner.ridgeSet;
    const n = 40_000;
    const mean = [0, 0];
    const second = [0, 0, 0, 0];
    const draw = new Float64Array(2);
    const random = learner.random;
    for (let i = 0; i < n; i++) {
      ridge.sample(0, scale, () => random.normal(), draw);
      for (let j = 0; j < 2; j++) {
        mean[j]! += draw[j]! / n;
        for (let k = 0; k < 2; k++)
          second[j * 2 + k]! += ((draw[j]! - ridge.theta[j]!) * (draw[k]! - ridge.theta[k]!)) / n;
      }
    }
    for (let j = 0; j < 2; j++) {
      expect(Math.abs(mean[j]! - ridge.theta[j]!)).toBeLessThan(
        4 * scale * Math.sqrt(ridge.ainv[j * 3]! / n),
      );
    }
    for (let e = 0; e < 4; e++) expect(second[e]).toBeCloseTo(scale * scale * ridge.ainv[e]!, 2);
  });

  it('reports the win shares of K draws: multiples of 1/K summing to one, centred on the true marginal', () => {
    const scale = 1;
    const samples = 100;
    const learner = trained(scale, { samples });
    const features = x(1, 0.5);
    const [m0, m1] = learner.estimates(features);
    const s0 = learner.ridgeSet.variance(0, features, 0);
    const s1 = learner.ridgeSet.variance(1, features, 0);
    const marginal = normalCdf((m0! - m1!) / (scale * Math.sqrt(s0 + s1)));
    expect(marginal).toBeGreaterThan(0.2);
    expect(marginal).toBeLessThan(0.8);

    const calls = 300;
    let average = 0;
    const out = new Float64Array(2);
    for (let i = 0; i < calls; i++) {
      learner.probabilities(features, out);
      expect(out[0]! + out[1]!).toBeCloseTo(1, 12);
      expect(Math.abs(out[0]! * samples - Math.round(out[0]! * samples))).toBeLessThan(1e-9);
      average += out[0]! / calls;
    }
    expect(Math.abs(average - marginal)).toBeLessThan(
      4 * Math.sqrt((marginal * (1 - marginal)) / (samples * calls)),
    );
  });

  it('chooses as Thompson sampling does, logging at least 1/K for the chosen action', () => {
    const scale = 1;
    const learner = trained(scale, { samples: 20, seed: 8 });
    const features = x(1, 0.5);
    const [m0, m1] = learner.estimates(features);
    const spread = Math.sqrt(
      learner.ridgeSet.variance(0, features, 0) + learner.ridgeSet.variance(1, features, 0),
    );
    const marginal = normalCdf((m0! - m1!) / (scale * spread));
    const n = 10_000;
    let zeros = 0;
    let smallest = 1;
    const out = new Float64Array(2);
    for (let i = 0; i < n; i++) {
      const action = learner.choose(features, out);
      if (action === 0) zeros++;
      smallest = Math.min(smallest, out[action]!);
    }
    expect(Math.abs(zeros / n - marginal)).toBeLessThan(4 * Math.sqrt((marginal * (1 - marginal)) / n));
    expect(smallest).toBeGreaterThanOrEqual(1 / 20);
  });

  it('keeps every propensity at floor/|A| or more with a floor', () => {
    const learner = trained(0.01, { floor: 0.2 });
    const out = learner.probabilities(x(1, 0));
    expect(Math.min(out[0]!, out[1]!)).toBeGreaterThanOrEqual(0.1 - 1e-15);
    expect(out[0]! + out[1]!).toBeCloseTo(1, 15);
  });

  it('is greedy at scale 0', () => {
    const learner = trained(0);
    const features = x(1, 0);
    const estimates = learner.estimates(features);
    const greedy = estimates[0]! > estimates[1]! ? 0 : 1;
    expect(learner.probabilities(features)[greedy]).toBe(1);
  });
});
