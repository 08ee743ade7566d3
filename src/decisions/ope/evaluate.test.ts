import { describe, expect, it } from 'vitest';
import type { Policy } from '../learners/index.js';
import { parseDecisionLogCsv } from './csv.js';
import {
  evaluateDistributions,
  evaluateLearner,
  evaluatePolicySpec,
  learnerDimension,
  prepareDecisionLog,
  type PreparedDecisionLog,
} from './evaluate.js';
import { PolicySpecError, parsePolicySpec } from './policy.js';

const Z = 1.959963984540054;

/**
 * Eight decisions, two actions logged uniformly (propensity 0.5), no context, and the folds fixed to
 * 0, 1, 0, 1, …, so DR's reward model is each action's mean reward in the other fold:
 *   fold 0 (rows 1, 3, 5, 7): x → 1, 1, 0 (mean 2/3); y → 1 (mean 1)
 *   fold 1 (rows 2, 4, 6, 8): x → 0, 1 (mean 1/2); y → 1, 0 (mean 1/2)
 */
const SMALL = `action,reward,propensity
x,1,0.5
x,0,0.5
y,1,0.5
y,1,0.5
x,1,0.5
y,0,0.5
x,0,0.5
x,1,0.5
`;
const alternating = Uint8Array.from({ length: 8 }, (_, i) => i % 2);
const small = (): PreparedDecisionLog =>
  prepareDecisionLog(parseDecisionLogCsv(SMALL), { foldOf: alternating });

describe('evaluatePolicySpec on a small log, by hand', () => {
  it('gives IPS, SNIPS and DR of a fixed policy', () => {
    // π = {x: 0.75, y: 0.25}: weights 1.5 on x rows, 0.5 on y rows.
    const evaluation = evaluatePolicySpec(
      small(),
      parsePolicySpec({ type: 'fixed', probabilities: { x: 0.75, y: 0.25 } }),
    );
    expect(evaluation.rows).toBe(8);
    expect(evaluation.loggedMeanReward).toBe(5 / 8);
    const { ips, snips, dr } = evaluation.estimators;
    // IPS: Σwr = 1.5 + 0.5 + 0.5 + 1.5 + 1.5 = 5.5 over 8.
    expect(ips.estimate).toBeCloseTo(5.5 / 8, 12);
    // SNIPS: 5.5 / Σw = 5.5 / (5 × 1.5 + 3 × 0.5) = 5.5 / 9.
    expect(snips.estimate).toBeCloseTo(5.5 / 9, 12);
    // ESS: 9² / (5 × 2.25 + 3 × 0.25) = 81 / 12.
    expect(ips.ess).toBeCloseTo(6.75, 12);
    // DR: rows of fold 0 get direct 0.75·½ + 0.25·½ = 0.5, rows of fold 1 get 0.75·⅔ + 0.25·1 = 0.75;
    // φ = 1.25, −0.25, 0.75, 0.75, 1.25, 0.25, −0.25, 1.25: mean 0.625, squared deviations sum to 2.875.
    const se = Math.sqrt(2.875 / 7 / 8);
    expect(dr.estimate).toBeCloseTo(0.625, 12);
    expect(dr.standardError).toBeCloseTo(se, 12);
    expect(dr.ciLow).toBeCloseTo(0.625 - Z * se, 12);
    expect(dr.ciHigh).toBeCloseTo(0.625 + Z * se, 12);
    expect(evaluation.warnings).toEqual([expect.stringMatching(/effective sample size 6\.8 of 8/)]);
  });

  it('gives logged actions the policy does not name probability 0', () => {
    const { ips, snips } = evaluatePolicySpec(
      small(),
      parsePolicySpec({ type: 'fixed', probabilities: { x: 1 } }),
    ).estimators;
    // Weights 2 on x rows (rewards 1, 0, 1, 0, 1), 0 on y rows.
    expect(ips.estimate).toBeCloseTo(6 / 8, 12);
    expect(snips.estimate).toBeCloseTo(3 / 5, 12);
  });

  it('warns when the policy puts probability on actions never logged, which IPS counts as reward 0', () => {
    const evaluation = evaluatePolicySpec(
      small(),
      parsePolicySpec({ type: 'fixed', probabilities: { x: 0.5, z: 0.5 } }),
    );
    expect(evaluation.estimators.ips.estimate).toBeCloseTo(3 / 8, 12);
    // SNIPS renormalises over the logged actions: the mean reward of the x rows.
    expect(evaluation.estimators.snips.estimate).toBeCloseTo(3 / 5, 12);
    // DR scores z at the training folds' mean reward: 0.5 for rows of fold 0 (fold 1's mean), 0.75 for fold 1.
    // direct = 0.5 q̂(x) + 0.5 mean: fold 0 rows 0.5·½ + 0.5·½ = 0.5; fold 1 rows 0.5·⅔ + 0.5·¾ = 17/24.
    // Corrections w(r − q̂(x)), w = 1: rows 1, 5: +½; row 7: −½; row 2: −⅔; row 8: +⅓.
    const dr = (4 * 0.5 + 4 * (17 / 24) + 0.5 + 0.5 - 0.5 - 2 / 3 + 1 / 3) / 8;
    expect(evaluation.estimators.dr.estimate).toBeCloseTo(dr, 12);
    expect(evaluation.warnings[0]).toMatch(/puts 50\.0% of its probability on actions never logged \(z\)/);
  });
});

const POSITIONS = `action,reward,propensity,position
x,1,0.5,1
y,0,0.5,1
x,0,0.5,2
y,1,0.5,2
x,1,0.5,1
y,1,0.5,2
`;

describe('fixed policies by position', () => {
  const prepared = prepareDecisionLog(parseDecisionLogCsv(POSITIONS), {
    foldOf: Uint8Array.of(0, 1, 0, 1, 0, 1),
  });

  it('uses each position’s distribution', () => {
    const spec = parsePolicySpec({
      type: 'fixed',
      by: 'position',
      probabilities: { '1': { x: 1 }, '2': { y: 1 } },
    });
    // Weights 2 on (x, 1) and (y, 2) rows: rows 1, 4, 5, 6 with rewards 1, 1, 1, 1.
    const { ips, snips } = evaluatePolicySpec(prepared, spec).estimators;
    expect(ips.estimate).toBeCloseTo(8 / 6, 12);
    expect(snips.estimate).toBeCloseTo(1, 12);
  });

  it('names a position of the log the policy lacks, and a log without positions', () => {
    const spec = parsePolicySpec({
      type: 'fixed',
      by: 'position',
      probabilities: { '1': { x: 1 }, '3': { y: 1 } },
    });
    expect(() => evaluatePolicySpec(prepared, spec)).toThrow(
      new PolicySpecError('probabilities', 'no distribution for position "2" (line 4 has it)'),
    );
    expect(() => evaluatePolicySpec(small(), spec)).toThrow(
      /^by: the policy is by position but the log has no position column$/,
    );
  });

  it('warns about positions the log never shows', () => {
    const spec = parsePolicySpec({
      type: 'fixed',
      by: 'position',
      probabilities: { '1': { x: 1 }, '2': { y: 1 }, '9': { x: 1 } },
    });
    expect(evaluatePolicySpec(prepared, spec).warnings).toContain(
      'the policy\'s positions "9" never appear in the log',
    );
  });
});

describe('evaluateDistributions', () => {
  it('estimates the logging policy itself at the logged mean with ESS n', () => {
    const evaluation = evaluateDistributions(small(), (_, out) => out.fill(0.5));
    expect(evaluation.estimators.ips.estimate).toBeCloseTo(5 / 8, 12);
    expect(evaluation.estimators.snips.estimate).toBeCloseTo(5 / 8, 12);
    expect(evaluation.estimators.ips.ess).toBeCloseTo(8, 12);
  });

  it('refuses a distribution that does not sum to 1', () => {
    expect(() => evaluateDistributions(small(), (_, out) => out.fill(0.4))).toThrow(/sum to 0\.8 at line 2/);
  });
});

describe('learners by progressive replay', () => {
  const TIMED = `timestamp,action,reward,propensity,u
3,x,1,0.5,1
1,y,0,0.5,-1
2,x,0,0.5,0.5
`;

  it('asks before it learns from each row, in time order, with a constant 1 before the context', () => {
    const prepared = prepareDecisionLog(parseDecisionLogCsv(TIMED));
    const calls: string[] = [];
    const learner: Policy = {
      actions: 2,
      inputLength: learnerDimension(prepared),
      probabilities(features, out = new Float64Array(2)) {
        calls.push(`ask ${features[0]} ${features[1]!.toFixed(3)}`);
        out.set([calls.length === 1 ? 1 : 0.5, calls.length === 1 ? 0 : 0.5]);
        return out;
      },
      choose: () => 0,
      update(action, features, reward) {
        calls.push(`learn ${action} ${reward} ${features[1]!.toFixed(3)}`);
      },
    };
    const evaluation = evaluateLearner(prepared, learner);
    // u is standardized over the whole log (mean 1/6, population sd); rows come in time order: 2, 3, 1.
    const mean = 1 / 6;
    const sd = Math.sqrt(((1 - mean) ** 2 + (-1 - mean) ** 2 + (0.5 - mean) ** 2) / 3);
    const z = (u: number) => ((u - mean) / sd).toFixed(3);
    expect(calls).toEqual([
      `ask 1 ${z(-1)}`,
      `learn 1 0 ${z(-1)}`,
      `ask 1 ${z(0.5)}`,
      `learn 0 0 ${z(0.5)}`,
      `ask 1 ${z(1)}`,
      `learn 0 1 ${z(1)}`,
    ]);
    // The first answer (x surely) is for row 2, whose logged action is y: weight 0. Then 1, 1.
    expect(evaluation.estimators.ips.estimate).toBeCloseTo((0 + 0 + 1) / 3, 12);
  });

  it('trains the named learner, and names a parameter it refuses', () => {
    const prepared = small();
    for (const type of ['linucb', 'thompson', 'epsilon_greedy']) {
      const { estimators } = evaluatePolicySpec(prepared, parsePolicySpec({ type, seed: 1 }));
      expect(estimators.ips.estimate).toBeGreaterThanOrEqual(0);
      expect(Number.isFinite(estimators.dr.ciHigh)).toBe(true);
    }
    // Epsilon-greedy with ε = 1 is uniform: the logging policy, whatever it learns.
    const uniform = evaluatePolicySpec(prepared, parsePolicySpec({ type: 'epsilon_greedy', epsilon: 1 }));
    expect(uniform.estimators.ips.estimate).toBeCloseTo(5 / 8, 12);
    expect(() => evaluatePolicySpec(prepared, parsePolicySpec({ type: 'linucb', alpha: -1 }))).toThrow(
      new PolicySpecError('alpha', 'must be a number ≥ 0'),
    );
  });
});
