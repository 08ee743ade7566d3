import { afterAll, describe, expect, it } from 'vitest';
import { closeAlsWorkers } from '../models/als-pool.js';
import { defaultParams, fitRecommender } from '../models/index.js';
import type { CsrMatrix, ModelName, Recommender } from '../models/types.js';
import { mulberry32 } from '../models/random.js';
import { recencyOf } from '../models/recency.js';
import type { JsonValue } from '../shared/types.js';
import {
  centerOut,
  sampleValidation,
  selectModel,
  selectionSetFromTrain,
  temporalSelectionSet,
  trimGrid,
  type Selection,
} from './auto.js';
import { runAuto } from './auto-evaluate.js';
import type { Interaction } from './datasets.js';
import { tuningGrids, type ParamGrids } from './grids.js';
import type { Fitter, HarnessDeps } from './harness.js';
import {
  heldOutUsers,
  prepareDataset,
  type HeldOutSplit,
  type PreparedDataset,
  type UserRows,
} from './protocol.js';

afterAll(() => closeAlsWorkers());

/**
 * 80 users in two taste groups over 60 items (30 per group), 15 interactions each in time order, so the
 * protocol holds out 3 per user for test and 2 of the remaining 12 for validation. Item popularity is
 * skewed within each group so that both popularity and neighbourhood models have something to find.
 */
function plantedInteractions(): Interaction[] {
  const random = mulberry32(11);
  const rows: Interaction[] = [];
  for (let user = 0; user < 80; user++) {
    const offset = user < 40 ? 0 : 30;
    const mine = new Set<number>();
    while (mine.size < 15) mine.add(offset + Math.floor(30 * random() * random()));
    [...mine].forEach((item, j) =>
      rows.push({ user: `u${user}`, item: `i${item}`, rating: null, timestamp: 1_000 * user + j }),
    );
  }
  return rows;
}

const small = {
  popularity: [{ halfLifeDays: null }],
  itemknn: [
    { neighbors: 2, shrinkage: 0 },
    { neighbors: 20, shrinkage: 0 },
  ],
  als: [{ ...defaultParams.als, factors: 4, iterations: 6, regularization: 0.1 }],
};
const smallGrids: ParamGrids = { ...tuningGrids(defaultParams), ...small };
const deps: HarnessDeps = { fit: fitRecommender, defaults: defaultParams };
const models = ['popularity', 'itemknn', 'als'] as const;

/** A test split that throws when read before `armed()` says selection is over. */
function trapped(test: HeldOutSplit, armed: () => boolean): HeldOutSplit {
  return {
    part: 'test',
    get rows(): UserRows {
      if (!armed()) throw new Error('the test split was read before selection finished');
      return test.rows;
    },
  };
}

/** Each user's test items replaced by the items that are least like their history (the other group's). */
function poisoned(dataset: PreparedDataset): HeldOutSplit {
  const { indptr } = dataset.test.rows;
  const items = new Int32Array(dataset.test.rows.items.length);
  for (let u = 0; u < dataset.userIds.length; u++) {
    const other = u < 40 ? 30 : 0;
    for (let j = indptr[u]!; j < indptr[u + 1]!; j++) items[j] = other + 29 - (j - indptr[u]!);
  }
  return { part: 'test', rows: { ...dataset.test.rows, items } };
}

describe('evaluate --auto', () => {
  it('never reads the test split before selection is over, and scores it once after', async () => {
    const dataset = await prepareDataset(plantedInteractions());
    let selected: Selection | null = null;
    let reads = 0;
    const trap = trapped(dataset.test, () => selected !== null);
    const counted: HeldOutSplit = {
      part: 'test',
      get rows(): UserRows {
        reads += 1;
        return trap.rows;
      },
    };
    const line = await runAuto(
      { ...dataset, test: counted },
      { models, grids: small, onSelected: (s) => (selected = s) },
      deps,
    );
    expect(selected).not.toBeNull();
    expect(line['model']).toBe('auto');
    expect(line['ndcg@20']).toBeGreaterThan(0);
    expect(reads).toBeGreaterThan(0);
  });

  it('chooses the same thing whatever the test split holds (a poisoned split changes only the score)', async () => {
    const dataset = await prepareDataset(plantedInteractions());
    const clean = await runAuto(dataset, { models, grids: small }, deps);
    const dirty = await runAuto({ ...dataset, test: poisoned(dataset) }, { models, grids: small }, deps);
    expect(dirty['chosen']).toEqual(clean['chosen']);
    // Everything but the wall time of each trial.
    const withoutTime = (line: typeof clean) =>
      (line['tried'] as { seconds?: number; ms_per_user?: number }[]).map(
        ({ seconds: _seconds, ms_per_user: _ms, ...rest }) => rest,
      );
    expect(withoutTime(dirty)).toEqual(withoutTime(clean));
    expect(dirty['val_ndcg@20']).toEqual(clean['val_ndcg@20']);
    // The poisoned test rewards nothing the models learned: the score falls, the choice does not move.
    expect(dirty['ndcg@20']).toBeLessThan(clean['ndcg@20'] as number);
  });

  it('only the train split reaches selection (types) and every model fits on train rows only', async () => {
    const dataset = await prepareDataset(plantedInteractions());
    // Never called: the check is that it does not compile (tsc runs over the tests).
    // @ts-expect-error a held-out split is not a train split: selection cannot be handed test data
    const wrongDoor = () => selectionSetFromTrain(dataset.test);
    expect(typeof wrongDoor).toBe('function');
    const fitted: CsrMatrix[] = [];
    const spy: Fitter = async (name, input, params, options) => {
      fitted.push(input.matrix);
      return fitRecommender(name, input, params, options);
    };
    await runAuto(dataset, { models, grids: small }, { ...deps, fit: spy });
    const testPairs = new Set<string>();
    const { indptr, items } = dataset.test.rows;
    for (let u = 0; u < dataset.userIds.length; u++) {
      for (let j = indptr[u]!; j < indptr[u + 1]!; j++) testPairs.add(`${u}:${items[j]}`);
    }
    for (const matrix of fitted) {
      for (let u = 0; u < matrix.rows; u++) {
        for (let j = matrix.indptr[u]!; j < matrix.indptr[u + 1]!; j++) {
          expect(testPairs.has(`${u}:${matrix.indices[j]}`)).toBe(false);
        }
      }
    }
  });

  it('prints the chosen model, what was tried with validation ndcg, and the protocol metrics', async () => {
    const dataset = await prepareDataset(plantedInteractions());
    const recency = [null, 4];
    const line = await runAuto(dataset, { models, grids: small, dataset: 'planted', recency }, deps);
    for (const key of ['recall@20', 'ndcg@20', 'coverage@20', 'train_s', 'tune_s', 'val_ndcg@20']) {
      expect(line).toHaveProperty([key]);
    }
    const tried = line['tried'] as { model: string; params: JsonValue; 'val_ndcg@20': number | null }[];
    const singles = tried.filter((t) => t.model !== 'blend');
    // Every fitted candidate is read with and without recency; popularity does not read the history.
    expect(singles.map((t) => [t.model, recencyOf(t.params)])).toEqual([
      ['popularity', null],
      ['itemknn', null],
      ['itemknn', 4],
      ['itemknn', null],
      ['itemknn', 4],
      ['als', null],
      ['als', 4],
    ]);
    const chosen = line['chosen'] as { model: ModelName };
    const best = Math.max(...tried.map((t) => t['val_ndcg@20'] ?? -1));
    // The choice is the best on validation, a blend only when it beat every single model.
    expect(line['val_ndcg@20']).toBeCloseTo(best, 6);
    if (chosen.model === 'blend') expect(tried.at(-1)?.model).toBe('blend');
  });
});

describe('selectModel', () => {
  /** A model that scores items by a fixed vector, whatever the user. */
  function fixedModel(name: ModelName, scores: Float32Array, nUsers: number): Recommender {
    return {
      name,
      params: { scores: Array.from(scores) },
      nUsers,
      nItems: scores.length,
      score: (_profile, out) => out.set(scores),
      similar: () => [],
      evidence: () => ({ kind: 'popular', popularity: 0 }),
      toArtifact: () => ({ name, params: null, nUsers, nItems: scores.length, arrays: {} }),
    };
  }

  it('records a model that refuses the data as skipped and chooses among the rest', async () => {
    const dataset = await prepareDataset(plantedInteractions());
    const set = selectionSetFromTrain(dataset.train);
    const fit: Fitter = async (name, input, params, options) => {
      if (name === 'als') throw new Error('als: too many items for this test');
      return fitRecommender(name, input, params, options);
    };
    const selection = await selectModel(set, {
      fit,
      models,
      grids: {
        ...(deps.defaults && { popularity: small.popularity, itemknn: small.itemknn, als: small.als }),
      } as never,
      fallback: { model: 'popularity', params: { halfLifeDays: null } },
    });
    const skipped = selection.tried.filter((t) => t.skipped !== undefined);
    expect(skipped).toEqual([
      expect.objectContaining({ model: 'als', skipped: 'als: too many items for this test' }),
    ]);
    expect(['itemknn', 'popularity', 'blend']).toContain(selection.chosen.model);
  });

  it('falls back to the configured model when validation is too small to choose by', async () => {
    const rows = plantedInteractions().filter((r) => Number(r.user.slice(1)) < 5);
    const dataset = await prepareDataset(rows);
    let fits = 0;
    const selection = await selectModel(selectionSetFromTrain(dataset.train), {
      fit: async (name, input, params) => {
        fits += 1;
        return fitRecommender(name, input, params);
      },
      models,
      grids: smallGrids,
      fallback: { model: 'als', params: defaultParams.als },
      minValidationUsers: 50,
    });
    expect(selection.chosen).toEqual({ model: 'als', params: defaultParams.als });
    expect(selection.fallback).toMatch(/too few/);
    expect(fits).toBe(0);
  });

  it('blends two complementary models when together they beat each alone', async () => {
    const dataset = await prepareDataset(plantedInteractions());
    const set = selectionSetFromTrain(dataset.train);
    const nItems = set.input.matrix.cols;
    // Model A knows group 1's favourites, model B group 2's: each alone serves half the users.
    const a = new Float32Array(nItems);
    const b = new Float32Array(nItems);
    for (let i = 0; i < 30; i++) {
      a[i] = 30 - i;
      b[30 + i] = 30 - i;
    }
    const fit: Fitter = async (name, input) =>
      fixedModel(name, name === 'popularity' ? a : b, input.matrix.rows);
    const selection = await selectModel(set, {
      fit,
      models: ['popularity', 'itemknn'],
      grids: { ...smallGrids, itemknn: [small.itemknn[0]!] },
      fallback: { model: 'popularity', params: { halfLifeDays: null } },
    });
    expect(selection.chosen.model).toBe('blend');
    const singles = selection.tried.filter((t) => t.model !== 'blend').map((t) => t.valNdcg ?? 0);
    expect(selection.valNdcg!).toBeGreaterThan(Math.max(...singles));
  });
});

describe('selectModel with a scoring budget', () => {
  /** Scores like `scores`, spending at least `ms` per call: a model too slow to serve. */
  function slowModel(name: ModelName, scores: Float32Array, nUsers: number, ms: number): Recommender {
    return {
      name,
      params: { ms },
      nUsers,
      nItems: scores.length,
      score: (_profile, out) => {
        const until = performance.now() + ms;
        while (performance.now() < until);
        out.set(scores);
      },
      similar: () => [],
      evidence: () => ({ kind: 'popular', popularity: 0 }),
      toArtifact: () => ({ name, params: null, nUsers, nItems: scores.length, arrays: {} }),
    };
  }

  it('never chooses, or blends in, a model whose measured scoring time is over the budget', async () => {
    const dataset = await prepareDataset(plantedInteractions());
    const set = selectionSetFromTrain(dataset.train);
    const nItems = set.input.matrix.cols;
    // The slow model ranks group 1's favourites first, the fast one group 2's: the slow one is the better
    // single model on these users, and blending both would beat either.
    const good = new Float32Array(nItems);
    const fair = new Float32Array(nItems);
    for (let i = 0; i < 30; i++) {
      good[i] = 30 - i;
      fair[30 + i] = 30 - i;
    }
    const fit: Fitter = async (name, input) =>
      name === 'itemknn'
        ? slowModel(name, good, input.matrix.rows, 2)
        : slowModel(name, fair, input.matrix.rows, 0);
    const options = {
      fit,
      models: ['popularity', 'itemknn'] as const,
      grids: { ...smallGrids, itemknn: [small.itemknn[0]!] },
      fallback: { model: 'popularity', params: { halfLifeDays: null } } as const,
    };
    const free = await selectModel(set, options);
    expect(free.chosen.model).not.toBe('popularity');

    const budgeted = await selectModel(set, { ...options, scoringBudgetMs: 1 });
    expect(budgeted.chosen.model).toBe('popularity');
    const slow = budgeted.tried.find((t) => t.model === 'itemknn')!;
    expect(slow.msPerUser).toBeGreaterThanOrEqual(2);
    expect(slow.overBudget).toBe(true);
    expect(budgeted.tried.some((t) => t.model === 'blend')).toBe(false);
  });

  it('blends cheaper models when the best one leaves no room for a partner within the budget', async () => {
    const dataset = await prepareDataset(plantedInteractions());
    const set = selectionSetFromTrain(dataset.train);
    const nItems = set.input.matrix.cols;
    // ALS (slow) and item-kNN (fast) both rank group 2's favourites first; popularity (fast) ranks group
    // 1's. ALS is the best single model (tuned first, it leads the tie with item-kNN), but ALS plus either
    // partner is over the budget, while item-kNN plus popularity fits it and serves both groups.
    const groupOne = new Float32Array(nItems);
    const groupTwo = new Float32Array(nItems);
    for (let i = 0; i < 30; i++) {
      groupOne[i] = 30 - i;
      groupTwo[30 + i] = 30 - i;
    }
    const fit: Fitter = async (name, input) =>
      name === 'als'
        ? slowModel(name, groupTwo, input.matrix.rows, 1.5)
        : slowModel(name, name === 'itemknn' ? groupTwo : groupOne, input.matrix.rows, 0.6);
    const selection = await selectModel(set, {
      fit,
      models: ['als', 'itemknn', 'popularity'],
      grids: { ...smallGrids, itemknn: [small.itemknn[0]!] },
      fallback: { model: 'popularity', params: { halfLifeDays: null } },
      // A loaded machine only lengthens the measured times: ALS plus a partner stays over 2 ms.
      scoringBudgetMs: 2,
    });
    const single = (model: string) => selection.tried.find((t) => t.model === model)!.valNdcg!;
    expect(single('als')).toBe(single('itemknn'));
    expect(single('als')).toBeGreaterThan(single('popularity'));
    expect(selection.chosen.model).toBe('blend');
    const components = selection.chosen.model === 'blend' ? selection.chosen.params.components : [];
    expect(components.map((c) => c.model).sort()).toEqual(['itemknn', 'popularity']);
    expect(selection.valNdcg!).toBeGreaterThan(single('als'));
  });

  it('takes the fastest model when nothing is within the budget', async () => {
    const dataset = await prepareDataset(plantedInteractions());
    const set = selectionSetFromTrain(dataset.train);
    const scores = Float32Array.from({ length: set.input.matrix.cols }, (_, i) => -i);
    const fit: Fitter = async (name, input) =>
      slowModel(name, scores, input.matrix.rows, name === 'itemknn' ? 0.6 : 1.5);
    const selection = await selectModel(set, {
      fit,
      models: ['popularity', 'itemknn'],
      grids: { ...smallGrids, itemknn: [small.itemknn[0]!] },
      fallback: { model: 'popularity', params: { halfLifeDays: null } },
      scoringBudgetMs: 0.1,
    });
    expect(selection.chosen.model).toBe('itemknn');
  });
});

describe('temporalSelectionSet', () => {
  it('holds out the last fifth of each user with ≥ 5 items by time and keeps weights in the fit part', () => {
    // User 0: 5 items, newest is item 1; user 1: 4 items (kept whole); user 2: 10 items, newest 2 held out.
    const matrix: CsrMatrix = {
      rows: 3,
      cols: 10,
      indptr: Int32Array.from([0, 5, 9, 19]),
      indices: Int32Array.from([0, 1, 2, 3, 4, 0, 1, 2, 3, ...Array.from({ length: 10 }, (_, i) => i)]),
      data: Float32Array.from([1, 8, 4, 1, 2, 1, 1, 1, 1, ...Array.from({ length: 10 }, () => 3)]),
    };
    const times = Float64Array.from([
      ...[10, 50, 20, 30, 40],
      ...[1, 2, 3, 4],
      ...Array.from({ length: 10 }, (_, i) => 100 - i),
    ]);
    const set = temporalSelectionSet({ matrix, times, now: 100 });
    const held = (u: number) =>
      Array.from(
        set.validation.rows.items.subarray(set.validation.rows.indptr[u], set.validation.rows.indptr[u + 1]),
      );
    expect(held(0)).toEqual([1]);
    expect(held(1)).toEqual([]);
    expect(held(2)).toEqual([1, 0]);
    const fit = set.input.matrix;
    expect(Array.from(fit.indptr)).toEqual([0, 4, 8, 16]);
    expect(Array.from(fit.indices.subarray(0, 4))).toEqual([0, 2, 3, 4]);
    expect(Array.from(fit.data.subarray(0, 4))).toEqual([1, 4, 1, 2]);
    expect(Array.from(fit.indices.subarray(8, 16))).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
    expect(set.input.times?.length).toBe(16);
    expect(set.input.now).toBe(100);
  });
});

describe('centerOut', () => {
  it('starts at the preferred candidate and moves outwards, the middle when it is absent', () => {
    expect(centerOut([1, 2, 3, 4, 5], 2)).toEqual([2, 1, 3, 4, 5]);
    expect(centerOut([1, 2, 3, 4, 5])).toEqual([3, 2, 4, 1, 5]);
    expect(centerOut([{ a: 1 }, { a: 2 }], { a: 2 })).toEqual([{ a: 2 }, { a: 1 }]);
  });
});

describe('trimGrid', () => {
  it('keeps at most max candidates spread over the grid, the preferred one included', () => {
    const grid = [1, 2, 3, 4, 5, 6, 7, 8, 9];
    expect(trimGrid(grid, 20)).toEqual(grid);
    const trimmed = trimGrid(grid, 3, 4);
    expect(trimmed).toHaveLength(3);
    expect(trimmed).toContain(4);
    expect(trimGrid(grid, 3)).toEqual([1, 5, 9]);
  });
});

describe('sampleValidation', () => {
  it('keeps the held-out rows of every stride-th validation user whole and empties the rest', async () => {
    const set = selectionSetFromTrain((await prepareDataset(plantedInteractions())).train);
    const all = heldOutUsers(set.validation);
    expect(sampleValidation(set, all.length)).toBe(set);
    const sampled = sampleValidation(set, 20);
    const kept = heldOutUsers(sampled.validation);
    expect(kept).toHaveLength(20);
    expect(sampled.input).toBe(set.input);
    const rows = (split: typeof set.validation, user: number) => {
      const { indptr, items, times } = split.rows;
      const at = [indptr[user]!, indptr[user + 1]!] as const;
      return { items: Array.from(items.subarray(...at)), times: Array.from(times.subarray(...at)) };
    };
    for (const user of kept) expect(rows(sampled.validation, user)).toEqual(rows(set.validation, user));
    // Spread over the id range, and the same users every time.
    expect(kept[0]).toBe(all[0]);
    expect(kept[kept.length - 1]!).toBeGreaterThan(all[Math.floor(all.length / 2)]!);
    expect(Array.from(heldOutUsers(sampleValidation(set, 20).validation))).toEqual(Array.from(kept));
  });

  it('limits the users selection scores, and says so', async () => {
    const set = selectionSetFromTrain((await prepareDataset(plantedInteractions())).train);
    const lines: string[] = [];
    const scored: number[] = [];
    const fit: Fitter = async (name, input, params) => {
      const model = await fitRecommender(name, input, params);
      return {
        ...model,
        score: (profile, out) => {
          scored.push(profile.items.length);
          model.score(profile, out);
        },
      } as Recommender;
    };
    const selection = await selectModel(set, {
      fit,
      models: ['popularity'],
      grids: smallGrids,
      fallback: { model: 'popularity', params: { halfLifeDays: null } },
      maxValidationUsers: 60,
      log: (line) => lines.push(line),
    });
    expect(selection.validationUsers).toBe(heldOutUsers(set.validation).length);
    expect(scored).toHaveLength(60);
    expect(lines).toContain(`selection: scoring 60 of ${selection.validationUsers} validation users`);
  });
});
