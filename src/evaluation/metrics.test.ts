import { describe, expect, it } from 'vitest';
import { MetricsAccumulator } from './metrics.js';

describe('MetricsAccumulator', () => {
  it('matches a hand computation at K = 3 over a catalog of 6', () => {
    const metrics = new MetricsAccumulator(6, 3);
    // User A: list [4, 1, 2], held {1, 5}. One hit, at rank 1.
    //   recall = 1/2. DCG = 1/log2(3) = 0.630930. IDCG over min(3, 2) = 2 ranks: 1 + 0.630930 = 1.630930.
    //   ndcg = 0.630930 / 1.630930 = 0.386853.
    metrics.add([4, 1, 2], [1, 5]);
    // User B: only two items eligible, list [0, 3], held {0, 3, 5, 2}. Hits at ranks 0 and 1.
    //   recall = 2/4. DCG = 1 + 0.630930 = 1.630930. IDCG over min(3, 4) = 3 ranks: 1 + 0.630930 + 0.5.
    //   ndcg = 1.630930 / 2.130930 = 0.765361.
    metrics.add([0, 3], [0, 3, 5, 2]);
    // User C: nothing held out: not evaluated, and its list does not count towards coverage.
    metrics.add([5], []);
    const result = metrics.result();
    expect(result.users).toBe(2);
    expect(result.recall).toBeCloseTo(0.5, 10);
    expect(result.ndcg).toBeCloseTo((0.386853 + 0.765361) / 2, 6);
    // Union of the lists {4, 1, 2, 0, 3}: 5 of 6 items.
    expect(result.coverage).toBeCloseTo(5 / 6, 10);
  });

  it('only counts the first K entries of a longer list', () => {
    const metrics = new MetricsAccumulator(4, 1);
    // K = 1: list [0, 1] counts as [0]; held {1}: no hit; IDCG = 1.
    metrics.add([0, 1], [1]);
    expect(metrics.result()).toEqual({ recall: 0, ndcg: 0, coverage: 1 / 4, users: 1 });
  });

  it('gives ndcg 1 to a perfect list', () => {
    const metrics = new MetricsAccumulator(10, 5);
    metrics.add([3, 7], [7, 3]);
    expect(metrics.result().ndcg).toBeCloseTo(1, 12);
    expect(metrics.result().recall).toBe(1);
  });

  it('reports zeros with no users', () => {
    expect(new MetricsAccumulator(3, 20).result()).toEqual({ recall: 0, ndcg: 0, coverage: 0, users: 0 });
  });
});
