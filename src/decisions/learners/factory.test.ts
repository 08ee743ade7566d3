import { describe, expect, it } from 'vitest';
import { LearnerStateError } from './codec.js';
import { createLearner, learnerFromJSON } from './factory.js';
import { LinUcb } from './linucb.js';
import { LearnerRandom } from './random.js';
import type { Learner, LearnerOptions } from './types.js';

const CASES: LearnerOptions[] = [
  { kind: 'linucb', actions: 3, dimension: 4, alpha: 0.7, floor: 0.05, seed: 1, layout: 'disjoint' },
  {
    kind: 'epsilon-greedy',
    actions: 3,
    dimension: 4,
    epsilon: 0.1,
    seed: 2,
    refreshEvery: 7,
    layout: 'disjoint',
  },
  { kind: 'thompson', actions: 3, dimension: 4, scale: 0.3, samples: 16, seed: 3, layout: 'disjoint' },
  {
    kind: 'thompson',
    actions: 3,
    dimension: 4,
    scale: 0.3,
    samples: 16,
    seed: 4,
    layout: 'shared',
    ridge: 2,
  },
  { kind: 'linucb', actions: 3, dimension: 4, alpha: 0.7, seed: 5, layout: 'shared' },
];

/** Plays `rounds` decisions with rewards from a fixed linear world, returning every probability and choice. */
function play(learner: Learner, rounds: number, seed: number): number[] {
  const world = new LearnerRandom(seed);
  const features = new Float64Array(learner.inputLength);
  const out = new Float64Array(learner.actions);
  const trace: number[] = [];
  for (let t = 0; t < rounds; t++) {
    for (let i = 0; i < features.length; i++) features[i] = world.normal();
    const action = learner.choose(features, out);
    trace.push(action, ...out);
    learner.update(action, features, features[action % features.length]! + 0.1 * world.normal());
  }
  return trace;
}

describe('learner persistence', () => {
  it.each(CASES)('restores $kind ($layout) bit for bit and continues identically', (options) => {
    const learner = createLearner(options);
    play(learner, 30, 10);
    const text = JSON.stringify(learner);
    const restored = learnerFromJSON(JSON.parse(text));
    expect(JSON.stringify(restored)).toBe(text);
    expect(restored.updates).toBe(30);
    expect(restored.kind).toBe(options.kind);
    // Same choices, same propensities (compared as exact doubles), same state after 30 more rounds.
    expect(play(restored, 30, 11)).toEqual(play(learner, 30, 11));
    expect(JSON.stringify(restored)).toBe(JSON.stringify(learner));
  });

  it('keeps −0 and every other bit of the arrays', () => {
    const learner = new LinUcb({ actions: 2, dimension: 2 });
    learner.update(0, Float64Array.from([1, 0.1]), -0.3);
    // JSON numbers would turn −0 into 0; the base64 doubles must not.
    learner.ridgeSet.b[3] = -0;
    const restored = learnerFromJSON(JSON.parse(JSON.stringify(learner))) as LinUcb;
    expect(Object.is(restored.ridgeSet.b[3], -0)).toBe(true);
    for (const key of ['a', 'ainv', 'b', 'theta'] as const) {
      expect(Buffer.from(restored.ridgeSet[key].buffer)).toEqual(Buffer.from(learner.ridgeSet[key].buffer));
    }
  });

  it('names the field of malformed state', () => {
    const good = createLearner({ kind: 'thompson', actions: 2, dimension: 3, layout: 'shared' }).toJSON();
    const broken = (patch: (state: Record<string, unknown>) => void): unknown => {
      const state = JSON.parse(JSON.stringify(good)) as Record<string, unknown>;
      patch(state);
      return state;
    };
    const fieldOf = (value: unknown): string => {
      try {
        learnerFromJSON(value);
      } catch (error) {
        if (error instanceof LearnerStateError) return error.field;
        throw error;
      }
      throw new Error('accepted');
    };
    expect(fieldOf(null)).toBe('(root)');
    expect(fieldOf(broken((s) => (s.format = 'other')))).toBe('format');
    expect(fieldOf(broken((s) => (s.version = 2)))).toBe('version');
    expect(fieldOf(broken((s) => (s.kind = 'ucb1')))).toBe('kind');
    expect(fieldOf(broken((s) => (s.actions = 1.5)))).toBe('actions');
    expect(fieldOf(broken((s) => (s.ridge = -1)))).toBe('ridge');
    expect(fieldOf(broken((s) => delete (s.params as Record<string, unknown>).samples))).toBe(
      'params.samples',
    );
    expect(fieldOf(broken((s) => ((s.random as { state: number[] }).state = [1, 2])))).toBe('random.state');
    expect(fieldOf(broken((s) => ((s.models as Record<string, unknown>).ainv = 'AAAA')))).toBe('models.ainv');
    expect(fieldOf(broken((s) => ((s.models as Record<string, unknown>).theta = '$$$$')))).toBe(
      'models.theta',
    );
    expect(fieldOf(broken((s) => ((s.models as Record<string, unknown>).factor = null)))).toBe(
      'models.factor',
    );
    expect(fieldOf(broken((s) => ((s.models as Record<string, unknown>).counts = [-1])))).toBe(
      'models.counts[0]',
    );
    expect(() => learnerFromJSON(broken((s) => (s.floor = 3)))).toThrow(/learner state: floor/);
  });

  it('refuses unknown kinds when created', () => {
    expect(() => createLearner({ kind: 'ucb1' } as unknown as LearnerOptions)).toThrow(/kind/);
  });
});
