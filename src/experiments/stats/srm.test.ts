import { describe, expect, it } from 'vitest';
import { sampleRatioTest, SRM_ALARM_P_VALUE } from './srm.js';

describe('sampleRatioTest', () => {
  it('flags a broken 50/50 split (scipy chisquare)', () => {
    // stats.chisquare([12856, 11780], [12318, 12318]) → statistic 46.995291443416136, p 7.115745055999031e-12
    const test = sampleRatioTest([12856, 11780], [0.5, 0.5]);
    expect(test.expected).toEqual([12318, 12318]);
    expect(test.df).toBe(1);
    expect(test.chi2).toBeCloseTo(46.995291443416136, 10);
    expect(Math.abs(test.p_value / 7.115745055999031e-12 - 1)).toBeLessThan(1e-12);
    expect(test.p_value).toBeLessThan(SRM_ALARM_P_VALUE);
  });

  it('passes an intended 40/20/20/20 split, with unnormalized weights', () => {
    // stats.chisquare([4310, 2101, 2170, 2142], np.array([.4, .2, .2, .2]) * 10723) → 1.2912431222605614, 0.7312135267988764
    const test = sampleRatioTest([4310, 2101, 2170, 2142], [2, 1, 1, 1]);
    expect(test.expected[0]).toBeCloseTo(4289.2, 9);
    expect(test.df).toBe(3);
    expect(test.chi2).toBeCloseTo(1.2912431222605614, 12);
    expect(test.p_value).toBeCloseTo(0.7312135267988764, 14);
  });

  it('gives p = 1 for a perfect split and rejects bad weights', () => {
    expect(sampleRatioTest([50, 50], [1, 1])).toMatchObject({ chi2: 0, p_value: 1 });
    expect(() => sampleRatioTest([50, 50], [1, 0])).toThrow(/positive/);
    expect(() => sampleRatioTest([50, 50], [1])).toThrow(/2 counts but 1 weights/);
  });
});
