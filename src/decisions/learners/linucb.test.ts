import { describe, expect, it } from 'vitest';
import { LinUcb } from './linucb.js';

const x = (...values: number[]): Float64Array => Float64Array.from(values);

/**
 * Two actions, two features, λ = 1. After the rewards below:
 *   A₀ = I + (1,0)(1,0)ᵀ + (1,1)(1,1)ᵀ = [3 1; 1 2], A₀⁻¹ = [2 −1; −1 3]/5, b₀ = (1, 0), θ̂₀ = (0.4, −0.2)
 *   A₁ = I + (0,1)(0,1)ᵀ = [1 0; 0 2],          A₁⁻¹ = diag(1, 1/2),       b₁ = (0, 2), θ̂₁ = (0, 1)
 */
function trained(alpha: number, floor = 0): LinUcb {
  const learner = new LinUcb({ actions: 2, dimension: 2, alpha, floor });
  learner.update(0, x(1, 0), 1);
  learner.update(0, x(1, 1), 0);
  learner.update(1, x(0, 1), 2);
  return learner;
}

describe('LinUCB', () => {
  it('matches hand-computed estimates and confidence bounds', () => {
    const learner = trained(1);
    // x = (1, 1): means 0.2 and 1; xᵀA⁻¹x = 3/5 and 3/2.
    expect(Array.from(learner.estimates(x(1, 1)))).toEqual([expect.closeTo(0.2, 12), expect.closeTo(1, 12)]);
    const bounds = learner.scores(x(1, 1));
    expect(bounds[0]).toBeCloseTo(0.2 + Math.sqrt(0.6), 12);
    expect(bounds[1]).toBeCloseTo(1 + Math.sqrt(1.5), 12);
    // x = (1, 0): means 0.4 and 0; xᵀA⁻¹x = 2/5 and 1, so the bonus puts action 0 ahead.
    const other = learner.scores(x(1, 0));
    expect(other[0]).toBeCloseTo(0.4 + Math.sqrt(0.4), 12);
    expect(other[1]).toBeCloseTo(1, 12);
    expect(Array.from(learner.probabilities(x(1, 1)))).toEqual([0, 1]);
    expect(Array.from(learner.probabilities(x(1, 0)))).toEqual([1, 0]);
    expect(learner.choose(x(1, 1))).toBe(1);
    expect(learner.updates).toBe(3);
  });

  it('scales the bonus by α', () => {
    const learner = trained(0.5);
    const bounds = learner.scores(x(0, 1));
    // x = (0, 1): means −0.2 and 1; xᵀA⁻¹x = 3/5 and 1/2.
    expect(bounds[0]).toBeCloseTo(-0.2 + 0.5 * Math.sqrt(0.6), 12);
    expect(bounds[1]).toBeCloseTo(1 + 0.5 * Math.sqrt(0.5), 12);
  });

  it('splits exact ties evenly and draws among them', () => {
    const learner = new LinUcb({ actions: 3, dimension: 2, alpha: 1, seed: 5 });
    const probabilities = learner.probabilities(x(1, 0));
    expect(Array.from(probabilities)).toEqual([1 / 3, 1 / 3, 1 / 3]);
    const seen = new Set<number>();
    for (let i = 0; i < 60; i++) seen.add(learner.choose(x(1, 0)));
    expect([...seen].sort()).toEqual([0, 1, 2]);
  });

  it('mixes in the floor, keeping the sum at one', () => {
    const learner = trained(1, 0.1);
    const probabilities = learner.probabilities(x(1, 1));
    expect(probabilities[0]).toBeCloseTo(0.05, 15);
    expect(probabilities[1]).toBeCloseTo(0.95, 15);
  });

  it('reads each action its own row in the shared layout', () => {
    const learner = new LinUcb({ actions: 2, dimension: 2, alpha: 1, layout: 'shared' });
    const rows = x(1, 0, 0, 1); // action 0 ↦ (1, 0), action 1 ↦ (0, 1)
    learner.update(0, rows, 1);
    // One model: A = diag(2, 1), b = (1, 0), θ̂ = (0.5, 0).
    const bounds = learner.scores(rows);
    expect(bounds[0]).toBeCloseTo(0.5 + Math.sqrt(0.5), 12);
    expect(bounds[1]).toBeCloseTo(1, 12);
    expect(learner.inputLength).toBe(4);
  });

  it('rejects malformed input, naming it', () => {
    const learner = trained(1);
    expect(() => learner.choose(x(1, 2, 3))).toThrow(/features: expected 2/);
    expect(() => learner.update(0, x(1, Number.NaN), 1)).toThrow(/features\[1\]/);
    expect(() => learner.update(2, x(1, 0), 1)).toThrow(/action: 2/);
    expect(() => learner.update(0, x(1, 0), Number.POSITIVE_INFINITY)).toThrow(/reward/);
    expect(() => learner.probabilities(x(1, 0), new Float64Array(3))).toThrow(/out: expected 2/);
    expect(() => new LinUcb({ actions: 0, dimension: 2 })).toThrow(/actions/);
    expect(() => new LinUcb({ actions: 2, dimension: 2, alpha: -1 })).toThrow(/alpha/);
    // A rejected update leaves the model untouched.
    expect(learner.updates).toBe(3);
  });
});
