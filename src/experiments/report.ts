import type { EpochMs } from '../shared/types.js';
import type { Store } from '../store/index.js';
import { DEFAULT_GUARDRAILS, DEFAULT_METRICS, ExperimentError } from './definition.js';
import type { MetricCatalog } from './metric-catalog.js';
import type { ExperimentRegistry } from './registry.js';
import { HOLDOUT } from './types.js';
import {
  computeMetrics,
  higherIsBetter,
  productOf,
  type DailyMoments,
  type ExposedUser,
  type MetricDefinition,
  type LogReader,
  type MetricResult,
} from './metrics/index.js';
import {
  analyzeExperiment,
  benjaminiHochberg,
  compareRatios,
  holm,
  sampleRatioTest,
  SRM_ALARM_P_VALUE,
  StatsInputError,
  welchTest,
  type Comparison,
  type ExperimentAnalysis,
  type RatioSummary,
  type VariantColumns,
} from './stats/index.js';

/** What is analysed: an experiment, or the global holdout (holdout against personalized). */
export interface ReportSubject {
  readonly id: string;
  readonly name: string;
  readonly status: string;
  /** In the order they are reported; exactly one control. */
  readonly variants: readonly { readonly name: string; readonly weight: number; readonly control: boolean }[];
  /** The first is primary. */
  readonly metrics: readonly MetricDefinition[];
  readonly guardrails: readonly MetricDefinition[];
}

export type MetricRole = 'primary' | 'secondary' | 'guardrail';

/** One treatment against control on one metric, in words and numbers. */
export interface Verdict {
  readonly treatment: string;
  readonly rel_lift: number;
  readonly rel_ci: readonly [number, number];
  readonly chance_to_beat_control: number;
  /** The always-valid interval excludes no change: safe to read however often the report is looked at. */
  readonly significant: boolean;
  /** Significantly worse (in the metric's direction). For guardrails this is the alarm. */
  readonly harmed: boolean;
  /** Holm-adjusted always-valid p-value across every treatment × metric of the report. */
  readonly p_adjusted: number;
  readonly line: string;
}

export interface SeriesPoint {
  readonly as_of: string;
  readonly users: Readonly<Record<string, number>>;
  /** Per treatment: relative lift and its 95% interval as of that day (unadjusted). */
  readonly lift: Readonly<Record<string, { rel_lift: number; ci_low: number; ci_high: number } | null>>;
  /**
   * Per variant (control included): the metric's estimate as of that day (mean per user, or the ratio) with
   * its 95% interval (normal; the delta method for ratios); null below two users. Only in reports asked
   * for `{ estimates: true }` (the dashboard's timeline): `/results` keeps its documented shape.
   */
  readonly estimate?: Readonly<Record<string, { value: number; ci_low: number; ci_high: number } | null>>;
}

/** What a report computes beyond its defaults. */
export interface ReportOptions {
  /** Each variant's estimate with its interval in every series point (`SeriesPoint.estimate`). */
  readonly estimates?: boolean;
}

export interface MetricReport {
  readonly metric: string;
  readonly kind: MetricDefinition['kind'];
  readonly role: MetricRole;
  readonly higher_is_better: boolean;
  /** `cuped` when the pre-exposure covariate (the same metric before first exposure) varies, else `none`. */
  readonly adjustment: 'cuped' | 'none';
  /** The full analysis, variant names as the experiment has them. Null when there is not enough data. */
  readonly analysis: ExperimentAnalysis | null;
  readonly problem: string | null;
  readonly verdicts: readonly Verdict[];
  readonly series: readonly SeriesPoint[];
}

export interface ExperimentReport {
  readonly experiment: string;
  readonly name: string;
  readonly status: string;
  readonly as_of: string;
  readonly control: string;
  readonly exposed: Readonly<Record<string, number>>;
  readonly sample_ratio: {
    readonly chi2: number;
    readonly p_value: number;
    readonly mismatch: boolean;
  } | null;
  readonly metrics: readonly MetricReport[];
  /** One line per metric and treatment, the report's summary. */
  readonly summary: readonly string[];
  readonly scanned: { readonly events: number; readonly served_lists: number };
}

/**
 * The global holdout as a report subject: the held-out arm is the control, everyone served a personalized
 * list the treatment, weighted by the holdout's share. Metrics: the defaults every experiment gets.
 */
export function holdoutSubject(share: number, definition: (name: string) => MetricDefinition): ReportSubject {
  return {
    id: HOLDOUT,
    name: 'global holdout: what personalization adds',
    status: share > 0 ? 'running' : 'off',
    variants: [
      { name: HOLDOUT, weight: share > 0 ? share : 1, control: true },
      { name: 'personalized', weight: share > 0 ? 1 - share : 1, control: false },
    ],
    metrics: DEFAULT_METRICS.map(definition),
    guardrails: DEFAULT_GUARDRAILS.map(definition),
  };
}

/** What `id` names for a report: an experiment, or `holdout`; 404 for neither. */
export function reportSubject(
  id: string,
  experiments: ExperimentRegistry,
  catalog: MetricCatalog,
): ReportSubject {
  const definition = (name: string) => {
    const metric = catalog.get(name);
    if (metric === undefined)
      throw new ExperimentError(409, 'metrics', `metric "${name}" is no longer defined`);
    return metric;
  };
  if (id === HOLDOUT) return holdoutSubject(experiments.holdoutShare, definition);
  const experiment = experiments.get(id);
  if (experiment === undefined) throw new ExperimentError(404, null, `no experiment "${id}"`);
  return {
    id: experiment.id,
    name: experiment.name,
    status: experiment.status,
    variants: experiment.variants,
    metrics: experiment.metrics.map(definition),
    guardrails: experiment.guardrails.map(definition),
  };
}

/** The stats module's name for the control; the experiment's own name is mapped to it and back. */
const STATS_CONTROL = 'control';

/**
 * Analyses an experiment from the store: its exposed users (each from their first exposure), one pass over
 * the event log for every metric, then the statistics per metric with CUPED where the pre-period helps,
 * the sample-ratio check, always-valid intervals for the verdicts, Holm and Benjamini–Hochberg across
 * every treatment and metric, and daily cumulative series.
 *
 * `reader`: a reader thread on the same store (`reportFromStore` starts one), which then reads the served
 * lists and the event log instead of `store`, while this thread reads the exposures and analyses; it is
 * closed when the report ends, whether or not it got as far as the analysis. Without one, `store`'s scans
 * are read in this thread.
 */
export async function experimentReport(
  store: Store,
  subject: ReportSubject,
  now: EpochMs,
  reader?: LogReader,
  options: ReportOptions = {},
): Promise<ExperimentReport> {
  try {
    return await reportOf(store, subject, now, reader, options);
  } finally {
    reader?.close();
  }
}

async function reportOf(
  store: Store,
  subject: ReportSubject,
  now: EpochMs,
  reader: LogReader | undefined,
  options: ReportOptions,
): Promise<ExperimentReport> {
  const control = subject.variants.find((v) => v.control);
  if (control === undefined) throw new Error(`experiment "${subject.id}" has no control`);
  const known = new Set(subject.variants.map((v) => v.name));
  const exposures: ExposedUser[] = [];
  for await (const batch of store.scanExposures(subject.id)) {
    for (const e of batch)
      if (known.has(e.variant)) exposures.push({ userId: e.userId, variant: e.variant, firstAt: e.at });
  }
  const roles = new Map<string, MetricRole>();
  const definitions: MetricDefinition[] = [];
  subject.metrics.forEach((m, i) => {
    if (roles.has(m.name)) return;
    roles.set(m.name, i === 0 ? 'primary' : 'secondary');
    definitions.push(m);
  });
  for (const m of subject.guardrails) {
    if (!roles.has(m.name)) definitions.push(m);
    roles.set(m.name, 'guardrail');
  }
  const computed = await computeMetrics(
    reader === undefined
      ? {
          exposures,
          events: store.scanEvents(),
          impressions: store.scanImpressions(),
          metrics: definitions,
          now,
        }
      : { exposures, events: reader, metrics: definitions, now },
  );

  const toStats = (name: string) => (name === control.name ? STATS_CONTROL : name);
  const fromStats = (name: string) => (name === STATS_CONTROL ? control.name : name);
  const weights = new Map(
    [control, ...subject.variants.filter((v) => !v.control)].map((v) => [toStats(v.name), v.weight] as const),
  );
  const exposed = Object.fromEntries(
    subject.variants.map((v) => [
      v.name,
      computed.variants.find((c) => c.name === v.name)?.userIds.length ?? 0,
    ]),
  );
  const counts = subject.variants.map((v) => exposed[v.name]!);
  const sampleRatio =
    counts.reduce((a, b) => a + b, 0) > 0
      ? (() => {
          const test = sampleRatioTest(
            counts,
            subject.variants.map((v) => v.weight),
          );
          return { chi2: test.chi2, p_value: test.p_value, mismatch: test.p_value < SRM_ALARM_P_VALUE };
        })()
      : null;

  const analysed = computed.metrics.map((result) => analyseMetric(result, weights, toStats, fromStats));
  // The family for the corrections: every treatment on every metric of the report.
  const family = analysed.flatMap((a, m) =>
    a.analysis === null
      ? []
      : Object.entries(a.analysis.comparisons).map(([t, c]) => ({ m, t, p: c.sequential.p_value })),
  );
  const holmAdjusted = holm(family.map((f) => f.p));
  const bhAdjusted = benjaminiHochberg(family.map((f) => f.p));
  const adjusted = new Map(
    family.map((f, i) => [`${f.m}\u0000${f.t}`, { holm: holmAdjusted[i]!, bh: bhAdjusted[i]! }]),
  );

  const metrics: MetricReport[] = computed.metrics.map((result, m) => {
    const { analysis, adjustment, problem } = analysed[m]!;
    const definition = result.definition;
    const better = higherIsBetter(definition);
    const verdicts: Verdict[] =
      analysis === null
        ? []
        : Object.entries(analysis.comparisons).map(([treatment, comparison]) =>
            verdict(
              definition.name,
              treatment,
              control.name,
              comparison,
              better,
              adjusted.get(`${m}\u0000${treatment}`)?.holm ?? Number.NaN,
            ),
          );
    return {
      metric: definition.name,
      kind: definition.kind,
      role: roles.get(definition.name)!,
      higher_is_better: better,
      adjustment,
      analysis: analysis === null ? null : renamed(analysis, fromStats),
      problem,
      verdicts,
      series: series(
        result,
        control.name,
        subject.variants.filter((v) => !v.control).map((v) => v.name),
        options.estimates === true,
      ),
    };
  });

  const harmedGuardrails = metrics.filter((m) => m.role === 'guardrail' && m.verdicts.some((v) => v.harmed));
  const ratioNote =
    sampleRatio === null
      ? 'no users exposed yet'
      : sampleRatio.mismatch
        ? 'SAMPLE RATIO MISMATCH: do not trust these numbers'
        : 'sample ratio OK';
  const guardNote =
    harmedGuardrails.length === 0
      ? 'no guardrail harmed'
      : `GUARDRAIL HARMED: ${harmedGuardrails.map((m) => m.metric).join(', ')}`;
  const summary = metrics.flatMap((m) =>
    m.role === 'guardrail'
      ? []
      : m.verdicts.length === 0
        ? [`${label(m.metric)}: ${m.problem ?? 'no data yet'}`]
        : m.verdicts.map((v) => `${v.line}; ${guardNote}; ${ratioNote}`),
  );
  return {
    experiment: subject.id,
    name: subject.name,
    status: subject.status,
    as_of: new Date(now).toISOString(),
    control: control.name,
    exposed,
    sample_ratio: sampleRatio,
    metrics,
    summary,
    scanned: { events: computed.scanned.events, served_lists: computed.scanned.servedLists },
  };
}

interface Analysed {
  readonly analysis: ExperimentAnalysis | null;
  readonly adjustment: 'cuped' | 'none';
  readonly problem: string | null;
}

function analyseMetric(
  result: MetricResult,
  weights: ReadonlyMap<string, number>,
  toStats: (name: string) => string,
  fromStats: (name: string) => string,
): Analysed {
  const empty = emptyReason(result);
  if (empty !== null) return { analysis: null, adjustment: 'none', problem: empty };
  const variants = new Map<string, VariantColumns>();
  let kind: 'conversion' | 'mean' | 'cuped' | 'ratio';
  let adjustment: 'cuped' | 'none' = 'none';
  if (result.kind === 'ratio') {
    kind = 'ratio';
    for (const v of result.byVariant) variants.set(toStats(v.variant), [v.numerator, v.denominator]);
  } else {
    // CUPED only when the covariate carries information: a pre-period with no activity for anyone is 0
    // everywhere, and theta would be 0/0.
    const varies = result.byVariant.some((v) => v.covariate.some((x) => x !== v.covariate[0]));
    const binary = result.kind === 'conversion' || result.kind === 'retention';
    kind = varies ? 'cuped' : binary ? 'conversion' : 'mean';
    if (varies) adjustment = 'cuped';
    for (const v of result.byVariant) {
      variants.set(toStats(v.variant), kind === 'cuped' ? [v.value, v.covariate] : [v.value]);
    }
  }
  for (const name of weights.keys())
    if (!variants.has(name))
      variants.set(
        name,
        kind === 'cuped' || kind === 'ratio'
          ? [new Float64Array(0), new Float64Array(0)]
          : [new Float64Array(0)],
      );
  try {
    return { analysis: analyzeExperiment({ kind, variants }, { weights }), adjustment, problem: null };
  } catch (error) {
    if (!(error instanceof StatsInputError)) throw error;
    return {
      analysis: null,
      adjustment,
      problem: `not enough data: ${error.message.replace(/"control"/g, `"${fromStats(STATS_CONTROL)}"`)}`,
    };
  }
}

/** Why a metric has nothing to analyse yet, in words, or null when it has. */
function emptyReason(result: MetricResult): string | null {
  if (result.kind === 'ratio') {
    const arms = result.byVariant;
    const without = arms.find((v) => !v.denominator.some((x) => x > 0));
    return without === undefined ? null : `no data yet: nothing in the denominator for "${without.variant}"`;
  }
  const { definition } = result;
  if (definition.kind === 'retention') {
    const without = result.byVariant.find((v) => v.value.length < 2);
    if (without === undefined) return null;
    return `no data yet: fewer than 2 users of "${without.variant}" whose day ${definition.day} has ended`;
  }
  return null;
}

/** The analysis with variant names as the experiment has them (the stats module calls the control "control"). */
function renamed(analysis: ExperimentAnalysis, fromStats: (name: string) => string): ExperimentAnalysis {
  const keys = <T>(record: Readonly<Record<string, T>>): Record<string, T> =>
    Object.fromEntries(Object.entries(record).map(([k, v]) => [fromStats(k), v]));
  return {
    ...analysis,
    control: fromStats(analysis.control),
    weights: keys(analysis.weights),
    variants: keys(analysis.variants),
    srm: { ...analysis.srm, observed: keys(analysis.srm.observed), expected: keys(analysis.srm.expected) },
  };
}

const label = (metric: string) => metric.replace(/_/g, ' ');
const percent = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;
const signed = (x: number) =>
  Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${Number(x.toPrecision(3))}` : String(x);

function verdict(
  metric: string,
  treatment: string,
  control: string,
  comparison: Comparison,
  better: boolean,
  pAdjusted: number,
): Verdict {
  const { sequential } = comparison;
  const significant = sequential.ci_low > 0 || sequential.ci_high < 0;
  const worse = better ? sequential.ci_high < 0 : sequential.ci_low > 0;
  // The chance that the treatment is better, in the metric's own direction.
  const chance = better ? comparison.chance_to_win : 1 - comparison.chance_to_win;
  const outcome = !significant
    ? 'not significant yet'
    : worse
      ? 'significantly worse (always-valid 95%)'
      : 'significantly better (always-valid 95%)';
  // A control at 0 (nobody converted yet) has no relative lift: the line gives the absolute difference
  // and its always-valid interval instead of "NaN%".
  const lift = Number.isFinite(comparison.rel_lift)
    ? `${percent(comparison.rel_lift)} [${percent(comparison.rel_ci_low)}, ${percent(comparison.rel_ci_high)}]`
    : `${signed(comparison.abs_lift)} [${signed(sequential.ci_low)}, ${signed(sequential.ci_high)}] absolute ` +
      `(${control} is 0: no relative lift)`;
  const line =
    `${label(metric)} ${lift} for ${treatment} vs ${control}, ` +
    `${Number.isFinite(chance) ? `${(chance * 100).toFixed(0)}%` : 'unknown'} chance to beat ${control}; ${outcome}`;
  return {
    treatment,
    rel_lift: comparison.rel_lift,
    rel_ci: [comparison.rel_ci_low, comparison.rel_ci_high],
    chance_to_beat_control: chance,
    significant,
    harmed: worse,
    p_adjusted: pAdjusted,
    line,
  };
}

/** Cumulative daily points from the per-day moments: users per variant and each treatment's relative lift. */
function series(
  result: MetricResult,
  control: string,
  treatments: readonly string[],
  withEstimates: boolean,
): SeriesPoint[] {
  const daily = new Map(result.byVariant.map((v) => [v.variant, v.daily as readonly DailyMoments[]]));
  const days = daily.get(control)?.length ?? 0;
  const points: SeriesPoint[] = [];
  for (let d = 0; d < days; d++) {
    const at = (name: string) => daily.get(name)?.[d];
    const base = at(control);
    if (base === undefined) continue;
    const users: Record<string, number> = { [control]: base.moments.n };
    const lift: Record<string, { rel_lift: number; ci_low: number; ci_high: number } | null> = {};
    const estimate: Record<string, { value: number; ci_low: number; ci_high: number } | null> = {
      [control]: estimateOf(result.kind, base),
    };
    for (const t of treatments) {
      const point = at(t);
      users[t] = point?.moments.n ?? 0;
      lift[t] = point === undefined ? null : liftOf(result.kind, base, point);
      estimate[t] = point === undefined ? null : estimateOf(result.kind, point);
    }
    points.push({
      as_of: new Date(base.asOf).toISOString(),
      users,
      lift,
      ...(withEstimates ? { estimate } : {}),
    });
  }
  return points;
}

/** One variant's estimate as of a day, with a normal 95% interval; null below two users or when undefined. */
function estimateOf(
  kind: MetricResult['kind'],
  daily: DailyMoments,
): { value: number; ci_low: number; ci_high: number } | null {
  if (daily.moments.n < 2) return null;
  let value: number;
  let se: number;
  if (kind === 'ratio') {
    const r = ratioSummary(daily);
    value = r.ratio;
    se = Math.sqrt(Math.max(0, r.var_ratio));
  } else {
    const { n, mean, variance } = meanVariance(daily);
    value = mean;
    se = Math.sqrt(variance / n);
  }
  if (!Number.isFinite(value) || !Number.isFinite(se)) return null;
  return { value, ci_low: value - 1.959963984540054 * se, ci_high: value + 1.959963984540054 * se };
}

function liftOf(
  kind: MetricResult['kind'],
  control: DailyMoments,
  treatment: DailyMoments,
): { rel_lift: number; ci_low: number; ci_high: number } | null {
  if (control.moments.n < 2 || treatment.moments.n < 2) return null;
  const c =
    kind === 'ratio'
      ? compareRatios(ratioSummary(control), ratioSummary(treatment))
      : welchTest(meanVariance(control), meanVariance(treatment));
  if (!Number.isFinite(c.rel_lift) || !Number.isFinite(c.rel_se)) return null;
  return { rel_lift: c.rel_lift, ci_low: c.rel_ci_low, ci_high: c.rel_ci_high };
}

/** Mean and variance of column 0 from the moments (enough precision for a chart). */
function meanVariance({ moments }: DailyMoments) {
  const { n } = moments;
  const mean = moments.sums[0]! / n;
  return { n, mean, variance: Math.max(0, (productOf(moments, 0, 0) - n * mean * mean) / (n - 1)) };
}

function ratioSummary({ moments }: DailyMoments): RatioSummary {
  const { n } = moments;
  const sumNum = moments.sums[0]!;
  const sumDen = moments.sums[1]!;
  const meanNum = sumNum / n;
  const meanDen = sumDen / n;
  const varNum = (productOf(moments, 0, 0) - n * meanNum * meanNum) / (n - 1);
  const varDen = (productOf(moments, 1, 1) - n * meanDen * meanDen) / (n - 1);
  const cov = (productOf(moments, 0, 1) - n * meanNum * meanDen) / (n - 1);
  const varRatio =
    (varNum / meanDen ** 2 - (2 * meanNum * cov) / meanDen ** 3 + (meanNum ** 2 * varDen) / meanDen ** 4) / n;
  return {
    n,
    sum_num: sumNum,
    sum_den: sumDen,
    ratio: sumNum / sumDen,
    mean_num: meanNum,
    mean_den: meanDen,
    var_num: varNum,
    var_den: varDen,
    cov_num_den: cov,
    var_ratio: varRatio,
  };
}
