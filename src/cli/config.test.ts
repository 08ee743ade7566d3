import { describe, expect, it } from 'vitest';
import { cliEngineConfig } from './config.js';

describe('cliEngineConfig', () => {
  it('selects automatically within a 0.5 ms scoring budget unless the environment says otherwise', () => {
    const defaults = cliEngineConfig('/tmp/attune-config-test', {}, {});
    expect(defaults.selection).toBe('auto');
    expect(defaults.scoringBudgetMs).toBe(0.5);
    const fixed = cliEngineConfig(
      '/tmp/attune-config-test',
      {},
      { ATTUNE_SELECTION: 'fixed', ATTUNE_SCORING_BUDGET_MS: '2.5' },
    );
    expect(fixed.selection).toBe('fixed');
    expect(fixed.scoringBudgetMs).toBe(2.5);
  });

  it('rejects a bad selection or budget, naming the variable', () => {
    expect(() => cliEngineConfig(undefined, {}, { ATTUNE_SELECTION: 'best' })).toThrow(/ATTUNE_SELECTION/);
    for (const value of ['0', '-1', 'fast', ''])
      expect(() => cliEngineConfig(undefined, {}, { ATTUNE_SCORING_BUDGET_MS: value })).toThrow(
        /ATTUNE_SCORING_BUDGET_MS/,
      );
  });

  it('fits the re-ranker unless ATTUNE_RERANK turns it off', () => {
    expect(cliEngineConfig(undefined, {}, {}).rerank).toBe('auto');
    expect(cliEngineConfig(undefined, {}, { ATTUNE_RERANK: 'on' }).rerank).toBe('auto');
    expect(cliEngineConfig(undefined, {}, { ATTUNE_RERANK: 'always' }).rerank).toBe('always');
    expect(cliEngineConfig(undefined, {}, { ATTUNE_RERANK: 'off' }).rerank).toBe('off');
    expect(() => cliEngineConfig(undefined, {}, { ATTUNE_RERANK: 'sometimes' })).toThrow(/ATTUNE_RERANK/);
  });
});
