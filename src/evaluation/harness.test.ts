import { describe, expect, it } from 'vitest';
import { defaultParams } from '../models/params.js';
import type { CsrMatrix, ModelName, ModelParamsByName, Recommender } from '../models/types.js';
import type { JsonValue } from '../shared/types.js';
import type { Interaction } from './datasets.js';
import {
  resolveModelName,
  runEvaluation,
  type Fitter,
  type HarnessDeps,
  type ResultLine,
} from './harness.js';
import { prepareDataset, validationSplit, type UserRows } from './protocol.js';

// Models this file does not exercise keep their real defaults, so new models need no edit here.
const defaults: ModelParamsByName = {
  ...defaultParams,
  popularity: { halfLifeDays: 30 },
  itemknn: { neighbors: 1, shrinkage: 0 },
  als: { factors: 8, iterations: 3, regularization: 1, alpha: 1, cgSteps: 3, seed: 1 },
};

/**
 * 12 users with 8 interactions each: 1 goes to test, 1 of the 7 left to validation. Items 0 and 1 are
 * popular: users 0–5 take them first, users 6–11 last (item 0 in validation, item 1 in test). The other
 * six interactions per user spread over 28 rare items, so item counts rank 0 and 1 first.
 */
const rows: Interaction[] = Array.from({ length: 12 }, (_, user) => {
  const rare = Array.from({ length: 6 }, (_, j) => String(2 + ((user * 6 + j) % 28)));
  const items = user < 6 ? ['0', '1', ...rare] : [...rare, '0', '1'];
  return items.map((item, j) => ({ user: String(user), item, rating: null, timestamp: 1000 * user + j }));
}).flat();

/** Item train counts, signed: `neighbors === 2` (or `alpha === 40`) turns the ranking upside down. */
function countModel(name: ModelName, matrix: CsrMatrix, sign: number, params: JsonValue) {
  const counts = new Float32Array(matrix.cols);
  for (const item of matrix.indices.subarray(0, matrix.indptr[matrix.rows]!)) counts[item]! += sign;
  const model: Recommender = {
    name,
    params,
    nUsers: matrix.rows,
    nItems: matrix.cols,
    score: (_profile, out) => out.set(counts),
    similar: () => [],
    evidence: () => ({ kind: 'popular', popularity: 0 }),
    toArtifact: () => ({ name, params, nUsers: matrix.rows, nItems: matrix.cols, arrays: {} }),
  };
  return model;
}

function recordingDeps(): { deps: HarnessDeps; fits: { name: string; matrix: CsrMatrix }[] } {
  const fits: { name: string; matrix: CsrMatrix }[] = [];
  const fit: Fitter = async (name, input, params) => {
    fits.push({ name, matrix: input.matrix });
    const plain = JSON.parse(JSON.stringify(params)) as Record<string, JsonValue>;
    const flipped = plain['neighbors'] === 2 || plain['alpha'] === 40;
    return countModel(name, input.matrix, flipped ? -1 : 1, plain);
  };
  return { deps: { fit, defaults }, fits };
}

/**
 * The metrics of ranking items by their interaction count in `train` (ties to the lower index), written
 * out from the protocol's definitions rather than through the harness: for each user with held-out
 * items, the top `k` of the items outside their train rows; recall = hits / held; ndcg = Σ 1/log2(rank + 2)
 * over hits, divided by the same sum over the first min(k, held) ranks; coverage = distinct listed items
 * over the catalog.
 */
function countRanking(train: UserRows, held: UserRows, nItems: number, k: number) {
  const counts = new Array<number>(nItems).fill(0);
  for (const item of train.items) counts[item]! += 1;
  const order = counts.map((_, item) => item).sort((a, b) => counts[b]! - counts[a]! || a - b);
  const listed = new Set<number>();
  let recall = 0;
  let ndcg = 0;
  let users = 0;
  for (let u = 0; u + 1 < held.indptr.length; u++) {
    const heldItems = new Set(held.items.subarray(held.indptr[u], held.indptr[u + 1]));
    if (heldItems.size === 0) continue;
    const own = new Set(train.items.subarray(train.indptr[u], train.indptr[u + 1]));
    const top = order.filter((item) => !own.has(item)).slice(0, k);
    top.forEach((item) => listed.add(item));
    let dcg = 0;
    let hits = 0;
    top.forEach((item, rank) => {
      if (heldItems.has(item)) {
        hits += 1;
        dcg += 1 / Math.log2(rank + 2);
      }
    });
    let ideal = 0;
    for (let rank = 0; rank < Math.min(k, heldItems.size); rank++) ideal += 1 / Math.log2(rank + 2);
    recall += hits / heldItems.size;
    ndcg += dcg / ideal;
    users += 1;
  }
  return { recall: recall / users, ndcg: ndcg / users, coverage: listed.size / nItems, users };
}

async function collect(lines: AsyncIterable<ResultLine>): Promise<ResultLine[]> {
  const out: ResultLine[] = [];
  for await (const line of lines) out.push(line);
  return out;
}

function pairs(matrix: CsrMatrix): Set<string> {
  const out = new Set<string>();
  for (let u = 0; u < matrix.rows; u++) {
    for (let j = matrix.indptr[u]!; j < matrix.indptr[u + 1]!; j++) out.add(`${u}:${matrix.indices[j]!}`);
  }
  return out;
}

describe('resolveModelName', () => {
  it('accepts Attune names and the reference aliases', () => {
    expect(
      ['popularity', 'pop', 'itemknn', 'als', 'ials', 'implicit_als', 'ALS'].map(resolveModelName),
    ).toEqual(['popularity', 'popularity', 'itemknn', 'als', 'als', 'als', 'als']);
    expect(() => resolveModelName('svd')).toThrow(/unknown model "svd"; expected one of popularity, pop/);
  });
});

describe('runEvaluation', () => {
  it('writes one line per model in the reference layout, with K in the metric keys', async () => {
    const { deps } = recordingDeps();
    const lines = await collect(
      runEvaluation(rows, { models: ['pop', 'itemknn'], k: 5, dataset: 'toy', grids: {} }, deps),
    );
    expect(lines.map((line) => Object.keys(line))).toEqual(
      new Array(2).fill([
        'model',
        'recall@5',
        'ndcg@5',
        'coverage@5',
        'train_s',
        'tune_s',
        'params',
        'val_ndcg@5',
        'dataset',
        'n_test_users',
      ]),
    );
    const [pop, knn] = lines;
    expect(pop).toMatchObject({
      model: 'pop',
      tune_s: 0,
      'val_ndcg@5': null,
      dataset: 'toy',
      n_test_users: 12,
    });
    // The protocol's popularity is the plain count, whatever the serving default's decay.
    expect(pop!.params).toEqual({ halfLifeDays: null });
    // ItemKNN searched 9 settings; the fake ranks upside down only at 2 neighbours, which is not searched.
    expect(knn!['val_ndcg@5']).not.toBeNull();
    // Both fakes rank by train counts: their test metrics are the count ranking's, computed here.
    const data = await prepareDataset(rows);
    const expected = countRanking(data.train.rows, data.test.rows, data.train.nItems, 5);
    for (const line of [pop!, knn!]) {
      expect(line['ndcg@5']).toBeCloseTo(expected.ndcg, 5);
      expect(line['recall@5']).toBeCloseTo(expected.recall, 5);
      expect(line['coverage@5']).toBeCloseTo(expected.coverage, 5);
    }
    // By hand: users 6–11 hold out item 1, which ranks first for them (item 0 is in their train rows);
    // users 0–5 hold out a rare item outside the top 5. Half the users at ndcg 1, half at 0.
    expect(expected.ndcg).toBeCloseTo(0.5, 12);
  });

  it('tunes on validation cut from train, never on test, then refits on the whole train split', async () => {
    const { deps, fits } = recordingDeps();
    const grids = { itemknn: [2, 1].map((neighbors) => ({ neighbors, shrinkage: 0 })) };
    const [line] = await collect(runEvaluation(rows, { models: ['itemknn'], k: 3, grids }, deps));
    const data = await prepareDataset(rows);
    const { fit: tuneTrain } = validationSplit(data.train);
    const testPairs = pairs({
      rows: data.train.nUsers,
      cols: data.train.nItems,
      indptr: data.test.rows.indptr,
      indices: data.test.rows.items,
      data: new Float32Array(data.test.rows.items.length),
    });
    expect(fits).toHaveLength(3);
    // The two tuning fits see train minus validation (12 users × 6) and no test pair.
    for (const { matrix } of fits.slice(0, 2)) {
      expect(matrix.indptr[matrix.rows]).toBe(tuneTrain.rows.items.length);
      expect(tuneTrain.rows.items.length).toBe(12 * 6);
      for (const pair of pairs(matrix)) expect(testPairs.has(pair)).toBe(false);
    }
    // The final fit sees the whole train split, still without test pairs.
    const final = fits[2]!.matrix;
    expect(final.indptr[final.rows]).toBe(12 * 7);
    for (const pair of pairs(final)) expect(testPairs.has(pair)).toBe(false);
    // The flipped setting (2 neighbours) loses on validation.
    expect(line!.params).toEqual({ neighbors: 1, shrinkage: 0 });
    // The winning setting's validation score: the count ranking of the fit part against validation.
    const { validation } = validationSplit(data.train);
    const onValidation = countRanking(tuneTrain.rows, validation.rows, data.train.nItems, 3);
    expect(line!['val_ndcg@3']).toBeCloseTo(onValidation.ndcg, 5);
    // And the test metrics come from the refit on the whole train split.
    expect(line!['ndcg@3']).toBeCloseTo(
      countRanking(data.train.rows, data.test.rows, data.train.nItems, 3).ndcg,
      5,
    );
  });

  it('uses fixed settings without tuning, ALS at the protocol’s 64 factors and 15 sweeps', async () => {
    const { deps, fits } = recordingDeps();
    const lines = await collect(runEvaluation(rows, { models: ['ials'], tune: false }, deps));
    expect(fits).toHaveLength(1);
    expect(lines[0]).toMatchObject({ model: 'ials', 'val_ndcg@20': null, tune_s: 0 });
    expect(lines[0]!.params).toEqual({ ...defaults.als, factors: 64, iterations: 15 });
  });

  it('searches the protocol’s 12 ALS settings', async () => {
    const { deps, fits } = recordingDeps();
    const logs: string[] = [];
    const [line] = await collect(runEvaluation(rows, { models: ['als'], onLog: (l) => logs.push(l) }, deps));
    expect(fits).toHaveLength(13);
    expect(logs.filter((l) => l.includes('val ndcg@20'))).toHaveLength(12);
    // α = 40 is the flipped fake; the first best setting wins ties.
    expect(line!.params).toMatchObject({ factors: 64, iterations: 15, alpha: 1, regularization: 0.1 });
  });

  it('rejects unknown models before doing any work', async () => {
    const { deps, fits } = recordingDeps();
    await expect(collect(runEvaluation(rows, { models: ['als', 'svd'] }, deps))).rejects.toThrow(
      /unknown model/,
    );
    expect(fits).toHaveLength(0);
  });

  it('accepts a prepared dataset', async () => {
    const { deps } = recordingDeps();
    const data = await prepareDataset(rows);
    const [line] = await collect(runEvaluation(data, { models: ['popularity'] }, deps));
    expect(line).toMatchObject({ model: 'popularity', n_test_users: 12, dataset: 'dataset' });
  });
});
