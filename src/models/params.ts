import type { JsonValue } from '../shared/types.js';
import {
  blendParamsFromJson,
  blendParamsToJson,
  validateBlendParams,
  type BlendableName,
  type BlendParams,
} from './blend.js';
import type {
  AlsParams,
  EaseParams,
  HybridParams,
  ItemKnnParams,
  ModelName,
  ModelParamsByName,
  PopularityParams,
  ProfileWeighting,
  Rp3betaParams,
} from './types.js';

/**
 * Defaults, chosen on MovieLens 100K under the evaluation protocol (reference numbers in
 * `shared/reference/ml-100k.jsonl`):
 * - popularity: no decay, i.e. the protocol's `pop` baseline; decay is for live catalogs and is configured.
 * - itemknn: 100 neighbours and no shrinkage reproduce the protocol's `itemknn` reference exactly on binary
 *   data; shrinkage mainly helps with sparse long tails, which the defaults should not presume.
 * - als: 64 factors, 15 sweeps, 3 CG steps as implicit runs it; α = 1 and λ = 10 were the tuned optimum
 *   of both reference ALS implementations on this protocol.
 * - hybrid: LightFM's usual setup (WARP, Adagrad 0.05, up to 10 negatives per positive) with 64 components
 *   and 30 epochs; a small regularisation keeps rarely seen feature embeddings from drifting. No identity
 *   dropout: on validation cuts of MovieLens 100K with genres and demographics (`bench/cold-start.ts
 *   --validate`, 3 seeds), 0.25 gained ~2% cold-item recall@20 but lost ~8% cold-user recall@20 and ~2%
 *   warm ndcg@20.
 * - ease: λ = 200, the tuned optimum of the reference EASE on this protocol (its grid is 50..2000); the
 *   20,000-item limit keeps the dense items² weights at 1.6 GB and the fit within minutes.
 * - rp3beta: α = 0.4, β = 0.5, 300 neighbours: the middle of the tuning grid (on MovieLens 100K the
 *   validation optimum is α ≈ 0.1, β ≈ 0.7, which is too close to β's cliff to be a safe default).
 */
export const defaultParams: ModelParamsByName = {
  popularity: { halfLifeDays: null },
  itemknn: { neighbors: 100, shrinkage: 0 },
  als: { factors: 64, iterations: 15, regularization: 10, alpha: 1, cgSteps: 3, seed: 42 },
  hybrid: {
    components: 64,
    epochs: 30,
    learningRate: 0.05,
    loss: 'warp',
    regularization: 1e-6,
    seed: 42,
    maxSampled: 10,
    identityDropout: 0,
  },
  ease: { lambda: 200, maxItems: 20_000 },
  rp3beta: { alpha: 0.4, beta: 0.5, neighbors: 300 },
  // Item-kNN and ALS at their own defaults, equally weighted: used only when a blend is asked for by name
  // without a recipe; selection builds its blends from what validation favours.
  blend: {
    components: [
      { model: 'itemknn', weight: 1, params: { neighbors: 100, shrinkage: 0 } },
      {
        model: 'als',
        weight: 1,
        params: { factors: 64, iterations: 15, regularization: 10, alpha: 1, cgSteps: 3, seed: 42 },
      },
    ],
  },
};

export class ParamsError extends RangeError {
  override readonly name = 'ParamsError';
}

function check(ok: boolean, model: ModelName, message: string): void {
  if (!ok) throw new ParamsError(`${model}: ${message}`);
}

const isInt = (v: number, min: number, max: number): boolean => Number.isInteger(v) && v >= min && v <= max;
const isNum = (v: number, min: number): boolean => Number.isFinite(v) && v >= min;

/** Throws a `ParamsError` naming the first invalid hyper-parameter. */
export function validateParams<N extends ModelName>(name: N, params: ModelParamsByName[N]): void {
  if (name === 'blend') return validateBlendParams(params as BlendParams, validateParams);
  const { recency } = params as ProfileWeighting;
  check(
    recency === undefined || recency === null || (Number.isFinite(recency) && recency > 0),
    name,
    'recency must be null or a positive number (a half-life in interactions)',
  );
  if (name === 'popularity') {
    const p = params as PopularityParams;
    check(
      p.halfLifeDays === null || (Number.isFinite(p.halfLifeDays) && p.halfLifeDays > 0),
      name,
      'halfLifeDays must be null or a positive number',
    );
  } else if (name === 'itemknn') {
    const p = params as ItemKnnParams;
    check(isInt(p.neighbors, 1, 1e6), name, 'neighbors must be a positive integer');
    check(isNum(p.shrinkage, 0), name, 'shrinkage must be a non-negative number');
  } else if (name === 'als') {
    const p = params as AlsParams;
    check(isInt(p.factors, 1, 4096), name, 'factors must be an integer in 1..4096');
    check(isInt(p.iterations, 0, 1e6), name, 'iterations must be a non-negative integer');
    check(isNum(p.regularization, 0), name, 'regularization must be a non-negative number');
    check(isNum(p.alpha, 0), name, 'alpha must be a non-negative number');
    check(isInt(p.cgSteps, 1, 4096), name, 'cgSteps must be a positive integer');
    check(Number.isInteger(p.seed), name, 'seed must be an integer');
  } else if (name === 'hybrid') {
    const p = params as HybridParams;
    check(isInt(p.components, 1, 4096), name, 'components must be an integer in 1..4096');
    check(isInt(p.epochs, 0, 1e6), name, 'epochs must be a non-negative integer');
    check(isNum(p.learningRate, 0) && p.learningRate > 0, name, 'learningRate must be a positive number');
    check(p.loss === 'warp' || p.loss === 'bpr', name, "loss must be 'warp' or 'bpr'");
    check(isNum(p.regularization, 0), name, 'regularization must be a non-negative number');
    check(Number.isInteger(p.seed), name, 'seed must be an integer');
    check(isInt(p.maxSampled, 1, 1e6), name, 'maxSampled must be a positive integer');
    check(
      Number.isFinite(p.identityDropout) && p.identityDropout >= 0 && p.identityDropout < 1,
      name,
      'identityDropout must be a number in [0, 1)',
    );
  } else if (name === 'ease') {
    const p = params as EaseParams;
    check(isNum(p.lambda, 0) && p.lambda > 0, name, 'lambda must be a positive number');
    // 32,000² f32 weights are the most a 4 GB WebAssembly memory holds.
    check(isInt(p.maxItems, 1, 32_000), name, 'maxItems must be an integer in 1..32000');
  } else if (name === 'rp3beta') {
    const p = params as Rp3betaParams;
    check(isNum(p.alpha, 0), name, 'alpha must be a non-negative number');
    check(isNum(p.beta, 0), name, 'beta must be a non-negative number');
    check(isInt(p.neighbors, 1, 1e6), name, 'neighbors must be a positive integer');
  } else {
    throw new ParamsError(`unknown model '${String(name)}'`);
  }
}

export function paramsToJson<N extends ModelName>(name: N, params: ModelParamsByName[N]): JsonValue {
  if (name === 'blend') return blendParamsToJson(params as BlendParams, paramsToJson);
  const json = ownParamsToJson(name, params) as { readonly [key: string]: JsonValue };
  const { recency } = params as ProfileWeighting;
  return recency === undefined || recency === null ? json : { ...json, recency };
}

function ownParamsToJson<N extends ModelName>(name: N, params: ModelParamsByName[N]): JsonValue {
  if (name === 'popularity') return { halfLifeDays: (params as PopularityParams).halfLifeDays };
  if (name === 'itemknn') {
    const p = params as ItemKnnParams;
    return { neighbors: p.neighbors, shrinkage: p.shrinkage };
  }
  if (name === 'ease') {
    const p = params as EaseParams;
    return { lambda: p.lambda, maxItems: p.maxItems };
  }
  if (name === 'rp3beta') {
    const p = params as Rp3betaParams;
    return { alpha: p.alpha, beta: p.beta, neighbors: p.neighbors };
  }
  if (name === 'hybrid') {
    const p = params as HybridParams;
    return {
      components: p.components,
      epochs: p.epochs,
      learningRate: p.learningRate,
      loss: p.loss,
      regularization: p.regularization,
      seed: p.seed,
      maxSampled: p.maxSampled,
      identityDropout: p.identityDropout,
    };
  }
  const p = params as AlsParams;
  return {
    factors: p.factors,
    iterations: p.iterations,
    regularization: p.regularization,
    alpha: p.alpha,
    cgSteps: p.cgSteps,
    seed: p.seed,
  };
}

function field(json: JsonValue, key: string, model: ModelName): JsonValue {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new ParamsError(`${model}: params must be an object`);
  }
  const value = (json as { readonly [key: string]: JsonValue })[key];
  if (value === undefined) throw new ParamsError(`${model}: params.${key} is missing`);
  return value;
}

function num(json: JsonValue, key: string, model: ModelName): number {
  const value = field(json, key, model);
  if (typeof value !== 'number') throw new ParamsError(`${model}: params.${key} must be a number`);
  return value;
}

/** Reads stored params back (artifacts, config files), validating them. */
export function paramsFromJson<N extends ModelName>(name: N, json: JsonValue): ModelParamsByName[N] {
  if (name === 'blend') {
    // Component names are checked by `paramsFromJson` itself (unknown names throw there).
    const blend = blendParamsFromJson(json, paramsFromJson, (n): n is BlendableName => n !== 'blend');
    validateBlendParams(blend, validateParams);
    return blend as ModelParamsByName[N];
  }
  let params: ModelParamsByName[ModelName];
  if (name === 'popularity') {
    const h = field(json, 'halfLifeDays', name);
    if (h !== null && typeof h !== 'number')
      throw new ParamsError('popularity: halfLifeDays must be a number');
    params = { halfLifeDays: h };
  } else if (name === 'itemknn') {
    params = { neighbors: num(json, 'neighbors', name), shrinkage: num(json, 'shrinkage', name) };
  } else if (name === 'als') {
    params = {
      factors: num(json, 'factors', name),
      iterations: num(json, 'iterations', name),
      regularization: num(json, 'regularization', name),
      alpha: num(json, 'alpha', name),
      cgSteps: num(json, 'cgSteps', name),
      seed: num(json, 'seed', name),
    };
  } else if (name === 'hybrid') {
    const loss = field(json, 'loss', name);
    if (loss !== 'warp' && loss !== 'bpr')
      throw new ParamsError("hybrid: params.loss must be 'warp' or 'bpr'");
    params = {
      components: num(json, 'components', name),
      epochs: num(json, 'epochs', name),
      learningRate: num(json, 'learningRate', name),
      loss,
      regularization: num(json, 'regularization', name),
      seed: num(json, 'seed', name),
      maxSampled: num(json, 'maxSampled', name),
      identityDropout: num(json, 'identityDropout', name),
    };
  } else if (name === 'ease') {
    params = { lambda: num(json, 'lambda', name), maxItems: num(json, 'maxItems', name) };
  } else if (name === 'rp3beta') {
    params = {
      alpha: num(json, 'alpha', name),
      beta: num(json, 'beta', name),
      neighbors: num(json, 'neighbors', name),
    };
  } else {
    throw new ParamsError(`unknown model '${String(name)}'`);
  }
  const recency = (json as { readonly [key: string]: JsonValue })['recency'];
  if (recency !== undefined && recency !== null) {
    if (typeof recency !== 'number') throw new ParamsError(`${name}: params.recency must be a number`);
    params = { ...params, recency };
  }
  const typed = params as ModelParamsByName[N];
  validateParams(name, typed);
  return typed;
}
