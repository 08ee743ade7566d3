import type { ExperimentReport, MetricRole } from './report.js';

/**
 * An experiment over time, for the dashboard's charts: the report's daily cumulative series (one pass
 * over the logs already computes them, `metrics/series.ts`) laid out per metric, per day, per variant,
 * with each variant's estimate and interval beside its lift against control. No second analysis runs: the
 * last day is the report's as-of time, and the numbers are the report's own series.
 */

export interface TimelineVariantPoint {
  readonly variant: string;
  readonly users: number;
  readonly estimate: number | null;
  readonly ci_low: number | null;
  readonly ci_high: number | null;
  readonly rel_lift: number | null;
  readonly lift_ci_low: number | null;
  readonly lift_ci_high: number | null;
}

export interface ExperimentTimeline {
  readonly experiment: string;
  readonly name: string;
  readonly status: string;
  readonly as_of: string;
  readonly control: string;
  variants: string[];
  // Mutable arrays: the reply is plain JSON built fresh for each call.
  exposure: { as_of: string; variants: { variant: string; users: number }[] }[];
  metrics: {
    metric: string;
    role: MetricRole;
    kind: string;
    higher_is_better: boolean;
    days: { as_of: string; variants: TimelineVariantPoint[] }[];
  }[];
}

/**
 * Lays the report's series out for charts. `variants`: the experiment's variant names in its order (those
 * the report does not know still appear, with zero users). Exposure per day is the primary metric's
 * population (every metric of a report counts the same exposed users each day).
 */
export function experimentTimeline(
  report: ExperimentReport,
  variants: readonly string[],
): ExperimentTimeline {
  const names = variants.length > 0 ? [...variants] : Object.keys(report.exposed);
  const metrics = report.metrics.map((m) => ({
    metric: m.metric,
    role: m.role,
    kind: m.kind,
    higher_is_better: m.higher_is_better,
    days: m.series.map((point) => ({
      as_of: point.as_of,
      variants: names.map((variant): TimelineVariantPoint => {
        const estimate = point.estimate?.[variant] ?? null;
        const lift = variant === report.control ? null : (point.lift[variant] ?? null);
        return {
          variant,
          users: point.users[variant] ?? 0,
          estimate: estimate?.value ?? null,
          ci_low: estimate?.ci_low ?? null,
          ci_high: estimate?.ci_high ?? null,
          rel_lift: lift?.rel_lift ?? null,
          lift_ci_low: lift?.ci_low ?? null,
          lift_ci_high: lift?.ci_high ?? null,
        };
      }),
    })),
  }));
  const primary = metrics[0];
  return {
    experiment: report.experiment,
    name: report.name,
    status: report.status,
    as_of: report.as_of,
    control: report.control,
    variants: names,
    exposure:
      primary?.days.map((day) => ({
        as_of: day.as_of,
        variants: day.variants.map(({ variant, users }) => ({ variant, users })),
      })) ?? [],
    metrics,
  };
}
