import { describe, expect, it } from 'vitest';
import { EpsilonGreedy } from './epsilon-greedy.js';

const x = (...values: number[]): Float64Array => Float64Array.from(values);

describe('EpsilonGreedy', () => {
  it('gives (1 − ε)·1[greedy] + ε/|A|, summing to one', () => {
    const learner = new EpsilonGreedy({ actions: 4, dimension: 1, epsilon: 0.2 });
    learner.update(2, x(1), 1); // θ̂₂ = 1/2; the rest 0
    const probabilities = learner.probabilities(x(1));
    expect(Array.from(probabilities)).toEqual([0.05, 0.05, 0.85, 0.05].map((p) => expect.closeTo(p, 15)));
    expect(probabilities.reduce((s, p) => s + p, 0)).toBeCloseTo(1, 15);
  });

  it('splits the greedy share over ties', () => {
    const learner = new EpsilonGreedy({ actions: 4, dimension: 1, epsilon: 0.2 });
    learner.update(1, x(1), 1);
    learner.update(3, x(1), 1); // θ̂₁ = θ̂₃ = 1/2
    const probabilities = learner.probabilities(x(1));
    expect(Array.from(probabilities)).toEqual([0.05, 0.45, 0.05, 0.45].map((p) => expect.closeTo(p, 15)));
  });

  it('chooses with the frequencies it reports', () => {
    const learner = new EpsilonGreedy({ actions: 3, dimension: 2, epsilon: 0.3, seed: 99 });
    learner.update(0, x(1, 0), 1);
    const features = x(1, 0);
    const expected = Array.from(learner.probabilities(features));
    const counts = [0, 0, 0];
    const n = 20_000;
    const out = new Float64Array(3);
    let logged = true;
    for (let i = 0; i < n; i++) {
      const action = learner.choose(features, out);
      counts[action]!++;
      logged &&= out[action] === expected[action];
    }
    expect(logged).toBe(true);
    counts.forEach((count, a) => {
      const p = expected[a]!;
      expect(Math.abs(count / n - p)).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / n));
    });
  });
});
