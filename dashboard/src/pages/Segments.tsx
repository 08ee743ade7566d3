import { Scatter } from '../components/Scatter';
import { colorAt } from '../components/Chart';
import { Async, Badge, Card, Empty, Meter, PageHead, Stat } from '../components/ui';
import { fmtInt, fmtNum, fmtPct, fmtTime } from '../format';
import { useApi } from '../hooks';
import { navigate } from '../router';
import type { ProjectionReply, SegmentsReply } from '../types';

const TRAIN = 'attune segments train';

function Projection(props: { groups: readonly string[] }) {
  const projection = useApi<ProjectionReply>('/v1/dashboard/segments/projection?limit=800');
  return (
    <Card
      title="Users on two principal axes"
      actions={
        projection.data ? (
          <span title="share of the variance along each axis">
            {fmtInt(projection.data.points.length)} recent users · axes{' '}
            {fmtPct(projection.data.explained_variance[0], 0)} +{' '}
            {fmtPct(projection.data.explained_variance[1], 0)} of variance
          </span>
        ) : null
      }
    >
      <Async
        state={projection}
        empty={{ no_segments_model: () => <Empty title="No segments yet" command={TRAIN} /> }}
      >
        {(data) =>
          data.points.length < 2 ? (
            <Empty title="Too few users to plot" />
          ) : (
            <div data-testid="projection">
              <Scatter
                points={data.points.map((p) => ({ x: p.x, y: p.y, group: p.segment, label: p.user_id }))}
                centres={data.centres.map((c) => ({ group: c.segment, x: c.x, y: c.y }))}
                groups={props.groups}
                xLabel="first principal component"
                yLabel="second principal component"
                onPick={(user) => navigate('users', user)}
              />
            </div>
          )
        }
      </Async>
    </Card>
  );
}

export function Segments() {
  const segments = useApi<SegmentsReply>('/v1/segments');
  return (
    <>
      <PageHead title="Segments" sub="Users clustered by behaviour, each described by what sets it apart." />
      <Async
        state={segments}
        empty={{
          no_segments_model: () => (
            <Card>
              <Empty title="No segments yet" command={TRAIN}>
                Segmentation clusters users on their behavioural features (frequency, recency, spend,
                favourite categories) and names each group by what sets it apart.
              </Empty>
            </Card>
          ),
        }}
      >
        {(data) => {
          const groups = data.segments.map((s) => s.id);
          const largest = Math.max(...data.segments.map((s) => s.share), 1e-9);
          return (
            <>
              <div class="stats">
                <Stat label="Segments" value={fmtInt(data.segments.length)} hint={data.model.algorithm} />
                <Stat
                  label="Users"
                  value={fmtInt(data.model.users)}
                  hint={`features at ${fmtTime(data.model.features_at)}`}
                />
                <Stat
                  label="Silhouette"
                  value={fmtNum(data.model.silhouette, 2)}
                  hint="−1 to 1: how well separated the groups are"
                />
                <Stat
                  label="Version"
                  value={`v${data.model.version}`}
                  hint={`trained ${fmtTime(data.model.trained_at)}`}
                />
              </div>
              <div class="grid cols-2">
                <Card title="Segments" flush>
                  <table>
                    <thead>
                      <tr>
                        <th>Segment</th>
                        <th class="num">Users</th>
                        <th>Share</th>
                        <th>What sets it apart</th>
                      </tr>
                    </thead>
                    <tbody>
                      {data.segments.map((s, i) => (
                        <tr key={s.id}>
                          <td class="nowrap">
                            <span class="swatch" style={{ background: colorAt(i) }} />
                            <b>{s.id}</b>
                          </td>
                          <td class="num">{fmtInt(s.size)}</td>
                          <td class="nowrap">
                            <Meter value={s.share / largest} />{' '}
                            <span class="small muted">{fmtPct(s.share, 0)}</span>
                          </td>
                          <td>
                            <div>{s.description}</div>
                            <div class="chips" style={{ marginTop: '3px' }}>
                              {s.features.slice(0, 3).map((f) => (
                                <Badge key={f.column} tone={f.direction === 'higher' ? 'info' : 'muted'}>
                                  {f.name}: {fmtNum(f.segment_mean, 2)} vs {fmtNum(f.rest_mean, 2)}
                                </Badge>
                              ))}
                            </div>
                          </td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </Card>
                <Projection groups={groups} />
              </div>
            </>
          );
        }}
      </Async>
    </>
  );
}
