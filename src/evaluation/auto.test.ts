import { afterAll, describe, expect, it } from 'vitest';
import { closeAlsWorkers } from '../models/als-pool.js';
import { blendOf, defaultParams, fitRecommender, type BlendParams } from '../models/index.js';
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
  type Choice,
  type Selection,
  type SelectionSet,
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
import { rankHeldOut } from './scoring.js';

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
const round6 = (value: number) => Number(value.toFixed(6));

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

    // The same candidates fitted and scored here, through the harness, on the same validation cut.
    const set = selectionSetFromTrain(dataset.train);
    const validationNdcg = (model: Recommender) =>
      rankHeldOut(model, set.input.matrix, set.validation, 20, set.input.times).ndcg;
    const candidates: Choice[] = [
      { model: 'popularity', params: small.popularity[0]! },
      ...small.itemknn.flatMap((params) => [
        { model: 'itemknn' as const, params },
        { model: 'itemknn' as const, params: { ...params, recency: 4 } },
      ]),
      { model: 'als', params: small.als[0]! },
      { model: 'als', params: { ...small.als[0]!, recency: 4 } },
    ];
    const measured: { choice: Choice; ndcg: number }[] = [];
    for (const choice of candidates) {
      const model = await fitRecommender(choice.model, set.input, choice.params as never);
      measured.push({ choice, ndcg: validationNdcg(model) });
    }
    expect(singles.map((t) => t['val_ndcg@20'])).toEqual(measured.map((m) => round6(m.ndcg)));
    const best = measured.reduce((a, b) => (b.ndcg > a.ndcg ? b : a));
    // On these users item-kNN with 20 neighbours read with recency wins, by more than rounding.
    expect(best.choice).toEqual({ model: 'itemknn', params: { neighbors: 20, shrinkage: 0, recency: 4 } });
    expect(best.ndcg - Math.max(...measured.filter((m) => m !== best).map((m) => m.ndcg))).toBeGreaterThan(
      1e-3,
    );
    // The blend selection tried, scored here from its recorded recipe, does not beat it: the best single
    // model is the choice, with its validation ndcg.
    const blend = tried.find((t) => t.model === 'blend')!;
    const recipe = blend.params as unknown as BlendParams;
    const parts = [];
    for (const c of recipe.components) {
      parts.push({ model: await fitRecommender(c.model, set.input, c.params as never), weight: c.weight });
    }
    const blendNdcg = validationNdcg(blendOf(parts));
    expect(blend['val_ndcg@20']).toBe(round6(blendNdcg));
    expect(blendNdcg).toBeLessThanOrEqual(best.ndcg + 1e-6);
    expect(line['chosen']).toEqual(best.choice);
    expect(line['val_ndcg@20']).toBe(round6(best.ndcg));
  });
});

/**
 * Fakes whose validation ndcg is known before selection runs. `plantedInteractions` gives every user 15
 * items of their own group's 30: 3 go to test, 2 to validation, 10 stay in the fit rows. A model that
 * "knows" a group recommends that group's items to everyone and, to that group's users, their own
 * validation items first:
 * - a user of the known group gets the 2 held-out items at ranks 0 and 1: ndcg 1;
 * - a user of the other group gets 20 of the 30 items of the known group, none of theirs: ndcg 0.
 * All 80 users hold out validation items, 40 per group, so such a model scores exactly 0.5 alone. Two
 * models that know different groups blend to ndcg 1 (z-scored, with the partner weighted 0.7 to 1.5 of
 * the anchor: the held-out items then lead for both groups).
 */
type Group = 'first' | 'second' | 'everyone';

interface Fakes {
  readonly set: SelectionSet;
  /** The fake clock (ms) selection measures scoring with: only `knowing` models advance it. */
  readonly clock: () => number;
  /** A model that knows `group` and costs `ms` of the fake clock per user it scores. */
  knowing(name: ModelName, group: Group, ms?: number): Recommender;
}

async function fakes(): Promise<Fakes> {
  const dataset = await prepareDataset(plantedInteractions());
  const set = selectionSetFromTrain(dataset.train);
  const nItems = set.input.matrix.cols;
  const number = (id: string) => Number(id.slice(1));
  // Index order is the protocol's id order ('u0', 'u1', 'u10', …), so groups come from the ids.
  const firstUser = dataset.userIds.map((id) => number(id) < 40);
  const firstItem = dataset.itemIds.map((id) => number(id) < 30);
  const { indptr, items } = set.validation.rows;
  let now = 0;
  return {
    set,
    clock: () => now,
    knowing(name, group, ms = 0) {
      const inGroup = (first: boolean) => group === 'everyone' || first === (group === 'first');
      return {
        name,
        params: { knows: group, ms },
        nUsers: set.input.matrix.rows,
        nItems,
        score: (profile, out) => {
          now += ms;
          for (let i = 0; i < nItems; i++) out[i] = inGroup(firstItem[i]!) ? 1 : 0;
          if (!inGroup(firstUser[profile.userIndex]!)) return;
          for (let j = indptr[profile.userIndex]!; j < indptr[profile.userIndex + 1]!; j++)
            out[items[j]!] = 2;
        },
        similar: () => [],
        evidence: () => ({ kind: 'popular', popularity: 0 }),
        toArtifact: () => ({ name, params: null, nUsers: set.input.matrix.rows, nItems, arrays: {} }),
      };
    },
  };
}

const oneKnn = { ...smallGrids, itemknn: [small.itemknn[0]!] };
const popularityFallback = { model: 'popularity', params: { halfLifeDays: null } } as const;

describe('selectModel', () => {
  it('the fakes score on validation what they are built to score', async () => {
    const { set, knowing } = await fakes();
    const ndcg = (model: Recommender) => rankHeldOut(model, set.input.matrix, set.validation, 20).ndcg;
    expect(ndcg(knowing('popularity', 'first'))).toBe(0.5);
    expect(ndcg(knowing('popularity', 'second'))).toBe(0.5);
    expect(ndcg(knowing('popularity', 'everyone'))).toBe(1);
    const both = blendOf([
      { model: knowing('popularity', 'first'), weight: 1 },
      { model: knowing('itemknn', 'second'), weight: 1 },
    ]);
    expect(ndcg(both)).toBe(1);
  });

  it('records a model that refuses the data as skipped and chooses the best of the rest', async () => {
    const { set, knowing } = await fakes();
    // ALS refuses; item-kNN with 20 neighbours knows everyone (ndcg 1), with 2 only the first group (0.5),
    // popularity only the second group (0.5).
    const fit: Fitter = async (name, _input, params) => {
      if (name === 'als') throw new Error('als: too many items for this test');
      if (name === 'popularity') return knowing(name, 'second');
      return knowing(name, (params as { neighbors: number }).neighbors === 20 ? 'everyone' : 'first');
    };
    const selection = await selectModel(set, {
      fit,
      models,
      grids: { ...smallGrids, itemknn: small.itemknn },
      fallback: popularityFallback,
    });
    const skipped = selection.tried.filter((t) => t.skipped !== undefined);
    expect(skipped).toEqual([
      expect.objectContaining({ model: 'als', skipped: 'als: too many items for this test' }),
    ]);
    expect(selection.chosen).toEqual({ model: 'itemknn', params: { neighbors: 20, shrinkage: 0 } });
    expect(selection.valNdcg).toBe(1);
    expect(selection.best).toEqual([
      { model: 'itemknn', params: { neighbors: 20, shrinkage: 0 } },
      { model: 'popularity', params: { halfLifeDays: null } },
    ]);
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
    const { set, knowing } = await fakes();
    // Popularity knows the first group, item-kNN the second: 0.5 each, 1 together.
    const fit: Fitter = async (name) => knowing(name, name === 'popularity' ? 'first' : 'second');
    const selection = await selectModel(set, {
      fit,
      models: ['popularity', 'itemknn'],
      grids: oneKnn,
      fallback: popularityFallback,
    });
    expect(selection.tried.filter((t) => t.model !== 'blend').map((t) => t.valNdcg)).toEqual([0.5, 0.5]);
    expect(selection.chosen.model).toBe('blend');
    const components = selection.chosen.model === 'blend' ? selection.chosen.params.components : [];
    expect(components.map((c) => c.model).sort()).toEqual(['itemknn', 'popularity']);
    for (const component of components) expect(component.weight).toBeGreaterThan(0);
    expect(selection.valNdcg).toBeCloseTo(1, 9);
  });

  it('keeps the best single model when no blend beats it', async () => {
    const { set, knowing } = await fakes();
    const fit: Fitter = async (name) => knowing(name, name === 'itemknn' ? 'everyone' : 'first');
    const selection = await selectModel(set, {
      fit,
      models: ['popularity', 'itemknn'],
      grids: oneKnn,
      fallback: popularityFallback,
    });
    expect(selection.chosen).toEqual({ model: 'itemknn', params: small.itemknn[0] });
    expect(selection.valNdcg).toBe(1);
  });
});

describe('selectModel with a scoring budget', () => {
  // Scoring costs come from a fake clock that only the fakes advance, by a fixed amount per user they
  // score: the measured cost is exact, whatever the machine is doing.

  it('never chooses, or blends in, a model whose measured scoring time is over the budget', async () => {
    const { set, clock, knowing } = await fakes();
    // Item-kNN (2 ms per user) and popularity (free) know different groups: together they are perfect.
    const fit: Fitter = async (name) =>
      name === 'itemknn' ? knowing(name, 'first', 2) : knowing(name, 'second', 0);
    const options = { fit, clock, models: ['popularity', 'itemknn'] as const, grids: oneKnn };
    const free = await selectModel(set, { ...options, fallback: popularityFallback });
    expect(free.chosen.model).toBe('blend');
    expect(free.valNdcg).toBeCloseTo(1, 9);

    const budgeted = await selectModel(set, { ...options, fallback: popularityFallback, scoringBudgetMs: 1 });
    expect(budgeted.chosen).toEqual(popularityFallback);
    expect(budgeted.valNdcg).toBe(0.5);
    const slow = budgeted.tried.find((t) => t.model === 'itemknn')!;
    expect(slow.msPerUser).toBeCloseTo(2, 9);
    expect(slow.overBudget).toBe(true);
    expect(budgeted.tried.find((t) => t.model === 'popularity')).toMatchObject({ msPerUser: 0 });
    expect(budgeted.tried.some((t) => t.model === 'blend')).toBe(false);
  });

  it('blends cheaper models when the best one leaves no room for a partner within the budget', async () => {
    const { set, clock, knowing } = await fakes();
    // ALS (1.5 ms) and item-kNN (0.6 ms) know the second group, popularity (0.6 ms) the first: 0.5 each.
    // ALS leads the tie (tuned first), but ALS plus either partner costs 2.1 ms, over the 2 ms budget,
    // while item-kNN plus popularity costs 1.2 ms and is perfect.
    const cost = { als: 1.5, itemknn: 0.6, popularity: 0.6 } as Record<ModelName, number>;
    const fit: Fitter = async (name) => knowing(name, name === 'popularity' ? 'first' : 'second', cost[name]);
    const selection = await selectModel(set, {
      fit,
      clock,
      models: ['als', 'itemknn', 'popularity'],
      grids: oneKnn,
      fallback: popularityFallback,
      scoringBudgetMs: 2,
    });
    const single = (model: string) => selection.tried.find((t) => t.model === model)!;
    expect(['als', 'itemknn', 'popularity'].map((m) => single(m).valNdcg)).toEqual([0.5, 0.5, 0.5]);
    expect(single('als').msPerUser).toBeCloseTo(1.5, 9);
    expect(single('itemknn').msPerUser).toBeCloseTo(0.6, 9);
    expect(selection.best[0]!.model).toBe('als');
    expect(selection.chosen.model).toBe('blend');
    const components = selection.chosen.model === 'blend' ? selection.chosen.params.components : [];
    expect(components.map((c) => c.model).sort()).toEqual(['itemknn', 'popularity']);
    expect(selection.valNdcg).toBeCloseTo(1, 9);
  });

  it('takes the fastest model when nothing is within the budget, however well the others score', async () => {
    const { set, clock, knowing } = await fakes();
    // Popularity is perfect but costs 1.5 ms; item-kNN scores 0.5 at 0.6 ms; the budget is 0.1 ms.
    const fit: Fitter = async (name) =>
      name === 'popularity' ? knowing(name, 'everyone', 1.5) : knowing(name, 'first', 0.6);
    const selection = await selectModel(set, {
      fit,
      clock,
      models: ['popularity', 'itemknn'],
      grids: oneKnn,
      fallback: popularityFallback,
      scoringBudgetMs: 0.1,
    });
    expect(selection.tried.filter((t) => t.model !== 'blend').every((t) => t.overBudget === true)).toBe(true);
    expect(selection.chosen).toEqual({ model: 'itemknn', params: small.itemknn[0] });
    expect(selection.valNdcg).toBe(0.5);
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
