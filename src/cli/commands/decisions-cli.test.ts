import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Engine, engineConfig } from '../../engine/index.js';
import { runBuiltCli } from '../run-built-cli.js';
import type { DecisionsEvaluateJson } from './decisions.js';

/**
 * `attune decisions evaluate` as a user runs it: the compiled CLI (`npm test` builds it first) on small
 * logs. The IPS and SNIPS values are worked by hand in src/decisions/ope/evaluate.test.ts (DR there too,
 * with the folds fixed; here they are the command's random split, so DR is checked for shape only).
 */
const dir = mkdtempSync(join(tmpdir(), 'attune-decisions-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const SMALL = file(
  'small.csv',
  'action,reward,propensity\nx,1,0.5\nx,0,0.5\ny,1,0.5\ny,1,0.5\nx,1,0.5\ny,0,0.5\nx,0,0.5\nx,1,0.5\n',
);
const FIXED = file('fixed.json', '{"type":"fixed","probabilities":{"x":0.75,"y":0.25}}');
const evaluate = (...args: string[]) => runBuiltCli(['decisions', 'evaluate', ...args], 30_000);

describe.concurrent('attune decisions evaluate --logs --policy', () => {
  it('prints one JSON object with snake_case keys and the hand-computed estimates', async () => {
    const { code, stdout, stderr } = await evaluate('--logs', SMALL, '--policy', FIXED, '--json');
    expect(code, stderr).toBe(0);
    expect(stdout.trim().split('\n')).toHaveLength(1);
    const result = JSON.parse(stdout) as DecisionsEvaluateJson;
    expect(result).toMatchObject({ rows: 8, logged_mean_reward: 0.625, policy: 'fixed' });
    expect(Object.keys(result.estimators)).toEqual(['ips', 'snips', 'dr']);
    expect(result.estimators.ips.estimate).toBeCloseTo(5.5 / 8, 12);
    expect(result.estimators.snips.estimate).toBeCloseTo(5.5 / 9, 12);
    for (const estimator of Object.values(result.estimators)) {
      expect(Object.keys(estimator)).toEqual(['estimate', 'ci_low', 'ci_high', 'ess', 'standard_error']);
      expect(estimator.ess).toBeCloseTo(6.75, 12);
      expect(estimator.ci_low!).toBeLessThan(estimator.estimate!);
      expect(estimator.ci_high!).toBeGreaterThan(estimator.estimate!);
    }
    expect(result.warnings).toEqual([expect.stringContaining('effective sample size 6.8 of 8')]);
  });

  it('prints a table without --json', async () => {
    const { code, stdout, stderr } = await evaluate('--logs', SMALL, '--policy', FIXED);
    expect(code, stderr).toBe(0);
    expect(stdout).toContain('policy fixed on 8 logged decisions; logged mean reward 0.6250');
    expect(stdout).toMatch(/IPS\s+0\.6875\s+\[0\.\d{4}, 1\.\d{4}\]\s+6\.8/);
    expect(stdout).toMatch(/SNIPS\s+0\.6111/);
    expect(stdout).toMatch(/\n {2}DR\s+\d\.\d{4}/);
  });

  it('replays a learner over a log with positions, timestamps and context', async () => {
    const rows = Array.from({ length: 60 }, (_, i) => {
      const action = ['a', 'b', 'c'][i % 3]!;
      const reward = (i * 7) % 5 < 2 ? 1 : 0;
      return `${1_700_000_000 + 60 - i},${action},${reward},0.3333333,${(i % 2) + 1},${i % 4 === 0 ? '' : i % 10},"k, ${i % 3}"`;
    });
    const logs = file(
      'learn.csv',
      ['timestamp,action,reward,propensity,position,age,segment', ...rows].join('\n'),
    );
    const policy = file('linucb.json', '{"type":"linucb","alpha":0.5}');
    const { code, stdout, stderr } = await evaluate('--logs', logs, '--policy', policy, '--json');
    expect(code, stderr).toBe(0);
    const result = JSON.parse(stdout) as DecisionsEvaluateJson;
    expect(result).toMatchObject({ rows: 60, policy: 'linucb' });
    expect(result.estimators.dr.estimate).not.toBeNull();
  });
});

describe.concurrent(
  'attune decisions evaluate refuses bad input with the file, line or field, and status 1',
  () => {
    it('names the line of a bad row', async () => {
      const rows = Array.from({ length: 15 }, () => 'x,1,0.5');
      const bad = file('bad.csv', ['action,reward,propensity', ...rows, 'x,1,0', 'x,1,0.5'].join('\n'));
      const { code, stdout, stderr } = await evaluate('--logs', bad, '--policy', FIXED, '--json');
      expect(code).toBe(1);
      expect(stdout).toBe('');
      expect(stderr).toBe(`attune: ${bad}: line 17: propensity must be a number in (0, 1], got "0"\n`);
    });

    it('names the field of a bad policy', async () => {
      const policy = file('bad.json', '{"type":"fixed","probabilities":{"x":0.5,"y":0.4}}');
      const { code, stderr } = await evaluate('--logs', SMALL, '--policy', policy);
      expect(code).toBe(1);
      expect(stderr).toBe(`attune: ${policy}: probabilities: the probabilities sum to 0.9, not 1\n`);
    });

    it('names an unknown decision point, and what --logs needs', async () => {
      const store = join(dir, 'empty-store');
      await (await Engine.open(engineConfig(`sqlite:${store}`, { retrainIntervalMs: null }))).close();
      const [point, noPolicy, missing] = await Promise.all([
        evaluate('homepage-banner', '--data-dir', store),
        evaluate('--logs', SMALL),
        evaluate('--logs', join(dir, 'missing.csv'), '--policy', FIXED),
      ]);
      expect(point.code).toBe(1);
      expect(point.stderr).toBe('attune: no decision point "homepage-banner" in this store\n');
      expect(noPolicy.stderr).toBe('attune: --logs needs the candidate policy: --policy POLICY.json\n');
      expect(missing.stderr).toMatch(/^attune: cannot read .*missing\.csv/);
    });
  },
);

describe('attune decisions evaluate POINT', () => {
  it("estimates the default, uniform and the replayed learner from the point's own log", async () => {
    const store = join(dir, 'point-store');
    const engine = await Engine.open(
      engineConfig(`sqlite:${store}`, { retrainIntervalMs: null, holdout: 0 }),
    );
    await engine.decisions.create({
      id: 'banner',
      actions: [{ id: 'a' }, { id: 'b' }],
      features: [{ source: 'context', name: 'x', type: 'number' }],
      learner: { kind: 'epsilon_greedy', epsilon: 0.5, seed: 7 },
      default_action: 'a',
    });
    // b always pays 1, a never: the default's value is 0 whatever the estimator.
    for (let i = 0; i < 400; i++) {
      const d = await engine.decisions.decide('banner', {
        userId: `u${i % 50}`,
        context: { x: (i % 7) / 7 },
        available: null,
        limits: {},
      });
      await engine.decisions.reward('banner', d.id, d.action.id === 'b' ? 1 : 0);
    }
    await engine.close();

    const { code, stdout, stderr } = await evaluate('banner', '--data-dir', store, '--json');
    expect(code, stderr).toBe(0);
    const result = JSON.parse(stdout) as {
      point: string;
      skipped: number;
      policies: DecisionsEvaluateJson[];
    };
    expect(result.point).toBe('banner');
    expect(result.policies.map((p) => p.policy)).toEqual([
      'default (a)',
      'uniform',
      'epsilon_greedy (replayed)',
    ]);
    const [defaultPolicy, uniform, learner] = result.policies;
    expect(defaultPolicy!.rows).toBe(400);
    expect(defaultPolicy!.estimators.snips.estimate).toBe(0);
    // Half of uniform's choices are b: its true value is 0.5 (the estimate carries the log's noise).
    expect(Math.abs(uniform!.estimators.snips.estimate! - 0.5)).toBeLessThan(0.1);
    expect(learner!.estimators.snips.estimate!).toBeGreaterThan(0.6);
  });
});
