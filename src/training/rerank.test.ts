import { describe, expect, it } from 'vitest';
import { plantedLog } from '../ranking/fixtures.js';
import { trainFromLoggedLists } from '../ranking/train-reranker.js';
import { rerankingRecord } from './rerank.js';

describe('the re-ranking record of a training run', () => {
  // Position alone drives clicks: a re-ranker learns nothing the served order lacks and validation refuses it.
  const positional = plantedLog(300, 6, 0.8, () => 0.5, 2);
  const fit = (keepUnchosen: boolean) =>
    trainFromLoggedLists(positional.lists, positional.input, positional.categories, { keepUnchosen });

  it('says why none serves when validation refuses it (auto)', () => {
    const record = rerankingRecord(fit(false));
    expect(record.chosen).toBe(false);
    expect(record.skipped).toMatch(/validation did not beat the generator/);
    expect(record.forced).toBeUndefined();
    expect(record.info).not.toBeNull();
  });

  it('serves the refused re-ranker under always, and says validation did not choose it', () => {
    const training = fit(true);
    expect(training.reranker).not.toBeNull();
    const record = rerankingRecord(training);
    expect(record.chosen).toBe(true);
    expect(record.skipped).toBeNull();
    expect(record.forced).toMatch(/ATTUNE_RERANK=always: validation did not beat the generator/);
  });

  it('records a run with nothing to re-rank as skipped', () => {
    const record = rerankingRecord({ reranker: null, info: null, skipped: 'no personal model to re-rank' });
    expect(record).toEqual({ chosen: false, skipped: 'no personal model to re-rank', info: null });
  });
});
