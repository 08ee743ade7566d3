import { afterAll, describe, expect, it } from 'vitest';
import { closeAlsWorkers } from '../models/als-pool.js';
import { defaultParams, fitRecommender } from '../models/index.js';
import { mulberry32 } from '../models/random.js';
import { runAuto, type AutoResultLine } from './auto-evaluate.js';
import type { Interaction } from './datasets.js';
import type { HarnessDeps } from './harness.js';
import { prepareDataset, type HeldOutSplit, type PreparedDataset } from './protocol.js';

afterAll(() => closeAlsWorkers());

/** 120 users over 60 items, 20 interactions each in time order, tastes in two groups (as auto.test.ts). */
function interactions(): Interaction[] {
  const random = mulberry32(17);
  const rows: Interaction[] = [];
  for (let user = 0; user < 120; user++) {
    const offset = user % 2 === 0 ? 0 : 30;
    const mine = new Set<number>();
    while (mine.size < 20) mine.add(offset + Math.floor(30 * random() * random()));
    [...mine].forEach((item, j) =>
      rows.push({ user: `u${user}`, item: `i${item}`, rating: null, timestamp: 86_400 * (user + 3 * j) }),
    );
  }
  return rows;
}

const deps: HarnessDeps = { fit: fitRecommender, defaults: defaultParams };
const options = {
  models: ['popularity', 'itemknn'] as const,
  grids: { popularity: [{ halfLifeDays: null }], itemknn: [{ neighbors: 20, shrinkage: 0 }] },
  recency: [null, 4],
  twoStage: { candidates: 40, folds: 2 },
};

/** Every user's test items swapped for the other taste group's items. */
function poisoned(dataset: PreparedDataset): HeldOutSplit {
  const { indptr } = dataset.test.rows;
  const items = new Int32Array(dataset.test.rows.items.length);
  for (let u = 0; u < dataset.userIds.length; u++) {
    const other = Number(dataset.userIds[u]!.slice(1)) % 2 === 0 ? 30 : 0;
    for (let j = indptr[u]!; j < indptr[u + 1]!; j++) {
      items[j] = dataset.itemIds.indexOf(`i${other + (j - indptr[u]!)}`);
    }
  }
  return { part: 'test', rows: { ...dataset.test.rows, items } };
}

type TwoStageLine = { readonly [key: string]: unknown };
const twoStageOf = (line: AutoResultLine) => line['two_stage'] as TwoStageLine;
const withoutTimes = ({ seconds: _s, test_rank_s: _t, tried, ...rest }: TwoStageLine) => ({
  ...rest,
  tried: (tried as { seconds?: number }[]).map(({ seconds: _seconds, ...trial }) => trial),
});

describe('evaluate --auto with the two-stage candidate', () => {
  it('reports the two-stage on validation; its generator order reproduces the chosen model exactly', async () => {
    const dataset = await prepareDataset(interactions());
    const line = await runAuto(dataset, options, deps);
    const twoStage = twoStageOf(line);
    for (const key of ['val_ndcg@20', 'chosen', 'objective', 'trees', 'importances', 'candidate_recall']) {
      expect(twoStage).toHaveProperty([key]);
    }
    // Candidates are the chosen model's top N in the protocol's order, so its ndcg on them is its own.
    expect(twoStage['generator_val_ndcg@20']).toBe(line['val_ndcg@20']);
    expect((twoStage['importances'] as unknown[]).length).toBeLessThanOrEqual(10);
    expect(['pointwise', 'lambdarank']).toContain(twoStage['objective']);
    const chosen = line['chosen'] as { model: string };
    expect(line['final']).toBe(twoStage['chosen'] === true ? 'two-stage' : chosen.model);

    const plain = await runAuto(dataset, { ...options, rerank: false }, deps);
    expect(plain).not.toHaveProperty(['two_stage']);
    expect(plain['chosen']).toEqual(line['chosen']);
    if (twoStage['chosen'] === true) expect(line['ndcg@20']).not.toBe(plain['ndcg@20']);
    else expect(line['ndcg@20']).toBe(plain['ndcg@20']);
  });

  it('leaves the two-stage out, and says why, when validation has too few users to train a ranker', async () => {
    const few = interactions().filter((row) => ['u0', 'u1', 'u2'].includes(row.user));
    const line = await runAuto(await prepareDataset(few), options, deps);
    expect(twoStageOf(line)['skipped']).toMatch(/too few/);
    expect(line['final']).toBe((line['chosen'] as { model: string }).model);
  });

  it('validates and decides the same whatever the test split holds', async () => {
    const dataset = await prepareDataset(interactions());
    const clean = await runAuto(dataset, options, deps);
    const dirty = await runAuto({ ...dataset, test: poisoned(dataset) }, options, deps);
    expect(withoutTimes(twoStageOf(dirty))).toEqual(withoutTimes(twoStageOf(clean)));
    expect(dirty['final']).toBe(clean['final']);
    expect(dirty['ndcg@20']).toBeLessThan(clean['ndcg@20'] as number);
  });
});
