import { parseWindow } from '../../features/index.js';
import type { EpochMs, JsonValue, Scalar } from '../../shared/types.js';
import type { LearnerOptions } from '../learners/index.js';

/** Why a decision-point request was refused; `status` is what the HTTP layer answers with. */
export class DecisionPointError extends Error {
  constructor(
    readonly status: 400 | 404 | 409 | 410 | 422,
    /** The input field at fault (`actions[2].params.discount_pct`), or null for the request as a whole. */
    readonly field: string | null,
    message: string,
    /** A machine-readable status for replies that are not plain errors (`late`, `duplicate`). */
    readonly code?: string,
  ) {
    super(field === null ? message : `field "${field}": ${message}`);
    this.name = 'DecisionPointError';
  }
}

const invalid = (field: string, message: string) => new DecisionPointError(400, field, message);

export const POINT_ID = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const ACTION_ID = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;
/** A decision point is a handful of actions; the learner's cost grows with their number. */
export const MAX_ACTIONS = 256;
export const MAX_FEATURES = 256;
const MIN_WINDOW_MS = 60_000;

export type FeatureTransform = 'none' | 'log1p';

/** One entry of a point's feature row; `width` numbers each. */
export type FeatureSpec =
  | {
      readonly source: 'context' | 'trait' | 'user';
      readonly name: string;
      readonly type: 'number';
      readonly transform: FeatureTransform;
    }
  | {
      readonly source: 'context' | 'trait' | 'segment';
      readonly name: string;
      readonly type: 'category';
      readonly values: readonly string[];
    }
  /** The request's local hour on a circle (cos, sin) and a weekend flag. */
  | { readonly source: 'context'; readonly name: string; readonly type: 'hour' };

export interface Action {
  readonly id: string;
  /** Numeric descriptors for a shared model (context ⊗ action features). */
  readonly features: Readonly<Record<string, number>>;
  /** Numeric parameters (a discount, a price), within the point's bounds. */
  readonly params: Readonly<Record<string, number>>;
  /** Returned with the choice; never read. */
  readonly payload: JsonValue;
}

export interface Bounds {
  readonly min: number;
  readonly max: number;
}

export type ConditionOp = 'eq' | 'neq' | 'in' | 'gt' | 'gte' | 'lt' | 'lte' | 'exists';

/** A condition on `context.<field>`, `trait.<name>` or `segment`. */
export interface RuleCondition {
  readonly field: string;
  readonly op: ConditionOp;
  readonly value?: Scalar | readonly Scalar[];
}

/** When every condition holds: drop actions, and narrow parameter bounds (never widen them). */
export interface Rule {
  readonly when: readonly RuleCondition[];
  readonly exclude: readonly string[];
  readonly min: Readonly<Record<string, number>>;
  readonly max: Readonly<Record<string, number>>;
}

export type RewardSpec =
  | { readonly source: 'explicit'; readonly windowMs: number }
  | {
      readonly source: 'event';
      readonly event: string;
      readonly windowMs: number;
      /** `once`: the first matching event closes the decision with 1; `sum`: Σ property over the window. */
      readonly value: 'once' | 'sum';
      readonly property: string | null;
    };

export type LearnerSpecKind = 'linucb' | 'thompson' | 'epsilon_greedy';

export interface LearnerSpec {
  readonly kind: LearnerSpecKind;
  /** LinUCB's `alpha`, Thompson's `scale` and `samples`, epsilon-greedy's `epsilon`, and `ridge`, `floor`, `seed`. */
  readonly params: Readonly<Record<string, number>>;
}

export interface Guardrails {
  /** Closed decisions before the comparison with the default action starts. */
  readonly minDecisions: number;
  /** Level of the one-sided test that trips it. */
  readonly confidence: number;
}

export type PointMode = 'learn' | 'apprentice';

export interface DecisionPoint {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly actions: readonly Action[];
  readonly parameters: Readonly<Record<string, Bounds>>;
  readonly features: readonly FeatureSpec[];
  readonly layout: 'disjoint' | 'shared';
  readonly learner: LearnerSpec;
  readonly mode: PointMode;
  readonly defaultAction: string;
  readonly reward: RewardSpec;
  readonly defaultReward: number;
  readonly rules: readonly Rule[];
  readonly guardrails: Guardrails | null;
  readonly createdAt: EpochMs;
  readonly updatedAt: EpochMs;
  readonly revision: number;
}

/** What validation needs beyond the input. */
export interface PointContext {
  readonly now: EpochMs;
  /** The feature store's numeric user columns: what `{"source": "user"}` may name. */
  readonly userFeatures: readonly string[];
}

/** The features of a point that names none: device, local time, and recent activity. */
export const DEFAULT_FEATURES: readonly FeatureSpec[] = [
  { source: 'context', name: 'device', type: 'category', values: ['mobile', 'desktop', 'tablet'] },
  { source: 'context', name: 'local_time', type: 'hour' },
  ...['events_1d', 'events_7d', 'views_7d', 'carts_7d', 'purchases_30d'].map((name): FeatureSpec => ({
    source: 'user',
    name,
    type: 'number',
    transform: 'log1p',
  })),
];

const LEARNER_PARAMS: Readonly<Record<LearnerSpecKind, readonly string[]>> = {
  linucb: ['alpha'],
  thompson: ['scale', 'samples'],
  epsilon_greedy: ['epsilon'],
};
const COMMON_PARAMS = ['ridge', 'floor', 'seed'];
const OPS: ReadonlySet<string> = new Set(['eq', 'neq', 'in', 'gt', 'gte', 'lt', 'lte', 'exists']);

type Json = { readonly [key: string]: unknown };
const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function object(value: unknown, field: string): Json {
  if (!isObject(value)) throw invalid(field, 'must be an object');
  return value;
}

function only(value: Json, field: string, keys: readonly string[]): void {
  for (const key of Object.keys(value))
    if (!keys.includes(key)) throw invalid(field ? `${field}.${key}` : key, 'is not a known field');
}

function text(value: unknown, field: string, pattern?: RegExp): string {
  if (typeof value !== 'string' || value.length === 0) throw invalid(field, 'must be a non-empty string');
  if (pattern && !pattern.test(value)) throw invalid(field, `must match ${String(pattern)}`);
  return value;
}

function finite(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(field, 'must be a finite number');
  return value;
}

function numbers(value: unknown, field: string): Record<string, number> {
  if (value === undefined) return {};
  const record = object(value, field);
  const out: Record<string, number> = {};
  for (const [key, entry] of Object.entries(record)) {
    if (!NAME.test(key)) throw invalid(`${field}.${key}`, `is not a valid name (${String(NAME)})`);
    out[key] = finite(entry, `${field}.${key}`);
  }
  return out;
}

function windowMs(value: unknown, field: string): number {
  const ms = typeof value === 'string' ? parseWindow(value) : undefined;
  if (typeof ms !== 'number') throw invalid(field, 'must be a window such as "30m", "1h" or "7d"');
  if (ms < MIN_WINDOW_MS) throw invalid(field, 'must be at least one minute');
  return ms;
}

function parameters(value: unknown): Record<string, Bounds> {
  if (value === undefined) return {};
  const out: Record<string, Bounds> = {};
  for (const [name, entry] of Object.entries(object(value, 'parameters'))) {
    const at = `parameters.${name}`;
    if (!NAME.test(name)) throw invalid(at, `is not a valid name (${String(NAME)})`);
    const bounds = object(entry, at);
    only(bounds, at, ['min', 'max']);
    const min = finite(bounds.min, `${at}.min`);
    const max = finite(bounds.max, `${at}.max`);
    if (min > max) throw invalid(at, `min ${min} is above max ${max}`);
    out[name] = { min, max };
  }
  return out;
}

function actions(value: unknown, bounds: Readonly<Record<string, Bounds>>): Action[] {
  if (!Array.isArray(value) || value.length === 0) throw invalid('actions', 'must be a non-empty list');
  if (value.length > MAX_ACTIONS) throw invalid('actions', `must have at most ${MAX_ACTIONS} actions`);
  const seen = new Set<string>();
  const list = value.map((entry: unknown, index): Action => {
    const at = `actions[${index}]`;
    const action = object(entry, at);
    only(action, at, ['id', 'features', 'params', 'payload']);
    const id = text(action.id, `${at}.id`, ACTION_ID);
    if (seen.has(id)) throw invalid(`${at}.id`, `"${id}" appears twice`);
    seen.add(id);
    const params = numbers(action.params, `${at}.params`);
    for (const [name, number] of Object.entries(params)) {
      const range = bounds[name];
      if (range === undefined) {
        throw invalid(`${at}.params.${name}`, `has no bounds: declare parameters.${name} = {min, max}`);
      }
      if (number < range.min || number > range.max) {
        throw invalid(`${at}.params.${name}`, `${number} is outside its bounds [${range.min}, ${range.max}]`);
      }
    }
    for (const name of Object.keys(bounds)) {
      if (params[name] === undefined) throw invalid(`${at}.params.${name}`, 'is required (it has bounds)');
    }
    return {
      id,
      features: numbers(action.features, `${at}.features`),
      params,
      payload: (action.payload ?? null) as JsonValue,
    };
  });
  return list;
}

function features(value: unknown, context: PointContext): FeatureSpec[] {
  if (value === undefined) return [...DEFAULT_FEATURES];
  if (!Array.isArray(value)) throw invalid('features', 'must be a list');
  if (value.length > MAX_FEATURES) throw invalid('features', `must have at most ${MAX_FEATURES} entries`);
  const userColumns = new Set(context.userFeatures);
  return value.map((entry: unknown, index): FeatureSpec => {
    const at = `features[${index}]`;
    const spec = object(entry, at);
    only(spec, at, ['source', 'name', 'type', 'transform', 'values']);
    const source = spec.source;
    if (source !== 'context' && source !== 'trait' && source !== 'user' && source !== 'segment') {
      throw invalid(`${at}.source`, 'must be "context", "trait", "user" or "segment"');
    }
    const name = source === 'segment' ? 'segment' : text(spec.name, `${at}.name`, NAME);
    const type = spec.type ?? (source === 'segment' ? 'category' : 'number');
    if (type === 'number') {
      if (source === 'segment') throw invalid(`${at}.type`, 'a segment is a category');
      if (source === 'user' && !userColumns.has(name)) {
        throw invalid(`${at}.name`, `"${name}" is not a numeric user feature (GET /v1/features/definitions)`);
      }
      const transform = spec.transform ?? 'none';
      if (transform !== 'none' && transform !== 'log1p') {
        throw invalid(`${at}.transform`, 'must be "none" or "log1p"');
      }
      return { source, name, type, transform };
    }
    if (spec.transform !== undefined)
      throw invalid(`${at}.transform`, `applies to numbers, not ${String(type)}`);
    if (type === 'category') {
      if (source === 'user') throw invalid(`${at}.type`, 'user features are numbers');
      const values = spec.values;
      if (!Array.isArray(values) || values.length === 0 || !values.every((v) => typeof v === 'string')) {
        throw invalid(`${at}.values`, 'must be a non-empty list of strings');
      }
      if (new Set(values).size !== values.length) throw invalid(`${at}.values`, 'must not repeat a value');
      return { source, name, type, values: values as string[] };
    }
    if (type === 'hour') {
      if (source !== 'context') throw invalid(`${at}.source`, 'an hour is read from the context');
      return { source, name, type };
    }
    throw invalid(`${at}.type`, 'must be "number", "category" or "hour"');
  });
}

function learner(value: unknown): LearnerSpec {
  if (value === undefined) return { kind: 'linucb', params: { floor: 0.05 } };
  const spec = object(value, 'learner');
  const kind = spec.kind;
  if (kind !== 'linucb' && kind !== 'thompson' && kind !== 'epsilon_greedy') {
    throw invalid('learner.kind', 'must be "linucb", "thompson" or "epsilon_greedy"');
  }
  const allowed = [...LEARNER_PARAMS[kind], ...COMMON_PARAMS];
  only(spec, 'learner', ['kind', ...allowed]);
  const params: Record<string, number> = {};
  for (const key of allowed) if (spec[key] !== undefined) params[key] = finite(spec[key], `learner.${key}`);
  return { kind, params };
}

function rules(value: unknown, list: readonly Action[], bounds: Readonly<Record<string, Bounds>>): Rule[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw invalid('rules', 'must be a list');
  const ids = new Set(list.map((a) => a.id));
  return value.map((entry: unknown, index): Rule => {
    const at = `rules[${index}]`;
    const rule = object(entry, at);
    only(rule, at, ['when', 'exclude', 'min', 'max']);
    const when = rule.when === undefined ? [] : rule.when;
    if (!Array.isArray(when)) throw invalid(`${at}.when`, 'must be a list of conditions');
    const exclude = rule.exclude === undefined ? [] : rule.exclude;
    if (!Array.isArray(exclude)) throw invalid(`${at}.exclude`, 'must be a list of action ids');
    exclude.forEach((id: unknown, i) => {
      if (typeof id !== 'string' || !ids.has(id))
        throw invalid(`${at}.exclude[${i}]`, 'is not an action of the point');
    });
    const limits = (side: 'min' | 'max') => {
      const out = numbers(rule[side], `${at}.${side}`);
      for (const name of Object.keys(out)) {
        if (bounds[name] === undefined) throw invalid(`${at}.${side}.${name}`, 'is not a bounded parameter');
      }
      return out;
    };
    return {
      when: when.map((condition: unknown, i) => ruleCondition(condition, `${at}.when[${i}]`)),
      exclude: exclude as string[],
      min: limits('min'),
      max: limits('max'),
    };
  });
}

function ruleCondition(value: unknown, at: string): RuleCondition {
  const condition = object(value, at);
  only(condition, at, ['field', 'op', 'value']);
  const field = text(condition.field, `${at}.field`);
  if (!/^(context\.|trait\.)[A-Za-z0-9_.-]+$/.test(field) && field !== 'segment') {
    throw invalid(`${at}.field`, 'must be "context.<field>", "trait.<name>" or "segment"');
  }
  const op = condition.op;
  if (typeof op !== 'string' || !OPS.has(op))
    throw invalid(`${at}.op`, `must be one of ${[...OPS].join(', ')}`);
  const wanted = condition.value;
  const scalar = (v: unknown) => v === null || ['string', 'number', 'boolean'].includes(typeof v);
  if (op === 'exists') {
    if (wanted !== undefined) throw invalid(`${at}.value`, '"exists" takes no value');
    return { field, op };
  }
  if (op === 'in') {
    if (!Array.isArray(wanted) || !wanted.every(scalar))
      throw invalid(`${at}.value`, '"in" takes a list of values');
  } else if (['gt', 'gte', 'lt', 'lte'].includes(op)) {
    if (typeof wanted !== 'number') throw invalid(`${at}.value`, `"${op}" takes a number`);
  } else if (!scalar(wanted)) {
    throw invalid(`${at}.value`, `"${op}" takes one value`);
  }
  return { field, op: op as ConditionOp, value: wanted as Scalar | readonly Scalar[] };
}

function reward(value: unknown): RewardSpec {
  if (value === undefined) return { source: 'explicit', windowMs: 24 * 3_600_000 };
  const spec = object(value, 'reward');
  if (spec.source === 'explicit') {
    only(spec, 'reward', ['source', 'window']);
    return { source: 'explicit', windowMs: windowMs(spec.window ?? '24h', 'reward.window') };
  }
  if (spec.source !== 'event') throw invalid('reward.source', 'must be "explicit" or "event"');
  only(spec, 'reward', ['source', 'event', 'window', 'value', 'property']);
  const mode = spec.value ?? 'once';
  if (mode !== 'once' && mode !== 'sum') throw invalid('reward.value', 'must be "once" or "sum"');
  const property = spec.property === undefined ? null : text(spec.property, 'reward.property', NAME);
  if (mode === 'sum' && property === null)
    throw invalid('reward.property', 'is required with "value": "sum"');
  return {
    source: 'event',
    event: text(spec.event, 'reward.event'),
    windowMs: windowMs(spec.window ?? '1h', 'reward.window'),
    value: mode,
    property,
  };
}

function guardrails(value: unknown): Guardrails | null {
  if (value === undefined || value === null) return null;
  const spec = object(value, 'guardrails');
  only(spec, 'guardrails', ['min_decisions', 'confidence']);
  const minDecisions = spec.min_decisions ?? 1_000;
  if (typeof minDecisions !== 'number' || !Number.isInteger(minDecisions) || minDecisions < 10) {
    throw invalid('guardrails.min_decisions', 'must be an integer ≥ 10');
  }
  const confidence = spec.confidence ?? 0.95;
  if (typeof confidence !== 'number' || !(confidence > 0.5 && confidence < 1)) {
    throw invalid('guardrails.confidence', 'must be in (0.5, 1)');
  }
  return { minDecisions, confidence };
}

const FIELDS = [
  'id',
  'name',
  'description',
  'actions',
  'parameters',
  'features',
  'layout',
  'learner',
  'mode',
  'default_action',
  'reward',
  'default_reward',
  'rules',
  'guardrails',
  'revision',
  // What GET shows beside the definition, so that its body can be sent back as is.
  'created_at',
  'updated_at',
];

/**
 * A decision point from a client's JSON (`POST` body, or a `PUT` body with the stored id and times), or a
 * `DecisionPointError` naming the first field at fault. `previous` is the stored point a `PUT` replaces.
 */
export function parseDecisionPoint(
  input: unknown,
  context: PointContext,
  previous: DecisionPoint | null = null,
): DecisionPoint {
  const body = object(input, '');
  only(body, '', FIELDS);
  const id = previous?.id ?? text(body.id, 'id', POINT_ID);
  if (previous && body.id !== undefined && body.id !== previous.id) {
    throw invalid('id', `is "${previous.id}" and cannot change`);
  }
  const bounds = parameters(body.parameters);
  const list = actions(body.actions, bounds);
  const defaultAction =
    body.default_action === undefined ? (list[0]?.id ?? '') : text(body.default_action, 'default_action');
  if (!list.some((a) => a.id === defaultAction))
    throw invalid('default_action', `is not an action of the point`);
  const layout = body.layout ?? 'disjoint';
  if (layout !== 'disjoint' && layout !== 'shared') throw invalid('layout', 'must be "disjoint" or "shared"');
  if (layout === 'shared' && !list.some((a) => Object.keys(a.features).length > 0)) {
    throw invalid('layout', '"shared" needs actions with features');
  }
  const mode = body.mode ?? 'learn';
  if (mode !== 'learn' && mode !== 'apprentice') throw invalid('mode', 'must be "learn" or "apprentice"');
  const name = body.name === undefined ? id : text(body.name, 'name');
  if (body.description !== undefined && typeof body.description !== 'string') {
    throw invalid('description', 'must be a string');
  }
  const description = body.description ?? '';
  return {
    id,
    name,
    description,
    actions: list,
    parameters: bounds,
    features: features(body.features, context),
    layout,
    learner: learner(body.learner),
    mode,
    defaultAction,
    reward: reward(body.reward),
    defaultReward: body.default_reward === undefined ? 0 : finite(body.default_reward, 'default_reward'),
    rules: rules(body.rules, list, bounds),
    guardrails: guardrails(body.guardrails),
    createdAt: previous?.createdAt ?? context.now,
    updatedAt: context.now,
    revision: (previous?.revision ?? 0) + 1,
  };
}

/** The names of the numeric action features a shared model crosses with the context, in a fixed order. */
export function actionFeatureNames(point: Pick<DecisionPoint, 'actions'>): string[] {
  const names = new Set<string>();
  for (const action of point.actions) for (const name of Object.keys(action.features)) names.add(name);
  return [...names].sort();
}

/** The learner options a point's definition and encoded width call for. */
export function learnerOptions(point: DecisionPoint, dimension: number): LearnerOptions {
  const { params } = point.learner;
  const common = {
    actions: point.actions.length,
    dimension,
    layout: point.layout,
    ...(params.ridge === undefined ? {} : { ridge: params.ridge }),
    ...(params.floor === undefined ? {} : { floor: params.floor }),
    ...(params.seed === undefined ? {} : { seed: params.seed }),
  };
  switch (point.learner.kind) {
    case 'linucb':
      return { kind: 'linucb', ...common, ...(params.alpha === undefined ? {} : { alpha: params.alpha }) };
    case 'thompson':
      return {
        kind: 'thompson',
        ...common,
        ...(params.scale === undefined ? {} : { scale: params.scale }),
        ...(params.samples === undefined ? {} : { samples: params.samples }),
      };
    case 'epsilon_greedy':
      return {
        kind: 'epsilon-greedy',
        ...common,
        ...(params.epsilon === undefined ? {} : { epsilon: params.epsilon }),
      };
  }
}

/**
 * What a learner is trained for: the actions in order with their features, the feature row, the layout, the
 * learner settings and the mode (an apprentice keeps other state). Two definitions with the same shape share
 * a learner; any other change starts a new one.
 */
export function learnerShape(point: DecisionPoint): string {
  return JSON.stringify([
    point.actions.map((x) => [x.id, x.features]),
    point.features,
    point.layout,
    point.learner,
    point.mode,
  ]);
}

const UNITS: readonly [string, number][] = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
];

/** A window in ms as the definition's text (`90m`, `12h`, `7d`): the largest unit that divides it. */
export function formatWindow(ms: number): string {
  for (const [unit, size] of UNITS) if (ms % size === 0) return `${ms / size}${unit}`;
  return `${Math.round(ms / 60_000)}m`;
}

/** A definition as the API shows it: the body a client sends, with its revision and times. */
export function pointJson(point: DecisionPoint): { [key: string]: JsonValue } {
  const reward = point.reward;
  return {
    id: point.id,
    name: point.name,
    description: point.description,
    actions: point.actions.map((a) => ({
      id: a.id,
      features: a.features,
      params: a.params,
      payload: a.payload,
    })),
    parameters: Object.fromEntries(
      Object.entries(point.parameters).map(([name, b]) => [name, { min: b.min, max: b.max }]),
    ),
    features: point.features.map((f) => ({ ...f })),
    layout: point.layout,
    learner: { kind: point.learner.kind, ...point.learner.params },
    mode: point.mode,
    default_action: point.defaultAction,
    reward:
      reward.source === 'explicit'
        ? { source: 'explicit', window: formatWindow(reward.windowMs) }
        : {
            source: 'event',
            event: reward.event,
            window: formatWindow(reward.windowMs),
            value: reward.value,
            ...(reward.property === null ? {} : { property: reward.property }),
          },
    default_reward: point.defaultReward,
    rules: point.rules.map((r) => ({
      when: r.when.map((c) => ({ ...c })),
      exclude: [...r.exclude],
      min: r.min,
      max: r.max,
    })),
    guardrails: point.guardrails
      ? { min_decisions: point.guardrails.minDecisions, confidence: point.guardrails.confidence }
      : null,
    revision: point.revision,
    created_at: new Date(point.createdAt).toISOString(),
    updated_at: new Date(point.updatedAt).toISOString(),
  };
}
