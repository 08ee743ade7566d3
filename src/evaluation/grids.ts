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
  };
}

/** The grids when tuning is off: each model at its defaults, with the protocol's fixed settings. */
export function untunedGrids(defaults: ModelParamsByName): ParamGrids {
  const fixed = protocolParams(defaults);
  return { popularity: [fixed.popularity], itemknn: [fixed.itemknn], als: [fixed.als] };
}
