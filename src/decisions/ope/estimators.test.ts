import { describe, expect, it } from 'vitest';
import {
  doublyRobust,
  effectiveSampleSize,
  importanceWeights,
  ips,
  meanInterval,
  snips,
} from './estimators.js';

/**
 * A four-row log worked by hand. Rewards 1, 0, 1, 0; logging propensities 0.5, 0.5, 0.25, 0.25; the
 * target's probabilities of the logged actions 1, 0.5, 0.5, 0; so the weights are 2, 1, 2, 0.
 */
const log = {
  reward: Float64Array.of(1, 0, 1, 0),
  propensity: Float64Array.of(0.5, 0.5, 0.25, 0.25),
  target: Float64Array.of(1, 0.5, 0.5, 0),
};
const Z = 1.959963984540054;

describe('importance weights and effective sample size', () => {
  it('divides target by logging probability, and ESS = (Σw)²/Σw²', () => {
    expect([...importanceWeights(log)]).toEqual([2, 1, 2, 0]);
    // (2 + 1 + 2 + 0)² / (4 + 1 + 4 + 0) = 25 / 9.
    expect(effectiveSampleSize(Float64Array.of(2, 1, 2, 0))).toBeCloseTo(25 / 9, 12);
    expect(effectiveSampleSize(new Float64Array(5).fill(3))).toBeCloseTo(5, 12);
    expect(effectiveSampleSize(new Float64Array(3))).toBe(0);
  });

  it('refuses columns of different lengths', () => {
    expect(() => importanceWeights({ ...log, target: Float64Array.of(1) })).toThrow(/differ in length/);
  });
});

describe('meanInterval', () => {
  it('is mean ± z·s/√n with the n − 1 standard deviation', () => {
    // 1, 2, 3, 4, 5: mean 3, s² = 10/4 = 2.5, se = √(2.5/5) = √0.5.
    const e = meanInterval(Float64Array.of(1, 2, 3, 4, 5), 5);
    expect(e.estimate).toBe(3);
    expect(e.standardError).toBeCloseTo(Math.SQRT1_2, 12);
    expect(e.ciLow).toBeCloseTo(3 - Z * Math.SQRT1_2, 12);
    expect(e.ciHigh).toBeCloseTo(3 + Z * Math.SQRT1_2, 12);
    const wider = meanInterval(Float64Array.of(1, 2, 3, 4, 5), 5, 0.99);
    expect(wider.ciHigh - wider.estimate).toBeCloseTo(2.5758293035489 * Math.SQRT1_2, 9);
  });

  it('has no interval from one value', () => {
    const e = meanInterval(Float64Array.of(7), 1);
    expect(e.estimate).toBe(7);
    expect(e.ciLow).toBeNaN();
  });
});

describe('IPS', () => {
  it('matches the hand-computed value and interval', () => {
    // φ = wr = 2, 0, 2, 0: mean 1; deviations ±1, s² = 4/3, se = √(4/3 / 4) = √(1/3).
    const e = ips(log);
    expect(e.estimate).toBe(1);
    expect(e.standardError).toBeCloseTo(Math.sqrt(1 / 3), 12);
    expect(e.ciLow).toBeCloseTo(1 - Z * Math.sqrt(1 / 3), 12);
    expect(e.ciHigh).toBeCloseTo(1 + Z * Math.sqrt(1 / 3), 12);
    expect(e.ess).toBeCloseTo(25 / 9, 12);
  });

  it('is the logged mean when the target is the logging policy', () => {
    const same = { ...log, target: log.propensity };
    expect(ips(same).estimate).toBe(0.5);
    expect(ips(same).ess).toBe(4);
  });
});

describe('SNIPS', () => {
  it('matches the hand-computed ratio and delta-method interval', () => {
    // V = Σwr / Σw = 4 / 5 = 0.8, mean weight 1.25; φ = V + w(r − V)/1.25 = 1.12, 0.16, 1.12, 0.8:
    // deviations 0.32, −0.64, 0.32, 0; s² = 0.6144 / 3 = 0.2048; se = √(0.2048 / 4) = √0.0512.
    const e = snips(log);
    expect(e.estimate).toBeCloseTo(0.8, 12);
    expect(e.standardError).toBeCloseTo(Math.sqrt(0.0512), 12);
    expect(e.ciLow).toBeCloseTo(0.8 - Z * Math.sqrt(0.0512), 12);
    expect(e.ciHigh).toBeCloseTo(0.8 + Z * Math.sqrt(0.0512), 12);
  });

  it('is undefined when the target gives every logged action probability 0', () => {
    const e = snips({ ...log, target: new Float64Array(4) });
    expect(e.estimate).toBeNaN();
    expect(e.ess).toBe(0);
  });

  it('does not move when every weight is scaled', () => {
    const half = { ...log, target: log.target.map((p) => p / 2) };
    expect(snips(half).estimate).toBeCloseTo(snips(log).estimate, 12);
    expect(snips(half).standardError).toBeCloseTo(snips(log).standardError, 12);
  });
});

describe('DR', () => {
  it('matches the hand-computed value and interval', () => {
    // φ = direct + w(r − q̂): 0.6 + 2(0.5) = 1.6, 0.5 + 1(−0.5) = 0, 0.4 + 2(0.5) = 1.4, 0.3 + 0 = 0.3.
    // Mean 0.825; squared deviations sum to 1.8875; s² = 1.8875 / 3; se = √(s² / 4).
    const e = doublyRobust({
      ...log,
      direct: Float64Array.of(0.6, 0.5, 0.4, 0.3),
      predicted: Float64Array.of(0.5, 0.5, 0.5, 0.5),
    });
    const se = Math.sqrt(1.8875 / 3 / 4);
    expect(e.estimate).toBeCloseTo(0.825, 12);
    expect(e.standardError).toBeCloseTo(se, 12);
    expect(e.ciLow).toBeCloseTo(0.825 - Z * se, 12);
    expect(e.ciHigh).toBeCloseTo(0.825 + Z * se, 12);
    expect(e.ess).toBeCloseTo(25 / 9, 12);
  });

  it('is IPS when the reward model predicts 0, and exact when it knows the rewards', () => {
    const zero = new Float64Array(4);
    expect(doublyRobust({ ...log, direct: zero, predicted: zero }).estimate).toBe(ips(log).estimate);
    // A model that predicts each logged reward exactly leaves only the direct part: no variance from w.
    const exact = doublyRobust({
      ...log,
      direct: Float64Array.of(0.7, 0.7, 0.7, 0.7),
      predicted: log.reward,
    });
    expect(exact.estimate).toBeCloseTo(0.7, 12);
    expect(exact.standardError).toBeCloseTo(0, 12);
  });
});
