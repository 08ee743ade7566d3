import { matchesAudience } from '../../experiments/index.js';
import type { JsonValue, Scalar, ScalarRecord } from '../../shared/types.js';
import { DecisionPointError, type Bounds, type DecisionPoint, type RuleCondition } from './definition.js';

/** What a request may ask of the offer: the actions available now, and narrower parameter bounds. */
export interface OfferRequest {
  /** Ids of the actions available now; null: all of them. */
  readonly available: readonly string[] | null;
  /** Per parameter, bounds that may only narrow the point's (wider ones change nothing). */
  readonly limits: Readonly<Record<string, { readonly min?: number; readonly max?: number }>>;
}

/** What rule conditions read: the request's context, the user's traits and segment. */
export interface RuleFacts {
  readonly context: { readonly [key: string]: JsonValue };
  readonly traits: ScalarRecord | null;
  readonly segment: string | null;
}

export interface Offer {
  /** One flag per action of the point: offered (1) or not. */
  readonly allowed: Uint8Array;
  readonly count: number;
  /** The bounds every offered action's parameters lie within: the point's, narrowed by rules and request. */
  readonly bounds: Readonly<Record<string, Bounds>>;
}

function fact(facts: RuleFacts, field: string): Scalar | undefined {
  if (field === 'segment') return facts.segment;
  if (field.startsWith('trait.')) return facts.traits?.[field.slice(6)];
  const value = facts.context[field.slice(8)];
  return value === undefined || (typeof value === 'object' && value !== null) ? undefined : value;
}

function holds(conditions: readonly RuleCondition[], facts: RuleFacts): boolean {
  if (conditions.length === 0) return true;
  const values: Record<string, Scalar> = {};
  for (const { field } of conditions) {
    const value = fact(facts, field);
    if (value !== undefined) values[field] = value;
  }
  return matchesAudience(
    conditions.map((c) => ({
      trait: c.field,
      op: c.op,
      ...(c.value === undefined ? {} : { value: c.value }),
    })),
    values,
  );
}

/**
 * The actions a request may be given: those available now, not excluded by a rule that holds, whose every
 * parameter lies within the point's hard bounds narrowed by the rules that hold and by the request. Bounds
 * only ever narrow: a rule or a request asking for more than the point allows gets the point's bounds.
 * Throws a 400 naming the field for an unknown action id or limit, and a 422 when nothing is left.
 */
export function offer(point: DecisionPoint, request: OfferRequest, facts: RuleFacts): Offer {
  const bounds: Record<string, Bounds> = { ...point.parameters };
  const narrow = (name: string, min: number | undefined, max: number | undefined) => {
    const current = bounds[name];
    if (current === undefined) return;
    bounds[name] = {
      min: min === undefined ? current.min : Math.max(current.min, min),
      max: max === undefined ? current.max : Math.min(current.max, max),
    };
  };
  const allowed = new Uint8Array(point.actions.length);
  if (request.available === null) allowed.fill(1);
  else {
    request.available.forEach((id, index) => {
      const at = point.actions.findIndex((action) => action.id === id);
      if (at < 0)
        throw new DecisionPointError(400, `actions[${index}]`, `"${id}" is not an action of "${point.id}"`);
      allowed[at] = 1;
    });
  }
  for (const [name, limit] of Object.entries(request.limits)) {
    if (point.parameters[name] === undefined) {
      throw new DecisionPointError(400, `limits.${name}`, `"${point.id}" has no parameter "${name}"`);
    }
    narrow(name, limit.min, limit.max);
  }
  for (const rule of point.rules) {
    if (!holds(rule.when, facts)) continue;
    for (const id of rule.exclude) allowed[point.actions.findIndex((action) => action.id === id)] = 0;
    for (const name of new Set([...Object.keys(rule.min), ...Object.keys(rule.max)])) {
      narrow(name, rule.min[name], rule.max[name]);
    }
  }
  let count = 0;
  point.actions.forEach((action, a) => {
    if (!allowed[a]) return;
    for (const [name, value] of Object.entries(action.params)) {
      const range = bounds[name];
      if (range !== undefined && (value < range.min || value > range.max)) {
        allowed[a] = 0;
        return;
      }
    }
    count++;
  });
  if (count === 0) {
    throw new DecisionPointError(
      422,
      null,
      `no action of "${point.id}" is left to offer after the available actions, the rules and the limits`,
    );
  }
  return { allowed, count, bounds };
}
