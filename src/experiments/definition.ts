import { MODEL_NAMES, type ModelName } from '../models/index.js';
import { BUILT_IN_METRICS } from './metrics/index.js';
import type { EpochMs, JsonValue, Scalar } from '../shared/types.js';
import {
  DECISION_VARIANT_POLICIES,
  HOLDOUT,
  type AudienceCondition,
  type DecisionVariantPolicy,
  type Experiment,
  type ExperimentTarget,
  type Variant,
} from './types.js';

/** Why an experiment change was refused; `status` is what the HTTP layer answers with. */
export class ExperimentError extends Error {
  constructor(
    readonly status: 400 | 404 | 409,
    /** The input field at fault (`variants[1].weight`), or null for the experiment as a whole. */
    readonly field: string | null,
    /** The message without the field prefix (what rebuilds the error on another thread). */
    readonly bareMessage: string,
  ) {
    super(field === null ? bareMessage : `field "${field}": ${bareMessage}`);
    this.name = 'ExperimentError';
  }
}

const invalid = (field: string, message: string) => new ExperimentError(400, field, message);

/** A variant as a client sends it. */
export interface VariantInput {
  readonly name: string;
  readonly weight?: number;
  readonly control?: boolean;
  readonly model?: string;
  readonly preset?: string;
  readonly config?: JsonValue;
  /** Decision targets: `learner`, `default` or `uniform`. */
  readonly policy?: string;
}

/** What creating an experiment takes; absent fields get the defaults named on each. */
export interface ExperimentInput {
  readonly id: string;
  /** Default: the id. */
  readonly name?: string;
  readonly description?: string;
  /** `recommendations` (the default) or `decision:<point>`. */
  readonly target?: string;
  /** Default `default`. */
  readonly layer?: string;
  /** Default 1 (every user of the layer not in another experiment of it). */
  readonly traffic?: number;
  readonly variants: readonly VariantInput[];
  readonly audience?: readonly AudienceCondition[];
  readonly metrics?: readonly string[];
  readonly guardrails?: readonly string[];
  /**
   * The hash salt of its assignment (default random). Giving one makes assignment reproducible (a simulation,
   * the same split in another system); reusing an earlier experiment's puts the same users in the same arms.
   */
  readonly salt?: string;
}

/** What an update may change. Variants can be re-weighted or re-treated, not added or removed once started. */
export interface ExperimentUpdate {
  readonly name?: string;
  readonly description?: string;
  readonly traffic?: number;
  readonly variants?: readonly VariantInput[];
  readonly audience?: readonly AudienceCondition[];
  readonly metrics?: readonly string[];
  readonly guardrails?: readonly string[];
  /** When given, the update applies only to this revision (someone else's edit in between → 409). */
  readonly revision?: number;
}

/** Models a variant may name: any single model, or `blend` when selection serves one. */
const VARIANT_MODELS: readonly ModelName[] = [...MODEL_NAMES, 'blend'];

export const ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const VARIANT_PATTERN = /^[a-z0-9_]{1,64}$/;

/** The metrics every installation has (their definitions: `experiments/metrics/builtins.ts`). */
export const BUILT_IN_METRIC_NAMES: ReadonlySet<string> = new Set(Object.keys(BUILT_IN_METRICS));

/** The default metrics an experiment reports when it names none. */
export const DEFAULT_METRICS = ['purchase_conversion', 'revenue_per_user', 'click_through'] as const;
export const DEFAULT_GUARDRAILS = ['day7_retention'] as const;

export interface DefinitionContext {
  readonly now: EpochMs;
  /** Metric names that exist (built in and stored). */
  readonly metrics: ReadonlySet<string>;
  readonly salt: string;
}

function salt(value: string): string {
  if (!(value.length >= 1 && value.length <= 64)) throw invalid('salt', 'must be 1-64 characters');
  return value;
}

/** A new draft experiment from a client's input, or an `ExperimentError` naming the field. */
export function newExperiment(input: ExperimentInput, context: DefinitionContext): Experiment {
  if (!ID_PATTERN.test(input.id)) {
    throw invalid('id', 'must be 1-64 characters of a-z, 0-9, "-" and "_", starting with a letter or digit');
  }
  if (input.id === HOLDOUT) throw invalid('id', `"${HOLDOUT}" is the global holdout's name`);
  const target = experimentTarget(input.target ?? 'recommendations');
  const layer = input.layer ?? 'default';
  if (!ID_PATTERN.test(layer)) throw invalid('layer', 'must be 1-64 characters of a-z, 0-9, "-" and "_"');
  const experiment: Experiment = {
    id: input.id,
    name: input.name ?? input.id,
    description: input.description ?? '',
    status: 'draft',
    target,
    layer,
    traffic: traffic(input.traffic ?? 1),
    slice: { start: 0 },
    variants: variants(input.variants, target),
    audience: audience(input.audience ?? []),
    metrics: metricNames('metrics', input.metrics ?? DEFAULT_METRICS, context.metrics),
    guardrails: metricNames('guardrails', input.guardrails ?? DEFAULT_GUARDRAILS, context.metrics),
    salt: salt(input.salt ?? context.salt),
    createdAt: context.now,
    updatedAt: context.now,
    startedAt: null,
    stoppedAt: null,
    revision: 1,
  };
  return experiment;
}

/** The experiment with an update applied, or an `ExperimentError`. Slices are the registry's to place. */
export function updatedExperiment(
  current: Experiment,
  update: ExperimentUpdate,
  context: DefinitionContext,
): Experiment {
  if (update.revision !== undefined && update.revision !== current.revision) {
    throw new ExperimentError(
      409,
      'revision',
      `is ${update.revision} but the experiment is at revision ${current.revision}: read it again and retry`,
    );
  }
  if (current.status === 'stopped') {
    throw new ExperimentError(409, null, `experiment "${current.id}" is stopped; create a new one instead`);
  }
  let nextVariants = current.variants;
  if (update.variants !== undefined) {
    nextVariants = variants(update.variants, current.target);
    if (current.status === 'running') assertSameArms(current.variants, nextVariants);
  }
  return {
    ...current,
    name: update.name ?? current.name,
    description: update.description ?? current.description,
    traffic: update.traffic === undefined ? current.traffic : traffic(update.traffic),
    variants: nextVariants,
    audience: update.audience === undefined ? current.audience : audience(update.audience),
    metrics:
      update.metrics === undefined
        ? current.metrics
        : metricNames('metrics', update.metrics, context.metrics),
    guardrails:
      update.guardrails === undefined
        ? current.guardrails
        : metricNames('guardrails', update.guardrails, context.metrics),
    updatedAt: context.now,
    revision: current.revision + 1,
  };
}

/**
 * A running experiment's arms are fixed: adding, removing, renaming or changing which is control would
 * make the users already exposed incomparable with those that follow. Weights and treatments may change.
 */
function assertSameArms(before: readonly Variant[], after: readonly Variant[]): void {
  const key = (list: readonly Variant[]) =>
    list
      .map((v) => `${v.name}${v.control ? '*' : ''}`)
      .sort()
      .join(',');
  if (key(before) !== key(after)) {
    throw new ExperimentError(
      409,
      'variants',
      'a running experiment keeps its variants and its control (weights and treatments may change); ' +
        'stop it and create a new experiment to change the arms',
    );
  }
}

function traffic(value: number): number {
  if (!Number.isFinite(value) || value <= 0 || value > 1) throw invalid('traffic', 'must be in (0, 1]');
  return value;
}

const DECISION_TARGET = /^decision:([a-z0-9][a-z0-9_-]{0,63})$/;

function experimentTarget(text: string): ExperimentTarget {
  if (text === 'recommendations') return { kind: 'recommendations' };
  const point = DECISION_TARGET.exec(text)?.[1];
  if (point === undefined) {
    throw invalid(
      'target',
      `must be "recommendations" or "decision:<point id>", not ${JSON.stringify(text)}`,
    );
  }
  return { kind: 'decision', point };
}

/** How a target is written in requests and replies. */
export function targetText(target: ExperimentTarget): string {
  return target.kind === 'recommendations' ? 'recommendations' : `decision:${target.point}`;
}

function variants(inputs: readonly VariantInput[], target: ExperimentTarget): Variant[] {
  if (inputs.length < 2) throw invalid('variants', 'an experiment needs at least two variants');
  if (inputs.length > 20) throw invalid('variants', 'at most 20 variants');
  const names = new Set<string>();
  const list = inputs.map((input, index): Variant => {
    const at = `variants[${index}]`;
    if (!VARIANT_PATTERN.test(input.name))
      throw invalid(`${at}.name`, 'must be 1-64 characters of a-z, 0-9 and "_"');
    if (names.has(input.name)) throw invalid(`${at}.name`, `"${input.name}" appears twice`);
    names.add(input.name);
    const weight = input.weight ?? 1;
    if (!Number.isFinite(weight) || weight <= 0) throw invalid(`${at}.weight`, 'must be a number > 0');
    let model: ModelName | undefined;
    if (input.model !== undefined) {
      model = VARIANT_MODELS.find((name) => name === input.model);
      if (model === undefined) {
        throw invalid(
          `${at}.model`,
          `must be one of ${VARIANT_MODELS.join(', ')}, not ${JSON.stringify(input.model)}`,
        );
      }
    }
    let policy: DecisionVariantPolicy | undefined;
    if (target.kind === 'decision') {
      if (input.model !== undefined || input.preset !== undefined) {
        throw invalid(
          `${at}.${input.model !== undefined ? 'model' : 'preset'}`,
          'applies to recommendations, not a decision point',
        );
      }
      if (input.policy !== undefined) {
        policy = DECISION_VARIANT_POLICIES.find((name) => name === input.policy);
        if (policy === undefined) {
          throw invalid(`${at}.policy`, `must be one of ${DECISION_VARIANT_POLICIES.join(', ')}`);
        }
      }
    } else if (input.policy !== undefined) {
      throw invalid(`${at}.policy`, 'applies to a decision point target ("target": "decision:<point>")');
    }
    return {
      name: input.name,
      weight,
      control: input.control ?? false,
      treatment: {
        ...(policy === undefined ? {} : { policy }),
        ...(model === undefined ? {} : { model }),
        ...(input.preset === undefined ? {} : { preset: input.preset }),
        ...(input.config === undefined ? {} : { config: input.config }),
      },
    };
  });
  const marked = list.filter((v) => v.control);
  if (marked.length > 1) throw invalid('variants', 'exactly one variant may have "control": true');
  if (marked.length === 1) {
    const misnamed = list.findIndex((v) => v.name === 'control' && !v.control);
    if (misnamed >= 0) throw invalid(`variants[${misnamed}].name`, '"control" may only name the control');
    return list;
  }
  // Unmarked: the variant named "control" is the control.
  const named = list.findIndex((v) => v.name === 'control');
  if (named < 0) {
    throw invalid(
      'variants',
      'exactly one variant must be the control: mark it "control": true or name it "control"',
    );
  }
  return list.map((v, i) => (i === named ? { ...v, control: true } : v));
}

const OPS = new Set<AudienceCondition['op']>(['eq', 'neq', 'in', 'gt', 'gte', 'lt', 'lte', 'exists']);

function audience(conditions: readonly AudienceCondition[]): AudienceCondition[] {
  return conditions.map((condition, index) => {
    const at = `audience[${index}]`;
    if (typeof condition.trait !== 'string' || condition.trait.length === 0)
      throw invalid(`${at}.trait`, 'is required');
    if (!OPS.has(condition.op)) throw invalid(`${at}.op`, `must be one of ${[...OPS].join(', ')}`);
    const { value } = condition;
    if (condition.op === 'exists') {
      if (value !== undefined) throw invalid(`${at}.value`, '"exists" takes no value');
      return { trait: condition.trait, op: condition.op };
    }
    if (condition.op === 'in') {
      if (!Array.isArray(value)) throw invalid(`${at}.value`, '"in" takes a list of values');
    } else if (['gt', 'gte', 'lt', 'lte'].includes(condition.op)) {
      if (typeof value !== 'number') throw invalid(`${at}.value`, `"${condition.op}" takes a number`);
    } else if (value === undefined || Array.isArray(value)) {
      throw invalid(`${at}.value`, `"${condition.op}" takes one value`);
    }
    return { trait: condition.trait, op: condition.op, value: value as Scalar | readonly Scalar[] };
  });
}

function metricNames(field: string, names: readonly string[], known: ReadonlySet<string>): string[] {
  const seen = new Set<string>();
  names.forEach((name, index) => {
    if (!known.has(name)) {
      throw invalid(`${field}[${index}]`, `no metric "${name}" (known: ${[...known].sort().join(', ')})`);
    }
    seen.add(name);
  });
  return [...seen];
}
