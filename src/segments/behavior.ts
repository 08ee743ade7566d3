/**
 * Users' behavioural features as the matrix segments are clustered on, and back again for one user at
 * serving time: which feature-store columns, how each is transformed, and the words that describe it.
 *
 * Per column, in this order (the same at training and at serving, from the values stored in the artifact):
 * 1. missing (NaN: a share of a user with no events in its window, a conversion rate without views) → the
 *    column's median over the training users, so a missing value reads as "typical", not as 0;
 * 2. log1p on heavy-tailed counts, sums and day counts (a few heavy users would otherwise stretch the
 *    column so far that everybody else sits in one point); shares stay as they are;
 * 3. z-score with the training mean and population standard deviation (a constant column is only centred).
 *
 * A category affinity without named values gives only the user's top category as text; it becomes one 0/1
 * column per frequent top category (`category_top=electronics`), so segments can be "buyers of electronics".
 */
import type { FeatureDefinition, FeatureKind, FeatureSet } from '../features/index.js';
import type { FeatureLabel, LabelMap } from './describe.js';

/** Where a column's raw value comes from. */
export type ColumnSource =
  | { readonly kind: 'numeric'; readonly column: string }
  | { readonly kind: 'label'; readonly column: string; readonly value: string };

/** One clustered column: its source and the transform fitted on the training users. */
export interface SegmentColumn {
  /** The feature column's name, or `<label column>=<value>` for a one-hot of a text column. */
  readonly name: string;
  readonly source: ColumnSource;
  /** Apply log1p (of max(0, x)) after filling. */
  readonly log: boolean;
  /** The raw value a missing one is replaced by (the training median). */
  readonly fill: number;
  readonly mean: number;
  /** Population standard deviation, 1 for a constant column. */
  readonly scale: number;
  /** The feature definition it comes from: columns of one definition are one group in descriptions. */
  readonly group: string;
}

/** A candidate column before fitting. */
export interface ColumnChoice {
  readonly name: string;
  readonly source: ColumnSource;
  readonly log: boolean;
  readonly group: string;
  readonly label: FeatureLabel;
}

/** Kinds whose values are counts, sums or day spans: heavy-tailed, so log1p. */
const HEAVY: ReadonlySet<FeatureKind> = new Set([
  'count',
  'sum',
  'frequency',
  'monetary',
  'recency',
  'tenure',
  'distinct_sessions',
]);

/** The parts of the day and the weekend share of `hour_of_week` (its peak hour is no magnitude). */
const TIME_SHARES = ['weekend_share', 'night_share', 'morning_share', 'afternoon_share', 'evening_share'];

/** At most this many top categories become one-hot columns, each the top category of ≥ 2% of users. */
export const TOP_CATEGORIES = 8;
export const TOP_CATEGORY_MIN_SHARE = 0.02;

interface DefinitionColumns {
  readonly definition: FeatureDefinition;
  readonly numeric: readonly string[];
  readonly labels: readonly string[];
}

/** Each user definition with the numeric and text columns it writes. */
function definitionColumns(set: FeatureSet): DefinitionColumns[] {
  const { slots, numeric, labels } = set.user;
  return set.definitions.user.map((definition, k) => {
    const slot = slots[k]!;
    const next = slots[k + 1];
    return {
      definition,
      numeric: numeric.slice(slot.numberAt, next?.numberAt ?? numeric.length),
      labels: labels.slice(slot.labelAt, next?.labelAt ?? labels.length),
    };
  });
}

/**
 * The default columns: activity (every-event counts at the longest window up to 30 days), frequency and
 * monetary value (lifetime purchases and spend), recency, each share with named values (devices),
 * category affinities (named values, or the frequent top categories one-hot), and the weekend and
 * part-of-day shares of hour-of-week activity. `topCategories` are the label values to one-hot, from the
 * training rows (`frequentValues`).
 */
export function defaultColumns(
  set: FeatureSet,
  topCategories: (labelColumn: string) => readonly string[],
): ColumnChoice[] {
  const all = definitionColumns(set);
  const activityWindow = Math.max(
    ...all
      .filter((c) => c.definition.kind === 'count' && c.definition.events === null)
      .map((c) => c.definition.windowMs ?? Infinity)
      .filter((ms) => ms <= 30 * 86_400_000),
  );
  const choices: ColumnChoice[] = [];
  for (const { definition, numeric, labels } of all) {
    const numericChoice = (column: string) => numericColumn(definition, column);
    switch (definition.kind) {
      case 'count':
        if (definition.events === null && definition.windowMs === activityWindow) {
          choices.push(...numeric.map(numericChoice));
        }
        break;
      case 'frequency':
      case 'recency':
        if (definition.kind === 'frequency' || definition.events === null) {
          choices.push(...numeric.map(numericChoice));
        }
        break;
      case 'monetary':
        // The total, not the mean per purchase (which is missing for everybody who never bought).
        choices.push(numericChoice(numeric[0]!));
        break;
      case 'share':
        if (definition.values !== null) choices.push(...numeric.map(numericChoice));
        break;
      case 'category_affinity':
        if (definition.values !== null) choices.push(...numeric.map(numericChoice));
        else {
          for (const labelColumn of labels) {
            for (const value of topCategories(labelColumn))
              choices.push(oneHot(definition, labelColumn, value));
          }
        }
        break;
      case 'hour_of_week':
        choices.push(
          ...numeric
            .filter((c) => TIME_SHARES.some((s) => c === `${definition.name}_${s}`))
            .map(numericChoice),
        );
        break;
      default:
        break;
    }
  }
  return choices;
}

/**
 * Columns named by the user (`--features a,b`): numeric columns of the feature store, or
 * `<label column>=<value>` for the one-hot of a text column. Throws naming an unknown one.
 */
export function namedColumns(set: FeatureSet, names: readonly string[]): ColumnChoice[] {
  const all = definitionColumns(set);
  return names.map((name) => {
    const eq = name.indexOf('=');
    if (eq > 0) {
      const labelColumn = name.slice(0, eq);
      const owner = all.find((c) => c.labels.includes(labelColumn));
      if (owner === undefined) throw new Error(`--features: no text column "${labelColumn}"`);
      return oneHot(owner.definition, labelColumn, name.slice(eq + 1));
    }
    const owner = all.find((c) => c.numeric.includes(name));
    if (owner === undefined) {
      throw new Error(
        `--features: no user feature "${name}"; the columns are ${set.user.numeric.join(', ')}`,
      );
    }
    return numericColumn(owner.definition, name);
  });
}

function numericColumn(definition: FeatureDefinition, column: string): ColumnChoice {
  return {
    name: column,
    source: { kind: 'numeric', column },
    log: HEAVY.has(definition.kind),
    group: definition.name,
    label: labelFor(definition, column),
  };
}

function oneHot(definition: FeatureDefinition, labelColumn: string, value: string): ColumnChoice {
  return {
    name: `${labelColumn}=${value}`,
    source: { kind: 'label', column: labelColumn, value },
    log: false,
    group: definition.name,
    label: { name: `top category ${value}`, high: { after: `of ${value}` }, low: `little ${value}` },
  };
}

/** The text values of `labelColumn` that are the value of at least `minShare` of the rows, most common first. */
export function frequentValues(
  labelColumns: readonly string[],
  rows: readonly (readonly (string | null)[])[],
  labelColumn: string,
  limit = TOP_CATEGORIES,
  minShare = TOP_CATEGORY_MIN_SHARE,
): string[] {
  const at = labelColumns.indexOf(labelColumn);
  if (at < 0 || rows.length === 0) return [];
  const counts = new Map<string, number>();
  for (const row of rows) {
    const value = row[at];
    if (value !== null && value !== undefined) counts.set(value, (counts.get(value) ?? 0) + 1);
  }
  return [...counts]
    .filter(([, count]) => count / rows.length >= minShare)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, limit)
    .map(([value]) => value);
}

const PART_OF_DAY: Readonly<Record<string, readonly [string, string]>> = {
  weekend_share: ['weekends', 'weekdays'],
  night_share: ['at night', 'rarely at night'],
  morning_share: ['mornings', 'rarely mornings'],
  afternoon_share: ['afternoons', 'rarely afternoons'],
  evening_share: ['evenings', 'rarely evenings'],
};

/**
 * The words for one column, by the kind of feature it is, so that the describer's phrases compose into
 * "frequent mobile buyers of electronics, evenings": purchase frequency gives the noun (buyers or
 * browsers), devices and spend the words before it, categories the words after it, times of day asides.
 */
function labelFor(definition: FeatureDefinition, column: string): FeatureLabel {
  const suffix = column.startsWith(`${definition.name}_`) ? column.slice(definition.name.length + 1) : '';
  switch (definition.kind) {
    case 'count':
      return definition.events === null
        ? {
            name: `events (${definition.window})`,
            high: { before: 'highly active' },
            low: { before: 'quiet' },
          }
        : {
            name: column,
            high: `many ${definition.events.join('/')}`,
            low: `few ${definition.events.join('/')}`,
          };
    case 'frequency':
      return { name: 'purchases', high: { before: 'frequent', noun: 'buyers' }, low: { noun: 'browsers' } };
    case 'monetary':
    case 'sum':
      return { name: 'spend', high: { before: 'big-spending' }, low: { before: 'low-spending' } };
    case 'recency':
      return { name: 'days since last event', unit: ' d', high: 'lapsed', low: 'recently active' };
    case 'tenure':
      return {
        name: 'days since first event',
        unit: ' d',
        high: { before: 'long-standing' },
        low: { before: 'new' },
      };
    case 'distinct_sessions':
      return { name: 'sessions', high: 'many visits', low: 'few visits' };
    case 'share':
      return { name: `${suffix} share`, high: { before: suffix }, low: `rarely on ${suffix}` };
    case 'category_affinity':
      return { name: `${suffix} share`, high: { after: `of ${suffix}` }, low: `little ${suffix}` };
    case 'hour_of_week': {
      const words = PART_OF_DAY[suffix];
      return words === undefined ? {} : { name: suffix.replace('_', ' '), high: words[0], low: words[1] };
    }
    case 'usual_price':
      return { name: 'usual price', high: { before: 'premium' }, low: { before: 'bargain-hunting' } };
    case 'conversion_rate':
      return { name: 'view-to-purchase rate', high: 'converting often', low: 'rarely converting' };
    default:
      return {};
  }
}

/** The describer's label map for the chosen columns. */
export function labelMap(choices: readonly ColumnChoice[]): LabelMap {
  const byName = new Map(choices.map((c) => [c.name, c.label]));
  return (column) => byName.get(column);
}

/** A column's raw value from a user's feature row (NaN when absent), before the transform. */
export function rawValue(
  source: ColumnSource,
  numeric: ReadonlyMap<string, number>,
  labels: ReadonlyMap<string, string | null>,
): number {
  if (source.kind === 'numeric') return numeric.get(source.column) ?? Number.NaN;
  return labels.get(source.column) === source.value ? 1 : 0;
}

/** Fill, log1p: the value before standardizing. */
export function transformed(column: Pick<SegmentColumn, 'fill' | 'log'>, raw: number): number {
  const x = Number.isFinite(raw) ? raw : column.fill;
  return column.log ? Math.log1p(Math.max(0, x)) : x;
}

/** The standardized coordinate of a raw value. */
export function standardized(column: SegmentColumn, raw: number): number {
  return (transformed(column, raw) - column.mean) / column.scale;
}

/** The median of the finite values (NaN when there are none). */
export function median(values: readonly number[]): number {
  const finite = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (finite.length === 0) return Number.NaN;
  const mid = finite.length >> 1;
  return finite.length % 2 === 1 ? finite[mid]! : (finite[mid - 1]! + finite[mid]!) / 2;
}
