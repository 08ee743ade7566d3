import { useState } from 'preact/hooks';
import { ApiError, enc } from '../api';
import { Chart, colorAt } from '../components/Chart';
import { Forest, type Interval } from '../components/Forest';
import { Async, Badge, Card, Empty, PageHead, Spinner, Stat } from '../components/ui';
import { fmtDay, fmtInt, fmtLift, fmtNum, fmtPct, fmtTime } from '../format';
import { useApi } from '../hooks';
import { href, navigate } from '../router';
import type {
  ExperimentJson,
  ExperimentReport,
  ExperimentsReply,
  ExperimentTimelineReply,
  MetricReport,
  Verdict,
} from '../types';

// The CLI has no `experiments create` (yet): the API call that creates and starts one.
const CREATE_HINT =
  `curl -X POST localhost:8080/v1/experiments -H 'content-type: application/json' -d ` +
  `'{"id":"pop-vs-als","variants":[{"name":"control","control":true},{"name":"popular","model":"popularity"}],"start":true}'`;

export const metricLabel = (name: string) => name.replace(/_/g, ' ');

const STATUS_TONE: Readonly<Record<string, 'good' | 'info' | 'muted' | 'warn'>> = {
  running: 'good',
  draft: 'info',
  stopped: 'muted',
  off: 'muted',
};

function List() {
  const experiments = useApi<ExperimentsReply>('/v1/experiments', 30_000);
  return (
    <>
      <PageHead
        title="Experiments"
        sub="A/B tests on models, presets and policies, and the global holdout."
      />
      <Async state={experiments}>
        {(data) => (
          <Card title="All experiments" flush actions={<span>{data.experiments.length} defined</span>}>
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th>Experiment</th>
                    <th>Status</th>
                    <th>Variants</th>
                    <th>Metrics</th>
                    <th class="num">Traffic</th>
                    <th>Started</th>
                  </tr>
                </thead>
                <tbody>
                  {data.experiments.map((e) => (
                    <tr key={e.id} class="clickable" onClick={() => navigate('experiments', e.id)}>
                      <td>
                        <a href={href('experiments', e.id)}>
                          <b>{e.name || e.id}</b>
                        </a>
                        <div class="muted small">{e.id}</div>
                      </td>
                      <td>
                        <Badge tone={STATUS_TONE[e.status] ?? 'muted'}>{e.status}</Badge>
                      </td>
                      <td class="small">
                        {e.variants.map((v) => (
                          <div key={v.name}>
                            {v.name}
                            {v.control ? <span class="muted"> (control)</span> : null}
                            <span class="muted">
                              {' '}
                              · {fmtPct(v.weight / e.variants.reduce((sum, w) => sum + w.weight, 0), 0)}
                            </span>
                          </div>
                        ))}
                      </td>
                      <td class="small">
                        {e.metrics.map(metricLabel).join(', ')}
                        {e.guardrails.length > 0 ? (
                          <div class="muted">guardrails: {e.guardrails.map(metricLabel).join(', ')}</div>
                        ) : null}
                      </td>
                      <td class="num">{fmtPct(e.traffic, 0)}</td>
                      <td class="nowrap muted">
                        {e.started_at === null ? 'not started' : fmtDay(e.started_at)}
                      </td>
                    </tr>
                  ))}
                  <tr class="clickable" onClick={() => navigate('experiments', 'holdout')}>
                    <td>
                      <a href={href('experiments', 'holdout')}>
                        <b>Global holdout</b>
                      </a>
                      <div class="muted small">what personalization adds over popularity</div>
                    </td>
                    <td>
                      <Badge tone={data.holdout.share > 0 ? 'good' : 'muted'}>
                        {data.holdout.share > 0 ? 'running' : 'off'}
                      </Badge>
                    </td>
                    <td class="small">holdout · personalized</td>
                    <td class="small muted">default metrics</td>
                    <td class="num">{fmtPct(data.holdout.share, 1)}</td>
                    <td />
                  </tr>
                </tbody>
              </table>
            </div>
            {data.experiments.length === 0 ? (
              <Empty title="No experiments yet" command={CREATE_HINT}>
                Create one with <code>POST /v1/experiments</code> (with an admin key when the engine has
                keys): each user gets a sticky variant, and the report measures each metric from their first
                exposure.
              </Empty>
            ) : null}
          </Card>
        )}
      </Async>
    </>
  );
}

function toneOf(verdict: Verdict, higherIsBetter: boolean): Interval['tone'] {
  if (verdict.harmed) return 'bad';
  if (!verdict.significant) return 'neutral';
  return verdict.rel_lift > 0 === higherIsBetter ? 'good' : 'bad';
}

function intervals(metrics: readonly MetricReport[], many: boolean): Interval[] {
  return metrics.flatMap((m) =>
    m.verdicts.map((v) => ({
      label: metricLabel(m.metric),
      sub: many ? `${v.treatment}${m.role === 'guardrail' ? ' · guardrail' : ''}` : m.role,
      estimate: v.rel_lift,
      low: v.rel_ci[0],
      high: v.rel_ci[1],
      tone: toneOf(v, m.higher_is_better),
    })),
  );
}

function ResultsTable(props: { report: ExperimentReport }) {
  const { report } = props;
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th>Metric</th>
            <th>Treatment</th>
            <th class="num">Control</th>
            <th class="num">Treatment</th>
            <th class="num">Lift</th>
            <th class="num">95% interval</th>
            <th class="num">Chance to beat</th>
            <th class="num">p (Holm)</th>
            <th>Verdict</th>
          </tr>
        </thead>
        <tbody>
          {report.metrics.flatMap((m) => {
            if (m.analysis === null) {
              return [
                <tr key={m.metric}>
                  <td>
                    {metricLabel(m.metric)} <span class="muted small">{m.role}</span>
                  </td>
                  <td colSpan={8} class="muted">
                    {m.problem ?? 'not enough data yet'}
                  </td>
                </tr>,
              ];
            }
            const analysis = m.analysis;
            const mean = (variant: string) => {
              const summary = analysis.variants[variant] as
                { mean?: number; mean_value?: number } | undefined;
              return summary?.mean_value ?? summary?.mean;
            };
            return m.verdicts.map((v) => (
              <tr key={`${m.metric}-${v.treatment}`}>
                <td class="nowrap">
                  {metricLabel(m.metric)}{' '}
                  <span class="muted small">
                    {m.role}
                    {m.adjustment === 'cuped' ? ' · CUPED' : ''}
                  </span>
                </td>
                <td>{v.treatment}</td>
                <td class="num">{fmtNum(mean(report.control), 4)}</td>
                <td class="num">{fmtNum(mean(v.treatment), 4)}</td>
                <td class="num">
                  <b>{fmtLift(v.rel_lift)}</b>
                </td>
                <td class="num muted">
                  [{fmtLift(v.rel_ci[0])}, {fmtLift(v.rel_ci[1])}]
                </td>
                <td class="num">{fmtPct(v.chance_to_beat_control, 0)}</td>
                <td class="num">{fmtNum(v.p_adjusted, 3)}</td>
                <td>
                  {v.harmed ? (
                    <Badge tone="bad">{m.role === 'guardrail' ? 'guardrail tripped' : 'worse'}</Badge>
                  ) : v.significant ? (
                    <Badge tone={v.rel_lift > 0 === m.higher_is_better ? 'good' : 'bad'}>significant</Badge>
                  ) : (
                    <Badge>inconclusive</Badge>
                  )}
                </td>
              </tr>
            ));
          })}
        </tbody>
      </table>
    </div>
  );
}

/** The lift over time of one metric, per treatment with its interval, from the timeline or the report. */
function OverTime(props: { id: string; report: ExperimentReport }) {
  const timeline = useApi<ExperimentTimelineReply>(`/v1/dashboard/experiments/${enc(props.id)}/timeline`);
  const metrics = props.report.metrics;
  const [picked, setPicked] = useState(metrics[0]?.metric ?? '');
  if (timeline.loading && timeline.data === undefined) return <Spinner />;
  const metricTimeline = timeline.data?.metrics.find((m) => m.metric === picked);
  const report = metrics.find((m) => m.metric === picked);
  const treatments =
    props.report.metrics[0]?.verdicts.map((v) => v.treatment) ??
    Object.keys(props.report.exposed).filter((v) => v !== props.report.control);
  const selector = (
    <div class="segmented">
      {metrics.map((m) => (
        <button key={m.metric} class={m.metric === picked ? 'on' : ''} onClick={() => setPicked(m.metric)}>
          {metricLabel(m.metric)}
        </button>
      ))}
    </div>
  );

  let x: number[] = [];
  const lines: {
    label: string;
    values: (number | null)[];
    color: string;
    fillTo?: number;
    hidden?: boolean;
  }[] = [];
  if (metricTimeline !== undefined && metricTimeline.days.length > 0) {
    x = metricTimeline.days.map((d) => Date.parse(d.as_of) / 1000);
    treatments.forEach((t, i) => {
      const point = (day: (typeof metricTimeline.days)[number]) => day.variants.find((v) => v.variant === t);
      const at = lines.length;
      lines.push({
        label: `${t} lift`,
        values: metricTimeline.days.map((d) => point(d)?.rel_lift ?? null),
        color: colorAt(i),
      });
      lines.push({
        label: `${t} 95% low`,
        values: metricTimeline.days.map((d) => point(d)?.lift_ci_low ?? null),
        color: colorAt(i),
        hidden: true,
        fillTo: at + 2,
      });
      lines.push({
        label: `${t} 95% high`,
        values: metricTimeline.days.map((d) => point(d)?.lift_ci_high ?? null),
        color: colorAt(i),
        hidden: true,
      });
    });
  } else if (report !== undefined && report.series.length > 0) {
    x = report.series.map((p) => Date.parse(p.as_of) / 1000);
    treatments.forEach((t, i) => {
      const at = lines.length;
      lines.push({
        label: `${t} lift`,
        values: report.series.map((p) => p.lift[t]?.rel_lift ?? null),
        color: colorAt(i),
      });
      lines.push({
        label: `${t} 95% low`,
        values: report.series.map((p) => p.lift[t]?.ci_low ?? null),
        color: colorAt(i),
        hidden: true,
        fillTo: at + 2,
      });
      lines.push({
        label: `${t} 95% high`,
        values: report.series.map((p) => p.lift[t]?.ci_high ?? null),
        color: colorAt(i),
        hidden: true,
      });
    });
  }
  const hasValues = lines.some((l) => l.values.some((v) => v !== null));
  const exposure = timeline.data?.exposure ?? [];
  return (
    <div class="grid cols-2">
      <Card
        title="Cumulative lift over time"
        actions={<span>{report?.higher_is_better === false ? 'lower is better' : 'higher is better'}</span>}
      >
        <div class="chart-controls">{selector}</div>
        {x.length === 0 || !hasValues ? (
          <Empty title="Not enough days of data yet">
            The lift is computed day by day once each variant has a few exposed users with outcomes.
          </Empty>
        ) : (
          <Chart
            x={x}
            lines={lines}
            time
            zeroLine
            yLabel="relative lift"
            formatY={(v) => fmtLift(v, 0)}
            formatX={(v) => fmtDay(v * 1000)}
            height={240}
            testId="lift-over-time"
          />
        )}
      </Card>
      <Card title="Exposed users over time">
        {exposure.length === 0 ? (
          <Empty title="No exposures yet">
            Users are exposed when they are first served under the experiment.
          </Empty>
        ) : (
          <Chart
            x={exposure.map((d) => Date.parse(d.as_of) / 1000)}
            lines={(timeline.data?.variants ?? []).map((variant, i) => ({
              label: variant,
              values: exposure.map((d) => d.variants.find((v) => v.variant === variant)?.users ?? 0),
              color: colorAt(i),
            }))}
            time
            yLabel="users"
            formatY={fmtInt}
            formatX={(v) => fmtDay(v * 1000)}
            height={240}
            testId="exposure-over-time"
          />
        )}
      </Card>
    </div>
  );
}

function Detail(props: { id: string }) {
  const isHoldout = props.id === 'holdout';
  const experiment = useApi<ExperimentJson>(isHoldout ? null : `/v1/experiments/${enc(props.id)}`);
  const results = useApi<ExperimentReport>(`/v1/experiments/${enc(props.id)}/results`, 60_000);
  const report = results.data;
  const title = isHoldout ? 'Global holdout' : (experiment.data?.name ?? props.id);
  const notFound = results.error instanceof ApiError && results.error.status === 404;
  return (
    <>
      <PageHead
        title={
          <>
            <a href={href('experiments')} class="muted">
              Experiments
            </a>{' '}
            / {title}{' '}
            {report ? <Badge tone={STATUS_TONE[report.status] ?? 'muted'}>{report.status}</Badge> : null}
          </>
        }
        sub={
          report
            ? `As of ${fmtTime(report.as_of)} · ${fmtInt(report.scanned.events)} events and ${fmtInt(report.scanned.served_lists)} served lists read`
            : isHoldout
              ? 'Users held out get popularity, never personalization: the lift is what personalization adds.'
              : experiment.data?.description
        }
      />
      {notFound ? (
        <Card>
          <Empty title={`No experiment “${props.id}”`} command={CREATE_HINT}>
            It may have been deleted, or the id is mistyped.
          </Empty>
        </Card>
      ) : (
        <Async state={results} label="Computing the report…">
          {(data) => {
            const treatments = Object.keys(data.exposed).filter((v) => v !== data.control);
            const many = treatments.length > 1;
            const main = data.metrics.filter((m) => m.role !== 'guardrail');
            const guardrails = data.metrics.filter((m) => m.role === 'guardrail');
            const total = Object.values(data.exposed).reduce((s, n) => s + n, 0);
            const srm = data.sample_ratio;
            const rows = intervals([...main, ...guardrails], many).filter((r) =>
              [r.estimate, r.low, r.high].every((v) => typeof v === 'number' && Number.isFinite(v)),
            );
            const harmed = guardrails.filter((g) => g.verdicts.some((v) => v.harmed));
            return (
              <>
                {srm?.mismatch ? (
                  <div class="banner bad" role="alert" data-testid="srm-warning">
                    <b>Sample ratio mismatch.</b>
                    <span>
                      The exposed users do not split as the weights say (χ² {fmtNum(srm.chi2, 1)}, p ={' '}
                      {fmtNum(srm.p_value, 4)}). Assignment or exposure logging is broken for some variant; do
                      not trust the comparisons until it is fixed.
                    </span>
                  </div>
                ) : null}
                {harmed.length > 0 ? (
                  <div class="banner warn" role="alert">
                    <b>Guardrail tripped:</b> {harmed.map((g) => metricLabel(g.metric)).join(', ')}{' '}
                    significantly worse.
                  </div>
                ) : null}
                <div class="stats">
                  <Stat
                    label="Exposed users"
                    value={fmtInt(total)}
                    hint={`${Object.keys(data.exposed).length} variants`}
                  />
                  {Object.entries(data.exposed).map(([variant, n]) => (
                    <Stat
                      key={variant}
                      label={variant === data.control ? `${variant} (control)` : variant}
                      value={fmtInt(n)}
                      hint={total > 0 ? `${fmtPct(n / total)} of exposed` : 'no exposures yet'}
                    />
                  ))}
                  <Stat
                    label="Sample ratio"
                    value={srm === null ? '—' : srm.mismatch ? 'Mismatch' : 'OK'}
                    tone={srm === null ? undefined : srm.mismatch ? 'bad' : 'good'}
                    hint={srm === null ? 'needs exposures' : `χ² p = ${fmtNum(srm.p_value, 3)}`}
                  />
                </div>
                <Card
                  title="Lift per metric"
                  actions={
                    <span>
                      relative to {data.control} · 95% intervals · verdicts read the always-valid ones
                    </span>
                  }
                >
                  {rows.length === 0 ? (
                    <Empty title="No results yet">
                      {total === 0
                        ? 'No user has been exposed yet: start the experiment and serve recommendations.'
                        : 'Too few users with outcomes to compare the variants yet.'}
                    </Empty>
                  ) : (
                    <div data-testid="forest">
                      <Forest rows={rows} />
                    </div>
                  )}
                </Card>
                <div style={{ height: '16px' }} />
                <OverTime id={props.id} report={data} />
                <Card title="Results" flush>
                  <ResultsTable report={data} />
                </Card>
                <div style={{ height: '16px' }} />
                <div class="grid cols-2">
                  <Card title="Guardrails" flush>
                    {guardrails.length === 0 ? (
                      <Empty title="No guardrails">
                        Add metrics that must not get worse with <code>guardrails</code>.
                      </Empty>
                    ) : (
                      <table>
                        <tbody>
                          {guardrails.flatMap((g) =>
                            g.verdicts.length === 0
                              ? [
                                  <tr key={g.metric}>
                                    <td>{metricLabel(g.metric)}</td>
                                    <td class="muted" colSpan={2}>
                                      {g.problem ?? 'not enough data'}
                                    </td>
                                  </tr>,
                                ]
                              : g.verdicts.map((v) => (
                                  <tr key={`${g.metric}-${v.treatment}`}>
                                    <td>
                                      {metricLabel(g.metric)}{' '}
                                      {many ? <span class="muted">· {v.treatment}</span> : null}
                                    </td>
                                    <td class="num">
                                      {fmtLift(v.rel_lift)}{' '}
                                      <span class="muted small">
                                        [{fmtLift(v.rel_ci[0])}, {fmtLift(v.rel_ci[1])}]
                                      </span>
                                    </td>
                                    <td>
                                      {v.harmed ? (
                                        <Badge tone="bad">tripped</Badge>
                                      ) : (
                                        <Badge tone="good">holding</Badge>
                                      )}
                                    </td>
                                  </tr>
                                )),
                          )}
                        </tbody>
                      </table>
                    )}
                  </Card>
                  <Card title="Summary">
                    {data.summary.length === 0 ? (
                      <span class="muted">Nothing to summarise yet.</span>
                    ) : (
                      <ul class="summary-lines">
                        {data.summary.map((line) => (
                          <li key={line}>{line}</li>
                        ))}
                      </ul>
                    )}
                  </Card>
                </div>
                {!isHoldout && experiment.data ? (
                  <p class="muted small">
                    Created {fmtTime(experiment.data.created_at)} · layer {experiment.data.layer} · target{' '}
                    {experiment.data.target}
                    {experiment.data.started_at ? ` · started ${fmtTime(experiment.data.started_at)}` : ''}
                  </p>
                ) : null}
              </>
            );
          }}
        </Async>
      )}
    </>
  );
}

export function Experiments(props: { id: string | null }) {
  return props.id === null ? <List /> : <Detail id={props.id} key={props.id} />;
}
