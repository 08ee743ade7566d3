/**
 * Candidate policies to evaluate: what a policy file may say, and its validation (every error names the
 * field).
 *
 * A policy file is one JSON object:
 * - `{"type":"fixed","probabilities":{"a1":0.3,"a2":0.7}}`: the same distribution for every decision;
 * - `{"type":"fixed","by":"position","probabilities":{"1":{…},"2":{…}}}`: one distribution per slot;
 * - `{"type":"linucb"|"thompson"|"epsilon_greedy", …parameters}`: a learner of `../learners`, trained
 *   on the log in time order (see `evaluate.ts`). Parameters: `ridge`, `floor` and `seed` for every
 *   learner, `alpha` for LinUCB, `scale` and `samples` for Thompson sampling, `epsilon` for
 *   epsilon-greedy; their ranges are the learner's to check.
 */

export const LEARNER_TYPES = ['linucb', 'thompson', 'epsilon_greedy'] as const;
export type LearnerType = (typeof LEARNER_TYPES)[number];
export const POLICY_TYPES = ['fixed', ...LEARNER_TYPES] as const;

/**
 * How far the probabilities of a fixed distribution may sum from 1: room for hand-typed decimals
 * (0.3333 × 3); within it the distribution is rescaled to sum to exactly 1.
 */
export const PROBABILITY_SUM_TOLERANCE = 1e-3;

/** Action name → probability, summing to 1. */
export type ActionDistribution = ReadonlyMap<string, number>;

export interface GlobalFixedPolicySpec {
  readonly type: 'fixed';
  readonly by: null;
  readonly probabilities: ActionDistribution;
}

export interface PositionFixedPolicySpec {
  readonly type: 'fixed';
  readonly by: 'position';
  /** Position label → its distribution. */
  readonly probabilities: ReadonlyMap<string, ActionDistribution>;
}

export type FixedPolicySpec = GlobalFixedPolicySpec | PositionFixedPolicySpec;

/** The parameters each learner type takes (the learners' option names), all numbers. */
export const LEARNER_PARAMETERS: Readonly<Record<LearnerType, readonly string[]>> = {
  linucb: ['alpha', 'ridge', 'floor', 'seed'],
  thompson: ['scale', 'samples', 'ridge', 'floor', 'seed'],
  epsilon_greedy: ['epsilon', 'ridge', 'floor', 'seed'],
};

export interface LearnerPolicySpec {
  readonly type: LearnerType;
  /** Every field of the file but `type`, by name. */
  readonly parameters: Readonly<Record<string, number>>;
}

export type PolicySpec = FixedPolicySpec | LearnerPolicySpec;

/** A policy file that is not usable; `field` is the path of the offending field (`policy` for the whole). */
export class PolicySpecError extends Error {
  constructor(
    readonly field: string,
    detail: string,
  ) {
    super(`${field}: ${detail}`);
    this.name = 'PolicySpecError';
  }
}

const PLAIN = /^[A-Za-z0-9_-]+$/;

/** `probabilities.a1`, or `probabilities["a b"]` for a name that is not a plain word. */
export function fieldPath(parent: string, key: string): string {
  return PLAIN.test(key) ? `${parent}.${key}` : `${parent}[${JSON.stringify(key)}]`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return JSON.stringify(value) ?? String(value);
}

function distribution(value: unknown, field: string): ActionDistribution {
  if (!isObject(value)) {
    throw new PolicySpecError(field, `expected an object of action → probability, got ${describe(value)}`);
  }
  const entries = Object.entries(value);
  if (entries.length === 0) throw new PolicySpecError(field, 'names no action');
  let sum = 0;
  for (const [action, p] of entries) {
    if (typeof p !== 'number' || !(p >= 0 && p <= 1)) {
      throw new PolicySpecError(
        fieldPath(field, action),
        `expected a probability in [0, 1], got ${describe(p)}`,
      );
    }
    sum += p;
  }
  if (!(Math.abs(sum - 1) <= PROBABILITY_SUM_TOLERANCE)) {
    throw new PolicySpecError(field, `the probabilities sum to ${Number(sum.toPrecision(6))}, not 1`);
  }
  return new Map(entries.map(([action, p]) => [action, (p as number) / sum]));
}

function checkFields(spec: Record<string, unknown>, allowed: readonly string[]): void {
  for (const key of Object.keys(spec)) {
    if (!allowed.includes(key)) {
      throw new PolicySpecError(
        PLAIN.test(key) ? key : JSON.stringify(key),
        `unknown field for a ${String(spec['type'])} policy (it takes ${allowed.map((a) => `"${a}"`).join(', ')})`,
      );
    }
  }
}

/** Validates a parsed policy file. */
export function parsePolicySpec(value: unknown): PolicySpec {
  if (!isObject(value)) throw new PolicySpecError('policy', `expected a JSON object, got ${describe(value)}`);
  const type = value['type'];
  if (typeof type !== 'string' || !(POLICY_TYPES as readonly string[]).includes(type)) {
    throw new PolicySpecError(
      'type',
      `expected ${POLICY_TYPES.map((t) => `"${t}"`).join(', ')}, got ${type === undefined ? 'nothing' : describe(type)}`,
    );
  }
  if (type !== 'fixed') {
    const learner = type as LearnerType;
    checkFields(value, ['type', ...LEARNER_PARAMETERS[learner]]);
    const parameters: Record<string, number> = {};
    for (const [key, parameter] of Object.entries(value)) {
      if (key === 'type') continue;
      if (typeof parameter !== 'number' || !Number.isFinite(parameter)) {
        throw new PolicySpecError(key, `expected a number, got ${describe(parameter)}`);
      }
      parameters[key] = parameter;
    }
    return { type: learner, parameters };
  }
  checkFields(value, ['type', 'by', 'probabilities']);
  const by = value['by'];
  if (by !== undefined && by !== 'position') {
    throw new PolicySpecError(
      'by',
      `expected "position" (or no "by" for one distribution), got ${describe(by)}`,
    );
  }
  if (value['probabilities'] === undefined) throw new PolicySpecError('probabilities', 'is missing');
  if (by === undefined) {
    return { type: 'fixed', by: null, probabilities: distribution(value['probabilities'], 'probabilities') };
  }
  const perPosition = value['probabilities'];
  if (!isObject(perPosition)) {
    throw new PolicySpecError(
      'probabilities',
      `expected an object of position → distribution, got ${describe(perPosition)}`,
    );
  }
  if (Object.keys(perPosition).length === 0) throw new PolicySpecError('probabilities', 'names no position');
  return {
    type: 'fixed',
    by: 'position',
    probabilities: new Map(
      Object.entries(perPosition).map(([position, d]) => [
        position,
        distribution(d, fieldPath('probabilities', position)),
      ]),
    ),
  };
}

/** Parses and validates the text of a policy file. */
export function parsePolicyJson(text: string): PolicySpec {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new PolicySpecError(
      'policy',
      `not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  return parsePolicySpec(value);
}
