import type { JsonValue } from '../shared/types.js';
import type { AlsParams, ItemKnnParams, ModelName, ModelParamsByName, PopularityParams } from './types.js';

/**
 * Defaults, chosen on MovieLens 100K under the evaluation protocol (reference numbers in
 * `shared/reference/ml-100k.jsonl`):
 * - popularity: no decay, i.e. the protocol's `pop` baseline; decay is for live catalogs and is configured.
 * - itemknn: 100 neighbours and no shrinkage reproduce the protocol's `itemknn` reference exactly on binary
 *   data; shrinkage mainly helps with sparse long tails, which the defaults should not presume.
 * - als: 64 factors, 15 sweeps, 3 CG steps as implicit runs it; α = 1 and λ = 10 were the tuned optimum
 *   of both reference ALS implementations on this protocol.
 */
export const defaultParams: ModelParamsByName = {
  popularity: { halfLifeDays: null },
  itemknn: { neighbors: 100, shrinkage: 0 },
  als: { factors: 64, iterations: 15, regularization: 10, alpha: 1, cgSteps: 3, seed: 42 },
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
  } else {
    throw new ParamsError(`unknown model '${String(name)}'`);
  }
}

export function paramsToJson<N extends ModelName>(name: N, params: ModelParamsByName[N]): JsonValue {
  if (name === 'popularity') return { halfLifeDays: (params as PopularityParams).halfLifeDays };
  if (name === 'itemknn') {
    const p = params as ItemKnnParams;
    return { neighbors: p.neighbors, shrinkage: p.shrinkage };
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
  } else {
    throw new ParamsError(`unknown model '${String(name)}'`);
  }
  const typed = params as ModelParamsByName[N];
  validateParams(name, typed);
  return typed;
}
