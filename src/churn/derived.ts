import type { FeatureSet } from '../features/index.js';
import {
  columnMeanings,
  type ColumnMeaning,
  type DerivedColumnMeaning,
  type DerivedKind,
} from './drivers.js';

/**
 * Churn-side columns derived from a user's feature row: ratios that mean the same at any cutoff.
 *
 * Why: training stacks cutoffs (`stackedChurnTable`), so one table holds the same users at many ages, and
 * evaluation is later still. Raw recency and tenure grow with the calendar (CDNOW: one cohort that ages
 * together), so "90 days silent" means something different for a customer of four months and of a year,
 * and the trees, flat beyond the values they saw, cannot extrapolate. Ratios to the user's own history
 * compare across cutoffs:
 * - `recency_over_tenure`: the share of their time as a customer spent silent since the last activity;
 * - `frequency_per_30d`: activity events per 30 days since the first;
 * - `recency_over_gap`: days since the last activity over their usual gap between two (how overdue).
 *
 * One function (`modelRowMapper`) turns a feature row into the model's row, derived columns included; the
 * training tables (`churnTable`), validation, the bench and serving (`ChurnScorer.rowFrom`) all call it, so
 * they cannot compute them differently. The derived columns' inputs are named in the stored meanings, so a
 * saved model computes them from the same feature columns it was trained on.
 */

export const DERIVED_KINDS: readonly DerivedKind[] = [
  'recency_over_tenure',
  'frequency_per_30d',
  'recency_over_gap',
];

/** The columns each derived kind reads. */
const NEEDS: Readonly<Record<DerivedKind, readonly ('recency' | 'frequency' | 'tenure')[]>> = {
  recency_over_tenure: ['recency', 'tenure'],
  frequency_per_30d: ['frequency', 'tenure'],
  recency_over_gap: ['recency', 'frequency', 'tenure'],
};

/** The same event names (order aside), null matching only null. */
function sameEvents(a: readonly string[] | null, b: readonly string[] | null): boolean {
  if (a === null || b === null) return a === b;
  const set = new Set(a);
  return set.size === new Set(b).size && b.every((name) => set.has(name));
}

/**
 * The derived columns a feature set's columns allow for the activity whose absence is churn: each needs
 * lifetime recency, frequency and tenure columns of exactly that activity (a tenure from any event over a
 * count of purchases would mix two histories). Kinds whose inputs are missing are left out, so a set
 * without a tenure feature simply has none.
 */
export function derivedMeanings(
  base: readonly ColumnMeaning[],
  activity: readonly string[] | null,
  kinds: readonly DerivedKind[] = DERIVED_KINDS,
): DerivedColumnMeaning[] {
  const find = (kind: 'recency' | 'frequency' | 'tenure'): string | undefined =>
    base.find(
      (m) =>
        m.kind !== 'derived' &&
        m.window === 'lifetime' &&
        sameEvents(m.events, activity) &&
        (m.kind === kind || (kind === 'frequency' && m.kind === 'count')),
    )?.column;
  const inputs = { recency: find('recency'), frequency: find('frequency'), tenure: find('tenure') };
  const taken = new Set(base.map((m) => m.column));
  const out: DerivedColumnMeaning[] = [];
  for (const kind of kinds) {
    if (NEEDS[kind].some((input) => inputs[input] === undefined)) continue;
    // A feature of the same name wins; the derived column is left out rather than shadowing it.
    if (taken.has(kind)) continue;
    out.push({
      column: kind,
      kind: 'derived',
      name: kind,
      events: activity === null ? null : [...activity],
      window: 'lifetime',
      property: null,
      derived: kind,
      inputs: {
        recency: inputs.recency ?? null,
        frequency: inputs.frequency ?? null,
        tenure: inputs.tenure ?? null,
      },
    });
  }
  return out;
}

/** Whether churn tables get the derived columns (bench `--validate` compares both). */
export interface ChurnColumnOptions {
  readonly derived?: boolean;
}

/** The churn model's columns for a feature set: its numeric user columns, then the derived ones. */
export function churnColumns(
  set: FeatureSet,
  activity: readonly string[] | null,
  options: ChurnColumnOptions = {},
): ColumnMeaning[] {
  const base = columnMeanings(set);
  return options.derived === false ? base : [...base, ...derivedMeanings(base, activity)];
}

/**
 * The derived value from its inputs (days, a count; NaN missing). NaN wherever the ratio is undefined:
 * no tenure yet, fewer than two events (no gap to compare with), or all events at one instant (gap 0).
 * The usual gap is the span from the first to the last event over the gaps in it, (tenure − recency) /
 * (frequency − 1): the open gap since the last event is what it is compared with, so it stays out.
 */
export function derivedValue(kind: DerivedKind, recency: number, frequency: number, tenure: number): number {
  switch (kind) {
    case 'recency_over_tenure':
      return tenure > 0 ? recency / tenure : Number.NaN;
    case 'frequency_per_30d':
      return tenure > 0 ? (frequency * 30) / tenure : Number.NaN;
    case 'recency_over_gap': {
      if (!(frequency >= 2)) return Number.NaN;
      const gap = (tenure - recency) / (frequency - 1);
      return gap > 0 ? recency / gap : Number.NaN;
    }
  }
}

/**
 * Compiles the map from feature rows laid out as `columns` to the model's rows (`meanings` in order):
 * a feature column by name (NaN when the current columns lack it, so a renamed feature reads as missing
 * rather than failing every request), a derived one from its named inputs. Compiled once per layout, as
 * a training table maps every row of a table and serving one row at a time.
 */
export function modelRowMapper(
  meanings: readonly ColumnMeaning[],
  columns: readonly string[],
): (values: ArrayLike<number>) => Float64Array {
  const at = new Map(columns.map((name, k) => [name, k]));
  const index = (name: string | null) => (name === null ? -1 : (at.get(name) ?? -1));
  const read = (values: ArrayLike<number>, k: number) => (k < 0 ? Number.NaN : (values[k] ?? Number.NaN));
  const plan = meanings.map((m) =>
    m.kind === 'derived'
      ? {
          derived: m.derived,
          recency: index(m.inputs.recency),
          frequency: index(m.inputs.frequency),
          tenure: index(m.inputs.tenure),
        }
      : { derived: null, at: index(m.column) },
  );
  return (values) =>
    Float64Array.from(plan, (p) =>
      p.derived === null
        ? read(values, p.at)
        : derivedValue(p.derived, read(values, p.recency), read(values, p.frequency), read(values, p.tenure)),
    );
}

/** `rows` rows of `values` (row-major, `columns` wide) as the model's rows: `modelRowMapper` on each. */
export function modelRows(
  meanings: readonly ColumnMeaning[],
  columns: readonly string[],
  values: Float64Array,
  rows: number,
): Float64Array {
  const map = modelRowMapper(meanings, columns);
  const width = columns.length;
  const n = rows;
  const out = new Float64Array(n * meanings.length);
  for (let r = 0; r < n; r++) out.set(map(values.subarray(r * width, (r + 1) * width)), r * meanings.length);
  return out;
}
