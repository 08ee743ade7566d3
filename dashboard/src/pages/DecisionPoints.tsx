import { useState } from 'preact/hooks';
import { enc } from '../api';
import { Chart } from '../components/Chart';
import { Async, Badge, Card, Empty, KeyValues, PageHead, Stat } from '../components/ui';
import { fmtDay, fmtInt, fmtNum, fmtPct } from '../format';
import { useApi } from '../hooks';
import { href, navigate } from '../router';
import type { DecisionPointDetail, DecisionPointsReply, DecisionTimelineReply } from '../types';

const CREATE =
  'curl -X POST localhost:8080/v1/decision-points -H "content-type: application/json" -d @point.json';

function Timeline(props: { id: string }) {
  const [bucket, setBucket] = useState<'hour' | 'day'>('day');
  const timeline = useApi<DecisionTimelineReply>(
    `/v1/dashboard/decision-points/${enc(props.id)}/timeline?bucket=${bucket}&limit=${bucket === 'hour' ? 48 : 30}`,
    30_000,
  );
  const toggle = (
    <div class="segmented">
      {(['hour', 'day'] as const).map((b) => (
        <button key={b} class={b === bucket ? 'on' : ''} onClick={() => setBucket(b)}>
          by {b}
        </button>
      ))}
    </div>
  );
  const fmtX = (v: number) => (bucket === 'day' ? fmtDay(v * 1000) : new Date(v * 1000).toLocaleString());
  return (
    <Async state={timeline}>
      {(data) => {
        const x = data.buckets.map((b) => Date.parse(b.start) / 1000);
        const any = data.buckets.some((b) => b.decisions > 0);
        return (
          <div class="grid cols-2">
            <Card title="Reward over time" actions={toggle}>
              {!any ? (
                <Empty title={`No decisions in the last ${data.buckets.length} ${bucket}s`}>
                  Ask for decisions with <code>POST /v1/decisions/{props.id}</code>; rewards arrive by event
                  or by <code>POST /v1/decisions/{props.id}/reward</code>.
                </Empty>
              ) : (
                <Chart
                  x={x}
                  lines={[{ label: 'mean reward', values: data.buckets.map((b) => b.mean_reward) }]}
                  time
                  yLabel="mean reward"
                  formatY={(v) => fmtNum(v, 2)}
                  formatX={fmtX}
                  height={220}
                  testId="reward-over-time"
                />
              )}
            </Card>
            <Card
              title="Exploration rate"
              actions={
                <span>
                  {fmtInt(data.buckets.reduce((sum, b) => sum + b.decisions, 0))} decisions shown ·{' '}
                  {fmtInt(data.earlier)} earlier
                </span>
              }
            >
              {!any ? (
                <Empty title="Nothing to show yet" />
              ) : (
                <Chart
                  x={x}
                  lines={[
                    {
                      label: 'exploration rate',
                      values: data.buckets.map((b) => b.exploration_rate),
                      color: '#ea580c',
                    },
                    {
                      label: 'mean propensity',
                      values: data.buckets.map((b) => b.mean_propensity),
                      color: '#94a3b8',
                      dashed: true,
                    },
                  ]}
                  time
                  yRange={[0, 1]}
                  yLabel="share"
                  formatY={(v) => fmtPct(v, 0)}
                  formatX={fmtX}
                  height={220}
                  testId="exploration-over-time"
                />
              )}
            </Card>
          </div>
        );
      }}
    </Async>
  );
}

function Detail(props: { id: string }) {
  const point = useApi<DecisionPointDetail>(`/v1/decision-points/${enc(props.id)}`, 30_000);
  return (
    <>
      <PageHead
        title={
          <>
            <a href={href('decisions')} class="muted">
              Decision points
            </a>{' '}
            / {point.data?.name || props.id}
          </>
        }
        sub={point.data?.description}
      />
      <Async state={point} empty={{ not_found: () => <Empty title={`No decision point “${props.id}”`} /> }}>
        {(data) => {
          const status = data.status;
          return (
            <>
              {status?.guardrail?.tripped ? (
                <div class="banner bad" role="alert">
                  <b>Guardrail tripped:</b> the learner does worse than the default action; the default is
                  served.
                </div>
              ) : null}
              <div class="stats">
                <Stat
                  label="Decisions"
                  value={fmtInt(status?.decisions)}
                  hint={`${fmtInt(status?.open)} open`}
                />
                <Stat
                  label="Mean reward"
                  value={fmtNum(status?.mean_reward ?? null, 3)}
                  hint={`${fmtInt(status?.closed)} closed`}
                />
                <Stat
                  label="Learner"
                  value={data.learner.kind}
                  hint={`${fmtInt(status?.learner.updates)} updates`}
                />
                <Stat
                  label="Actions"
                  value={fmtInt(data.actions.length)}
                  hint={`default: ${data.default_action}`}
                />
              </div>
              <Timeline id={props.id} />
              <Card title="Definition">
                <KeyValues
                  rows={[
                    ['Mode', data.mode],
                    ['Actions', data.actions.map((a) => a.id).join(', ')],
                    [
                      'Reward',
                      data.reward.source === 'event'
                        ? `event “${data.reward.event ?? ''}” within ${data.reward.window}`
                        : `explicit, within ${data.reward.window}`,
                    ],
                    [
                      'Saved learner',
                      status?.learner.saved_version == null ? 'not yet' : `v${status.learner.saved_version}`,
                    ],
                  ]}
                />
              </Card>
            </>
          );
        }}
      </Async>
    </>
  );
}

function List() {
  const points = useApi<DecisionPointsReply>('/v1/decision-points');
  return (
    <>
      <PageHead
        title="Decision points"
        sub="Contextual bandits that choose an action per user and learn from the reward."
      />
      <Async state={points}>
        {(data) =>
          data.decision_points.length === 0 ? (
            <Card>
              <Empty title="No decision points yet" command={CREATE}>
                A decision point names the actions (banners, discounts, layouts), the reward event and the
                learner; then <code>POST /v1/decisions/:id</code> chooses for each user.
              </Empty>
            </Card>
          ) : (
            <Card title="All decision points" flush>
              <table>
                <thead>
                  <tr>
                    <th>Decision point</th>
                    <th>Learner</th>
                    <th>Mode</th>
                    <th>Actions</th>
                    <th>Reward</th>
                  </tr>
                </thead>
                <tbody>
                  {data.decision_points.map((p) => (
                    <tr key={p.id} class="clickable" onClick={() => navigate('decisions', p.id)}>
                      <td>
                        <a href={href('decisions', p.id)}>
                          <b>{p.name || p.id}</b>
                        </a>
                        <div class="muted small">{p.description}</div>
                      </td>
                      <td>
                        <Badge tone="info">{p.learner.kind}</Badge>
                      </td>
                      <td>{p.mode}</td>
                      <td class="small">{p.actions.map((a) => a.id).join(', ')}</td>
                      <td class="small">
                        {p.reward.source === 'event'
                          ? `${p.reward.event ?? ''} · ${p.reward.window}`
                          : `explicit · ${p.reward.window}`}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </Card>
          )
        }
      </Async>
    </>
  );
}

export function DecisionPoints(props: { id: string | null }) {
  return props.id === null ? <List /> : <Detail id={props.id} key={props.id} />;
}
