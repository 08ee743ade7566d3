/** The kinds of metric an experiment analysis reads, and the per-user data layout of each. */

export const METRIC_KINDS = ['mean', 'conversion', 'cuped', 'ratio', 'srm'] as const;
export type MetricKind = (typeof METRIC_KINDS)[number];

export function isMetricKind(name: string): name is MetricKind {
  return (METRIC_KINDS as readonly string[]).includes(name);
}

/** The CSV header of each kind: `variant`, then the per-user numeric columns. */
export const CSV_HEADERS: Readonly<Record<MetricKind, readonly string[]>> = {
  mean: ['variant', 'value'],
  conversion: ['variant', 'value'],
  srm: ['variant', 'value'],
  cuped: ['variant', 'value', 'pre_value'],
  ratio: ['variant', 'numerator', 'denominator'],
};

/** The variant every treatment is compared with. */
export const CONTROL = 'control';

/** What a variant may be called. */
export const VARIANT_NAME = /^[a-z0-9_]+$/;

/**
 * One variant's users, column by column: the kind's numeric columns in the order of `CSV_HEADERS` (after
 * `variant`), each with one value per user, row i of every column being the same user.
 */
export type VariantColumns = readonly Float64Array[];

/** Per-user data of one experiment, grouped by variant (in order of first appearance). */
export interface ExperimentData {
  readonly kind: MetricKind;
  readonly variants: ReadonlyMap<string, VariantColumns>;
}
