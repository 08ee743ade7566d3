import { describe, expect, it } from 'vitest';
import { Cumulative, Rng, deriveSeed } from './random.js';

function draws(rng: Rng, n: number): number[] {
  return Array.from({ length: n }, () => rng.next());
}

describe('Rng', () => {
  it('repeats its stream for the same seed and differs for another', () => {
    expect(draws(new Rng(7), 20)).toEqual(draws(new Rng(7), 20));
    expect(draws(new Rng(7), 20)).not.toEqual(draws(new Rng(8), 20));
  });

  it('stays in [0, 1) and fills it evenly', () => {
    const values = draws(new Rng(1), 20_000);
    expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...values)).toBeLessThan(1);
    // Each tenth of the interval gets its 2,000 draws give or take 150 (the binomial spread is ~42).
    const tenths = new Array<number>(10).fill(0);
    for (const v of values) tenths[Math.floor(v * 10)]! += 1;
    for (const count of tenths) expect(Math.abs(count - 2_000)).toBeLessThan(150);
    // Consecutive draws are not correlated.
    let product = 0;
    for (let i = 1; i < values.length; i++) product += (values[i - 1]! - 0.5) * (values[i]! - 0.5);
    expect(Math.abs(product / (values.length - 1) / (1 / 12))).toBeLessThan(0.05);
  });

  it('draws integers within inclusive bounds, hitting both ends', () => {
    const rng = new Rng(3);
    const seen = new Set(Array.from({ length: 2_000 }, () => rng.int(2, 5)));
    expect([...seen].sort()).toEqual([2, 3, 4, 5]);
  });

  it('gives Poisson counts and normals with the right means', () => {
    const rng = new Rng(11);
    const n = 20_000;
    let poisson = 0;
    let normal = 0;
    let square = 0;
    for (let i = 0; i < n; i++) {
      poisson += rng.poisson(3.5);
      const z = rng.normal();
      normal += z;
      square += z * z;
    }
    expect(poisson / n).toBeCloseTo(3.5, 1);
    expect(normal / n).toBeCloseTo(0, 1);
    expect(square / n).toBeCloseTo(1, 1);
    expect(rng.poisson(0)).toBe(0);
  });

  it('picks indices in proportion to weights and never a zero weight', () => {
    const rng = new Rng(5);
    const counts = [0, 0, 0];
    for (let i = 0; i < 10_000; i++) counts[rng.weightedIndex([1, 0, 3])]! += 1;
    expect(counts[1]).toBe(0);
    expect(counts[2]! / counts[0]!).toBeGreaterThan(2.5);
    expect(counts[2]! / counts[0]!).toBeLessThan(3.5);
    expect(() => rng.weightedIndex([0, 0])).toThrow(RangeError);
  });

  it('shuffles into a permutation', () => {
    const shuffled = new Rng(9).shuffle(Array.from({ length: 50 }, (_, i) => i));
    expect([...shuffled].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(shuffled).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
  });
});

describe('Cumulative', () => {
  it('matches the weights and skips zero weights', () => {
    const dist = new Cumulative([0, 2, 0, 6]);
    const rng = new Rng(21);
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 8_000; i++) counts[dist.draw(rng)]! += 1;
    expect(counts[0]).toBe(0);
    expect(counts[2]).toBe(0);
    expect(counts[3]! / counts[1]!).toBeGreaterThan(2.6);
    expect(counts[3]! / counts[1]!).toBeLessThan(3.4);
    expect(() => new Cumulative([0])).toThrow(RangeError);
  });
});

describe('deriveSeed', () => {
  it('is stable and separates labels and seeds', () => {
    expect(deriveSeed(1, 'events', 3)).toBe(deriveSeed(1, 'events', 3));
    const seeds = new Set([
      deriveSeed(1, 'events', 3),
      deriveSeed(1, 'events', 4),
      deriveSeed(2, 'events', 3),
      deriveSeed(1, 'items'),
      deriveSeed(0, 'items'),
    ]);
    expect(seeds.size).toBe(5);
  });
});
