import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Value, type ValueError } from '@sinclair/typebox/value';

import { normalizeEventName } from '../../events/feedback.js';
import type { Scalar } from '../../shared/types.js';

/**
 * Metric definitions: stored, reusable descriptions of what an experiment measures per exposed user.
 * Every window is measured from the user's FIRST exposure; a user's events before it never count towards
 * the metric (they feed the pre-exposure covariate instead, see `compute.ts`).
 *
 * Event names are matched the way the engine matches them for feedback (`normalizeEventName`), so
 * `Order Completed`, `order_completed` and `orderCompleted` are one name.
 */

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;
/** The longest window a metric may look at: a year. Longer would make no experiment readable in time. */
export const MAX_WINDOW_HOURS = 24 * 366;
export const MAX_RETENTION_DAY = 365;
export const MAX_EVENT_NAMES = 100;
export const MAX_FILTER_PROPERTIES = 20;
export const METRIC_NAME_PATTERN = /^[a-z0-9][a-z0-9_]{0,63}$/;

/** One event name or several; any of them matches. */
export type EventNames = string | readonly string[];

/** Equality on event properties: every listed property must be present and equal (`===`) to the value. */
export type PropertyFilter = Readonly<Record<string, Scalar>>;

/**
 * What a count, sum or conversion reads:
 * - `events` (default): the user's events named in `event` (every event when `event` is absent).
 * - `clicks`: the user's clicks on lists served to them (see `builtins.ts` for exactly what links a click
 *   to a list); `event` replaces the names that count as clicks without a `request_id`.
 * - `served_lists`: the lists (impressions) served to the user; takes no `event`, `where` or sum.
 */
export type MetricSource = 'events' | 'clicks' | 'served_lists';

/**
 * What a sum adds up per event:
 * - `revenue`: the revenue of an event as Segment's e-commerce events carry it: `properties.revenue`,
 *   else `properties.value`, else `properties.price × properties.quantity` (quantity 1 when absent),
 *   else `properties.total`; else 0.
 * - `{ property }`: the named numeric property; events without it add 0.
 * Numbers and strings holding a number (`"19.90"`) are read; anything else is absent.
 */
export type SumValue = 'revenue' | { readonly property: string };

interface MetricCommon {
  /** `[a-z0-9_]`, unique among metrics; experiments name metrics and guardrails by it. */
  readonly name: string;
  readonly description?: string;
  /**
   * Whether a larger value is the better outcome (default true). Decides what "worse" means when the
   * metric is an experiment's guardrail (any metric may be one), and the direction of a win.
   */
  readonly higherIsBetter?: boolean;
}

interface EventSelection {
  readonly source?: MetricSource;
  readonly event?: EventNames;
  readonly where?: PropertyFilter;
}

/** Converts (1, else 0) when a matching event occurs within `windowHours` after the first exposure. */
export interface ConversionMetric extends MetricCommon, EventSelection {
  readonly kind: 'conversion';
  readonly windowHours: number;
}

/** How many matching events (or served lists) fall within `windowHours` after the first exposure. */
export interface CountMetric extends MetricCommon, EventSelection {
  readonly kind: 'count';
  readonly windowHours: number;
}

/** The sum of `value` over matching events within `windowHours` after the first exposure. */
export interface SumMetric extends MetricCommon, EventSelection {
  readonly kind: 'sum';
  readonly windowHours: number;
  readonly value: SumValue;
}

/**
 * Active (1, else 0) on day `day` after the first exposure, day N being [first + N·24h, first + (N+1)·24h):
 * any event counts, or only those named in `event` (and matching `where`).
 *
 * A user whose day N has not ended by the analysis time (`now`) is EXCLUDED from the metric, not counted
 * as 0: counting them would read "not yet" as "did not come back" and bias retention towards 0 for the
 * users exposed last. Each variant's values therefore cover only its eligible users.
 */
export interface RetentionMetric extends MetricCommon {
  readonly kind: 'retention';
  readonly day: number;
  readonly event?: EventNames;
  readonly where?: PropertyFilter;
}

/** A count or sum without the metric's own fields: one side of a ratio. */
export type RatioPart =
  | (EventSelection & { readonly kind: 'count'; readonly windowHours: number })
  | (EventSelection & { readonly kind: 'sum'; readonly windowHours: number; readonly value: SumValue });

/**
 * Σ numerator / Σ denominator over a variant's users (clicks per served list, revenue per order). Each user
 * contributes a numerator and a denominator; the analysis treats the ratio of means with the delta method,
 * so users with a zero denominator stay in (they add to neither sum) rather than dividing by zero.
 */
export interface RatioMetric extends MetricCommon {
  readonly kind: 'ratio';
  readonly numerator: RatioPart;
  readonly denominator: RatioPart;
}

export type MetricDefinition = ConversionMetric | CountMetric | SumMetric | RetentionMetric | RatioMetric;
export type MetricKind = MetricDefinition['kind'];
export const METRIC_KINDS: readonly MetricKind[] = ['conversion', 'count', 'sum', 'retention', 'ratio'];

// --- schema --------------------------------------------------------------------------------------------

// `expected` is read by `problemsOf` to explain a union mismatch, which TypeBox reports only as
// "Expected union value".
const eventNames = Type.Union(
  [
    Type.String({ minLength: 1, maxLength: 200 }),
    Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { minItems: 1, maxItems: MAX_EVENT_NAMES }),
  ],
  { expected: `an event name or a list of 1 to ${MAX_EVENT_NAMES} event names` },
);
const scalar = Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()], {
  expected: 'a string, number, boolean or null',
});
const where = Type.Record(Type.String({ minLength: 1 }), scalar, {
  maxProperties: MAX_FILTER_PROPERTIES,
  description: 'Property equality filters: every property must equal its value.',
});
const windowHours = Type.Number({
  exclusiveMinimum: 0,
  maximum: MAX_WINDOW_HOURS,
  description: 'Hours after the first exposure during which events count.',
});
const sumValue = Type.Union(
  [
    Type.Literal('revenue'),
    Type.Object({ property: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
  ],
  { expected: '"revenue" or {"property": "<name>"}' },
);
const source = Type.Union([Type.Literal('events'), Type.Literal('clicks'), Type.Literal('served_lists')], {
  expected: '"events", "clicks" or "served_lists"',
});
const selection = {
  source: Type.Optional(source),
  event: Type.Optional(eventNames),
  where: Type.Optional(where),
};
const common = {
  name: Type.String({ pattern: METRIC_NAME_PATTERN.source }),
  description: Type.Optional(Type.String({ maxLength: 1000 })),
  higherIsBetter: Type.Optional(Type.Boolean({ default: true })),
};
const closed = { additionalProperties: false } as const;

const countPartSchema = Type.Object({ kind: Type.Literal('count'), windowHours, ...selection }, closed);
const sumPartSchema = Type.Object(
  { kind: Type.Literal('sum'), windowHours, value: sumValue, ...selection },
  closed,
);

export const ConversionMetricSchema = Type.Object(
  { ...common, kind: Type.Literal('conversion'), windowHours, ...selection },
  closed,
);
export const CountMetricSchema = Type.Object({ ...common, ...countPartSchema.properties }, closed);
export const SumMetricSchema = Type.Object({ ...common, ...sumPartSchema.properties }, closed);
export const RetentionMetricSchema = Type.Object(
  {
    ...common,
    kind: Type.Literal('retention'),
    day: Type.Integer({ minimum: 0, maximum: MAX_RETENTION_DAY }),
    event: Type.Optional(eventNames),
    where: Type.Optional(where),
  },
  closed,
);
const ratioPart = Type.Union([countPartSchema, sumPartSchema], {
  expected: 'a count or sum: {"kind": "count"|"sum", "windowHours": …}',
});
export const RatioMetricSchema = Type.Object(
  { ...common, kind: Type.Literal('ratio'), numerator: ratioPart, denominator: ratioPart },
  closed,
);

/** The stored form of a metric definition (JSON), discriminated on `kind`. */
export const MetricDefinitionSchema = Type.Union([
  ConversionMetricSchema,
  CountMetricSchema,
  SumMetricSchema,
  RetentionMetricSchema,
  RatioMetricSchema,
]);

// Whatever the schema accepts must be a MetricDefinition (checked by the compiler, costs nothing).
const acceptsOnlyDefinitions = (value: Static<typeof MetricDefinitionSchema>): MetricDefinition => value;
void acceptsOnlyDefinitions;

const SCHEMA_BY_KIND: Readonly<Record<MetricKind, TSchema>> = {
  conversion: ConversionMetricSchema,
  count: CountMetricSchema,
  sum: SumMetricSchema,
  retention: RetentionMetricSchema,
  ratio: RatioMetricSchema,
};
const PART_SCHEMA_BY_KIND: Readonly<Record<string, TSchema>> = { count: countPartSchema, sum: sumPartSchema };

// --- validation ----------------------------------------------------------------------------------------

/** One thing wrong with a definition: the field at fault (`numerator.windowHours`, `event[2]`) and why. */
export interface MetricDefinitionProblem {
  readonly field: string;
  readonly message: string;
}

export type MetricDefinitionValidation =
  | { readonly ok: true; readonly definition: MetricDefinition }
  | { readonly ok: false; readonly problems: readonly MetricDefinitionProblem[] };

/** Thrown where an invalid definition cannot be answered with a list (computing metrics from it). */
export class MetricDefinitionError extends Error {
  readonly problems: readonly MetricDefinitionProblem[];
  constructor(problems: readonly MetricDefinitionProblem[]) {
    super(`invalid metric definition: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`);
    this.name = 'MetricDefinitionError';
    this.problems = problems;
  }
}

/**
 * Checks a metric definition as stored or sent (parsed JSON). Every problem is reported at once, each naming
 * its field. The definition is returned as given (no defaults filled in): `higherIsBetter` absent is true.
 */
export function validateMetricDefinition(input: unknown): MetricDefinitionValidation {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { ok: false, problems: [{ field: '', message: 'a metric definition must be an object' }] };
  }
  const kind = (input as { kind?: unknown }).kind;
  if (typeof kind !== 'string' || !(METRIC_KINDS as readonly string[]).includes(kind)) {
    const message = `must be one of ${METRIC_KINDS.map((k) => `"${k}"`).join(', ')}`;
    return { ok: false, problems: [{ field: 'kind', message }] };
  }
  const schema = SCHEMA_BY_KIND[kind as MetricKind];
  const problems = problemsOf(schema, input, '');
  if (kind === 'ratio') {
    for (const side of ['numerator', 'denominator'] as const) {
      const part = (input as Record<string, unknown>)[side];
      // A part with a known kind is checked against that kind's schema alone, so the problems name its
      // fields instead of "does not match any of count, sum".
      const partKind =
        typeof part === 'object' && part !== null ? (part as { kind?: unknown }).kind : undefined;
      const partSchema = typeof partKind === 'string' ? PART_SCHEMA_BY_KIND[partKind] : undefined;
      if (partSchema === undefined) continue;
      replaceProblems(problems, side, problemsOf(partSchema, part, side));
    }
  }
  if (problems.length === 0) semanticProblems(input as MetricDefinition, problems);
  return problems.length === 0
    ? { ok: true, definition: input as MetricDefinition }
    : { ok: false, problems };
}

/** Checks a list of definitions: each one, and that no two share a name. Fields are `[i].name`, … */
export function validateMetricDefinitions(inputs: readonly unknown[]): MetricDefinitionValidationList {
  const problems: MetricDefinitionProblem[] = [];
  const definitions: MetricDefinition[] = [];
  const seen = new Map<string, number>();
  inputs.forEach((input, index) => {
    const result = validateMetricDefinition(input);
    if (!result.ok) {
      for (const p of result.problems)
        problems.push({ field: joinField(`[${index}]`, p.field), message: p.message });
      return;
    }
    const earlier = seen.get(result.definition.name);
    if (earlier !== undefined) {
      problems.push({
        field: `[${index}].name`,
        message: `"${result.definition.name}" is also metric [${earlier}]`,
      });
    }
    seen.set(result.definition.name, index);
    definitions.push(result.definition);
  });
  return problems.length === 0 ? { ok: true, definitions } : { ok: false, problems };
}

export type MetricDefinitionValidationList =
  | { readonly ok: true; readonly definitions: readonly MetricDefinition[] }
  | { readonly ok: false; readonly problems: readonly MetricDefinitionProblem[] };

/** Whether a larger value is better for the metric (the default when the definition does not say). */
export function higherIsBetter(definition: MetricDefinition): boolean {
  return definition.higherIsBetter ?? true;
}

/** The event names of a selection as a list (empty: every event). */
export function eventNameList(names: EventNames | undefined): readonly string[] {
  if (names === undefined) return [];
  return typeof names === 'string' ? [names] : names;
}

function problemsOf(schema: TSchema, value: unknown, prefix: string): MetricDefinitionProblem[] {
  const problems: MetricDefinitionProblem[] = [];
  const reported = new Set<string>();
  for (const error of Value.Errors(schema, value)) {
    const field = joinField(prefix, pointerToField(error.path));
    // TypeBox reports a missing property twice (required, then of the wrong type); the first says it.
    if (reported.has(field)) continue;
    reported.add(field);
    const variant = error.message === REQUIRED ? undefined : variantOfSameType(error.schema, error.value);
    const inner = variant === undefined ? [] : problemsOf(variant, error.value, field);
    problems.push(...(inner.length > 0 ? inner : [{ field, message: messageOf(error) }]));
  }
  return problems;
}

const REQUIRED = 'Expected required property';

/**
 * For a union mismatch: the one alternative of the value's JSON type (a list of names given for the
 * string-or-list `event`), whose own problems say more than "expected one of". Literal alternatives are
 * not taken: "expected \"revenue\"" would hide the object alternative.
 */
function variantOfSameType(schema: TSchema, value: unknown): TSchema | undefined {
  const alternatives = (schema as { anyOf?: readonly TSchema[] }).anyOf;
  if (alternatives === undefined) return undefined;
  const type = Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value;
  const matching = alternatives.filter(
    (alternative) => (alternative as { type?: unknown }).type === type && !('const' in alternative),
  );
  return matching.length === 1 ? matching[0] : undefined;
}

function messageOf(error: ValueError): string {
  if (error.message === REQUIRED) return 'is required';
  const expected = (error.schema as { expected?: unknown }).expected;
  if (typeof expected === 'string') return `expected ${expected}`;
  if (error.message === 'Unexpected property') return 'is not a field of this kind of metric';
  const pattern = (error.schema as { pattern?: unknown }).pattern;
  if (pattern === METRIC_NAME_PATTERN.source) return 'must be 1 to 64 of a-z, 0-9 and _, not starting with _';
  return error.message.charAt(0).toLowerCase() + error.message.slice(1);
}

function replaceProblems(
  problems: MetricDefinitionProblem[],
  field: string,
  replacement: MetricDefinitionProblem[],
) {
  for (let i = problems.length - 1; i >= 0; i--) {
    const at = problems[i]!.field;
    if (at === field || at.startsWith(`${field}.`) || at.startsWith(`${field}[`)) problems.splice(i, 1);
  }
  problems.push(...replacement);
}

/** What a schema cannot say: which fields go together, and names that normalise to nothing. */
function semanticProblems(definition: MetricDefinition, problems: MetricDefinitionProblem[]): void {
  if (definition.kind === 'ratio') {
    selectionProblems(definition.numerator, 'numerator', problems);
    selectionProblems(definition.denominator, 'denominator', problems);
  } else if (definition.kind === 'retention') {
    namesProblems(definition.event, 'event', problems);
  } else {
    selectionProblems(definition, '', problems);
  }
}

function selectionProblems(
  selection: EventSelection & { readonly kind: string },
  prefix: string,
  problems: MetricDefinitionProblem[],
): void {
  namesProblems(selection.event, joinField(prefix, 'event'), problems);
  if (selection.source !== 'served_lists') return;
  const sourceField = joinField(prefix, 'source');
  if (selection.event !== undefined) {
    problems.push({
      field: joinField(prefix, 'event'),
      message: 'served lists are not events: remove "event"',
    });
  }
  if (selection.where !== undefined) {
    problems.push({
      field: joinField(prefix, 'where'),
      message: 'served lists have no properties to filter on',
    });
  }
  if (selection.kind === 'sum') {
    problems.push({ field: sourceField, message: 'served lists have no value to sum: use a count' });
  }
}

function namesProblems(
  names: EventNames | undefined,
  field: string,
  problems: MetricDefinitionProblem[],
): void {
  const list = eventNameList(names);
  list.forEach((name, index) => {
    if (normalizeEventName(name) === '') {
      const at = typeof names === 'string' ? field : `${field}[${index}]`;
      problems.push({ field: at, message: `"${name}" is not an event name (only separators)` });
    }
  });
}

function pointerToField(pointer: string): string {
  let field = '';
  for (const segment of pointer.split('/').slice(1)) {
    const key = segment.replace(/~1/g, '/').replace(/~0/g, '~');
    field += /^\d+$/.test(key) ? `[${key}]` : field === '' ? key : `.${key}`;
  }
  return field;
}

function joinField(prefix: string, field: string): string {
  if (prefix === '') return field;
  if (field === '') return prefix;
  return field.startsWith('[') ? `${prefix}${field}` : `${prefix}.${field}`;
}
