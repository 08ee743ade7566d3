import type { JsonValue } from '../shared/types.js';
import type {
  BlendContribution,
  Evidence,
  Explanation,
  FitOptions,
  ModelArtifact,
  ModelName,
  ModelParamsByName,
  NumericArray,
  Recommender,
  ScoredIndex,
  TrainingInput,
  UserProfile,
} from './types.js';

/** Models a blend can combine: every model but a blend itself. */
export type BlendableName = Exclude<ModelName, 'blend'>;

/** One part of a blend: a model, how to fit it, and its weight. */
export type BlendComponent = {
  readonly [N in BlendableName]: {
    readonly model: N;
    readonly weight: number;
    readonly params: ModelParamsByName[N];
  };
}[BlendableName];

/**
 * A weighted sum of per-user z-scored model scores. The parameters are the whole recipe — which models,
 * fitted how, weighted how — so refitting a blend chosen on validation is one `fitRecommender` call.
 */
export interface BlendParams {
  readonly components: readonly BlendComponent[];
}

/** How the modules around the blend fit, validate and load single models (passed in: no import cycle). */
export interface BlendKit {
  readonly fit: <N extends BlendableName>(
    name: N,
    input: TrainingInput,
    params: ModelParamsByName[N],
    options?: FitOptions,
  ) => Promise<Recommender>;
  readonly load: (artifact: ModelArtifact) => Recommender;
}

export class BlendParamsError extends RangeError {
  override readonly name = 'ParamsError';
}

/** Throws when a blend has no component, a nested blend, or a weight that is negative or not finite. */
export function validateBlendParams(
  params: BlendParams,
  validate: <N extends BlendableName>(name: N, params: ModelParamsByName[N]) => void,
): void {
  if (!Array.isArray(params.components) || params.components.length === 0) {
    throw new BlendParamsError('blend: components must be a non-empty list');
  }
  for (const component of params.components) {
    if ((component.model as ModelName) === 'blend') throw new BlendParamsError('blend: blends do not nest');
    if (!Number.isFinite(component.weight) || component.weight < 0) {
      throw new BlendParamsError('blend: every weight must be a non-negative number');
    }
    validate(component.model, component.params);
  }
  if (!params.components.some((c) => c.weight > 0)) {
    throw new BlendParamsError('blend: at least one weight must be positive');
  }
}

export function blendParamsToJson(
  params: BlendParams,
  toJson: <N extends BlendableName>(name: N, params: ModelParamsByName[N]) => JsonValue,
): JsonValue {
  return {
    components: params.components.map((c) => ({
      model: c.model,
      weight: c.weight,
      params: toJson(c.model, c.params),
    })),
  };
}

export function blendParamsFromJson(
  json: JsonValue,
  fromJson: (name: BlendableName, params: JsonValue) => ModelParamsByName[BlendableName],
  isName: (name: string) => name is BlendableName,
): BlendParams {
  const components =
    json !== null && typeof json === 'object' && !Array.isArray(json)
      ? (json as { readonly [key: string]: JsonValue })['components']
      : undefined;
  if (!Array.isArray(components)) throw new BlendParamsError('blend: params.components must be a list');
  return {
    components: (components as readonly JsonValue[]).map((entry) => {
      if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
        throw new BlendParamsError('blend: each component must be an object');
      }
      const { model, weight, params } = entry as { readonly [key: string]: JsonValue };
      if (typeof model !== 'string' || !isName(model)) {
        throw new BlendParamsError(`blend: unknown component model ${JSON.stringify(model ?? null)}`);
      }
      if (typeof weight !== 'number') throw new BlendParamsError('blend: component weight must be a number');
      // The union of component shapes is sound here: `fromJson(model, …)` returned `model`'s params.
      return { model, weight, params: fromJson(model, params ?? null) } as BlendComponent;
    }),
  };
}

export interface BlendPart {
  readonly model: Recommender;
  readonly weight: number;
}

/**
 * Several fitted models as one. Each component's scores are z-scored per user over the items the user
 * has not interacted with (those are the ones ever ranked), so models on different scales — counts,
 * cosines, dot products — add up by their weights rather than by their ranges.
 */
export class BlendRecommender implements Recommender {
  readonly name = 'blend' as const;
  readonly nUsers: number;
  readonly nItems: number;
  private readonly scratch: Float32Array;
  private readonly seen: Uint8Array;
  private readonly dominant: Recommender;

  constructor(
    readonly params: JsonValue,
    private readonly parts: readonly BlendPart[],
  ) {
    const first = parts[0];
    if (first === undefined) throw new RangeError('blend: at least one component is needed');
    this.nItems = first.model.nItems;
    this.nUsers = Math.max(...parts.map((p) => p.model.nUsers));
    if (parts.some((p) => p.model.nItems !== this.nItems)) {
      throw new RangeError('blend: components must share one item space');
    }
    this.scratch = new Float32Array(this.nItems);
    this.seen = new Uint8Array(this.nItems);
    // Similar items and evidence come from the heaviest component: its reasons explain most of the score.
    this.dominant = parts.reduce((a, b) => (b.weight > a.weight ? b : a)).model;
  }

  get components(): readonly { readonly model: Recommender; readonly weight: number }[] {
    return this.parts;
  }

  score(profile: UserProfile, out: Float32Array): void {
    out.fill(0);
    const { scratch, seen } = this;
    for (let j = 0; j < profile.items.length; j++) seen[profile.items[j]!] = 1;
    for (const { model, weight } of this.parts) {
      if (weight === 0) continue;
      model.score(profile, scratch);
      addZScored(scratch, seen, weight, out);
    }
    for (let j = 0; j < profile.items.length; j++) seen[profile.items[j]!] = 0;
  }

  similar(item: number, n: number): ScoredIndex[] {
    return this.dominant.similar(item, n);
  }

  evidence(profile: UserProfile, item: number): Evidence {
    return this.dominant.evidence(profile, item);
  }

  /** Re-scores every component for the user (explain is off the serving path) to standardise the item. */
  explain(profile: UserProfile, item: number, limit: number): Explanation {
    const scores = new Float32Array(this.nItems);
    const seen = new Uint8Array(this.nItems);
    for (const entry of profile.items) seen[entry] = 1;
    const components = this.parts
      .filter((part) => part.weight > 0)
      .map(({ model, weight }): BlendContribution => {
        model.score(profile, scores);
        const standardized = standardize(scores, seen, item);
        return {
          model: model.name,
          weight,
          standardized,
          contribution: weight * standardized,
          explanation: model.explain ? model.explain(profile, item, limit) : null,
        };
      })
      .sort((a, b) => b.contribution - a.contribution);
    return { kind: 'blend', score: components.reduce((sum, c) => sum + c.contribution, 0), components };
  }

  eraseUser(user: number): void {
    for (const { model } of this.parts) model.eraseUser?.(user);
  }

  /** Components' arrays under `<position>.<key>`; `params.components` lists the components in that order. */
  toArtifact(): ModelArtifact {
    const arrays: Record<string, NumericArray> = {};
    this.parts.forEach(({ model }, position) => {
      for (const [key, array] of Object.entries(model.toArtifact().arrays))
        arrays[`${position}.${key}`] = array;
    });
    return { name: 'blend', params: this.params, nUsers: this.nUsers, nItems: this.nItems, arrays };
  }

  static fromArtifact(
    artifact: ModelArtifact,
    load: (artifact: ModelArtifact) => Recommender,
  ): BlendRecommender {
    const { params } = artifact;
    const list =
      params !== null && typeof params === 'object' && !Array.isArray(params)
        ? (params as { readonly [key: string]: JsonValue })['components']
        : undefined;
    if (!Array.isArray(list)) throw new TypeError('blend artifact: params.components must be a list');
    const parts = (list as readonly JsonValue[]).map((entry, position): BlendPart => {
      const { model, weight, params: componentParams } = entry as { readonly [key: string]: JsonValue };
      if (typeof model !== 'string' || model === 'blend' || typeof weight !== 'number') {
        throw new TypeError(`blend artifact: component ${position} is malformed`);
      }
      const prefix = `${position}.`;
      const arrays: Record<string, NumericArray> = {};
      for (const [key, array] of Object.entries(artifact.arrays)) {
        if (key.startsWith(prefix)) arrays[key.slice(prefix.length)] = array;
      }
      const loaded = load({
        name: model as ModelName,
        params: componentParams ?? null,
        nUsers: artifact.nUsers,
        nItems: artifact.nItems,
        arrays,
      });
      return { model: loaded, weight };
    });
    return new BlendRecommender(params, parts);
  }
}

/** `out += weight * (scores - mean) / std`, the statistics taken over the items not marked `seen`. */
/** `scores[item]` as a z-score over the unseen items, as `addZScored` adds it (0 for a flat component). */
function standardize(scores: Float32Array, seen: Uint8Array, item: number): number {
  const one = new Float32Array(scores.length);
  addZScored(scores, seen, 1, one);
  return one[item]!;
}

export function addZScored(scores: Float32Array, seen: Uint8Array, weight: number, out: Float32Array): void {
  let count = 0;
  let sum = 0;
  let squares = 0;
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i]!;
    if (seen[i] === 1 || !Number.isFinite(s)) continue;
    count += 1;
    sum += s;
    squares += s * s;
  }
  if (count === 0) return;
  const mean = sum / count;
  const variance = squares / count - mean * mean;
  // A constant component (e.g. a model that knows nothing of this user) carries no ranking signal.
  if (!(variance > 1e-12)) return;
  const scale = weight / Math.sqrt(variance);
  for (let i = 0; i < scores.length; i++) out[i]! += (scores[i]! - mean) * scale;
}

/** Fits every component with its params and combines them. */
export async function fitBlend(
  input: TrainingInput,
  params: BlendParams,
  kit: BlendKit,
  options: FitOptions = {},
): Promise<BlendRecommender> {
  const parts: BlendPart[] = [];
  for (const component of params.components) {
    if (component.weight === 0) continue;
    parts.push({
      model: await kit.fit(component.model, input, component.params, options),
      weight: component.weight,
    });
  }
  return blendOf(parts);
}

/** Combines models fitted elsewhere (e.g. the ones a training run fits anyway), without refitting. */
export function blendOf(parts: readonly BlendPart[]): BlendRecommender {
  const components = parts.map((p) => ({ model: p.model.name, weight: p.weight, params: p.model.params }));
  return new BlendRecommender({ components }, parts);
}
