/**
 * One experiment's analysis: from per-user data of one kind and the intended split to the result the
 * README of `../shared/reference/stats` describes, field for field (its snake_case names are the JSON
 * contract, so the result objects carry them as they are). Extra fields per comparison: `expected_loss`
 * and `sequential` (an always-valid interval of the absolute lift); per SRM check: `mismatch`.
 */
import { expectedLoss, type ExpectedLoss } from './bayes.js';
import { benjaminiHochberg, holm } from './corrections.js';
import { cupedAdjusted, fitCuped, type CupedFit, type CupedSample } from './cuped.js';
import { normalCriticalValue } from './distributions.js';
import { CONTROL, type ExperimentData, type MetricKind, type VariantColumns } from './kinds.js';
import { twoProportionTest, type ProportionTest } from './proportions.js';
import { compareRatios, summarizeRatio, type RatioComparison, type RatioSummary } from './ratio.js';
import { confidenceSequence, DEFAULT_SEQUENTIAL_TUNING_N, type ConfidenceSequence } from './sequential.js';
import { SRM_ALARM_P_VALUE, sampleRatioTest } from './srm.js';
import { meanVariance, sum, type MeanVariance } from './summary.js';
import { welchTest, type MeanComparison } from './welch.js';

/** Input the analysis cannot use: a missing control, a variant without weight, too few users. */
export class StatsInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StatsInputError';
  }
}

export interface AnalyzeOptions {
  /**
   * The intended traffic split, control included, e.g. control → 0.5, b → 0.5 (normalized before use).
   * Treatments are reported in this order.
   */
  readonly weights: ReadonlyMap<string, number>;
  /** Level of every interval; tests are two-sided at 1 − confidence. Default 0.95. */
  readonly confidence?: number;
  /** N* of the confidence sequences (`sequential.ts`). Default 5,000, as GrowthBook's. */
  readonly sequentialTuningN?: number;
}

/** Decision aids beside the README's fields. */
export interface DecisionExtras {
  /** Expected loss of shipping the treatment / keeping control, in units of the relative lift. */
  readonly expected_loss: ExpectedLoss;
  /** Always-valid interval and p-value of abs_lift, for reading the experiment while it runs. */
  readonly sequential: ConfidenceSequence;
}

export type MeanKindComparison = MeanComparison & DecisionExtras;
export type ConversionComparison = MeanComparison & ProportionTest & DecisionExtras;
export type RatioKindComparison = RatioComparison & DecisionExtras;
export type Comparison = MeanKindComparison | ConversionComparison | RatioKindComparison;

/** A variant of kind mean, conversion or srm. */
export interface ValueSummary {
  readonly n: number;
  readonly mean: number;
  readonly var: number;
}

/** A variant of kind cuped: `mean` and `var` of the adjusted value, the raw value's beside them. */
export interface CupedVariantSummary extends ValueSummary {
  readonly mean_value: number;
  readonly var_value: number;
  readonly mean_pre: number;
}

export type VariantSummary = ValueSummary | CupedVariantSummary | RatioSummary;

export interface SrmResult {
  /** Users per variant, in the order of the weights. */
  readonly observed: Readonly<Record<string, number>>;
  readonly expected: Readonly<Record<string, number>>;
  readonly chi2: number;
  readonly df: number;
  readonly p_value: number;
  /** p_value < 0.001: the split is broken and the comparisons are not to be trusted. */
  readonly mismatch: boolean;
}

/** Raw and adjusted p-values of one family, each keyed by treatment. */
export interface CorrectedPValues {
  readonly raw: Readonly<Record<string, number>>;
  readonly holm: Readonly<Record<string, number>>;
  readonly bh: Readonly<Record<string, number>>;
}

/**
 * The whole analysis. Records keyed by variant list control first, then treatments in the order of the
 * weights (JavaScript orders integer-like keys such as "2" first; such variant names keep their values but
 * not that order).
 */
export interface ExperimentAnalysis {
  readonly kind: MetricKind;
  readonly control: string;
  readonly treatments: readonly string[];
  /** Users, all variants together. */
  readonly rows: number;
  readonly weights: Readonly<Record<string, number>>;
  readonly confidence: number;
  readonly z_crit: number;
  readonly variants: Readonly<Record<string, VariantSummary>>;
  readonly comparisons: Readonly<Record<string, Comparison>>;
  readonly srm: SrmResult;
  /** Only with two or more treatments: `p_value`, and for kind conversion `z_p_value` too. */
  readonly corrections?: Readonly<Record<string, CorrectedPValues>>;
  /** Only for kind cuped. */
  readonly cuped?: CupedFit;
  /** Only for kind cuped: the comparisons on the raw values. */
  readonly unadjusted_comparisons?: Readonly<Record<string, MeanComparison>>;
}

/** A record with the given keys in the given order (`fromEntries`, so even `__proto__` is an own key). */
function keyed<T>(names: readonly string[], value: (name: string, index: number) => T): Record<string, T> {
  return Object.fromEntries(names.map((name, index) => [name, value(name, index)]));
}

/** The variants to analyse, control first, each checked against the weights and the data. */
function checkedVariants(data: ExperimentData, weights: ReadonlyMap<string, number>): string[] {
  if (!weights.has(CONTROL))
    throw new StatsInputError(`the weights must include the control variant "${CONTROL}"`);
  if (weights.size < 2)
    throw new StatsInputError('the weights must name at least one treatment beside control');
  for (const [name, weight] of weights) {
    if (!(weight > 0 && Number.isFinite(weight))) {
      throw new StatsInputError(`the weight of "${name}" must be a positive number, got ${weight}`);
    }
  }
  const unweighted = [...data.variants.keys()].filter((name) => !weights.has(name));
  if (unweighted.length > 0) {
    throw new StatsInputError(
      `the data has variant${unweighted.length > 1 ? 's' : ''} ${unweighted.map((n) => `"${n}"`).join(', ')} ` +
        `without a weight (weights: ${[...weights.keys()].join(', ')})`,
    );
  }
  const names = [CONTROL, ...[...weights.keys()].filter((name) => name !== CONTROL)];
  for (const name of names) {
    const users = data.variants.get(name)?.[0]?.length ?? 0;
    if (users === 0) throw new StatsInputError(`variant "${name}" has a weight but no users in the data`);
    if (users < 2) throw new StatsInputError(`variant "${name}" has 1 user; a variance needs at least 2`);
  }
  return names;
}

function column(columns: VariantColumns, index: number): Float64Array {
  const values = columns[index];
  if (values === undefined) throw new StatsInputError(`missing data column ${index + 1}`);
  return values;
}

function valueSummary(stats: MeanVariance): ValueSummary {
  return { n: stats.n, mean: stats.mean, var: stats.variance };
}

/** Per-kind summaries and comparisons, before the parts common to every kind. */
interface KindResult {
  readonly variants: Record<string, VariantSummary>;
  readonly comparisons: Record<string, MeanComparison | (MeanComparison & ProportionTest) | RatioComparison>;
  readonly cuped?: CupedFit;
  readonly unadjusted_comparisons?: Record<string, MeanComparison>;
}

function analyzeValues(
  kind: MetricKind,
  columns: readonly VariantColumns[],
  names: readonly string[],
  confidence: number,
): KindResult {
  const values = columns.map((variant) => column(variant, 0));
  const stats = values.map(meanVariance);
  const treatments = names.slice(1);
  return {
    variants: keyed(names, (_, i) => valueSummary(stats[i]!)),
    comparisons: keyed(treatments, (_, i) => {
      const welch = welchTest(stats[0]!, stats[i + 1]!, confidence);
      if (kind !== 'conversion') return welch;
      const counts = (v: Float64Array) => ({ n: v.length, x: sum(v) });
      return { ...welch, ...twoProportionTest(counts(values[0]!), counts(values[i + 1]!), confidence) };
    }),
  };
}

function analyzeCuped(
  columns: readonly VariantColumns[],
  names: readonly string[],
  confidence: number,
): KindResult {
  const samples: CupedSample[] = columns.map((variant) => ({
    value: column(variant, 0),
    pre: column(variant, 1),
  }));
  const fit = fitCuped(samples);
  const adjusted = samples.map((sample) => meanVariance(cupedAdjusted(sample, fit)));
  const raw = samples.map((sample) => meanVariance(sample.value));
  const preMeans = samples.map((sample) => meanVariance(sample.pre).mean);
  const treatments = names.slice(1);
  return {
    variants: keyed(names, (_, i) => ({
      ...valueSummary(adjusted[i]!),
      mean_value: raw[i]!.mean,
      var_value: raw[i]!.variance,
      mean_pre: preMeans[i]!,
    })),
    comparisons: keyed(treatments, (_, i) => welchTest(adjusted[0]!, adjusted[i + 1]!, confidence)),
    cuped: fit,
    unadjusted_comparisons: keyed(treatments, (_, i) => welchTest(raw[0]!, raw[i + 1]!, confidence)),
  };
}

function analyzeRatio(
  columns: readonly VariantColumns[],
  names: readonly string[],
  confidence: number,
): KindResult {
  const summaries = columns.map((variant) => summarizeRatio(column(variant, 0), column(variant, 1)));
  return {
    variants: keyed(names, (_, i) => summaries[i]!),
    comparisons: keyed(names.slice(1), (_, i) => compareRatios(summaries[0]!, summaries[i + 1]!, confidence)),
  };
}

function corrected(treatments: readonly string[], pValues: readonly number[]): CorrectedPValues {
  const holmAdjusted = holm(pValues);
  const bhAdjusted = benjaminiHochberg(pValues);
  return {
    raw: keyed(treatments, (_, i) => pValues[i]!),
    holm: keyed(treatments, (_, i) => holmAdjusted[i]!),
    bh: keyed(treatments, (_, i) => bhAdjusted[i]!),
  };
}

/** Analyses one experiment: variants, comparisons with control, SRM check, corrections, CUPED. */
export function analyzeExperiment(data: ExperimentData, options: AnalyzeOptions): ExperimentAnalysis {
  const confidence = options.confidence ?? 0.95;
  if (!(confidence > 0 && confidence < 1)) {
    throw new StatsInputError(`the confidence level must be between 0 and 1, got ${confidence}`);
  }
  const tuningN = options.sequentialTuningN ?? DEFAULT_SEQUENTIAL_TUNING_N;
  if (!(tuningN > 0 && Number.isFinite(tuningN))) {
    throw new StatsInputError(`the sequential tuning sample size must be positive, got ${tuningN}`);
  }
  const names = checkedVariants(data, options.weights);
  const treatments = names.slice(1);
  const columns = names.map((name) => data.variants.get(name)!);
  const byKind =
    data.kind === 'cuped'
      ? analyzeCuped(columns, names, confidence)
      : data.kind === 'ratio'
        ? analyzeRatio(columns, names, confidence)
        : analyzeValues(data.kind, columns, names, confidence);

  const comparisons = keyed(treatments, (name): Comparison => {
    const comparison = byKind.comparisons[name]!;
    return {
      ...comparison,
      expected_loss: expectedLoss(comparison.rel_lift, comparison.rel_se),
      sequential: confidenceSequence({
        estimate: comparison.abs_lift,
        se: comparison.se,
        n: comparison.n_c + comparison.n_t,
        alpha: 1 - confidence,
        tuningN,
      }),
    };
  });

  const weightOrder = [...options.weights.keys()];
  const users = (name: string) => column(data.variants.get(name)!, 0).length;
  const srm = sampleRatioTest(
    weightOrder.map(users),
    weightOrder.map((name) => options.weights.get(name)!),
  );

  const families: Record<string, CorrectedPValues> = {};
  if (treatments.length >= 2) {
    families['p_value'] = corrected(
      treatments,
      treatments.map((name) => comparisons[name]!.p_value),
    );
    if (data.kind === 'conversion') {
      const zPValues = treatments.map((name) => (comparisons[name] as ConversionComparison).z_p_value);
      families['z_p_value'] = corrected(treatments, zPValues);
    }
  }

  return {
    kind: data.kind,
    control: CONTROL,
    treatments,
    rows: names.reduce((total, name) => total + users(name), 0),
    weights: Object.fromEntries(options.weights),
    confidence,
    z_crit: normalCriticalValue(confidence),
    variants: byKind.variants,
    comparisons,
    srm: {
      observed: keyed(weightOrder, (name) => users(name)),
      expected: keyed(weightOrder, (_, i) => srm.expected[i]!),
      chi2: srm.chi2,
      df: srm.df,
      p_value: srm.p_value,
      mismatch: srm.p_value < SRM_ALARM_P_VALUE,
    },
    ...(treatments.length >= 2 ? { corrections: families } : {}),
    ...(byKind.cuped === undefined ? {} : { cuped: byKind.cuped }),
    ...(byKind.unadjusted_comparisons === undefined
      ? {}
      : { unadjusted_comparisons: byKind.unadjusted_comparisons }),
  };
}
