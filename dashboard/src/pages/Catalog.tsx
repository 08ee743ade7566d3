import { useState } from 'preact/hooks';
import { enc, query } from '../api';
import { Async, Badge, Card, Empty, Json, KeyValues, PageHead } from '../components/ui';
import { fmtDay, fmtNum, fmtTime } from '../format';
import { useApi } from '../hooks';
import { href, navigate } from '../router';
import type { FeaturesReply, ItemJson, ItemsReply, SimilarReply } from '../types';

const PAGE = 50;

function Chips(props: { values: readonly string[]; tone?: 'info' | 'muted' }) {
  return props.values.length === 0 ? (
    <span class="muted">—</span>
  ) : (
    <span class="chips">
      {props.values.map((v) => (
        <Badge key={v} tone={props.tone ?? 'muted'}>
          {v}
        </Badge>
      ))}
    </span>
  );
}

/** The item's display name when its attributes carry one. */
export function titleOf(item: ItemJson): string | null {
  const title = item.attributes['title'] ?? item.attributes['name'];
  return typeof title === 'string' && title !== '' ? title : null;
}

function price(item: ItemJson): string {
  return item.price === null ? '—' : item.price.toFixed(2);
}

function Browse() {
  // Cursor pages: the ids after which each page starts, so "Previous" can step back.
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const [filter, setFilter] = useState('');
  const [goTo, setGoTo] = useState('');
  const after = cursors[cursors.length - 1];
  const items = useApi<ItemsReply>(`/v1/items${query({ limit: PAGE, after })}`);
  const needle = filter.trim().toLowerCase();
  return (
    <Card
      title={
        <div class="toolbar">
          <form
            class="toolbar"
            onSubmit={(e) => {
              e.preventDefault();
              if (goTo.trim() !== '') navigate('catalog', goTo.trim());
            }}
          >
            <input
              type="search"
              placeholder="Open item by id"
              aria-label="Open item by id"
              value={goTo}
              onInput={(e) => setGoTo((e.target as HTMLInputElement).value)}
            />
            <button type="submit">Open</button>
          </form>
          <input
            type="search"
            placeholder="Filter this page"
            aria-label="Filter this page"
            value={filter}
            onInput={(e) => setFilter((e.target as HTMLInputElement).value)}
          />
        </div>
      }
      actions={
        <>
          <span>page {cursors.length}</span>
          <button disabled={cursors.length === 1} onClick={() => setCursors(cursors.slice(0, -1))}>
            ← Previous
          </button>
          <button
            disabled={items.data?.next === null || items.data === undefined}
            onClick={() => items.data?.next && setCursors([...cursors, items.data.next])}
          >
            Next →
          </button>
        </>
      }
      flush
    >
      <Async state={items}>
        {(data) => {
          const shown = data.items.filter(
            (item) =>
              needle === '' ||
              item.id.toLowerCase().includes(needle) ||
              item.categories.some((c) => c.toLowerCase().includes(needle)) ||
              item.tags.some((t) => t.toLowerCase().includes(needle)),
          );
          if (data.items.length === 0) {
            return (
              <Empty title="The catalog is empty">
                Add items with <code>POST /v1/items</code> or <code>PUT /v1/items/:id</code>; items named by
                events are created too.
              </Empty>
            );
          }
          return shown.length === 0 ? (
            <Empty title="Nothing on this page matches">Try the next page, or open an item by its id.</Empty>
          ) : (
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th>Item</th>
                    <th>Categories</th>
                    <th>Tags</th>
                    <th class="num">Price</th>
                    <th>Available</th>
                    <th>Created</th>
                  </tr>
                </thead>
                <tbody>
                  {shown.map((item) => (
                    <tr key={item.id} class="clickable" onClick={() => navigate('catalog', item.id)}>
                      <td>
                        <a href={href('catalog', item.id)}>{item.id}</a>
                        {titleOf(item) !== null ? <div class="small muted">{titleOf(item)}</div> : null}
                      </td>
                      <td>
                        <Chips values={item.categories} tone="info" />
                      </td>
                      <td>
                        <Chips values={item.tags.slice(0, 4)} />
                      </td>
                      <td class="num">{price(item)}</td>
                      <td>
                        {item.available ? <Badge tone="good">yes</Badge> : <Badge tone="bad">no</Badge>}
                      </td>
                      <td class="nowrap muted">{fmtDay(item.created_at)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          );
        }}
      </Async>
    </Card>
  );
}

function FeatureTable(props: { features: FeaturesReply['features'] }) {
  const entries = Object.entries(props.features);
  return entries.length === 0 ? (
    <Empty title="No features defined" />
  ) : (
    <table>
      <tbody>
        {entries.map(([name, value]) => (
          <tr key={name}>
            <td class="muted">{name}</td>
            <td class="num">{typeof value === 'number' ? fmtNum(value, 3) : String(value ?? '—')}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function ItemDetail(props: { id: string }) {
  const item = useApi<{ item: ItemJson }>(`/v1/items/${enc(props.id)}`);
  const similar = useApi<SimilarReply>(`/v1/items/${enc(props.id)}/similar?n=12`);
  const features = useApi<FeaturesReply>(`/v1/items/${enc(props.id)}/features`);
  return (
    <>
      <PageHead
        title={
          <>
            <a href={href('catalog')} class="muted">
              Catalog
            </a>{' '}
            / {props.id}
          </>
        }
        sub={
          item.data && titleOf(item.data.item) !== null
            ? titleOf(item.data.item)
            : 'The item as stored, its features now, and the items the model finds similar.'
        }
      />
      <div class="grid wide-left">
        <div class="stack">
          <Card title="Item">
            <Async
              state={item}
              empty={{
                not_found: () => (
                  <Empty title={`No item “${props.id}” in the catalog`}>
                    Check the id, or add it with <code>PUT /v1/items/{props.id}</code>.
                  </Empty>
                ),
              }}
            >
              {({ item: it }) => (
                <>
                  <KeyValues
                    rows={[
                      ['Categories', <Chips values={it.categories} tone="info" />],
                      ['Tags', <Chips values={it.tags} />],
                      ['Price', price(it)],
                      ['Available', it.available ? 'yes' : 'no'],
                      ['Created', fmtTime(it.created_at)],
                      ['Updated', fmtTime(it.updated_at)],
                      ['Expires', it.expires_at === null ? 'never' : fmtTime(it.expires_at)],
                    ]}
                  />
                  {Object.keys(it.attributes).length > 0 ? (
                    <>
                      <h3>Attributes</h3>
                      <KeyValues
                        rows={Object.entries(it.attributes).map(
                          ([k, v]) =>
                            [
                              k,
                              typeof v === 'object' && v !== null ? <Json value={v} /> : String(v),
                            ] as const,
                        )}
                      />
                    </>
                  ) : null}
                </>
              )}
            </Async>
          </Card>
          <Card
            title="Similar items"
            flush
            actions={
              similar.data ? (
                <span>
                  {similar.data.model} · v{similar.data.model_version ?? '—'}
                </span>
              ) : null
            }
          >
            <Async state={similar}>
              {(data) =>
                data.items.length === 0 ? (
                  <Empty title="No similar items yet">
                    Similar items come from co-interactions once a model is trained (<code>attune train</code>
                    ).
                  </Empty>
                ) : (
                  <table>
                    <thead>
                      <tr>
                        <th>Item</th>
                        <th class="num">Score</th>
                        <th>Why</th>
                      </tr>
                    </thead>
                    <tbody>
                      {data.items.map((s) => (
                        <tr key={s.item_id}>
                          <td class="nowrap">
                            <a href={href('catalog', s.item_id)}>{s.item_id}</a>
                          </td>
                          <td class="num">{fmtNum(s.score, 3)}</td>
                          <td class="muted">{s.reason}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                )
              }
            </Async>
          </Card>
        </div>
        <Card
          title="Features"
          flush
          actions={features.data ? <span>at {fmtTime(features.data.at)}</span> : null}
        >
          <Async
            state={features}
            empty={{ not_found: () => <Empty title="No features: the item has no events" /> }}
          >
            {(data) => <FeatureTable features={data.features} />}
          </Async>
        </Card>
      </div>
    </>
  );
}

export function Catalog(props: { id: string | null }) {
  if (props.id !== null) return <ItemDetail id={props.id} key={props.id} />;
  return (
    <>
      <PageHead title="Catalog" sub="Every item, in id order. Open one for its features and similar items." />
      <Browse />
    </>
  );
}

export { FeatureTable };
