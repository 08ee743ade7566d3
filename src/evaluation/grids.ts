import type { ModelName, ModelParamsByName } from '../models/types.js';

/** Candidate hyper-parameters per model; a single candidate means nothing to tune. */
export type ParamGrids = { readonly [N in ModelName]: readonly ModelParamsByName[N][] };

/** Settings the protocol fixes whether or not the rest is tuned. */
export function protocolParams(defaults: ModelParamsByName): ModelParamsByName {
  return {
    // The reference `pop` is the plain train count: no time decay.
    popularity: { ...defaults.popularity, halfLifeDays: null },
    itemknn: defaults.itemknn,
    // The reference ALS runs use 64 factors and 15 sweeps; only α and the regularisation are searched.
    als: { ...defaults.als, factors: 64, iterations: 15 },
    // A blend is assembled by selection (`auto.ts`) from tuned models; on its own it is its recipe.
    blend: defaults.blend,
    hybrid: defaults.hybrid,
    ease: defaults.ease,
    rp3beta: defaults.rp3beta,
  };
}

/**
 * The protocol's search spaces. ALS: α ∈ {1, 10, 40} × reg ∈ {0.1, 1, 10, 100}, as the reference runs.
 * ItemKNN: the reference fixes 100 neighbours and plain cosine; a small grid around that stays cheap.
 */
export function tuningGrids(defaults: ModelParamsByName): ParamGrids {
  const fixed = protocolParams(defaults);
  const grid = <T>(xs: readonly number[], ys: readonly number[], make: (x: number, y: number) => T): T[] =>
    xs.flatMap((x) => ys.map((y) => make(x, y)));
  return {
    popularity: [fixed.popularity],
    blend: [fixed.blend],
    itemknn: grid([50, 100, 200], [0, 10, 50], (neighbors, shrinkage) => ({
      ...fixed.itemknn,
      neighbors,
      shrinkage,
    })),
    als: grid([1, 10, 40], [0.1, 1, 10, 100], (alpha, regularization) => ({
      ...fixed.als,
      alpha,
      regularization,
    })),
    // Hybrid: each fit is seconds of single-threaded SGD (~7 s CPU on MovieLens 100K), so only the L2
    // penalty is searched; on MovieLens 100K validation it moved ndcg@20 by ~3%, the learning rate by ~1%.
    hybrid: [1e-6, 1e-4].map((regularization) => ({ ...fixed.hybrid, regularization })),
    // EASE: the reference's λ grid (6 closed-form fits, ~0.5 s each on MovieLens 100K).
    // RP3beta: 12 sparse fits (< 1 s each) over Dacrema et al.'s ranges. On MovieLens 100K validation
    // the optimum sits at low α and β ≈ 0.7 (β ≥ 0.8 collapses onto single-user items), and more
    // neighbours help up to ~400; the grid brackets that rather than presuming it.
    ease: [50, 100, 200, 500, 1000, 2000].map((lambda) => ({ ...fixed.ease, lambda })),
    rp3beta: grid([0.1, 0.4, 0.7, 1], [0.3, 0.5, 0.7], (alpha, beta) => ({ ...fixed.rp3beta, alpha, beta })),
  };
}

/** The grids when tuning is off: each model at its defaults, with the protocol's fixed settings. */
export function untunedGrids(defaults: ModelParamsByName): ParamGrids {
  const fixed = protocolParams(defaults);
  return {
    popularity: [fixed.popularity],
    itemknn: [fixed.itemknn],
    als: [fixed.als],
    hybrid: [fixed.hybrid],
    blend: [fixed.blend],
    ease: [fixed.ease],
    rp3beta: [fixed.rp3beta],
  };
}

/**
 * Recency half-lives (interactions) selection tries on every fitted candidate (`models/recency.ts`). On
 * MovieLens 100K validation the optimum sat between 5 and 10 for EASE, RP3beta and item-kNN; the grid
 * brackets that by doubling, and `null` keeps the unweighted reading in the running.
 */
export const RECENCY_GRID: readonly (number | null)[] = [null, 3, 6, 12, 24];
