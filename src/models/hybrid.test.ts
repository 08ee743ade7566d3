import { describe, expect, it } from 'vitest';
import type { JsonValue } from '../shared/types.js';
import { decodeArtifacts, encodeArtifacts, loadRecommender } from './artifact.js';
import { csrFromCoo } from './csr.js';
import { newUserProfile, rowProfile } from './fixtures.js';
import { fitHybrid, HybridRecommender } from './hybrid.js';
import { featureLayout } from './hybrid-train.js';
import { defaultParams, fitRecommender, paramsFromJson, paramsToJson, validateParams } from './index.js';
import { mulberry32 } from './random.js';
import { RecencyWeighted } from './recency.js';
import type { CsrMatrix, HybridParams, ModelArtifact, TrainingInput, UserProfile } from './types.js';

/**
 * Planted structure with side features. Items 0..9 are genre A, 10..19 genre B (warm); 20..22 are genre A
 * and 23..25 genre B but have no interactions (cold). Users 0..19 have trait X and like a random half of
 * the warm genre-A items; users 20..39 have trait Y and do the same with genre B. Users 40 (trait X) and
 * 41 (trait Y) have no interactions (cold). Item features: 0 = genre A, 1 = genre B; user features:
 * 0 = trait X, 1 = trait Y.
 */
const WARM_USERS = 40;
const USERS = 42;
const ITEMS = 26;
const genreA = (i: number): boolean => i < 10 || (i >= 20 && i < 23);
const COLD_A = [20, 21, 22];
const COLD_B = [23, 24, 25];

function plantedInput(): TrainingInput {
  const random = mulberry32(11);
  const rowIdx: number[] = [];
  const colIdx: number[] = [];
  for (let u = 0; u < WARM_USERS; u++) {
    const offset = u < 20 ? 0 : 10;
    for (let i = 0; i < 10; i++) {
      if (random() < 0.5) {
        rowIdx.push(u);
        colIdx.push(offset + i);
      }
    }
  }
  const matrix = csrFromCoo({ rows: USERS, cols: ITEMS, rowIdx, colIdx, values: rowIdx.map(() => 1) }).matrix;
  const items = Array.from({ length: ITEMS }, (_, i) => (genreA(i) ? 0 : 1));
  const users = Array.from({ length: USERS }, (_, u) => (u < 20 || u === 40 ? 0 : 1));
  return {
    matrix,
    itemFeatures: oneHot(items, 2),
    userFeatures: oneHot(users, 2),
    itemFeatureNames: ['genre=A', 'genre=B'],
    userFeatureNames: ['trait=X', 'trait=Y'],
  };
}

function oneHot(columns: readonly number[], cols: number): CsrMatrix {
  return csrFromCoo({
    rows: columns.length,
    cols,
    rowIdx: columns.map((_, r) => r),
    colIdx: columns,
    values: columns.map(() => 1),
  }).matrix;
}

const params: HybridParams = { ...defaultParams.hybrid, components: 16, epochs: 30 };

function scores(model: HybridRecommender, profile: UserProfile): Float32Array {
  const out = new Float32Array(model.nItems);
  model.score(profile, out);
  return out;
}

const ranked = (s: Float32Array): number[] =>
  Array.from(s, (score, index) => ({ score, index }))
    .sort((a, b) => b.score - a.score || a.index - b.index)
    .map((x) => x.index);

describe('hybrid model', () => {
  it.each(['warp', 'bpr'] as const)(
    '%s: a trait-X user ranks cold genre-A items above cold genre-B ones',
    async (loss) => {
      const input = plantedInput();
      const model = await fitHybrid(input, { ...params, loss });
      for (const u of [0, 5, 19]) {
        const s = scores(model, rowProfile(input.matrix, u));
        expect(Math.min(...COLD_A.map((i) => s[i]!))).toBeGreaterThan(Math.max(...COLD_B.map((i) => s[i]!)));
        // Near the warm genre-A items: above every genre-B item, warm or cold.
        const bestB = Math.max(...Array.from(s).filter((_, i) => !genreA(i)));
        expect(Math.min(...COLD_A.map((i) => s[i]!))).toBeGreaterThan(bestB);
      }
      for (const u of [20, 39]) {
        const s = scores(model, rowProfile(input.matrix, u));
        expect(Math.min(...COLD_B.map((i) => s[i]!))).toBeGreaterThan(Math.max(...COLD_A.map((i) => s[i]!)));
      }
    },
  );

  it('places a cold item among the warm items sharing its features', async () => {
    const input = plantedInput();
    const model = await fitHybrid(input, params);
    for (const cold of COLD_A) {
      const neighbours = model.similar(cold, 10).map((n) => n.index);
      expect(neighbours.every(genreA)).toBe(true);
    }
    for (const cold of COLD_B) expect(model.similar(cold, 10).every((n) => !genreA(n.index))).toBe(true);
  });

  it('serves a cold user known only by traits from the trait embeddings', async () => {
    const input = plantedInput();
    const model = await fitHybrid(input, params);
    const x = ranked(
      scores(model, { userIndex: 40, fresh: false, items: new Int32Array(0), weights: new Float32Array(0) }),
    );
    expect(x.slice(0, 13).every(genreA)).toBe(true);
    const y = ranked(
      scores(model, { userIndex: 41, fresh: false, items: new Int32Array(0), weights: new Float32Array(0) }),
    );
    expect(y.slice(0, 13).some(genreA)).toBe(false);
  });

  it('folds in an unknown user from their items and explains by the closest history item', async () => {
    const input = plantedInput();
    const model = await fitHybrid(input, params);
    const profile = newUserProfile([12, 14, 15]);
    const top = ranked(scores(model, profile)).filter((i) => ![12, 14, 15].includes(i));
    expect(top.slice(0, 8).some(genreA)).toBe(false);
    const evidence = model.evidence(profile, 24);
    expect(evidence.kind).toBe('item');
    if (evidence.kind === 'item') expect([12, 14, 15]).toContain(evidence.item);
    expect(model.evidence(newUserProfile([]), 3).kind).toBe('taste');
    const explanation = model.explain(profile, 24, 3);
    if (explanation.kind !== 'features') throw new Error('expected feature contributions');
    expect(explanation.similarItems[0]!.item).toBe(evidence.kind === 'item' ? evidence.item : -1);
    const s = scores(model, profile);
    expect(explanation.score).toBeCloseTo(s[24]!, 4);
  });

  it('explains a score by the item features and user traits behind it, summing to the score', async () => {
    const input = plantedInput();
    const model = await fitHybrid(input, params);
    // A warm trait-X user and a cold genre-A item: the item has only its genre; the user trait and identity.
    const profile = rowProfile(input.matrix, 3);
    const explanation = model.explain(profile, 21, 10);
    if (explanation.kind !== 'features') throw new Error('expected feature contributions');
    expect(explanation.score).toBeCloseTo(scores(model, profile)[21]!, 4);
    expect(explanation.itemFeatures.map((p) => p.feature)).toEqual(['genre=A']);
    const itemSum = explanation.itemFeatures.reduce((sum, p) => sum + p.contribution, 0);
    expect(itemSum).toBeCloseTo(explanation.score, 4);
    expect(explanation.userFeatures.map((p) => p.feature).sort()).toEqual([null, 'trait=X']);
    const userSum = explanation.userFeatures.reduce((sum, p) => sum + p.contribution, 0);
    expect(userSum).toBeCloseTo(explanation.score - explanation.bias, 4);
    // A warm item adds its identity's part; the parts still sum to the score.
    const warm = model.explain(profile, 2, 10);
    if (warm.kind !== 'features') throw new Error('expected feature contributions');
    expect(warm.itemFeatures.map((p) => p.feature).sort()).toEqual([null, 'genre=A'].sort());
    expect(warm.itemFeatures.reduce((sum, p) => sum + p.contribution, 0)).toBeCloseTo(warm.score, 4);
    // `limit` bounds each list.
    const one = model.explain(profile, 2, 1);
    if (one.kind !== 'features') throw new Error('expected feature contributions');
    expect(one.itemFeatures).toHaveLength(1);
    expect(Math.abs(one.itemFeatures[0]!.contribution)).toBe(
      Math.max(...warm.itemFeatures.map((p) => Math.abs(p.contribution))),
    );
  });

  it('represents a user the fit never indexed from trait names, as the fit represents a cold user', async () => {
    const input = plantedInput();
    const model = await fitHybrid(input, params);
    const x = model.traitVector(['trait=X', 'unknown=1'])!;
    const viaVector = new Float32Array(ITEMS);
    model.scoreVector(x, viaVector);
    // User 40 is trait X with no interactions: the same representation.
    const viaRow = scores(model, {
      userIndex: 40,
      fresh: false,
      items: new Int32Array(0),
      weights: new Float32Array(0),
    });
    for (let i = 0; i < ITEMS; i++) expect(viaVector[i]).toBeCloseTo(viaRow[i]!, 5);
    expect(model.traitVector(['unknown=1'])).toBeNull();
    expect(model.traitVector([])).toBeNull();
    const y = new Float32Array(ITEMS);
    model.scoreVector(model.traitVector(['trait=Y'])!, y);
    expect(ranked(y).slice(0, 10).some(genreA)).toBe(false);
    const explanation = model.explainVector(x, ['trait=X'], 21, 5);
    if (explanation.kind !== 'features') throw new Error('expected feature contributions');
    expect(explanation.userFeatures.map((p) => p.feature)).toEqual(['trait=X']);
    expect(explanation.userFeatures[0]!.contribution).toBeCloseTo(explanation.score - explanation.bias, 4);
  });

  it('scores a subset of items exactly as the full scoring does', async () => {
    const input = plantedInput();
    const model = await fitHybrid(input, params);
    const profile = rowProfile(input.matrix, 25);
    const full = scores(model, profile);
    const some = new Float32Array(4);
    model.scoreSome(profile, Int32Array.of(23, 0, 25, 99), some);
    expect(Array.from(some.subarray(0, 3))).toEqual([full[23], full[0], full[25]]);
    expect(some[3]).toBe(Number.NEGATIVE_INFINITY);
  });

  it('is deterministic for a fixed seed and differs across seeds', async () => {
    const input = plantedInput();
    const a = (await fitHybrid(input, params)).toArtifact().arrays;
    const b = (await fitHybrid(input, params)).toArtifact().arrays;
    const c = (await fitHybrid(input, { ...params, seed: 7 })).toArtifact().arrays;
    expect(b).toEqual(a);
    expect(c['itemRepr']).not.toEqual(a['itemRepr']);
  });

  it('round-trips through an artifact to identical scores, neighbours and evidence', async () => {
    const input = plantedInput();
    const model = await fitRecommender('hybrid', input, params);
    const [artifact] = decodeArtifacts(encodeArtifacts([model.toArtifact()])).artifacts;
    const loaded = loadRecommender(artifact!);
    expect(loaded.name).toBe('hybrid');
    expect(loaded.params).toEqual(model.params);
    for (const profile of [rowProfile(input.matrix, 3), newUserProfile([1, 24]), newUserProfile([])]) {
      const x = new Float32Array(ITEMS);
      const y = new Float32Array(ITEMS);
      model.score(profile, x);
      loaded.score(profile, y);
      expect(y).toEqual(x);
      expect(loaded.evidence(profile, 21)).toEqual(model.evidence(profile, 21));
    }
    expect(loaded.similar(21, 5)).toEqual(model.similar(21, 5));
    // The side features travel too: explanations and trait vectors survive the round trip.
    const profile = rowProfile(input.matrix, 3);
    expect(loaded.explain!(profile, 21, 5)).toEqual(model.explain!(profile, 21, 5));
    const hybrid = loaded as HybridRecommender;
    expect(hybrid.traitVector(['trait=Y'])).toEqual((model as HybridRecommender).traitVector(['trait=Y']));
  });

  it('works without side features (identity embeddings only)', async () => {
    const { matrix } = plantedInput();
    const model = await fitHybrid({ matrix }, params);
    const s = scores(model, rowProfile(matrix, 2));
    const unseenA = Array.from({ length: 10 }, (_, i) => i).filter((i) => s[i] !== undefined);
    expect(Math.max(...unseenA.map((i) => s[i]!))).toBeGreaterThan(
      Math.max(...[10, 11, 12].map((i) => s[i]!)),
    );
    // Cold items without features have nothing to be scored by: zero vector and zero bias.
    expect(COLD_A.map((i) => s[i])).toEqual([0, 0, 0]);
  });

  it('rejects feature matrices that do not match the training matrix', async () => {
    const input = plantedInput();
    await expect(fitHybrid({ ...input, itemFeatures: oneHot([0, 1], 2) }, params)).rejects.toThrow(
      /itemFeatures/,
    );
    const bad = { ...input.userFeatures!, data: input.userFeatures!.data.map(() => -1) };
    await expect(fitHybrid({ ...input, userFeatures: bad }, params)).rejects.toThrow(/weight/);
  });
});

/**
 * A hand-made model for known answers: 2 components, two users, three items, no biases but item 2's.
 * User 0 is (1, 0) and trained on feedback weight 1; user 1 is (0, 2) and trained on weight 5. The mean
 * trained user norm, to which a profile's centroid is scaled, is (1 + 2) / 2 = 1.5.
 */
function handModel(userWeights: Float32Array | null = Float32Array.of(1, 5)): HybridRecommender {
  return new HybridRecommender(
    { ...params, components: 2 },
    2,
    3,
    Float32Array.of(1, 0, 0, 2),
    Float32Array.of(0, 1, 1, 0, 1, 1),
    Float32Array.of(0, 0, 0.5),
    { item: null, user: null },
    userWeights,
  );
}

/** Scores of the three items of `handModel` for user vector x. */
const handScores = (x: readonly [number, number]): number[] => [x[1], x[0], x[0] + x[1] + 0.5];

/** `share` · trained + (1 - share) · c, c = the weighted centroid (sum) rescaled to norm 1.5. */
function mix(
  share: number,
  trained: readonly [number, number],
  sum: readonly [number, number],
): [number, number] {
  const scale = 1.5 / Math.hypot(sum[0], sum[1]);
  return [
    share * trained[0] + (1 - share) * scale * sum[0],
    share * trained[1] + (1 - share) * scale * sum[1],
  ];
}

const fresh = (userIndex: number, items: number[], weights: number[], times?: number[]): UserProfile => ({
  userIndex,
  fresh: true,
  items: Int32Array.from(items),
  weights: Float32Array.from(weights),
  ...(times === undefined ? {} : { times: Float64Array.from(times) }),
});

describe('hybrid: a known user with a fresh profile', () => {
  const expectScores = (
    model: { score: HybridRecommender['score'] },
    profile: UserProfile,
    x: [number, number],
  ) => {
    const out = new Float32Array(3);
    model.score(profile, out);
    handScores(x).forEach((v, i) => expect(out[i]).toBeCloseTo(v, 5));
  };

  it('weighs the trained representation by W_t and the centroid by what was added since', () => {
    const model = handModel();
    // User 0 (W_t = 1) now has items 0 and 1 at weight 2 each: W_now = 4, so x = (1·x_t + 3·c) / 4.
    expectScores(model, fresh(0, [0, 1], [2, 2]), mix(1 / 4, [1, 0], [2, 2]));
    // User 1 (W_t = 5) with a history that doubled (W_now = 10) moves halfway to c.
    expectScores(model, fresh(1, [0, 1], [5, 5]), mix(1 / 2, [0, 2], [5, 5]));
    // One more view on top of user 1's 5 barely moves them: 5/6 of the trained representation.
    expectScores(model, fresh(1, [0, 2], [5, 1]), mix(5 / 6, [0, 2], [1, 5 + 1]));
  });

  it('scores as trained when the profile holds no more feedback than training saw', () => {
    const model = handModel();
    const stored = new Float32Array(3);
    const out = new Float32Array(3);
    model.score({ ...fresh(1, [0], [3]), fresh: false }, stored);
    model.score(fresh(1, [0], [3]), out);
    expect(out).toEqual(stored);
    model.score(fresh(1, [0, 1], [2.5, 2.5]), out);
    expect(out).toEqual(stored);
  });

  it('measures what is new before recency weighting, then reads the recent past halfway', () => {
    const model = new RecencyWeighted(handModel(), 1);
    const half = (a: readonly number[], b: readonly number[]): [number, number] => [
      (a[0]! + b[0]!) / 2,
      (a[1]! + b[1]!) / 2,
    ];
    // Item 0 is newest: the weighted weights are (2, 1), c_r ∝ [1, 2]; W_now is still 2 + 2 = 4 against
    // W_t = 1, so the state is (1·x_t + 3·c) / 4, and the recency view is halfway between it and c_r.
    expectScores(
      model,
      fresh(0, [0, 1], [2, 2], [20, 10]),
      half(mix(1 / 4, [1, 0], [1, 2]), mix(0, [0, 0], [1, 2])),
    );
    // Nothing new: the state is the trained representation, and the recency view is halfway to c_r ∝
    // 2·item0 + 1.5·item1 = [1.5, 2] — what selection measured the recency setting as.
    expectScores(model, fresh(1, [0, 1], [2, 3], [20, 10]), half([0, 2], mix(0, [0, 0], [1.5, 2])));
    // Without the weighting, nothing new is the trained representation itself.
    const out = new Float32Array(3);
    handModel().score(fresh(1, [0, 1], [2, 3], [20, 10]), out);
    expect(Array.from(out)).toEqual(handScores([0, 2]));
  });

  it('averages trained and centroid for artifacts saved without userWeights, which still load', async () => {
    const profile = fresh(0, [0, 1], [2, 2]);
    expectScores(handModel(null), profile, mix(1 / 2, [1, 0], [2, 2]));
    const { userWeights, ...arrays } = handModel().toArtifact().arrays;
    expect(userWeights).toEqual(Float32Array.of(1, 5));
    const old: ModelArtifact = { ...handModel().toArtifact(), arrays };
    const [decoded] = decodeArtifacts(encodeArtifacts([old])).artifacts;
    expectScores(loadRecommender(decoded!) as HybridRecommender, profile, mix(1 / 2, [1, 0], [2, 2]));
    // A fitted model's artifact without them loads too.
    const input = plantedInput();
    const fitted = await fitHybrid(input, params);
    const { userWeights: _dropped, ...fittedArrays } = fitted.toArtifact().arrays;
    const loaded = HybridRecommender.fromArtifact({ ...fitted.toArtifact(), arrays: fittedArrays });
    const row = rowProfile(input.matrix, 3);
    expect(scores(loaded, row)).toEqual(scores(fitted, row));
  });

  it('stores each user’s training feedback weight and round-trips it through the artifact', async () => {
    const input = plantedInput();
    const model = await fitHybrid(input, params);
    const { matrix } = input;
    const expected = Float32Array.from(
      { length: USERS },
      (_, u) => matrix.indptr[u + 1]! - matrix.indptr[u]!,
    );
    expect(model.toArtifact().arrays['userWeights']).toEqual(expected);
    const [artifact] = decodeArtifacts(encodeArtifacts([model.toArtifact()])).artifacts;
    const loaded = loadRecommender(artifact!) as HybridRecommender;
    expect(loaded.toArtifact().arrays['userWeights']).toEqual(expected);
    // User 3 with two more genre-A items scores the same from the loaded model, and explains that score.
    const row = rowProfile(input.matrix, 3);
    const extra = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].filter((i) => !row.items.includes(i)).slice(0, 2);
    const grown = fresh(
      3,
      [...row.items, ...extra].sort((a, b) => a - b),
      new Array(row.items.length + 2).fill(1),
    );
    expect(scores(loaded, grown)).toEqual(scores(model, grown));
    const explanation = model.explain(grown, 21, 10);
    if (explanation.kind !== 'features') throw new Error('expected feature contributions');
    expect(explanation.score).toBeCloseTo(scores(model, grown)[21]!, 4);
    // The trait keeps the trained representation's share, W_t / W_now; the parts still sum to the score.
    const trait = explanation.userFeatures.find((p) => p.feature === 'trait=X')!;
    expect(trait.weight).toBeCloseTo(row.items.length / (row.items.length + 2), 6);
    const userSum = explanation.userFeatures.reduce((sum, p) => sum + p.contribution, 0);
    expect(userSum).toBeCloseTo(explanation.score - explanation.bias, 4);
  });

  it('refuses userWeights that do not match the users', () => {
    expect(() => handModel(Float32Array.of(1))).toThrow(/userWeights/);
    const artifact = handModel().toArtifact();
    expect(() =>
      HybridRecommender.fromArtifact({
        ...artifact,
        arrays: { ...artifact.arrays, userWeights: Int32Array.of(1, 5) },
      }),
    ).toThrow(/userWeights/);
  });
});

describe('featureLayout', () => {
  it('gives full-weight identity features to rows with interactions only, side weights summing to 1', () => {
    const side = csrFromCoo({
      rows: 3,
      cols: 2,
      rowIdx: [0, 0, 2],
      colIdx: [0, 1, 1],
      values: [1, 3, 2],
    }).matrix;
    const layout = featureLayout(3, Int32Array.of(4, 1, 0), side);
    expect(layout.cols).toBe(5);
    expect(Array.from(layout.indptr)).toEqual([0, 3, 4, 5]);
    expect(Array.from(layout.indices)).toEqual([0, 3, 4, 1, 4]);
    expect(Array.from(layout.data)).toEqual([1, 0.25, 0.75, 1, 1]);
    expect(featureLayout(2, Int32Array.of(0, 0), undefined).indptr).toEqual(Int32Array.of(0, 0, 0));
  });
});

describe('hybrid params', () => {
  it('validate and round-trip through JSON', () => {
    const json = JSON.parse(JSON.stringify(paramsToJson('hybrid', defaultParams.hybrid))) as JsonValue;
    expect(paramsFromJson('hybrid', json)).toEqual(defaultParams.hybrid);
    expect(() => validateParams('hybrid', { ...defaultParams.hybrid, loss: 'mse' as never })).toThrow(/loss/);
    expect(() => validateParams('hybrid', { ...defaultParams.hybrid, identityDropout: 1 })).toThrow(
      /Dropout/,
    );
    expect(() => validateParams('hybrid', { ...defaultParams.hybrid, components: 0 })).toThrow(/components/);
    expect(() => paramsFromJson('hybrid', { ...(json as object), loss: 3 })).toThrow(/loss/);
  });
});
