import { describe, expect, it } from 'vitest';
import { generateDemoShop, Rng } from '../demo/index.js';
import { BEHAVIOUR, clickChance, population, react, type Population, type Shopper } from './shoppers.js';

/** One shopper and two items identical to them in taste and appeal: what differs is only their past. */
function twoItemWorld(): { readonly people: Population; readonly shopper: Shopper } {
  const vector = [1, 0, 0, 0, 0, 0, 0, 0];
  const shopper: Shopper = {
    id: 'u',
    vector,
    rate: 1,
    peakHourUtc: 12,
    device: 'mobile',
    rng: new Rng(11),
    engagement: 1,
    passedOver: new Map(),
  };
  const people: Population = {
    shoppers: [shopper],
    itemVector: new Map([
      ['fresh', vector],
      ['passed', vector],
    ]),
    itemAppeal: new Map([
      ['fresh', 0],
      ['passed', 0],
    ]),
    itemPrice: new Map(),
  };
  return { people, shopper };
}

describe('simulated shoppers', () => {
  it('click listings of more appeal more often, at the same taste', () => {
    expect(clickChance(0.7, 1)).toBeGreaterThan(clickChance(0.7, 0));
    expect(clickChance(0.7, 0)).toBeGreaterThan(clickChance(0.7, -1));
    // One deviation either side of the mean roughly doubles the chance at a typical match of taste.
    const ratio = clickChance(0.7, BEHAVIOUR.appealSpread) / clickChance(0.7, -BEHAVIOUR.appealSpread);
    expect(ratio).toBeGreaterThan(1.5);
    expect(ratio).toBeLessThan(2.5);
  });

  it('draw each item an appeal from the seed: the same for the same seed, spread as BEHAVIOUR says', () => {
    const shop = generateDemoShop({ users: 20, items: 2_000, days: 7 });
    const a = population(shop, 1).itemAppeal;
    expect([...population(shop, 1).itemAppeal]).toEqual([...a]);
    const other = population(shop, 2).itemAppeal;
    expect([...other.values()]).not.toEqual([...a.values()]);
    const values = [...a.values()];
    expect(values).toHaveLength(2_000);
    const mean = values.reduce((s, v) => s + v, 0) / values.length;
    const sd = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length);
    expect(Math.abs(mean)).toBeLessThan(0.1);
    expect(sd).toBeGreaterThan(0.9 * BEHAVIOUR.appealSpread);
    expect(sd).toBeLessThan(1.1 * BEHAVIOUR.appealSpread);
  });

  it('remember what they passed over, and click it less by the fatigue factor per list', () => {
    const { people, shopper } = twoItemWorld();
    const passes = 4;
    const clicks = { fresh: 0, passed: 0 };
    const trials = 20_000;
    for (let t = 0; t < trials; t++) {
      shopper.passedOver.clear();
      shopper.passedOver.set('passed', passes);
      // Alternate the order so that position bias falls on both alike.
      const list = t % 2 === 0 ? ['fresh', 'passed'] : ['passed', 'fresh'];
      const { clicked } = react(shopper, list, people);
      for (const item of clicked) clicks[item as keyof typeof clicks]++;
      // What was shown and not clicked is one more pass; a click adds none.
      expect(shopper.passedOver.get('fresh') ?? 0).toBe(clicked.includes('fresh') ? 0 : 1);
      expect(shopper.passedOver.get('passed')).toBe(clicked.includes('passed') ? passes : passes + 1);
    }
    const ratio = clicks.passed / clicks.fresh;
    expect(clicks.fresh).toBeGreaterThan(1_000);
    expect(ratio).toBeGreaterThan(0.85 * BEHAVIOUR.fatigue ** passes);
    expect(ratio).toBeLessThan(1.15 * BEHAVIOUR.fatigue ** passes);
  });
});
