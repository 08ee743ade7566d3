import type { FeatureKind, FeatureSet } from '../features/index.js';

/**
 * What a feature column means, kept in the churn artifact beside the model so that a driver can be said in
 * words ("no purchase for 94 days") even if the engine's definitions change later.
 */
export interface FeatureColumnMeaning {
  readonly column: string;
  readonly kind: FeatureKind;
  /** The definition's name (the column is it, or it plus a suffix). */
  readonly name: string;
  /** Event names counted; null: every event. */
  readonly events: readonly string[] | null;
  /** `7d`, `lifetime`. */
  readonly window: string;
  readonly property: string | null;
}

/** The churn-side ratios of `derived.ts`. */
export type DerivedKind = 'recency_over_tenure' | 'frequency_per_30d' | 'recency_over_gap';

/**
 * A column churn computes from feature columns (`derived.ts`): stored with the names of its inputs, so
 * serving computes it from the same feature columns training did.
 */
export interface DerivedColumnMeaning {
  readonly column: string;
  readonly kind: 'derived';
  readonly name: string;
  /** The activity its inputs count; null: every event. */
  readonly events: readonly string[] | null;
  readonly window: 'lifetime';
  readonly property: null;
  readonly derived: DerivedKind;
  /** Feature columns read; null where the kind needs none. */
  readonly inputs: {
    readonly recency: string | null;
    readonly frequency: string | null;
    readonly tenure: string | null;
  };
}

export type ColumnMeaning = FeatureColumnMeaning | DerivedColumnMeaning;

/** The meanings of a feature set's numeric user columns, in vector order. */
export function columnMeanings(set: FeatureSet): FeatureColumnMeaning[] {
  const out: FeatureColumnMeaning[] = [];
  for (const slot of set.user.slots) {
    const aggregator = set.userPlan.aggregators[slot.aggregator]!;
    const { definition } = aggregator;
    for (const column of aggregator.numericColumns) {
      out.push({
        column,
        kind: definition.kind,
        name: definition.name,
        events: definition.events,
        window: definition.window,
        property: definition.property,
      });
    }
  }
  return out;
}

/** Event names as words: the common e-commerce ones by hand, others as sent. */
const EVENT_WORDS: Readonly<Record<string, readonly [string, string]>> = {
  purchased: ['purchase', 'purchases'],
  purchase: ['purchase', 'purchases'],
  order_completed: ['order', 'orders'],
  product_viewed: ['product view', 'product views'],
  added_to_cart: ['add to cart', 'adds to cart'],
  page_viewed: ['page view', 'page views'],
};

function eventWord(events: readonly string[] | null, plural: boolean): string {
  if (events === null) return plural ? 'events' : 'activity';
  return events
    .map((name) => {
      const words = EVENT_WORDS[name];
      if (words) return words[plural ? 1 : 0];
      return plural ? `"${name}" events` : `"${name}" event`;
    })
    .join(' or ');
}

function formatNumber(value: number): string {
  if (Number.isInteger(value)) return String(value);
  const abs = Math.abs(value);
  return String(Number(value.toFixed(abs >= 100 ? 0 : abs >= 1 ? 1 : 2)));
}

const within = (window: string) => (window === 'lifetime' ? 'in total' : `in the last ${window}`);

/** A derived ratio in words: "3.2× longer than usual since the last purchase". */
function describeDerived(meaning: DerivedColumnMeaning, value: number): string {
  const one = eventWord(meaning.events, false);
  const many = eventWord(meaning.events, true);
  switch (meaning.derived) {
    case 'recency_over_gap':
      if (Number.isNaN(value)) return `no usual gap between ${many} yet`;
      return value >= 1
        ? `${formatNumber(value)}× longer than usual since the last ${one}`
        : `${formatNumber(value)}× the usual gap since the last ${one} (not yet due)`;
    case 'recency_over_tenure':
      if (Number.isNaN(value)) return 'no history yet';
      return `silent for ${Math.round(value * 100)}% of the time since the first ${one}`;
    case 'frequency_per_30d':
      if (Number.isNaN(value)) return 'no history yet';
      return `${formatNumber(value)} ${many} per 30 days since the first`;
  }
}

/** The feature's value in words, without its effect. */
export function describeValue(meaning: ColumnMeaning, value: number): string {
  const missing = Number.isNaN(value);
  const v = missing ? '' : formatNumber(value);
  const days = missing ? '' : String(Math.round(value));
  switch (meaning.kind) {
    case 'recency':
      if (missing) return `no ${eventWord(meaning.events, false)} yet`;
      return `no ${eventWord(meaning.events, false)} for ${days} day${days === '1' ? '' : 's'}`;
    case 'tenure':
      return missing ? 'no history yet' : `first seen ${days} days ago`;
    case 'count':
    case 'frequency':
      return `${v} ${eventWord(meaning.events, true)} ${within(meaning.window)}`;
    case 'sum':
      return `${meaning.property ?? 'amount'} of ${v} ${within(meaning.window)}`;
    case 'monetary':
      if (meaning.column !== meaning.name) {
        return missing
          ? `no ${eventWord(meaning.events, false)} value yet`
          : `${v} per ${eventWord(meaning.events, false)} on average`;
      }
      return `${v} spent ${within(meaning.window)}`;
    case 'distinct_sessions':
      return `${v} sessions ${within(meaning.window)}`;
    case 'derived':
      return describeDerived(meaning, value);
    default:
      return `${meaning.column} is ${missing ? 'missing' : v}`;
  }
}

/** One driver as the API says it: "no purchase for 94 days (raises risk)". */
export function driverText(meaning: ColumnMeaning, value: number, contribution: number): string {
  return `${describeValue(meaning, value)} (${contribution >= 0 ? 'raises' : 'lowers'} risk)`;
}
