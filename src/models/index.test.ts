import { afterAll, describe, expect, it } from 'vitest';
import { closeAlsWorkers } from './als-pool.js';
import { plantedClusters } from './fixtures.js';
import {
  MODEL_NAMES,
  defaultParams,
  fitRecommender,
  paramsFromJson,
  paramsToJson,
  validateParams,
} from './index.js';

afterAll(() => closeAlsWorkers());

describe('models index', () => {
  it('fits every model by name with its default params', async () => {
    const matrix = plantedClusters();
    for (const name of MODEL_NAMES) {
      const model = await fitRecommender(name, { matrix }, defaultParams[name]);
      expect(model.name).toBe(name);
      expect([model.nUsers, model.nItems]).toEqual([matrix.rows, matrix.cols]);
      expect(model.toArtifact().name).toBe(name);
    }
  });

  it('validates params and round-trips them through JSON', () => {
    for (const name of MODEL_NAMES) {
      validateParams(name, defaultParams[name]);
      expect(
        paramsFromJson(name, JSON.parse(JSON.stringify(paramsToJson(name, defaultParams[name])))),
      ).toEqual(defaultParams[name]);
    }
    expect(() => paramsFromJson('als', { factors: 8 })).toThrow(/iterations/);
    expect(() => validateParams('itemknn', { neighbors: 0, shrinkage: 0 })).toThrow(/neighbors/);
  });

  it('rejects malformed training input', async () => {
    const matrix = plantedClusters();
    const negative = { ...matrix, data: matrix.data.map((v, k) => (k === 3 ? -1 : v)) };
    await expect(
      fitRecommender('popularity', { matrix: negative }, defaultParams.popularity),
    ).rejects.toThrow(/weight/);
    const times = new Float64Array(2);
    await expect(fitRecommender('popularity', { matrix, times }, defaultParams.popularity)).rejects.toThrow(
      /times/,
    );
  });
});
