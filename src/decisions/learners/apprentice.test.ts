import { describe, expect, it } from 'vitest';
import { Apprentice, apprenticeFromJSON } from './apprentice.js';
import { LearnerStateError } from './codec.js';
import { EpsilonGreedy } from './epsilon-greedy.js';
import { LinUcb } from './linucb.js';
import { LinearThompson } from './thompson.js';

const one = Float64Array.from([1]);

describe('Apprentice', () => {
  it('never serves anything but the default, whatever the learner prefers', () => {
    const learner = new LinearThompson({ actions: 3, dimension: 2, scale: 1, seed: 4 });
    const apprentice = new Apprentice(learner, { defaultAction: 1 });
    const features = Float64Array.from([1, 0.5]);
    // Teach the learner that action 1 is bad: it would now pick 0 or 2.
    for (let i = 0; i < 20; i++) apprentice.update(1, features, -1);
    expect(learner.probabilities(features)[1]).toBeLessThan(0.5);
    const out = new Float64Array(3);
    for (let i = 0; i < 200; i++) {
      expect(apprentice.choose(features, out)).toBe(1);
      expect(Array.from(out)).toEqual([0, 1, 0]);
    }
    expect(apprentice.choose(features, out, 2)).toBe(2);
    expect(Array.from(out)).toEqual([0, 0, 1]);
    expect(() => apprentice.choose(features, out, 3)).toThrow(/defaultAction/);
  });

  it('reports agreement, the value on agreement and the bounds, as computed by hand', () => {
    // Greedy learner, one feature x = 1, λ = 1. π(default = 0) before each reward:
    //   round 1: θ̂ = (0, 0), a tie → 1/2; reward 1 → θ̂₀ = 1/2
    //   round 2: 1/2 > 0 → 1;             reward 0 → θ̂₀ = 1/3
    //   round 3: 1/3 > 0 → 1;             reward −1 → θ̂₀ = 0
    //   round 4: a tie again → 1/2;       reward 1
    // Σr = 1, Σπ = 3, Σπr = 1/2 + 0 − 1 + 1/2 = 0.
    const apprentice = new Apprentice(new EpsilonGreedy({ actions: 2, dimension: 1, epsilon: 0 }), {
      defaultAction: 0,
      rewardRange: [-1, 1],
    });
    expect(apprentice.report()).toEqual({
      rounds: 0,
      defaultValue: null,
      agreement: null,
      agreedValue: null,
      learnedValueBounds: null,
    });
    for (const reward of [1, 0, -1, 1]) apprentice.update(apprentice.choose(one), one, reward);
    const report = apprentice.report();
    expect(report.rounds).toBe(4);
    expect(report.defaultValue).toBeCloseTo(0.25, 15);
    expect(report.agreement).toBeCloseTo(0.75, 15);
    expect(report.agreedValue).toBeCloseTo(0, 15);
    expect(report.learnedValueBounds![0]).toBeCloseTo(-0.25, 15);
    expect(report.learnedValueBounds![1]).toBeCloseTo(0.25, 15);
    expect(apprentice.learner.updates).toBe(4);
  });

  it('persists with its learner and totals', () => {
    const apprentice = new Apprentice(new LinUcb({ actions: 2, dimension: 1, alpha: 0.5 }), {
      defaultAction: 1,
      rewardRange: [0, 1],
    });
    for (const reward of [1, 0, 1]) apprentice.update(1, one, reward);
    const text = JSON.stringify(apprentice);
    const restored = apprenticeFromJSON(JSON.parse(text));
    expect(JSON.stringify(restored)).toBe(text);
    expect(restored.report()).toEqual(apprentice.report());
    expect(restored.defaultAction).toBe(1);

    const state = JSON.parse(text) as { learner: { models: { b: string } } };
    state.learner.models.b = 'AA==';
    expect(() => apprenticeFromJSON(state)).toThrow(LearnerStateError);
    expect(() => apprenticeFromJSON(state)).toThrow(/learner\.models\.b/);
  });
});
