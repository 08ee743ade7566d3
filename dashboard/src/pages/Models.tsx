import { useState } from 'preact/hooks';
import { Chart } from '../components/Chart';
import { Async, Badge, Card, Empty, KeyValues, Meter, PageHead } from '../components/ui';
import { fmtAgo, fmtBytes, fmtInt, fmtNum, fmtTime } from '../format';
import { useApi } from '../hooks';
import type { ModelVersion, ModelsReply, TrialJson } from '../types';

const PARAMS_SHOWN = 110;

/** Parameters in one line: `k=v …`, a blend as its weighted components. */
export function params(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value !== 'object') return String(value);
  const record = value as Record<string, unknown>;
  if (Array.isArray(record['components'])) {
    return (record['components'] as { model?: unknown; weight?: unknown }[])
      .map((c) => `${String(c.model)} ×${typeof c.weight === 'number' ? +c.weight.toFixed(3) : '?'}`)
      .join(' + ');
  }
  return Object.entries(record)
    .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join(' ');
}

function Params(props: { value: unknown }) {
  const text = params(props.value);
  const full = typeof props.value === 'object' ? JSON.stringify(props.value) : text;
  return (
    <span class="mono small muted" title={full}>
      {text.length > PARAMS_SHOWN ? `${text.slice(0, PARAMS_SHOWN)}…` : text || '—'}
    </span>
  );
}

function History(props: { versions: readonly ModelVersion[] }) {
  // Oldest first along the x axis: the version number.
  const versions = [...props.versions].sort((a, b) => a.version - b.version);
  const measured = versions.some((v) => v.validation !== null && v.validation.ndcg_at_20 !== null);
  const x = versions.map((v) => v.version);
  return (
    <Card
      title="Offline nDCG@20 by version"
      actions={
        <span>
          temporal validation cut ·{' '}
          {versions.length === 1 ? 'one version so far' : `${versions.length} versions`}
        </span>
      }
    >
      {!measured ? (
        <Empty title="No version was measured">
          Automatic selection measures each candidate on a temporal validation cut; with a model fixed by
          configuration nothing is measured (<code>ATTUNE_MODEL=auto</code>).
        </Empty>
      ) : (
        <Chart
          x={x}
          xTicks={x}
          lines={[
            { label: 'chosen', values: versions.map((v) => v.validation?.ndcg_at_20 ?? null) },
            {
              label: 'best single model',
              values: versions.map((v) => {
                const scores = v.tried
                  .filter((t) => t.model !== 'blend')
                  .map((t) => t.val_ndcg)
                  .filter((s): s is number => s !== null);
                return scores.length === 0 ? null : Math.max(...scores);
              }),
              dashed: true,
              color: '#64748b',
            },
            {
              label: 'popularity',
              values: versions.map((v) => v.tried.find((t) => t.model === 'popularity')?.val_ndcg ?? null),
              dashed: true,
              color: '#d97706',
            },
          ]}
          xLabel="model version"
          yLabel="nDCG@20"
          formatX={(n) => `v${n}`}
          formatY={(v) => v.toFixed(3)}
          height={230}
          testId="ndcg-history"
        />
      )}
    </Card>
  );
}

/** The best validation score each model family reached in one version's selection. */
function Families(props: { version: ModelVersion }) {
  const best = new Map<string, number>();
  for (const t of props.version.tried) {
    if (t.val_ndcg === null) continue;
    best.set(t.model, Math.max(best.get(t.model) ?? -Infinity, t.val_ndcg));
  }
  const families = [...best].sort((a, b) => b[1] - a[1]);
  const chosen = props.version.chosen?.model;
  return (
    <Card
      title={`Best of each model family · v${props.version.version}`}
      actions={<span>validation nDCG@20</span>}
    >
      {families.length === 0 ? (
        <Empty title="No candidates were measured for this version" />
      ) : (
        <div class="family-bars">
          {families.map(([model, score]) => (
            <div class="bar-row" key={model}>
              <span>
                {model === chosen ? <b>{model}</b> : model}{' '}
                {model === chosen ? <Badge tone="good">chosen</Badge> : null}
              </span>
              <span class="bar-track">
                <span
                  class="bar-fill"
                  style={{
                    left: 0,
                    width: `${(score / (families[0]?.[1] || 1)) * 100}%`,
                    background: model === chosen ? '#16a34a' : '#2563eb',
                  }}
                />
              </span>
              <span class="num small">{fmtNum(score, 4)}</span>
            </div>
          ))}
        </div>
      )}
    </Card>
  );
}

const COLLAPSED = 12;

function Candidates(props: { version: ModelVersion }) {
  const [all, setAll] = useState(false);
  const tried = props.version.tried;
  if (tried.length === 0) {
    return (
      <Empty title="No selection for this version">
        The model was fixed by configuration, so no candidates were tried. Set <code>ATTUNE_MODEL=auto</code>{' '}
        to let training measure and choose.
      </Empty>
    );
  }
  const best = Math.max(...tried.map((t) => t.val_ndcg ?? 0), 1e-9);
  const rank = (t: TrialJson) => (t.chosen ? 0 : t.val_ndcg === null ? 2 : 1);
  const sorted = [...tried].sort((a, b) => rank(a) - rank(b) || (b.val_ndcg ?? -1) - (a.val_ndcg ?? -1));
  return (
    <div class="table-wrap">
      <table data-testid="candidates">
        <thead>
          <tr>
            <th>Candidate</th>
            <th>Parameters</th>
            <th class="num">nDCG@20</th>
            <th />
            <th class="num">ms / user</th>
            <th class="num">Fit s</th>
            <th>Note</th>
          </tr>
        </thead>
        <tbody>
          {(all ? sorted : sorted.slice(0, COLLAPSED)).map((t, i) => (
            <tr key={i} class={t.chosen ? 'selected' : ''}>
              <td class="nowrap">
                {t.chosen ? <Badge tone="good">✓ chosen</Badge> : null} <b>{t.model}</b>
              </td>
              <td class="wrap">
                <Params value={t.params} />
              </td>
              <td class="num">{fmtNum(t.val_ndcg, 4)}</td>
              <td>
                {t.val_ndcg !== null ? (
                  <Meter value={t.val_ndcg / best} tone={t.chosen ? 'good' : 'info'} />
                ) : null}
              </td>
              <td class="num">{fmtNum(t.ms_per_user, 2)}</td>
              <td class="num">{fmtNum(t.seconds, 1)}</td>
              <td class="small">
                {t.over_budget ? <Badge tone="warn">over budget</Badge> : null}
                {t.skipped !== null ? <span class="muted">{t.skipped}</span> : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {sorted.length > COLLAPSED ? (
        <div class="card-body">
          <button onClick={() => setAll(!all)}>
            {all ? 'Show the best 12' : `Show all ${sorted.length} candidates`}
          </button>
        </div>
      ) : null}
    </div>
  );
}

function VersionDetail(props: { version: ModelVersion }) {
  const v = props.version;
  const reranker = v.reranker;
  return (
    <KeyValues
      rows={[
        ['Chosen', v.chosen ? <b>{v.chosen.model}</b> : (v.primary_model ?? '—')],
        ['Parameters', <Params value={v.chosen?.params} />],
        ['Trained', `${fmtTime(v.trained_at ?? v.created_at)} (${fmtAgo(v.trained_at ?? v.created_at)})`],
        [
          'Data',
          `${fmtInt(v.events_read)} events · ${fmtInt(v.users)} users · ${fmtInt(v.items)} items · ${fmtInt(v.interactions)} interactions`,
        ],
        ['Log position', fmtInt(v.position)],
        [
          'Validation',
          v.validation
            ? `${fmtInt(v.validation.users)} users, ${fmtInt(v.validation.pairs)} pairs, ${fmtNum(v.validation.seconds, 1)} s${v.validation.fallback ? ` — ${v.validation.fallback}` : ''}`
            : 'not measured',
        ],
        [
          'Re-ranker',
          reranker === null
            ? 'not tried'
            : reranker.chosen
              ? `kept: nDCG ${fmtNum(reranker.ndcg, 4)} against ${fmtNum(reranker.generator_ndcg, 4)} without`
              : `not kept${reranker.skipped ? ` (${reranker.skipped})` : ''}`,
        ],
        ['Size', fmtBytes(v.bytes)],
      ]}
    />
  );
}

export function Models() {
  const models = useApi<ModelsReply>('/v1/dashboard/models', 30_000);
  const [picked, setPicked] = useState<number | null>(null);
  return (
    <>
      <PageHead
        title="Models"
        sub="Every trained version: what automatic selection tried on the validation cut, and what it chose."
        actions={
          models.data?.training.state === 'running' ? (
            <Badge tone="info">
              training{models.data.training.stage ? `: ${models.data.training.stage}` : ''}…
            </Badge>
          ) : null
        }
      />
      <Async state={models}>
        {(data) => {
          if (data.versions.length === 0) {
            return (
              <Card>
                <Empty title="No model trained yet" command="attune train">
                  Training reads the event log, tries each model on a temporal validation cut and keeps the
                  best one. The engine also trains on its schedule once events arrive.
                </Empty>
              </Card>
            );
          }
          const selected =
            data.versions.find((v) => v.version === picked) ??
            data.versions.find((v) => v.serving) ??
            data.versions[0]!;
          return (
            <>
              <div class="grid cols-2">
                <History versions={data.versions} />
                <Families version={selected} />
              </div>
              <div class="grid side">
                <Card title="Versions" flush>
                  <div class="pill-list">
                    {data.versions.map((v) => (
                      <button
                        key={v.version}
                        class={v === selected ? 'on' : ''}
                        onClick={() => setPicked(v.version)}
                      >
                        <span>
                          <b>v{v.version}</b>{' '}
                          <span class="muted">{v.chosen?.model ?? v.primary_model ?? ''}</span>
                        </span>
                        <span class="small muted">
                          {v.serving ? (
                            <Badge tone="good">serving</Badge>
                          ) : (
                            fmtNum(v.validation?.ndcg_at_20 ?? null, 3)
                          )}
                        </span>
                      </button>
                    ))}
                  </div>
                </Card>
                <div class="stack">
                  <Card
                    title={
                      <>
                        Version {selected.version}{' '}
                        {selected.serving ? <Badge tone="good">serving</Badge> : null}
                      </>
                    }
                  >
                    <VersionDetail version={selected} />
                  </Card>
                  <Card
                    title="Selection candidates"
                    flush
                    actions={<span>{selected.tried.length} tried</span>}
                  >
                    <Candidates version={selected} />
                  </Card>
                </div>
              </div>
            </>
          );
        }}
      </Async>
    </>
  );
}
