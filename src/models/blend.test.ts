import { afterAll, describe, expect, it } from 'vitest';
import { closeAlsWorkers } from './als-pool.js';
import { decodeArtifacts, encodeArtifacts, loadRecommender } from './artifact.js';
import { addZScored, blendOf, BlendRecommender } from './blend.js';
import { newUserProfile, plantedClusters, rowProfile } from './fixtures.js';
import { defaultParams, fitRecommender } from './index.js';
import { paramsFromJson, paramsToJson, validateParams } from './params.js';
import type { BlendParams } from './blend.js';
import type { Recommender, TrainingInput } from './types.js';

afterAll(() => closeAlsWorkers());

const input: TrainingInput = { matrix: plantedClusters(30, 18) };
const recipe: BlendParams = {
  components: [
    { model: 'itemknn', weight: 1, params: { neighbors: 5, shrinkage: 1 } },
    {
      model: 'als',
      weight: 0.5,
      params: { ...defaultParams.als, factors: 4, iterations: 8, regularization: 0.1 },
    },
  ],
};

function scoresOf(model: Recommender, profile = rowProfile(input.matrix, 2)): Float32Array {
  const out = new Float32Array(model.nItems);
  model.score(profile, out);
  return out;
}

/** A model that scores item i as `values[i]` for everyone. */
function fixed(values: number[]): Recommender {
  const scores = Float32Array.from(values);
  return {
    name: 'popularity',
    params: null,
    nUsers: 1,
    nItems: values.length,
    score: (_profile, out) => out.set(scores),
    similar: () => [],
    evidence: () => ({ kind: 'popular', popularity: 0 }),
    toArtifact: () => ({ name: 'popularity', params: null, nUsers: 1, nItems: values.length, arrays: {} }),
  };
}

describe('blend', () => {
  it('z-scores each component over the items the user has not seen', () => {
    const out = new Float32Array(4);
    // Item 0 is seen: its huge score must not set the scale of the others.
    addZScored(Float32Array.from([1000, 1, 2, 3]), Uint8Array.from([1, 0, 0, 0]), 2, out);
    const sd = Math.sqrt(2 / 3);
    expect(out[1]).toBeCloseTo((2 * (1 - 2)) / sd, 5);
    expect(out[2]).toBeCloseTo(0, 5);
    expect(out[3]).toBeCloseTo((2 * (3 - 2)) / sd, 5);
  });

  it('adds components by weight, not by their scales', () => {
    // Same ranking signal at scales 1 and 1000, opposite orders: equal weights cancel out.
    const a = fixed([1, 2, 3]);
    const b = fixed([3000, 2000, 1000]);
    expect(
      Array.from(
        scoresOf(
          blendOf([
            { model: a, weight: 1 },
            { model: b, weight: 1 },
          ]),
          newUserProfile([]),
        ),
      ),
    ).toEqual([0, 0, 0].map(() => expect.closeTo(0, 5)));
    const tilted = scoresOf(
      blendOf([
        { model: a, weight: 2 },
        { model: b, weight: 1 },
      ]),
      newUserProfile([]),
    );
    expect(tilted[2]).toBeGreaterThan(tilted[0]!);
  });

  it('a constant component adds nothing', () => {
    const blend = blendOf([
      { model: fixed([1, 5, 2]), weight: 1 },
      { model: fixed([7, 7, 7]), weight: 3 },
    ]);
    const alone = blendOf([{ model: fixed([1, 5, 2]), weight: 1 }]);
    expect(scoresOf(blend, newUserProfile([]))).toEqual(scoresOf(alone, newUserProfile([])));
  });

  it('fits as a model of its own and keeps the planted structure', async () => {
    const blend = await fitRecommender('blend', input, recipe);
    expect(blend.name).toBe('blend');
    for (const user of [2, 20]) {
      const profile = rowProfile(input.matrix, user);
      const scores = scoresOf(blend, profile);
      const seen = new Set(profile.items);
      const unseen = [...scores.keys()].filter((i) => !seen.has(i));
      unseen.sort((a, b) => scores[b]! - scores[a]!);
      // The best unseen items come from the user's own cluster (items 0–8 for group A, 9–17 for B).
      for (const item of unseen.slice(0, 3)) expect(item < 9).toBe(user < 15);
    }
  });

  it('round-trips through a bundle artifact to identical scores', async () => {
    const blend = await fitRecommender('blend', input, recipe);
    const { artifacts } = decodeArtifacts(encodeArtifacts([blend.toArtifact()]));
    const loaded = loadRecommender(artifacts[0]!);
    expect(loaded).toBeInstanceOf(BlendRecommender);
    expect(loaded.params).toEqual(blend.params);
    for (const profile of [rowProfile(input.matrix, 5), newUserProfile([0, 3]), newUserProfile([])]) {
      expect(scoresOf(loaded, profile)).toEqual(scoresOf(blend, profile));
    }
    expect(loaded.similar(1, 3)).toEqual(blend.similar(1, 3));
  });

  it('its params survive JSON and reject nesting, negative weights and unknown models', () => {
    expect(paramsFromJson('blend', paramsToJson('blend', recipe))).toEqual(recipe);
    expect(() => validateParams('blend', { components: [] })).toThrow(/non-empty/);
    expect(() => validateParams('blend', { components: [{ ...recipe.components[0]!, weight: -1 }] })).toThrow(
      /weight/,
    );
    expect(() => paramsFromJson('blend', { components: [{ model: 'nope', weight: 1, params: {} }] })).toThrow(
      /unknown/,
    );
    expect(() =>
      paramsFromJson('blend', { components: [{ model: 'blend', weight: 1, params: {} }] }),
    ).toThrow(/unknown|nest/);
  });
});

describe('BlendRecommender.explain', () => {
  it("gives each component's weighted z-score, summing to the blended score, with its own evidence", async () => {
    const blend = await fitRecommender('blend', input, recipe);
    const profile = rowProfile(input.matrix, 2);
    const scores = scoresOf(blend, profile);
    const seen = new Set(profile.items);
    const item = scores.findIndex((_, i) => !seen.has(i));
    const explanation = blend.explain!(profile, item, 5);
    if (explanation.kind !== 'blend')
      throw new Error(`expected a blend explanation, got ${explanation.kind}`);
    expect(explanation.score).toBeCloseTo(scores[item]!, 4);
    expect(explanation.components.map((c) => c.model).sort()).toEqual(['als', 'itemknn']);
    const contributions = explanation.components.map((c) => c.contribution);
    expect(contributions).toEqual([...contributions].sort((a, b) => b - a));
    for (const component of explanation.components) {
      expect(component.contribution).toBeCloseTo(component.weight * component.standardized, 6);
    }
    expect(explanation.components.find((c) => c.model === 'itemknn')?.explanation?.kind).toBe('neighbors');
    expect(explanation.components.find((c) => c.model === 'als')?.explanation?.kind).toBe('factors');
  });
});
