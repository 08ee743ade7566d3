import { afterAll, describe, expect, it } from 'vitest';
import { closeAlsWorkers } from './als-pool.js';
import { decodeArtifacts, encodeArtifacts, loadRecommender } from './artifact.js';
import { plantedClusters } from './fixtures.js';
import { defaultParams, fitRecommender } from './index.js';
import { paramsFromJson, paramsToJson, ParamsError } from './params.js';
import { feedbackWeights, RecencyWeighted, recencyOf, weighByRecency, withRecency } from './recency.js';
import type { UserProfile } from './types.js';

afterAll(() => closeAlsWorkers());

const profile = (times?: number[]): UserProfile => ({
  userIndex: 0,
  fresh: false,
  items: Int32Array.from([3, 1, 7, 5]),
  weights: Float32Array.from([1, 2, 1, 1]),
  ...(times === undefined ? {} : { times: Float64Array.from(times) }),
});

describe('weighByRecency', () => {
  it('halves the weight every `halfLife` places back from the newest interaction', () => {
    // Newest to oldest: item 7 (t=40), item 1 (t=30), item 5 (t=20), item 3 (t=10).
    const weighted = weighByRecency(profile([10, 30, 40, 20]), 1);
    expect(Array.from(weighted.weights)).toEqual([1 / 8, 2 / 2, 1, 1 / 4]);
    expect(weighted.fresh).toBe(true);
    expect(Array.from(weighted.items)).toEqual([3, 1, 7, 5]);
  });

  it('ranks equal times by the higher item index as newer', () => {
    const weighted = weighByRecency(profile([5, 5, 5, 5]), 2);
    // Order 7, 5, 3, 1: ranks 2, 3, 0, 1.
    expect(Array.from(weighted.weights)).toEqual([1 * 2 ** -1, 2 * 2 ** -1.5, 1, 2 ** -0.5].map(Math.fround));
  });

  it('leaves a profile without times, or with one item, as it is', () => {
    const plain = profile();
    expect(weighByRecency(plain, 3)).toBe(plain);
    const single: UserProfile = {
      ...profile([1, 2, 3, 4]),
      items: Int32Array.of(4),
      weights: Float32Array.of(1),
    };
    expect(weighByRecency(single, 3)).toBe(single);
  });

  it('keeps the feedback weights it started from, for models that measure how much is new', () => {
    const plain = profile([10, 30, 40, 20]);
    const weighted = weighByRecency(plain, 1);
    expect(feedbackWeights(weighted)).toBe(plain.weights);
    expect(feedbackWeights(weighByRecency(weighted, 2))).toBe(plain.weights);
    expect(feedbackWeights(plain)).toBe(plain.weights);
    // A copy with weights of its own is not the weighted profile.
    const copy = { ...weighted, weights: Float32Array.of(1, 1, 1, 1) };
    expect(feedbackWeights(copy)).toBe(copy.weights);
  });
});

describe('recency as a hyper-parameter', () => {
  it('is validated, kept in params JSON and read back', () => {
    const params = { ...defaultParams.ease, recency: 6 };
    expect(paramsToJson('ease', params)).toEqual({ lambda: 200, maxItems: 20_000, recency: 6 });
    expect(paramsFromJson('ease', { lambda: 200, maxItems: 20_000, recency: 6 })).toEqual(params);
    expect(paramsToJson('ease', defaultParams.ease)).not.toHaveProperty('recency');
    expect(() => paramsFromJson('ease', { lambda: 200, maxItems: 20_000, recency: -1 })).toThrow(
      /ease: recency must be null or a positive number/,
    );
    expect(() => paramsFromJson('itemknn', { neighbors: 5, shrinkage: 0, recency: 'x' })).toThrow(
      ParamsError,
    );
  });

  it('changes the scores of a model fitted with it, and survives storage', async () => {
    const input = { matrix: plantedClusters() };
    const plain = await fitRecommender('itemknn', input, defaultParams.itemknn);
    const weighted = await fitRecommender('itemknn', input, { ...defaultParams.itemknn, recency: 1 });
    expect(weighted).toBeInstanceOf(RecencyWeighted);
    expect(recencyOf(weighted.params)).toBe(1);
    const user: UserProfile = {
      userIndex: 0,
      fresh: false,
      items: Int32Array.from([0, 5]),
      weights: Float32Array.from([1, 1]),
      times: Float64Array.from([100, 200]),
    };
    const a = new Float32Array(plain.nItems);
    const b = new Float32Array(plain.nItems);
    plain.score(user, a);
    weighted.score(user, b);
    expect(Array.from(b)).not.toEqual(Array.from(a));
    // Equal to scoring the hand-weighted profile with the plain model.
    const byHand = new Float32Array(plain.nItems);
    plain.score({ ...user, weights: Float32Array.from([0.5, 1]), fresh: true }, byHand);
    expect(Array.from(b)).toEqual(Array.from(byHand));

    const [loaded] = decodeArtifacts(encodeArtifacts([weighted.toArtifact()])).artifacts.map(loadRecommender);
    const c = new Float32Array(plain.nItems);
    loaded!.score(user, c);
    expect(Array.from(c)).toEqual(Array.from(b));
    expect(withRecency(weighted, null)).toBe((weighted as RecencyWeighted).inner);
  });
});
