import { describe, expect, it } from 'vitest';

import {
  blendOf,
  defaultParams,
  encodeArtifacts,
  fitRecommender,
  type ModelName,
  type Recommender,
} from '../models/index.js';
import { csrFromCoo } from '../models/csr.js';
import { plantedClusters } from '../models/fixtures.js';
import type { JsonValue } from '../shared/types.js';
import {
  BundleDecodeError,
  ModelBundle,
  compareBundles,
  storedPosition,
  type BundleInfo,
  type TrainedInfo,
} from './bundle.js';

const trained: TrainedInfo = {
  trainedAt: 1_700_000_000_000,
  position: 42,
  cutoff: 1_700_000_000_000,
  primary: 'popularity',
  eventsRead: 50,
  users: 30,
  items: 18,
  interactions: 100,
  fitSeconds: {},
};

async function bundle(version = 0): Promise<ModelBundle> {
  const popularity = await fitRecommender(
    'popularity',
    { matrix: plantedClusters(30, 18) },
    { halfLifeDays: null },
  );
  const ids = (n: number, prefix: string) => Array.from({ length: n }, (_, j) => `${prefix}${j}`);
  const models = new Map<ModelName, Recommender>([['popularity', popularity]]);
  return new ModelBundle({ ...trained, version }, ids(30, 'u'), ids(18, 'i'), models);
}

describe('ModelBundle encoding', () => {
  it('leaves the version to the store and takes it back when decoding, with the position', async () => {
    const bytes = (await bundle(7)).encode();
    const decoded = ModelBundle.decode(bytes, 12);
    expect(decoded.info).toEqual({ ...trained, version: 12 });
    expect(decoded.version).toBe(12);
    // Without the store's version a format-2 bundle has none of its own.
    expect(ModelBundle.decode(bytes).version).toBe(0);
  });

  it('reads bundles saved before positions: version from the bytes, position 0', async () => {
    const current = await bundle();
    const { position: _position, ...legacyInfo } = { ...trained, version: 3 };
    const model = current.model('popularity')!;
    const legacy = encodeArtifacts([model.toArtifact()], {
      info: legacyInfo,
      userIds: [...current.userIds],
      itemIds: [...current.itemIds],
    } as unknown as JsonValue);
    const decoded = ModelBundle.decode(legacy);
    expect(decoded.info.version).toBe(3);
    expect(decoded.info.position).toBe(0);
    expect(ModelBundle.decode(legacy, 5).info.version).toBe(5);
  });

  it('refuses what it cannot serve with a BundleDecodeError naming the cause', async () => {
    const good = (await bundle()).encode();
    const newerContainer = good.slice();
    new DataView(newerContainer.buffer).setUint32(4, 99, true);
    const header = (extra: object) =>
      ({ format: 2, info: trained, userIds: ['u0'], itemIds: ['i0'], ...extra }) as unknown as JsonValue;
    const pop = (await bundle()).model('popularity')!.toArtifact();
    const cases: [string, Uint8Array, RegExp][] = [
      ['garbage', new TextEncoder().encode('not a bundle at all'), /bad magic/],
      ['truncated', good.subarray(0, 40), /truncated|not JSON/],
      ['newer container format', newerContainer, /unsupported artifact version 99/],
      ['newer bundle format', encodeArtifacts([pop], header({ format: 4 })), /bundle format 4 is newer/],
      [
        'unknown model',
        encodeArtifacts([{ ...pop, name: 'gbdt' as ModelName }], header({})),
        /unknown model/,
      ],
      ['no ids', encodeArtifacts([pop], header({ userIds: null })), /no user or item ids/],
    ];
    for (const [what, bytes, message] of cases) {
      let error: unknown;
      try {
        ModelBundle.decode(bytes, 2);
      } catch (caught) {
        error = caught;
      }
      expect(error, what).toBeInstanceOf(BundleDecodeError);
      expect((error as Error).message, what).toMatch(message);
    }
  });
});

describe('bundle order', () => {
  const at = (position: number, version: number): Pick<BundleInfo, 'position' | 'version'> => ({
    position,
    version,
  });

  it('puts the data trained on first and the version second', () => {
    expect(compareBundles(at(10, 1), at(9, 5))).toBeGreaterThan(0);
    expect(compareBundles(at(9, 5), at(10, 1))).toBeLessThan(0);
    // A retrain of the same events (new settings) is newer than the run before it.
    expect(compareBundles(at(10, 2), at(10, 1))).toBeGreaterThan(0);
    expect(compareBundles(at(10, 2), at(10, 2))).toBe(0);
  });

  it('reads the position from stored metadata without the payload, 0 when absent or malformed', () => {
    expect(storedPosition({ ...trained } as unknown as JsonValue)).toBe(42);
    expect(storedPosition({ version: 3 })).toBe(0);
    expect(storedPosition({ position: -1 })).toBe(0);
    expect(storedPosition({ position: '7' })).toBe(0);
    expect(storedPosition(null)).toBe(0);
    expect(storedPosition([1])).toBe(0);
  });
});

describe('ModelBundle.eraseUser', () => {
  /** ALS and the hybrid (with a trait per user) over 30 users, and a blend of the two by reference. */
  async function personalBundle(): Promise<ModelBundle> {
    const matrix = plantedClusters(30, 18);
    const traits = csrFromCoo({
      rows: 30,
      cols: 2,
      rowIdx: Array.from({ length: 30 }, (_, u) => u),
      colIdx: Array.from({ length: 30 }, (_, u) => u % 2),
      values: Array.from({ length: 30 }, () => 1),
    }).matrix;
    const input = { matrix, userFeatures: traits, userFeatureNames: ['plan=free', 'plan=pro'] };
    const als = await fitRecommender('als', input, { ...defaultParams.als, factors: 4, iterations: 3 });
    const hybrid = await fitRecommender('hybrid', input, {
      ...defaultParams.hybrid,
      components: 4,
      epochs: 3,
    });
    const blend = blendOf([
      { model: als, weight: 0.5 },
      { model: hybrid, weight: 0.5 },
    ]);
    const ids = (n: number, prefix: string) => Array.from({ length: n }, (_, j) => `${prefix}${j}`);
    const models = new Map<ModelName, Recommender>([
      ['als', als],
      ['hybrid', hybrid],
      ['blend', blend],
    ]);
    return new ModelBundle({ ...trained, version: 3 }, ids(30, 'user-'), ids(18, 'i'), models);
  }

  const rowOf = (bundle: ModelBundle, model: ModelName, array: string, row: number, width: number) =>
    Array.from(
      bundle
        .model(model)!
        .toArtifact()
        .arrays[array]!.subarray(row * width, (row + 1) * width),
    );

  it("zeroes the user's rows in every model, unnames them, and encodes without them", async () => {
    const bundle = await personalBundle();
    expect(rowOf(bundle, 'als', 'userFactors', 7, 4).some((v) => v !== 0)).toBe(true);
    expect(rowOf(bundle, 'hybrid', 'userRepr', 7, 4).some((v) => v !== 0)).toBe(true);
    const neighbour = rowOf(bundle, 'als', 'userFactors', 8, 4);

    expect(bundle.eraseUser('user-7')).toBe(true);
    expect(bundle.eraseUser('user-7')).toBe(false);
    expect(bundle.eraseUser('nobody')).toBe(false);
    expect(bundle.userIndex.has('user-7')).toBe(false);
    expect(bundle.userIndex.get('user-8')).toBe(8);
    expect(bundle.userIds[7]).toBe('');
    expect(rowOf(bundle, 'als', 'userFactors', 7, 4)).toEqual([0, 0, 0, 0]);
    expect(rowOf(bundle, 'hybrid', 'userRepr', 7, 4)).toEqual([0, 0, 0, 0]);
    expect(rowOf(bundle, 'hybrid', 'userWeights', 7, 1)).toEqual([0]);
    expect(rowOf(bundle, 'hybrid', 'userFeatureData', 7, 1)).toEqual([0]);
    expect(rowOf(bundle, 'als', 'userFactors', 8, 4)).toEqual(neighbour);

    const bytes = bundle.encode();
    expect(Buffer.from(bytes).includes('"user-7"')).toBe(false);
    expect(Buffer.from(bytes).includes('"user-8"')).toBe(true);
    const decoded = ModelBundle.decode(bytes, 3);
    expect(decoded.userIndex.has('user-7')).toBe(false);
    expect(decoded.userIndex.has('')).toBe(false);
    expect(decoded.userIndex.size).toBe(29);
    expect(rowOf(decoded, 'als', 'userFactors', 7, 4)).toEqual([0, 0, 0, 0]);
  });
});
