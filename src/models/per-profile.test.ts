import { afterAll, describe, expect, it } from 'vitest';
import { closeAlsWorkers } from './als-pool.js';
import { loadRecommender } from './artifact.js';
import { plantedClusters } from './fixtures.js';
import { defaultParams, fitRecommender } from './index.js';
import { PerProfile } from './per-profile.js';
import type { CsrMatrix, ModelParamsByName, Recommender, UserProfile } from './types.js';

afterAll(() => closeAlsWorkers());

/**
 * ALS and the hybrid keep the state they derive from a fresh or unknown user's profile per profile object
 * (`PerProfile`); recency views are shared per profile (`recencyView`). Whatever is kept, a model must
 * answer exactly what a model that keeps nothing answers, and a user's next event must be a new profile.
 */
describe('state kept per profile', () => {
  const matrix = plantedClusters();
  const input = { matrix };
  const als: ModelParamsByName['als'] = { ...defaultParams.als, factors: 8, iterations: 4 };
  const hybrid: ModelParamsByName['hybrid'] = { ...defaultParams.hybrid, components: 8, epochs: 4 };
  const rp3beta: ModelParamsByName['rp3beta'] = { ...defaultParams.rp3beta, neighbors: 10 };
  const cases: readonly { readonly label: string; readonly fit: () => Promise<Recommender> }[] = [
    { label: 'als', fit: () => fitRecommender('als', input, als) },
    { label: 'als, recency-weighted', fit: () => fitRecommender('als', input, { ...als, recency: 3 }) },
    { label: 'hybrid', fit: () => fitRecommender('hybrid', input, hybrid) },
    {
      label: 'hybrid, recency-weighted',
      fit: () => fitRecommender('hybrid', input, { ...hybrid, recency: 3 }),
    },
    {
      label: 'blend of hybrid, rp3beta and als, recency-weighted',
      fit: () =>
        fitRecommender('blend', input, {
          components: [
            { model: 'hybrid', weight: 1, params: { ...hybrid, recency: 3 } },
            { model: 'rp3beta', weight: 0.7, params: { ...rp3beta, recency: 3 } },
            { model: 'als', weight: 0.5, params: { ...als, recency: 3 } },
          ],
        }),
    },
  ];

  for (const { label, fit } of cases) {
    it(`${label}: scores, evidence and explanations equal a model keeping nothing; an event is a new profile`, async () => {
      const model = await fit();
      const profiles = [
        // A known user with one event more than training saw (fresh: the update runs).
        withEvent(rowOf(matrix, 3), 7, 1),
        // A known user with nothing new, read as fresh (the update still runs), and their unchanged row.
        { ...rowOf(matrix, 25), fresh: true },
        rowOf(matrix, 25),
        // A user the model never saw (fold-in, or the centroid).
        {
          userIndex: -1,
          fresh: true,
          ...entries([
            [12, 1, 5],
            [15, 2, 9],
            [18, 1, 7],
          ]),
        },
      ];
      for (const profile of profiles) {
        const first = scores(model, profile);
        // Other profiles in between: every scratch buffer a model reuses is overwritten.
        for (const other of profiles) if (other !== profile) scores(model, other);
        expect(scores(model, profile)).toEqual(first);
        // A model that never saw the profile, scoring a copy of it: nothing kept anywhere.
        const keepsNothing = loadRecommender(model.toArtifact());
        expect(scores(keepsNothing, { ...profile })).toEqual(first);
        for (const item of [0, 11, 19]) {
          expect(model.evidence(profile, item)).toEqual(keepsNothing.evidence({ ...profile }, item));
          expect(model.explain?.(profile, item, 3)).toEqual(keepsNothing.explain?.({ ...profile }, item, 3));
        }

        // The user's next event: serving builds a new profile object, which must not find the old state.
        const next = withEvent(profile, 4, 2);
        const after = scores(model, next);
        expect(after).toEqual(scores(loadRecommender(model.toArtifact()), { ...next }));
        expect(after).not.toEqual(first);
      }
    });
  }

  it('computes a value once per profile object, never for an equal copy', () => {
    const kept = new PerProfile<number>();
    const profile = rowOf(matrix, 0);
    let computed = 0;
    const compute = (): number => ++computed;
    expect(kept.get(profile, compute)).toBe(1);
    expect(kept.get(profile, compute)).toBe(1);
    expect(kept.get({ ...profile }, compute)).toBe(2);
    expect(computed).toBe(2);
  });
});

function scores(model: Recommender, profile: UserProfile): number[] {
  const out = new Float32Array(model.nItems);
  model.score(profile, out);
  return Array.from(out);
}

/** User `u`'s training row as serving lays it out, with interaction times (newest = highest index). */
function rowOf(m: CsrMatrix, u: number): UserProfile {
  const start = m.indptr[u]!;
  const end = m.indptr[u + 1]!;
  const items = m.indices.slice(start, end);
  return {
    userIndex: u,
    fresh: false,
    items,
    weights: m.data.slice(start, end),
    times: Float64Array.from(items, (i) => 1_000 + i),
  };
}

/** Profile arrays from (item, weight, time) triples, items ascending. */
function entries(
  list: readonly (readonly [number, number, number])[],
): Pick<UserProfile, 'items' | 'weights' | 'times'> {
  const sorted = [...list].sort((a, b) => a[0] - b[0]);
  return {
    items: Int32Array.from(sorted, (e) => e[0]),
    weights: Float32Array.from(sorted, (e) => e[1]),
    times: Float64Array.from(sorted, (e) => e[2]),
  };
}

/** The profile after one more event on `item` of `weight`, the newest: a new, fresh profile object. */
function withEvent(profile: UserProfile, item: number, weight: number): UserProfile {
  const list: [number, number, number][] = [];
  let found = false;
  for (let k = 0; k < profile.items.length; k++) {
    const i = profile.items[k]!;
    const w = profile.weights[k]! + (i === item ? weight : 0);
    found ||= i === item;
    list.push([i, w, i === item ? 10_000 : (profile.times?.[k] ?? 0)]);
  }
  if (!found) list.push([item, weight, 10_000]);
  return { userIndex: profile.userIndex, fresh: true, ...entries(list) };
}
