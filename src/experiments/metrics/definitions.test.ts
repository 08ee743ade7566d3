import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';

import { DEFAULT_GUARDRAILS, DEFAULT_METRICS } from '../definition.js';
import {
  BUILT_IN_METRICS,
  CLICK_EVENT_NAMES,
  IMPRESSION_EVENT_NAMES,
  PURCHASE_EVENT_NAMES,
} from './builtins.js';
import {
  higherIsBetter,
  MetricDefinitionSchema,
  validateMetricDefinition,
  validateMetricDefinitions,
  type MetricDefinition,
} from './definitions.js';

const problemsOf = (input: unknown) => {
  const result = validateMetricDefinition(input);
  return result.ok ? [] : result.problems;
};

describe('built-in metrics', () => {
  it('are valid stored definitions, under the names experiments refer to', () => {
    // The four the issue names, and the defaults experiments refer to (DEFAULT_METRICS, DEFAULT_GUARDRAILS).
    expect(Object.keys(BUILT_IN_METRICS).sort()).toEqual([
      'click_through',
      'day7_retention',
      'purchase_conversion',
      'revenue_per_user',
    ]);
    for (const name of [...DEFAULT_METRICS, ...DEFAULT_GUARDRAILS])
      expect(BUILT_IN_METRICS).toHaveProperty(name);
    for (const [name, definition] of Object.entries(BUILT_IN_METRICS)) {
      expect(definition.name).toBe(name);
      expect(problemsOf(definition)).toEqual([]);
      expect(Value.Check(MetricDefinitionSchema, JSON.parse(JSON.stringify(definition)))).toBe(true);
    }
  });

  it('name the click, purchase and impression events the engine treats as such', () => {
    expect(CLICK_EVENT_NAMES).toEqual(
      expect.arrayContaining(['product_clicked', 'Product Clicked', 'click', 'item_clicked']),
    );
    expect(PURCHASE_EVENT_NAMES).toEqual(
      expect.arrayContaining([
        'purchase',
        'purchased',
        'order_completed',
        'Order Completed',
        'checkout_completed',
      ]),
    );
    expect(IMPRESSION_EVENT_NAMES).toEqual(expect.arrayContaining(['impression', 'product_impression']));
    expect(IMPRESSION_EVENT_NAMES).not.toContain('product_clicked');
  });
});

describe('validateMetricDefinition', () => {
  it('accepts each kind, and reads higherIsBetter as true unless it says false', () => {
    const definitions: MetricDefinition[] = [
      { name: 'a', kind: 'conversion', event: ['Order Completed', 'purchase'], windowHours: 168 },
      {
        name: 'b',
        kind: 'count',
        event: 'click',
        windowHours: 0.5,
        where: { channel: 'web', paid: true, n: 1 },
      },
      { name: 'c', kind: 'sum', event: 'purchase', value: { property: 'margin' }, windowHours: 24 },
      { name: 'd', kind: 'retention', day: 0, event: 'login', higherIsBetter: true },
      {
        name: 'e',
        kind: 'ratio',
        higherIsBetter: false,
        numerator: { kind: 'sum', value: 'revenue', windowHours: 24 },
        denominator: { kind: 'count', source: 'served_lists', windowHours: 24 },
      },
    ];
    for (const definition of definitions) expect(problemsOf(definition)).toEqual([]);
    expect(definitions.map(higherIsBetter)).toEqual([true, true, true, true, false]);
  });

  it('names the field of each problem, all at once', () => {
    expect(problemsOf({ name: 'Bad Name', kind: 'conversion', windowHours: 0, extra: 1 })).toEqual([
      { field: 'extra', message: 'is not a field of this kind of metric' },
      { field: 'name', message: 'must be 1 to 64 of a-z, 0-9 and _, not starting with _' },
      { field: 'windowHours', message: 'expected number to be greater than 0' },
    ]);
    expect(problemsOf({ name: 'x', kind: 'count' })).toEqual([
      { field: 'windowHours', message: 'is required' },
    ]);
    expect(problemsOf({ name: 'x', kind: 'count', windowHours: 1e6 })).toEqual([
      { field: 'windowHours', message: 'expected number to be less or equal to 8784' },
    ]);
  });

  it('explains unions by what they accept', () => {
    expect(problemsOf({ name: 'x', kind: 'count', windowHours: 1, event: 3, where: { a: [] } })).toEqual([
      { field: 'event', message: 'expected an event name or a list of 1 to 100 event names' },
      { field: 'where.a', message: 'expected a string, number, boolean or null' },
    ]);
    expect(problemsOf({ name: 'x', kind: 'sum', windowHours: 1, value: 'price' })).toEqual([
      { field: 'value', message: 'expected "revenue" or {"property": "<name>"}' },
    ]);
    expect(problemsOf({ name: 'x', kind: 'count', windowHours: 1, source: 'pages' })).toEqual([
      { field: 'source', message: 'expected "events", "clicks" or "served_lists"' },
    ]);
  });

  it('refuses an unknown kind or a non-object', () => {
    expect(problemsOf({ name: 'x', kind: 'median' })).toEqual([
      { field: 'kind', message: 'must be one of "conversion", "count", "sum", "retention", "ratio"' },
    ]);
    expect(problemsOf('conversion')).toEqual([
      { field: '', message: 'a metric definition must be an object' },
    ]);
  });

  it("names the fields inside a ratio's numerator and denominator", () => {
    const problems = problemsOf({
      name: 'r',
      kind: 'ratio',
      numerator: { kind: 'sum', windowHours: 24 },
      denominator: { kind: 'count', windowHours: -1, event: ['ok', ''] },
    });
    expect(problems).toEqual([
      { field: 'numerator.value', message: 'is required' },
      { field: 'denominator.windowHours', message: 'expected number to be greater than 0' },
      { field: 'denominator.event[1]', message: 'expected string length greater or equal to 1' },
    ]);
    expect(problemsOf({ name: 'r', kind: 'ratio', numerator: { kind: 'ratio' }, denominator: 1 })).toEqual([
      { field: 'numerator', message: 'expected a count or sum: {"kind": "count"|"sum", "windowHours": …}' },
      { field: 'denominator', message: 'expected a count or sum: {"kind": "count"|"sum", "windowHours": …}' },
    ]);
  });

  it('refuses fields that do not go with served lists, and names that are only separators', () => {
    expect(
      problemsOf({
        name: 'x',
        kind: 'sum',
        source: 'served_lists',
        event: 'a',
        where: { b: 1 },
        value: 'revenue',
        windowHours: 1,
      }),
    ).toEqual([
      { field: 'event', message: 'served lists are not events: remove "event"' },
      { field: 'where', message: 'served lists have no properties to filter on' },
      { field: 'source', message: 'served lists have no value to sum: use a count' },
    ]);
    expect(problemsOf({ name: 'x', kind: 'retention', day: 1, event: ['login', ' - '] })).toEqual([
      { field: 'event[1]', message: '" - " is not an event name (only separators)' },
    ]);
    expect(problemsOf({ name: 'x', kind: 'retention', day: 1.5 })).toEqual([
      { field: 'day', message: 'expected integer' },
    ]);
  });
});

describe('validateMetricDefinitions', () => {
  it('prefixes each problem with its position and refuses a name used twice', () => {
    const result = validateMetricDefinitions([
      { name: 'a', kind: 'count', windowHours: 1 },
      { name: 'a', kind: 'count', windowHours: 2 },
      { name: 'b', kind: 'count' },
    ]);
    expect(result).toEqual({
      ok: false,
      problems: [
        { field: '[1].name', message: '"a" is also metric [0]' },
        { field: '[2].windowHours', message: 'is required' },
      ],
    });
    expect(validateMetricDefinitions(Object.values(BUILT_IN_METRICS)).ok).toBe(true);
  });
});
