import { afterAll, describe, expect, it } from 'vitest';
import { closeAlsWorkers } from './als-pool.js';
import { ArtifactFormatError, decodeArtifacts, encodeArtifacts, loadRecommender } from './artifact.js';
import { csrFromCoo } from './csr.js';
import { newUserProfile, plantedClusters, rowProfile } from './fixtures.js';
import { defaultParams, fitRecommender } from './index.js';
import type { ModelArtifact, Recommender } from './types.js';

afterAll(() => closeAlsWorkers());

async function fitAll(): Promise<Recommender[]> {
  const base = plantedClusters(30, 18);
  const { matrix, times } = csrFromCoo({
    rows: base.rows,
    cols: base.cols,
    rowIdx: Array.from(base.indices, (_, k) => base.indptr.findLastIndex((p) => p <= k)),
    colIdx: base.indices,
    values: base.data,
    times: Array.from(base.indices, (_, k) => 1_700_000_000_000 + k * 3_600_000),
  });
  const input = { matrix, times: times! };
  return [
    await fitRecommender('popularity', input, { halfLifeDays: 2 }),
    await fitRecommender('itemknn', input, { neighbors: 5, shrinkage: 1 }),
    await fitRecommender('als', input, { ...defaultParams.als, factors: 6, iterations: 4 }),
  ];
}

function allScores(model: Recommender): Float32Array[] {
  const profiles = [newUserProfile([0, 3, 17]), newUserProfile([]), rowProfile(plantedClusters(30, 18), 2)];
  return profiles.map((p) => {
    const out = new Float32Array(model.nItems);
    model.score(p, out);
    return out;
  });
}

describe('artifacts', () => {
  it('round-trip every model to identical scores, neighbours and evidence', async () => {
    const models = await fitAll();
    const header = { userIds: ['a', 'b'], info: { version: 3, note: 'ü' } };
    const bytes = encodeArtifacts(
      models.map((m) => m.toArtifact()),
      header,
    );
    const decoded = decodeArtifacts(bytes);
    expect(decoded.header).toEqual(header);
    expect(decoded.artifacts.map((a) => a.name)).toEqual(['popularity', 'itemknn', 'als']);
    decoded.artifacts.forEach((artifact, k) => {
      const original = models[k]!;
      const loaded = loadRecommender(artifact);
      expect(loaded.name).toBe(original.name);
      expect(loaded.params).toEqual(original.params);
      expect([loaded.nUsers, loaded.nItems]).toEqual([original.nUsers, original.nItems]);
      expect(allScores(loaded)).toEqual(allScores(original));
      expect(loaded.similar(4, 5)).toEqual(original.similar(4, 5));
      expect(loaded.evidence(newUserProfile([1, 2]), 4)).toEqual(
        original.evidence(newUserProfile([1, 2]), 4),
      );
    });
  });

  it('decodes into views of the input, copying once only when it is misaligned', async () => {
    const [pop] = await fitAll();
    const bytes = encodeArtifacts([pop!.toArtifact()]);
    const aligned = decodeArtifacts(bytes);
    expect(aligned.artifacts[0]!.arrays['popularity']!.buffer).toBe(bytes.buffer);
    expect(aligned.header).toBeNull();
    const shifted = new Uint8Array(bytes.length + 3).subarray(3);
    shifted.set(bytes);
    const copy = decodeArtifacts(shifted);
    expect(copy.artifacts[0]!.arrays['popularity']!.buffer).not.toBe(shifted.buffer);
    expect(copy.artifacts[0]!.arrays['popularity']).toEqual(aligned.artifacts[0]!.arrays['popularity']);
  });

  it('keeps every array type and section alignment', () => {
    const artifact: ModelArtifact = {
      name: 'popularity',
      params: { halfLifeDays: null },
      nUsers: 1,
      nItems: 3,
      arrays: {
        a: Float32Array.of(1, 2, 3),
        b: Float64Array.of(Math.PI),
        c: Int32Array.of(-7, 8),
        popularity: Float32Array.of(1, 2, 3),
      },
    };
    const decoded = decodeArtifacts(encodeArtifacts([artifact, artifact])).artifacts;
    for (const d of decoded) {
      expect(d.arrays).toEqual(artifact.arrays);
      expect(d.arrays['b']).toBeInstanceOf(Float64Array);
      expect(d.arrays['c']).toBeInstanceOf(Int32Array);
      for (const a of Object.values(d.arrays)) expect(a.byteOffset % 8).toBe(0);
    }
    expect(decodeArtifacts(encodeArtifacts([], { only: 'header' }))).toEqual({
      artifacts: [],
      header: { only: 'header' },
    });
  });

  it('rejects foreign, truncated and inconsistent bytes', async () => {
    expect(() => decodeArtifacts(new Uint8Array(20))).toThrow(ArtifactFormatError);
    const [pop] = await fitAll();
    const bytes = encodeArtifacts([pop!.toArtifact()]);
    expect(() => decodeArtifacts(bytes.subarray(0, bytes.length - 8))).toThrow(/truncated/);
    expect(() => decodeArtifacts(bytes.subarray(0, 20))).toThrow(/truncated/);
    const wrongVersion = bytes.slice();
    wrongVersion[4] = 9;
    expect(() => decodeArtifacts(wrongVersion)).toThrow(/version/);
    const artifact = pop!.toArtifact();
    expect(() =>
      loadRecommender({ ...artifact, arrays: { popularity: new Float64Array(artifact.nItems) } }),
    ).toThrow(TypeError);
    expect(() => loadRecommender({ ...artifact, name: 'nope' as never })).toThrow(ArtifactFormatError);
    expect(() => loadRecommender({ ...artifact, name: 'als' })).toThrow(/als/);
  });
});
