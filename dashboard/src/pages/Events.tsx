import { useEffect, useRef, useState } from 'preact/hooks';
import { getJson, query } from '../api';
import { Badge, Card, Empty, ErrorBox, Json, PageHead, Spinner } from '../components/ui';
import { fmtAgo, fmtClock, fmtDay, fmtInt } from '../format';
import { useDebounced, useInterval } from '../hooks';
import { href } from '../router';
import type { DashboardEvent, EventsReply } from '../types';

const KEEP = 500;
const POLL_MS = 2000;

interface Filters {
  readonly event: string;
  readonly user_id: string;
  readonly item_id: string;
}

const EVENT_TONES: Readonly<Record<string, 'good' | 'info' | 'warn' | 'bad' | 'muted'>> = {
  'Order Completed': 'good',
  'Product Added': 'info',
  'Product Clicked': 'info',
  'Product Viewed': 'muted',
};

function EventRow(props: { event: DashboardEvent; open: boolean; toggle: () => void; fresh: boolean }) {
  const { event } = props;
  const extra = {
    ...event.properties,
    ...(Object.keys(event.context).length > 0 ? { context: event.context } : {}),
  };
  const hasExtra = Object.keys(extra).length > 0;
  return (
    <>
      <tr class={`clickable ${props.fresh ? 'fresh' : ''}`} onClick={props.toggle}>
        <td class="num muted mono">{event.seq}</td>
        <td class="nowrap" title={event.timestamp}>
          {fmtClock(event.timestamp)} <span class="muted small">{fmtDay(event.timestamp)}</span>
        </td>
        <td class="nowrap">
          <Badge tone={EVENT_TONES[event.event] ?? 'muted'}>{event.event}</Badge>
        </td>
        <td class="nowrap">
          <a href={href('users', event.user_id)} onClick={(e) => e.stopPropagation()}>
            {event.user_id}
          </a>
        </td>
        <td class="nowrap">
          {event.item_id === null ? (
            <span class="muted">—</span>
          ) : (
            <a href={href('catalog', event.item_id)} onClick={(e) => e.stopPropagation()}>
              {event.item_id}
            </a>
          )}
        </td>
        <td class="ellipsis muted mono">{hasExtra ? JSON.stringify(event.properties) : ''}</td>
        <td class="nowrap muted small" title={`received ${event.received_at}`}>
          {fmtAgo(event.received_at)}
        </td>
      </tr>
      {props.open ? (
        <tr>
          <td />
          <td colSpan={6}>
            <Json value={{ event_id: event.event_id, received_at: event.received_at, ...extra }} />
          </td>
        </tr>
      ) : null}
    </>
  );
}

/**
 * The live event log: newest first, polled with `after=<last seq>` every two seconds while not paused,
 * filtered by event name, user or item on the server; older pages with `before`.
 */
export function Events() {
  const [filters, setFilters] = useState<Filters>({ event: '', user_id: '', item_id: '' });
  const settled = useDebounced(filters, 300);
  const [events, setEvents] = useState<DashboardEvent[]>([]);
  const [lastSeq, setLastSeq] = useState<number | null>(null);
  const [nextBefore, setNextBefore] = useState<number | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [loading, setLoading] = useState(true);
  const [paused, setPaused] = useState(false);
  const [open, setOpen] = useState<number | null>(null);
  const [freshFrom, setFreshFrom] = useState<number>(Infinity);
  const generation = useRef(0);

  const base = {
    event: settled.event.trim(),
    user_id: settled.user_id.trim(),
    item_id: settled.item_id.trim(),
  };

  useEffect(() => {
    const mine = ++generation.current;
    setLoading(true);
    setError(null);
    getJson<EventsReply>(`/v1/dashboard/events${query({ ...base, limit: 100 })}`).then(
      (reply) => {
        if (mine !== generation.current) return;
        setEvents(reply.events);
        setLastSeq(reply.last_seq);
        setNextBefore(reply.next_before);
        setFreshFrom(Infinity);
        setLoading(false);
      },
      (e: unknown) => {
        if (mine !== generation.current) return;
        setError(e instanceof Error ? e : new Error(String(e)));
        setLoading(false);
      },
    );
  }, [base.event, base.user_id, base.item_id]);

  useInterval(
    () => {
      if (lastSeq === null) return;
      const mine = generation.current;
      getJson<EventsReply>(`/v1/dashboard/events${query({ ...base, after: lastSeq, limit: 200 })}`).then(
        (reply) => {
          if (mine !== generation.current) return;
          if (reply.events.length > 0) {
            setFreshFrom(lastSeq);
            setEvents((old) => [...reply.events, ...old].slice(0, KEEP));
          }
          setLastSeq(Math.max(lastSeq, reply.last_seq));
        },
        () => undefined,
      );
    },
    paused ? null : POLL_MS,
  );

  const older = async () => {
    if (nextBefore === null) return;
    const mine = generation.current;
    const reply = await getJson<EventsReply>(
      `/v1/dashboard/events${query({ ...base, before: nextBefore, limit: 100 })}`,
    );
    if (mine !== generation.current) return;
    setEvents((old) => [...old, ...reply.events]);
    setNextBefore(reply.next_before);
  };

  const field = (name: keyof Filters, placeholder: string) => (
    <input
      type="search"
      placeholder={placeholder}
      value={filters[name]}
      aria-label={placeholder}
      onInput={(e) => setFilters({ ...filters, [name]: (e.target as HTMLInputElement).value })}
    />
  );
  const filtered = base.event !== '' || base.user_id !== '' || base.item_id !== '';

  return (
    <>
      <PageHead
        title="Events"
        sub="The event log as it arrives, newest first. Click a row for its properties."
        actions={
          <>
            <span class="live muted small">
              <span class={`dot ${paused ? '' : 'good'}`} /> {paused ? 'paused' : 'live'}
            </span>
            <button onClick={() => setPaused(!paused)}>{paused ? 'Resume' : 'Pause'}</button>
          </>
        }
      />
      <Card
        title={
          <div class="toolbar">
            {field('event', 'Event name (exact)')}
            {field('user_id', 'User id')}
            {field('item_id', 'Item id')}
            {filtered ? (
              <button class="link" onClick={() => setFilters({ event: '', user_id: '', item_id: '' })}>
                Clear filters
              </button>
            ) : null}
          </div>
        }
        actions={
          <span>
            {fmtInt(events.length)} shown · log position {fmtInt(lastSeq)}
          </span>
        }
        flush
      >
        {error !== null ? (
          <div class="card-body">
            <ErrorBox error={error} />
          </div>
        ) : loading ? (
          <Spinner />
        ) : events.length === 0 ? (
          filtered ? (
            <Empty title="No events match these filters">
              Event names are matched exactly, e.g. “Product Viewed”.
            </Empty>
          ) : (
            <Empty
              title="No events yet"
              command={`curl -X POST localhost:8080/v1/events -H 'content-type: application/json' -d '{"event":"Product Viewed","user_id":"u1","item_id":"i1"}'`}
            >
              Send events to the engine (or load the demo shop with <code>attune demo</code>); they appear
              here within two seconds.
            </Empty>
          )
        ) : (
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th class="num">Seq</th>
                  <th>Time</th>
                  <th>Event</th>
                  <th>User</th>
                  <th>Item</th>
                  <th>Properties</th>
                  <th>Received</th>
                </tr>
              </thead>
              <tbody>
                {events.map((event) => (
                  <EventRow
                    key={event.seq}
                    event={event}
                    open={open === event.seq}
                    fresh={event.seq > freshFrom}
                    toggle={() => setOpen(open === event.seq ? null : event.seq)}
                  />
                ))}
              </tbody>
            </table>
            {nextBefore !== null && events.length < 5000 ? (
              <div class="card-body">
                <button onClick={() => void older()}>Load older events</button>
              </div>
            ) : null}
          </div>
        )}
      </Card>
    </>
  );
}
