import { Chart } from '../components/Chart';
import { Async, Badge, Card, Empty, KeyValues, PageHead, Stat } from '../components/ui';
import { fmtAgo, fmtCompact, fmtInt, fmtNum, fmtPct, fmtTime } from '../format';
import { useApi } from '../hooks';
import { href } from '../router';
import type { ExperimentsReply, ModelsReply, OverviewReply } from '../types';

const seconds = (iso: string) => Date.parse(iso) / 1000;

function uptime(total: number): string {
  if (total < 3600) return `${Math.round(total / 60)} min`;
  if (total < 86_400) return `${(total / 3600).toFixed(1)} h`;
  return `${(total / 86_400).toFixed(1)} days`;
}

function Charts(props: { data: OverviewReply }) {
  const { data } = props;
  const perMinute = data.events_per_minute;
  const perDay = data.events_per_day;
  const lastHour = perMinute.reduce((sum, p) => sum + p.count, 0);
  return (
    <div class="grid cols-2">
      <Card title="Events per minute" actions={<span>last hour · {fmtInt(lastHour)} events</span>}>
        {lastHour === 0 ? (
          <Empty title="No events in the last hour">
            Send events to <code>POST /v1/events</code> (or replay a file with <code>attune import</code>);
            the daily chart beside this one shows older traffic.
          </Empty>
        ) : (
          <Chart
            x={perMinute.map((p) => seconds(p.start))}
            lines={[{ label: 'events', values: perMinute.map((p) => p.count), bars: true }]}
            time
            yLabel="events / min"
            formatY={fmtCompact}
            height={200}
            testId="events-per-minute"
          />
        )}
      </Card>
      <Card
        title="Events per day"
        actions={<span>last 30 days · {fmtInt(perDay.reduce((sum, p) => sum + p.count, 0))} events</span>}
      >
        {perDay.every((p) => p.count === 0) ? (
          <Empty title="No events in the last 30 days">
            The event log holds {fmtInt(data.totals.events)} older events; new ones are counted here by their
            timestamp.
          </Empty>
        ) : (
          <Chart
            x={perDay.map((p) => seconds(p.start))}
            lines={[{ label: 'events', values: perDay.map((p) => p.count), bars: true, color: '#7c3aed' }]}
            time
            yLabel="events / day"
            formatY={fmtCompact}
            formatX={(v) => new Date(v * 1000).toLocaleDateString()}
            height={200}
            testId="events-per-day"
          />
        )}
      </Card>
    </div>
  );
}

function ServingModel(props: { data: OverviewReply }) {
  const model = props.data.model;
  if (model === null) {
    return (
      <Card title="Serving model">
        <Empty title="No model trained yet" command="attune train">
          The engine serves popularity until a first model is trained from the event log.
        </Empty>
      </Card>
    );
  }
  const reranker = model.reranker;
  return (
    <Card
      title={
        <>
          Serving model <Badge tone="info">v{model.version}</Badge>
        </>
      }
      actions={<a href={href('models')}>All versions →</a>}
    >
      <KeyValues
        rows={[
          ['Model', <b>{model.chosen.model}</b>],
          ['Validation nDCG@20', model.validation ? fmtNum(model.validation.ndcg_at_20, 4) : 'not measured'],
          ['Trained', `${fmtTime(model.trained_at)} (${fmtAgo(model.trained_at)})`],
          [
            'Trained on',
            `${fmtInt(model.events_read)} events · ${fmtInt(model.users)} users · ${fmtInt(model.items)} items`,
          ],
          [
            'Re-ranker',
            reranker === null
              ? 'not tried'
              : reranker.chosen
                ? `on (nDCG ${fmtNum(reranker.ndcg, 4)} vs ${fmtNum(reranker.generator_ndcg, 4)})`
                : `off${reranker.skipped ? `: ${reranker.skipped}` : ''}`,
          ],
        ]}
      />
    </Card>
  );
}

function Versions() {
  const models = useApi<ModelsReply>('/v1/dashboard/models');
  return (
    <Card title="Model versions" flush actions={<a href={href('models')}>Details →</a>}>
      <Async state={models}>
        {(data) =>
          data.versions.length === 0 ? (
            <Empty title="No versions yet" command="attune train" />
          ) : (
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th>Version</th>
                    <th>Model</th>
                    <th class="num">nDCG@20</th>
                    <th>Trained</th>
                  </tr>
                </thead>
                <tbody>
                  {data.versions.slice(0, 6).map((v) => (
                    <tr key={v.version}>
                      <td class="nowrap">
                        v{v.version} {v.serving ? <Badge tone="good">serving</Badge> : null}
                      </td>
                      <td>{v.chosen?.model ?? v.primary_model ?? '—'}</td>
                      <td class="num">{fmtNum(v.validation?.ndcg_at_20 ?? null, 4)}</td>
                      <td class="nowrap muted">{fmtAgo(v.trained_at ?? v.created_at)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </Async>
    </Card>
  );
}

function RunningExperiments() {
  const experiments = useApi<ExperimentsReply>('/v1/experiments');
  return (
    <Card title="Experiments" flush actions={<a href={href('experiments')}>All →</a>}>
      <Async state={experiments}>
        {(data) => {
          const running = data.experiments.filter((e) => e.status === 'running');
          return (
            <div class="pill-list">
              {running.map((e) => (
                <a key={e.id} href={href('experiments', e.id)}>
                  <span>{e.name || e.id}</span>
                  <Badge tone="good">running</Badge>
                </a>
              ))}
              <a href={href('experiments', 'holdout')}>
                <span>Global holdout</span>
                <Badge tone={data.holdout.share > 0 ? 'info' : 'muted'}>
                  {data.holdout.share > 0 ? `${fmtPct(data.holdout.share, 0)} held out` : 'off'}
                </Badge>
              </a>
              {running.length === 0 ? (
                <div class="empty small">
                  No experiment is running — create one with <code>attune experiments create</code>.
                </div>
              ) : null}
            </div>
          );
        }}
      </Async>
    </Card>
  );
}

export function Overview() {
  const overview = useApi<OverviewReply>('/v1/dashboard/overview', 10_000);
  return (
    <>
      <PageHead
        title="Overview"
        sub={
          overview.data
            ? `As of ${fmtTime(overview.data.as_of)} · refreshes every 10 s`
            : 'What the engine is doing now'
        }
      />
      <Async state={overview}>
        {(data) => {
          const ctr = data.click_through;
          const perMinute = data.events_per_minute;
          const lastMinutes = perMinute.slice(-5);
          const rate = lastMinutes.reduce((s, p) => s + p.count, 0) / Math.max(1, lastMinutes.length);
          const ready = data.health.status === 'ready';
          return (
            <>
              <div class="stats">
                <Stat
                  label="Health"
                  value={ready ? 'Ready' : 'Starting'}
                  tone={ready ? 'good' : 'warn'}
                  hint={`${data.store} store · up ${uptime(data.uptime_seconds)}${data.training.state === 'running' ? ' · training…' : ''}`}
                />
                <Stat
                  label="Events / min"
                  value={fmtNum(rate, rate < 10 ? 1 : 0)}
                  hint="mean of the last 5 minutes"
                />
                <Stat
                  label="Active users"
                  value={fmtCompact(data.active_users.last_day)}
                  hint={`${fmtInt(data.active_users.last_hour)} last hour · ${fmtCompact(data.active_users.last_7_days)} in 7 days`}
                />
                <Stat
                  label="Click-through"
                  value={fmtPct(ctr.last_7_days.rate)}
                  hint={`${fmtInt(ctr.last_7_days.clicked)} of ${fmtInt(ctr.last_7_days.lists)} lists in 7 days · 24 h: ${fmtPct(ctr.last_24_hours.rate)}`}
                />
                <Stat
                  label="Stored"
                  value={fmtCompact(data.totals.events)}
                  hint={`events · ${fmtCompact(data.totals.users)} users · ${fmtCompact(data.totals.items)} items`}
                />
                <Stat
                  label="Model"
                  value={data.model ? `v${data.model.version}` : 'none'}
                  tone={data.model ? undefined : 'warn'}
                  hint={data.model ? data.model.chosen.model : 'serving popularity'}
                />
              </div>
              <Charts data={data} />
              <div class="grid cols-3">
                <ServingModel data={data} />
                <Versions />
                <RunningExperiments />
              </div>
            </>
          );
        }}
      </Async>
    </>
  );
}
