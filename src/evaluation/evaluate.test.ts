import { describe, expect, it } from 'vitest';
import { defaultParams, fitRecommender } from '../models/index.js';
import type { Interaction } from './datasets.js';
import { evaluateModels } from './evaluate.js';
import type { ResultLine } from './harness.js';
import { prepareDataset, trainingInput } from './protocol.js';
import { rankHeldOut } from './scoring.js';

/**
 * 40 users over 30 items in two taste groups (even and odd items), ten distinct items each: two go to
 * test, and of the eight left one goes to validation.
 */
const rows: Interaction[] = Array.from({ length: 40 }, (_, user) =>
  Array.from({ length: 10 }, (_, j) => ({
    user: `u${user}`,
    item: `i${2 * ((7 * user + j) % 15) + (user % 2)}`,
    rating: null,
    timestamp: j,
  })),
).flat();

describe('evaluateModels', () => {
  it('runs the real models end to end', async () => {
    const lines: ResultLine[] = [];
    const small = { ...defaultParams.als, factors: 4, iterations: 3 };
    const options = {
      models: ['pop', 'itemknn', 'implicit_als'],
      k: 5,
      grids: { als: [small, { ...small, regularization: 1 }] },
    };
    for await (const line of evaluateModels(rows, options)) lines.push(line);
    expect(lines.map((line) => line.model)).toEqual(['pop', 'itemknn', 'implicit_als']);
    for (const line of lines) {
      expect(line.n_test_users).toBe(40);
      for (const key of ['recall@5', 'ndcg@5', 'coverage@5'] as const) {
        expect(line[key]).toBeGreaterThanOrEqual(0);
        expect(line[key]).toBeLessThanOrEqual(1);
      }
    }
    expect(lines[2]!['val_ndcg@5']).toBeGreaterThan(0);
    // `pop` is the real popularity model (plain counts) fitted on the whole train split.
    const data = await prepareDataset(rows);
    const input = trainingInput(data.train);
    const popularity = await fitRecommender('popularity', input, { halfLifeDays: null });
    const expected = rankHeldOut(popularity, input.matrix, data.test, 5, input.times);
    expect(lines[0]!['ndcg@5']).toBeCloseTo(expected.ndcg, 5);
    expect(lines[0]!['recall@5']).toBeCloseTo(expected.recall, 5);
    // The groups are disjoint, so models that learn them beat plain popularity, by far.
    expect(lines[1]!['ndcg@5']).toBeGreaterThan(2 * lines[0]!['ndcg@5']!);
    expect(lines[2]!['ndcg@5']).toBeGreaterThan(2 * lines[0]!['ndcg@5']!);
  });
});
