import { useState } from 'preact/hooks';
import { enc, query } from '../api';
import {
  Async,
  Badge,
  Card,
  Empty,
  ErrorBox,
  Json,
  KeyValues,
  Meter,
  PageHead,
  Spinner,
} from '../components/ui';
import { fmtAgo, fmtClock, fmtDay, fmtInt, fmtNum, fmtPct, fmtTime } from '../format';
import { useApi, useDebounced } from '../hooks';
import { href, navigate } from '../router';
import type {
  ChurnReply,
  ExplainReply,
  Explanation,
  FeaturesReply,
  RecommendationsReply,
  SegmentOfUserReply,
  UserEventsReply,
  UserReply,
  UsersReply,
} from '../types';
import { FeatureTable } from './Catalog';

function Picker(props: { selected: string | null }) {
  const [prefix, setPrefix] = useState('');
  const settled = useDebounced(prefix.trim(), 250);
  const users = useApi<UsersReply>(`/v1/dashboard/users${query({ prefix: settled, limit: 40 })}`);
  return (
    <Card
      title={
        <form
          class="toolbar"
          onSubmit={(e) => {
            e.preventDefault();
            if (prefix.trim() !== '') navigate('users', prefix.trim());
          }}
        >
          <input
            type="search"
            placeholder="User id or prefix"
            aria-label="User id or prefix"
            value={prefix}
            onInput={(e) => setPrefix((e.target as HTMLInputElement).value)}
            style={{ width: '100%' }}
          />
        </form>
      }
      flush
    >
      <Async state={users}>
        {(data) =>
          data.users.length === 0 ? (
            <Empty title={settled === '' ? 'No users yet' : `No user id starts with “${settled}”`}>
              {settled === '' ? 'Users appear once their events arrive.' : 'Press Enter to open it anyway.'}
            </Empty>
          ) : (
            <div class="pill-list" data-testid="user-list">
              {data.users.map((u) => (
                <a
                  key={u.user_id}
                  href={href('users', u.user_id)}
                  class={u.user_id === props.selected ? 'on' : ''}
                >
                  <span class="ellipsis">{u.user_id}</span>
                  <span class="muted small">
                    {fmtInt(u.events)} ev · {fmtAgo(u.last_seen)}
                  </span>
                </a>
              ))}
            </div>
          )
        }
      </Async>
    </Card>
  );
}

function ExplanationView(props: { explanation: Explanation }) {
  const e = props.explanation;
  switch (e.kind) {
    case 'neighbors': {
      const max = Math.max(...e.neighbors.map((n) => Math.abs(n.contribution)), 1e-9);
      return (
        <div>
          <div class="muted small">Because of these items in the history (item-to-item similarity):</div>
          {e.neighbors.map((n) => (
            <div class="bar-row" key={n.item_id}>
              <span class="ellipsis">
                <a href={href('catalog', n.item_id)}>{n.item_id}</a>{' '}
                <span class="muted small">{n.action ?? ''}</span>
              </span>
              <span class="bar-track">
                <span
                  class="bar-fill"
                  style={{
                    left: 0,
                    width: `${(Math.abs(n.contribution) / max) * 100}%`,
                    background: '#2563eb',
                  }}
                />
              </span>
              <span class="num small">{fmtNum(n.contribution, 3)}</span>
            </div>
          ))}
        </div>
      );
    }
    case 'blend':
      return (
        <div class="stack" style={{ gap: '8px' }}>
          {e.components.map((c) => (
            <div key={c.model}>
              <div>
                <b>{c.model}</b>{' '}
                <span class="muted small">
                  weight {fmtNum(c.weight, 2)} · contribution {fmtNum(c.contribution, 3)}
                </span>
              </div>
              {c.explanation !== null ? <ExplanationView explanation={c.explanation} /> : null}
            </div>
          ))}
        </div>
      );
    case 'factors':
    case 'features':
      return e.similar_items.length > 0 ? (
        <div>
          <div class="muted small">Closest items in the history (latent factors):</div>
          <div class="chips">
            {e.similar_items.map((s) => (
              <Badge key={s.item_id} tone="info">
                {s.item_id} · {fmtNum(s.similarity, 2)}
              </Badge>
            ))}
          </div>
        </div>
      ) : (
        <Json value={e} />
      );
    default:
      return <Json value={e} />;
  }
}

function Explain(props: { userId: string; itemId: string }) {
  const explain = useApi<ExplainReply>(
    `/v1/recommendations/explain${query({ user_id: props.userId, item_id: props.itemId, limit: 5 })}`,
  );
  return (
    <div class="rec-detail">
      <Async state={explain} label="Explaining…">
        {(data) => (
          <>
            <div class="small">
              <b>{data.reason}</b>{' '}
              <span class="muted">
                ({data.model}, score {fmtNum(data.score, 3)}
                {data.session
                  ? `, session +${fmtNum(data.session.added, 3)} from ${data.session.item_id}`
                  : ''}
                )
              </span>
            </div>
            {data.explanation !== null ? <ExplanationView explanation={data.explanation} /> : null}
          </>
        )}
      </Async>
    </div>
  );
}

function Recommendations(props: { userId: string }) {
  const recs = useApi<RecommendationsReply>(
    `/v1/recommendations${query({ user_id: props.userId, n: 10, preview: true })}`,
  );
  const [open, setOpen] = useState<string | null>(null);
  return (
    <Card
      title="Current recommendations"
      flush
      actions={
        recs.data ? (
          <span>
            {recs.data.model} · v{recs.data.model_version ?? '—'}
            {recs.data.fallback ? ` · fallback: ${recs.data.fallback}` : ''}
            {recs.data.holdout ? ' · in the global holdout' : ''}
          </span>
        ) : null
      }
    >
      <Async state={recs}>
        {(data) =>
          data.items.length === 0 ? (
            <Empty title="Nothing to recommend">
              Every candidate is filtered out (already seen, unavailable) or no model is trained yet.
            </Empty>
          ) : (
            <>
              {data.experiments.length > 0 ? (
                <div class="card-body small muted">
                  Experiments:{' '}
                  {data.experiments.map((e) => (
                    <Badge key={e.experiment} tone={e.control ? 'muted' : 'info'}>
                      {e.experiment}: {e.variant}
                    </Badge>
                  ))}
                </div>
              ) : null}
              <ol class="rec-list" data-testid="recommendations">
                {data.items.map((item, i) => (
                  <li key={item.item_id}>
                    <button
                      class="rec-row"
                      onClick={() => setOpen(open === item.item_id ? null : item.item_id)}
                    >
                      <span class="rec-rank">{i + 1}</span>
                      <span>
                        <a href={href('catalog', item.item_id)} onClick={(e) => e.stopPropagation()}>
                          {item.item_id}
                        </a>
                        <span class="rec-reason">{item.reason}</span>
                      </span>
                      <span class="num small muted">{fmtNum(item.score, 3)}</span>
                    </button>
                    {open === item.item_id ? <Explain userId={props.userId} itemId={item.item_id} /> : null}
                  </li>
                ))}
              </ol>
              <div class="card-foot">
                Asked live as a preview: the list the user would be served now, not logged as an impression
                and not counted as an experiment exposure.
              </div>
            </>
          )
        }
      </Async>
    </Card>
  );
}

const BAND_TONE: Readonly<Record<string, 'good' | 'warn' | 'bad'>> = {
  low: 'good',
  medium: 'warn',
  high: 'bad',
};

function Churn(props: { userId: string }) {
  const churn = useApi<ChurnReply>(`/v1/users/${enc(props.userId)}/churn`);
  return (
    <Card
      title="Churn risk"
      actions={
        churn.data ? (
          <span>
            {churn.data.model.kind} · v{churn.data.model.version}
          </span>
        ) : null
      }
    >
      <Async
        state={churn}
        empty={{
          no_churn_model: () => (
            <Empty title="No churn model yet" command="attune churn train">
              Train one from the event log to see each user's risk and what drives it.
            </Empty>
          ),
          not_found: () => <Empty title="No events for this user yet" />,
          consent_withheld: () => <Empty title="Withheld: the user's consent does not allow profiling" />,
        }}
      >
        {(data) => {
          const max = Math.max(...data.drivers.map((d) => Math.abs(d.contribution)), 1e-9);
          return (
            <>
              <div class="toolbar" style={{ marginBottom: '8px' }}>
                <span class="stat-value" style={{ marginTop: 0 }}>
                  {fmtPct(data.probability, 0)}
                </span>
                <Badge tone={BAND_TONE[data.risk_band] ?? 'warn'}>{data.risk_band} risk</Badge>
                <span class="muted small">no activity within {data.model.window_days} days</span>
              </div>
              {data.drivers.map((d) => (
                <div
                  class="bar-row driver"
                  key={d.feature}
                  title={`${d.text}: ${fmtNum(d.contribution, 3)} log-odds`}
                >
                  <span class="small">{d.text}</span>
                  <span class="bar-track">
                    <span
                      class="bar-fill"
                      style={{
                        left: d.contribution >= 0 ? '50%' : `${50 - (Math.abs(d.contribution) / max) * 50}%`,
                        width: `${(Math.abs(d.contribution) / max) * 50}%`,
                        background: d.contribution >= 0 ? '#ef4444' : '#22c55e',
                      }}
                    />
                  </span>
                  <span class="num small muted">
                    {d.contribution >= 0 ? '+' : '−'}
                    {fmtNum(Math.abs(d.contribution), 2)}
                  </span>
                </div>
              ))}
            </>
          );
        }}
      </Async>
    </Card>
  );
}

function Segment(props: { userId: string }) {
  const segment = useApi<SegmentOfUserReply>(`/v1/users/${enc(props.userId)}/segment`);
  return (
    <Card title="Segment" actions={<a href={href('segments')}>All segments →</a>}>
      <Async
        state={segment}
        empty={{
          no_segments_model: () => (
            <Empty title="No segments yet" command="attune segments train">
              Cluster users by behaviour to see which group this one belongs to.
            </Empty>
          ),
          not_found: () => <Empty title="No events for this user yet" />,
          consent_withheld: () => <Empty title="Withheld: the user's consent does not allow profiling" />,
        }}
      >
        {(data) => (
          <>
            <div>
              <Badge tone="info">{data.segment.id}</Badge> {data.segment.description}
            </div>
            <div class="toolbar small muted" style={{ marginTop: '8px' }}>
              confidence <Meter value={data.confidence} /> {fmtPct(data.confidence, 0)} · distance{' '}
              {fmtNum(data.distance, 2)}
            </div>
          </>
        )}
      </Async>
    </Card>
  );
}

function History(props: { userId: string }) {
  const events = useApi<UserEventsReply>(`/v1/users/${enc(props.userId)}/events?limit=50`);
  return (
    <Card title="History" flush actions={<a href={`${href('events')}`}>Live events →</a>}>
      <Async state={events}>
        {(data) =>
          data.events.length === 0 ? (
            <Empty title="No events stored for this user" />
          ) : (
            <div class="table-wrap" style={{ maxHeight: '640px', overflowY: 'auto' }}>
              <table>
                <thead>
                  <tr>
                    <th>Time</th>
                    <th>Event</th>
                    <th>Item</th>
                  </tr>
                </thead>
                <tbody>
                  {data.events.map((e) => (
                    <tr key={e.event_id}>
                      <td class="nowrap" title={e.timestamp}>
                        {fmtDay(e.timestamp)} <span class="muted">{fmtClock(e.timestamp)}</span>
                      </td>
                      <td class="nowrap">{e.event}</td>
                      <td class="nowrap">
                        {e.item_id === null ? '—' : <a href={href('catalog', e.item_id)}>{e.item_id}</a>}
                      </td>
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

function Inspector(props: { userId: string }) {
  const user = useApi<UserReply>(`/v1/users/${enc(props.userId)}`);
  const features = useApi<FeaturesReply>(`/v1/users/${enc(props.userId)}/features`);
  return (
    <div class="stack">
      <div class="grid cols-3" style={{ marginBottom: 0 }}>
        <Card title="Profile">
          {user.error && 'status' in user.error && user.error.status === 404 ? (
            <div class="muted">No stored traits (the user is known from events only).</div>
          ) : user.error ? (
            <ErrorBox error={user.error} />
          ) : user.data ? (
            <KeyValues
              rows={[
                [
                  'Consent',
                  <Badge tone={user.data.user.consent === 'full' ? 'good' : 'warn'}>
                    {user.data.user.consent}
                  </Badge>,
                ],
                ...(user.data.user.created_at
                  ? [['Created', fmtTime(user.data.user.created_at)] as const]
                  : []),
                ...Object.entries(user.data.user.traits)
                  .slice(0, 8)
                  .map(([k, v]) => [k, typeof v === 'object' ? JSON.stringify(v) : String(v)] as const),
              ]}
            />
          ) : (
            <Spinner />
          )}
        </Card>
        <Segment userId={props.userId} />
        <Churn userId={props.userId} />
      </div>
      <div class="grid cols-2" style={{ marginBottom: 0 }}>
        <Recommendations userId={props.userId} />
        <History userId={props.userId} />
      </div>
      <Card
        title="Features"
        flush
        actions={features.data ? <span>at {fmtTime(features.data.at)}</span> : null}
      >
        <Async
          state={features}
          empty={{
            not_found: () => <Empty title="No features: no events for this user yet" />,
            consent_withheld: () => <Empty title="Withheld by the user's consent" />,
          }}
        >
          {(data) => (
            <div class="features-grid">
              <FeatureTable features={data.features} />
            </div>
          )}
        </Async>
      </Card>
    </div>
  );
}

export function Users(props: { id: string | null }) {
  return (
    <>
      <PageHead
        title={props.id === null ? 'Users' : <>Users / {props.id}</>}
        sub="Pick a user: their history, features, segment, churn risk and the list they would be served now."
      />
      <div class="grid side">
        <Picker selected={props.id} />
        {props.id === null ? (
          <Card>
            <Empty title="Pick a user on the left">
              The most recently active users are listed first; type an id or a prefix to find one.
            </Empty>
          </Card>
        ) : (
          <Inspector userId={props.id} key={props.id} />
        )}
      </div>
    </>
  );
}
