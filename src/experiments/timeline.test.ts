import { describe, expect, it } from 'vitest';
import type { ExperimentReport, MetricReport } from './report.js';
import { experimentTimeline } from './timeline.js';

const metric = (name: string, role: MetricReport['role']): MetricReport => ({
  metric: name,
  kind: 'sum',
  role,
  higher_is_better: true,
  adjustment: 'none',
  analysis: null,
  problem: null,
  verdicts: [],
  series: [
    {
      as_of: '2026-03-01T00:00:00.000Z',
      users: { control: 1, b: 0 },
      lift: { b: null },
      estimate: { control: null, b: null },
    },
    {
      as_of: '2026-03-02T00:00:00.000Z',
      users: { control: 10, b: 12 },
      lift: { b: { rel_lift: 0.1, ci_low: -0.05, ci_high: 0.25 } },
      estimate: {
        control: { value: 2, ci_low: 1.5, ci_high: 2.5 },
        b: { value: 2.2, ci_low: 1.6, ci_high: 2.8 },
      },
    },
  ],
});

const report: ExperimentReport = {
  experiment: 'e',
  name: 'E',
  status: 'running',
  as_of: '2026-03-02T00:00:00.000Z',
  control: 'control',
  exposed: { control: 10, b: 12 },
  sample_ratio: null,
  metrics: [metric('revenue', 'primary'), metric('bounce', 'guardrail')],
  summary: [],
  scanned: { events: 0, served_lists: 0 },
};

describe('experimentTimeline', () => {
  it('lays the report’s series out per metric, day and variant, in the experiment’s order', () => {
    const t = experimentTimeline(report, ['control', 'b', 'late']);
    expect(t.variants).toEqual(['control', 'b', 'late']);
    expect(t.exposure).toEqual([
      {
        as_of: '2026-03-01T00:00:00.000Z',
        variants: [
          { variant: 'control', users: 1 },
          { variant: 'b', users: 0 },
          { variant: 'late', users: 0 },
        ],
      },
      {
        as_of: '2026-03-02T00:00:00.000Z',
        variants: [
          { variant: 'control', users: 10 },
          { variant: 'b', users: 12 },
          { variant: 'late', users: 0 },
        ],
      },
    ]);
    expect(t.metrics.map((m) => [m.metric, m.role])).toEqual([
      ['revenue', 'primary'],
      ['bounce', 'guardrail'],
    ]);
    expect(t.metrics[0]!.days[1]!.variants).toEqual([
      {
        variant: 'control',
        users: 10,
        estimate: 2,
        ci_low: 1.5,
        ci_high: 2.5,
        rel_lift: null,
        lift_ci_low: null,
        lift_ci_high: null,
      },
      {
        variant: 'b',
        users: 12,
        estimate: 2.2,
        ci_low: 1.6,
        ci_high: 2.8,
        rel_lift: 0.1,
        lift_ci_low: -0.05,
        lift_ci_high: 0.25,
      },
      {
        variant: 'late',
        users: 0,
        estimate: null,
        ci_low: null,
        ci_high: null,
        rel_lift: null,
        lift_ci_low: null,
        lift_ci_high: null,
      },
    ]);
    expect(t.metrics[0]!.days[0]!.variants[1]!.estimate).toBeNull();
  });

  it('takes the report’s variants when none are given (the holdout)', () => {
    expect(experimentTimeline(report, []).variants).toEqual(['control', 'b']);
  });
});
