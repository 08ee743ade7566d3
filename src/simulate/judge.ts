import type { ExperimentReport } from '../experiments/index.js';
import { trueLift, type Scenario } from './scenario.js';

/** One metric of the scenario's experiment: the truth the simulation planted against what was reported. */
export interface JudgedMetric {
  readonly metric: string;
  readonly role: string;
  readonly adjustment: string;
  /** Per variant: exposed users and the metric's unadjusted value (a mean, a rate, or a ratio of sums). */
  readonly values: Readonly<Record<string, { readonly n: number; readonly value: number }>>;
  /** The true relative lift of the treatment, or null for a metric the simulation cannot know. */
  readonly true_lift: number | null;
  readonly rel_lift: number | null;
  /** The reported 95% interval of the relative lift. */
  readonly ci: readonly [number, number] | null;
  /** Whether the interval holds the truth (null without truth or interval). */
  readonly covered: boolean | null;
  /** The always-valid verdict: the interval excludes no change, read as often as one likes. */
  readonly significant: boolean | null;
}

/** Personalization against the global holdout on one metric (no planted truth: it is what the models add). */
export interface HoldoutMetric {
  readonly metric: string;
  readonly role: string;
  readonly rel_lift: number | null;
  readonly ci: readonly [number, number] | null;
  readonly significant: boolean | null;
}

export interface Judgement {
  readonly exposed: Readonly<Record<string, number>>;
  readonly sample_ratio_ok: boolean | null;
  readonly metrics: readonly JudgedMetric[];
  readonly holdout: {
    readonly exposed: Readonly<Record<string, number>>;
    readonly metrics: readonly HoldoutMetric[];
  };
}

/** Reads the two reports the way the simulation's targets do. */
export function judge(
  scenario: Scenario,
  experiment: ExperimentReport,
  holdout: ExperimentReport,
): Judgement {
  return {
    exposed: experiment.exposed,
    sample_ratio_ok: experiment.sample_ratio === null ? null : !experiment.sample_ratio.mismatch,
    metrics: experiment.metrics.map((m) => {
      const verdict = m.verdicts.find((v) => v.treatment === scenario.treatment);
      const truth = trueLift(scenario, m.metric);
      return {
        metric: m.metric,
        role: m.role,
        adjustment: m.adjustment,
        values: Object.fromEntries(
          Object.entries(m.analysis?.variants ?? {}).map(([name, v]) => [
            name,
            { n: v.n, value: 'ratio' in v ? v.ratio : 'mean_value' in v ? v.mean_value : v.mean },
          ]),
        ),
        true_lift: truth,
        rel_lift: verdict?.rel_lift ?? null,
        ci: verdict?.rel_ci ?? null,
        covered:
          verdict === undefined || truth === null
            ? null
            : verdict.rel_ci[0] <= truth && truth <= verdict.rel_ci[1],
        significant: verdict?.significant ?? null,
      };
    }),
    holdout: {
      exposed: holdout.exposed,
      metrics: holdout.metrics.map((m) => {
        const verdict = m.verdicts[0];
        return {
          metric: m.metric,
          role: m.role,
          rel_lift: verdict?.rel_lift ?? null,
          ci: verdict?.rel_ci ?? null,
          significant: verdict?.significant ?? null,
        };
      }),
    },
  };
}
