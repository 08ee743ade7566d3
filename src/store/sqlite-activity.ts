import type BetterSqlite3 from 'better-sqlite3';

import { PROBABILITY_TIE, type DecisionTimeline } from '../decisions/timeline.js';
import { normalizeEventName } from '../events/feedback.js';
import { eventFromRow, type EventRow } from './rows.js';
import { LOG_INDEX_MARK } from './sqlite-schema.js';
import type { RecentEvents, RecentEventsOptions, ServedListClicks, UserActivity } from './types.js';

/*
 * Activity over time, for the dashboard: two small tables (schema V10) derived from `events` the way
 * `item_events` is (`sqlite-log-index.ts`) — filled after the commit by the same catch-up, in the same
 * transaction that advances `item_events_through`, so both are always exactly "every event with
 * seq ≤ through"; reads add the log's unindexed tail (seq > through, a rowid range) in one snapshot.
 * - `event_minutes`: events per minute of their timestamp. A chunk of live traffic touches one or two
 *   rows, so keeping it costs the catch-up almost nothing; a 30-day series reads ≤ 43,200 rows.
 * - `user_activity`: per user, the newest event time and the event count. Active users in a window are a
 *   range count on its `last_ts` index; the user picker reads the same index newest first.
 * Whatever deletes events (retention, erasure) adjusts both in its transaction (`forget*` below).
 */

type Db = BetterSqlite3.Database;

const MINUTE_MS = 60_000;
/** `ts` floored to its minute, as the schema's backfill (V10) computes it. */
const MINUTE_OF_TS = `(ts / ${MINUTE_MS} - (ts % ${MINUTE_MS} < 0))`;

/** Adds the events in `(afterSeq, throughSeq]` to the activity tables: one step of the catch-up. */
export function activityIndexer(db: Db): (afterSeq: number, throughSeq: number) => void {
  const minutes = db.prepare<[number, number]>(
    `INSERT INTO event_minutes (minute, events)
     SELECT ${MINUTE_OF_TS} AS m, count(*) FROM events WHERE seq > ? AND seq <= ? GROUP BY m ORDER BY m
     ON CONFLICT (minute) DO UPDATE SET events = events + excluded.events`,
  );
  const users = db.prepare<[number, number]>(
    `INSERT INTO user_activity (user_id, last_ts, events)
     SELECT user_id, max(ts), count(*) FROM events WHERE seq > ? AND seq <= ? GROUP BY user_id ORDER BY user_id
     ON CONFLICT (user_id) DO UPDATE SET
       last_ts = max(last_ts, excluded.last_ts), events = events + excluded.events`,
  );
  return (afterSeq, throughSeq) => {
    minutes.run(afterSeq, throughSeq);
    users.run(afterSeq, throughSeq);
  };
}

/** One deleted event, as retention and erasure know it. */
export interface DeletedEvent {
  readonly seq: number;
  readonly user_id: string;
  readonly ts: number;
}

/**
 * What deleting events takes out of the activity tables; call inside the deleting transaction. Events past
 * the mark were never counted. A user left with no events loses their row. A user whose newest events
 * went keeps the older `last_ts` (retention deletes only events older than any window shown).
 */
export function activityForgetter(db: Db): {
  readonly events: (deleted: readonly DeletedEvent[]) => void;
  readonly user: (userId: string, keys: readonly { seq: number; ts: number }[]) => void;
  /** `fromId`'s events became `toId`'s (`Store.mergeUser`): their counted parts merge the same way. */
  readonly merge: (fromId: string, toId: string) => void;
} {
  const through = db.prepare<[], number>(`SELECT ${LOG_INDEX_MARK}`);
  through.pluck();
  const minute = db.prepare<[number, number]>(
    'UPDATE event_minutes SET events = events - ? WHERE minute = ?',
  );
  const emptyMinute = db.prepare<[number]>('DELETE FROM event_minutes WHERE minute = ? AND events <= 0');
  const user = db.prepare<[number, string]>('UPDATE user_activity SET events = events - ? WHERE user_id = ?');
  const emptyUser = db.prepare<[string]>('DELETE FROM user_activity WHERE user_id = ? AND events <= 0');
  const dropUser = db.prepare<[string]>('DELETE FROM user_activity WHERE user_id = ?');
  const mergeUser = db.prepare<[string, string]>(
    `INSERT INTO user_activity (user_id, last_ts, events)
     SELECT ?, last_ts, events FROM user_activity WHERE user_id = ?
     ON CONFLICT (user_id) DO UPDATE SET
       last_ts = max(last_ts, excluded.last_ts), events = events + excluded.events`,
  );
  const forgetMinutes = (counted: readonly { seq: number; ts: number }[]) => {
    const perMinute = new Map<number, number>();
    for (const { ts } of counted) {
      const m = Math.floor(ts / MINUTE_MS);
      perMinute.set(m, (perMinute.get(m) ?? 0) + 1);
    }
    for (const [m, n] of perMinute) {
      minute.run(n, m);
      emptyMinute.run(m);
    }
  };
  return {
    events: (deleted) => {
      const mark = through.get() ?? 0;
      const counted = deleted.filter((e) => e.seq <= mark);
      forgetMinutes(counted);
      const perUser = new Map<string, number>();
      for (const e of counted) perUser.set(e.user_id, (perUser.get(e.user_id) ?? 0) + 1);
      for (const [id, n] of perUser) {
        user.run(n, id);
        emptyUser.run(id);
      }
    },
    user: (userId, keys) => {
      const mark = through.get() ?? 0;
      forgetMinutes(keys.filter((k) => k.seq <= mark));
      dropUser.run(userId);
    },
    merge: (fromId, toId) => {
      mergeUser.run(toId, fromId);
      dropUser.run(fromId);
    },
  };
}

/** The dashboard's reads: each combines the tables with the log beyond the mark, in one snapshot. */
export interface ActivityReader {
  readonly eventCounts: (from: number, to: number, bucketMs: number) => number[];
  readonly activeUsers: (since: number) => number;
  /** Stored events and distinct users with events, from the tables (not a count over the log). */
  readonly totals: () => { readonly events: number; readonly users: number };
  readonly recentUsers: (prefix: string | null, limit: number) => UserActivity[];
  readonly recentEvents: (options: RecentEventsOptions) => RecentEvents;
  readonly decisionActivity: (
    point: string,
    from: number,
    bucketMs: number,
    count: number,
  ) => DecisionTimeline;
  readonly servedListClicks: (
    since: number,
    until: number,
    clickNames: readonly string[],
    ignoredNames: readonly string[],
  ) => ServedListClicks;
}

const EVENT_COLUMNS =
  'seq, event_id, name, user_id, item_id, ts, received_at, context, properties, request_id';
const EVENT_COLUMNS_OF_E = EVENT_COLUMNS.split(', ')
  .map((c) => `e.${c}`)
  .join(', ');
/** Above every UTF-8 continuation a prefix can have: `id < prefix || MAX` ends a prefix range. */
const MAX_CHAR = '\u{10FFFF}';
/**
 * Log positions one name-only search reads (~25 ms on the demo shop's log): without an index on names it
 * walks the rowid down, so a rare name would otherwise read the whole log in one request.
 */
export const NAME_SCAN_WINDOW = 25_000;

export function activityReader(db: Db): ActivityReader {
  // The event-name key of `events/feedback.ts`, so `Product Clicked` and `product_clicked` match alike.
  db.function('attune_event_key', { deterministic: true }, (name: unknown) =>
    typeof name === 'string' ? normalizeEventName(name) : null,
  );
  const through = db.prepare<[], number>(`SELECT ${LOG_INDEX_MARK}`);
  through.pluck();
  const lastSeq = db.prepare<[], number>(
    `SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0)`,
  );
  lastSeq.pluck();
  // One range sum per bucket: a primary-key range each, read in order, where a GROUP BY over 30 days of
  // minutes would sort 43,200 rows in a temporary B-tree (measured 27 ms against ~3).
  const bucketCount = db.prepare<[number, number], number>(
    'SELECT coalesce(sum(events), 0) FROM event_minutes WHERE minute >= ? AND minute < ?',
  );
  bucketCount.pluck();
  const countedEvents = db.prepare<[], number>('SELECT coalesce(sum(events), 0) FROM event_minutes');
  countedEvents.pluck();
  const tailEvents = db.prepare<[number], number>('SELECT count(*) FROM events NOT INDEXED WHERE seq > ?');
  tailEvents.pluck();
  // Every read of the tail is a rowid range: NOT INDEXED keeps the planner from skip-scanning the user index
  // over the whole log instead (its statistics make that look cheap).
  const tailTimes = db.prepare<[number, number, number], number>(
    'SELECT ts FROM events NOT INDEXED WHERE seq > ? AND ts >= ? AND ts < ?',
  );
  tailTimes.pluck();
  const activeIndexed = db.prepare<[number], number>('SELECT count(*) FROM user_activity WHERE last_ts >= ?');
  activeIndexed.pluck();
  // Users active in the tail whom the table does not already count as active since `since`.
  const activeTail = db.prepare<[number, number, number], number>(
    `SELECT count(DISTINCT e.user_id) FROM events AS e NOT INDEXED
       LEFT JOIN user_activity AS a ON a.user_id = e.user_id
     WHERE e.seq > ? AND e.ts >= ? AND (a.last_ts IS NULL OR a.last_ts < ?)`,
  );
  activeTail.pluck();
  const usersIndexed = db.prepare<[], number>('SELECT count(*) FROM user_activity');
  usersIndexed.pluck();
  const usersTail = db.prepare<[number], number>(
    `SELECT count(DISTINCT e.user_id) FROM events AS e NOT INDEXED
     WHERE e.seq > ? AND NOT EXISTS (SELECT 1 FROM user_activity AS a WHERE a.user_id = e.user_id)`,
  );
  usersTail.pluck();
  type ActivityRow = { user_id: string; last_ts: number; events: number };
  const newestUsers = db.prepare<[number], ActivityRow>(
    'SELECT user_id, last_ts, events FROM user_activity ORDER BY last_ts DESC LIMIT ?',
  );
  const newestUsersWithPrefix = db.prepare<[string, string, number], ActivityRow>(
    `SELECT user_id, last_ts, events FROM user_activity WHERE user_id >= ? AND user_id < ?
     ORDER BY last_ts DESC LIMIT ?`,
  );
  const userRow = db.prepare<[string], ActivityRow>(
    'SELECT user_id, last_ts, events FROM user_activity WHERE user_id = ?',
  );
  const tailUsers = db.prepare<[number, string, string], ActivityRow>(
    `SELECT user_id, max(ts) AS last_ts, count(*) AS events FROM events NOT INDEXED
     WHERE seq > ? AND user_id >= ? AND user_id < ? GROUP BY user_id`,
  );
  type Filter = {
    before: number;
    after: number;
    name: string | null;
    user: string | null;
    item: string | null;
  };
  const filters = `seq < $before AND seq > $after AND ($name IS NULL OR name = $name)
    AND ($item IS NULL OR item_id = $item)`;
  // Newest first down the rowid; a name filter alone has no index, so one call reads at most
  // `NAME_SCAN_WINDOW` positions (its `$after`) and the caller pages on from there.
  const newestEvents = db.prepare<[Filter & { limit: number }], EventRow>(
    `SELECT ${EVENT_COLUMNS} FROM events NOT INDEXED WHERE ${filters} ORDER BY seq DESC LIMIT $limit`,
  );
  // A user's events: their range of user_events up to the mark (a user's events are few against the log),
  // then the log's tail beyond it.
  const newestUserEventsIndexed = db.prepare<[Filter & { limit: number; through: number }], EventRow>(
    `SELECT ${EVENT_COLUMNS_OF_E} FROM user_events AS x CROSS JOIN events AS e ON e.seq = x.seq
     WHERE x.user_id = $user AND x.seq <= $through AND x.seq < $before AND x.seq > $after
       AND ($name IS NULL OR e.name = $name) AND ($item IS NULL OR e.item_id = $item)
     ORDER BY x.seq DESC LIMIT $limit`,
  );
  // An item's events: its range of item_events up to the mark, then the log's tail beyond it.
  const newestItemEventsIndexed = db.prepare<[Filter & { limit: number; through: number }], EventRow>(
    `SELECT ${EVENT_COLUMNS_OF_E} FROM item_events AS x CROSS JOIN events AS e ON e.seq = x.seq
     WHERE x.item_id = $item AND x.seq <= $through AND x.seq < $before AND x.seq > $after
       AND ($name IS NULL OR e.name = $name) AND ($user IS NULL OR e.user_id = $user)
     ORDER BY x.seq DESC LIMIT $limit`,
  );
  const newestEventsTail = db.prepare<[Filter & { limit: number; through: number }], EventRow>(
    `SELECT ${EVENT_COLUMNS} FROM events NOT INDEXED WHERE seq > $through AND ${filters}
       AND ($user IS NULL OR user_id = $user) ORDER BY seq DESC LIMIT $limit`,
  );
  // A served list is clicked when an event of the same user (an impression event excepted) carries its
  // request id, or a click event of that user on one of its items follows it: the two links the
  // experiments' `click_through` counts (`experiments/metrics/builtins.ts`), per list instead of per click.
  // The first is one probe of the request-id index per list, in SQL. The second is read per user, not per
  // list: each user's events since their earliest unlinked list, once (their range of the user index), then
  // matched in JavaScript — a per-list subquery re-read a heavy user's week for every list (13 s for 50,000
  // lists on the 20,000-user demo shop, against ~0.3 s this way).
  const windowLists = db.prepare<
    [{ since: number; until: number; ignored: string }],
    { user_id: string; created_at: number; items: string; linked: number }
  >(
    `SELECT i.user_id, i.created_at, i.items,
       EXISTS (SELECT 1 FROM events AS e WHERE e.request_id = i.request_id AND e.user_id = i.user_id
                 AND attune_event_key(e.name) NOT IN (SELECT value FROM json_each($ignored))) AS linked
     FROM impressions AS i INDEXED BY impressions_created
     WHERE i.created_at >= $since AND i.created_at < $until`,
  );
  // The user's events in [from, until): a range of user_events up to the mark, and the tail beyond it.
  const userItemEvents = db.prepare<
    [{ user: string; from: number; until: number }],
    { item_id: string; ts: number; name: string }
  >(
    `SELECT item_id, ts, name FROM events
     WHERE seq IN (SELECT seq FROM user_events WHERE user_id = @user AND ts >= @from AND ts < @until
                   UNION ALL
                   SELECT seq FROM events WHERE seq > ${LOG_INDEX_MARK} AND user_id = @user)
       AND ts >= @from AND ts < @until AND item_id IS NOT NULL`,
  );
  const eventKeys = new Map<string, string>();
  const keyOf = (name: string): string => {
    let key = eventKeys.get(name);
    if (key === undefined) {
      key = normalizeEventName(name);
      // Names are few; a log full of distinct ones must not grow the map without end.
      if (eventKeys.size < 10_000) eventKeys.set(name, key);
    }
    return key;
  };

  // A point's decisions per bucket, aggregated where they lie: the point's range of its index, with no row
  // decoded in JavaScript. Explored: the chosen action's probability (its propensity) below the highest
  // offered (`decisions/timeline.ts`, `explored`). CAST: bound numbers may arrive as REAL.
  const decisionBuckets = db.prepare<
    [{ point: string; from: number; bucket: number; end: number }],
    {
      b: number;
      decisions: number;
      rewarded: number;
      reward_sum: number;
      explored: number;
      propensity_sum: number;
    }
  >(
    `SELECT CAST((at - $from) / $bucket AS INTEGER) AS b, count(*) AS decisions,
       count(outcome_source) AS rewarded, coalesce(sum(reward), 0) AS reward_sum,
       sum(propensity < (SELECT max(value) FROM json_each(probabilities)) * (1 - ${PROBABILITY_TIE})) AS explored,
       sum(propensity) AS propensity_sum
     FROM decisions INDEXED BY decisions_point_seq
     WHERE point = $point AND at >= $from AND at < $end GROUP BY b`,
  );
  const decisionsBefore = db.prepare<[string, number], number>(
    'SELECT count(*) FROM decisions INDEXED BY decisions_point_seq WHERE point = ? AND at < ?',
  );
  decisionsBefore.pluck();

  const read = <A extends unknown[], R>(fn: (mark: number, ...args: A) => R) =>
    db.transaction((...args: A): R => fn(through.get() ?? 0, ...args)).deferred;

  return {
    eventCounts: read((mark, from: number, to: number, bucketMs: number): number[] => {
      const fromMinute = Math.floor(from / MINUTE_MS);
      const perBucket = bucketMs / MINUTE_MS;
      const n = Math.max(0, Math.ceil((to - fromMinute * MINUTE_MS) / bucketMs));
      const counts = new Array<number>(n).fill(0);
      const toMinute = fromMinute + n * perBucket;
      for (let b = 0; b < n; b++) {
        counts[b] = bucketCount.get(fromMinute + b * perBucket, fromMinute + (b + 1) * perBucket) ?? 0;
      }
      for (const ts of tailTimes.all(mark, fromMinute * MINUTE_MS, toMinute * MINUTE_MS)) {
        const b = Math.floor((Math.floor(ts / MINUTE_MS) - fromMinute) / perBucket);
        if (b >= 0 && b < n) counts[b]! += 1;
      }
      return counts;
    }),
    activeUsers: read(
      (mark, since: number) => (activeIndexed.get(since) ?? 0) + (activeTail.get(mark, since, since) ?? 0),
    ),
    totals: read((mark) => ({
      events: (countedEvents.get() ?? 0) + (tailEvents.get(mark) ?? 0),
      users: (usersIndexed.get() ?? 0) + (usersTail.get(mark) ?? 0),
    })),
    recentUsers: read((mark, prefix: string | null, limit: number): UserActivity[] => {
      const low = prefix ?? '';
      const high = prefix === null ? MAX_CHAR.repeat(2) : prefix + MAX_CHAR;
      const rows = prefix === null ? newestUsers.all(limit) : newestUsersWithPrefix.all(low, high, limit);
      // A user with tail events may now be among the newest: merge them with their counted part.
      const merged = new Map(rows.map((r) => [r.user_id, { ...r }]));
      for (const t of tailUsers.all(mark, low, high)) {
        const known = merged.get(t.user_id) ?? userRow.get(t.user_id);
        merged.set(
          t.user_id,
          known === undefined
            ? t
            : {
                user_id: t.user_id,
                last_ts: Math.max(known.last_ts, t.last_ts),
                events: known.events + t.events,
              },
        );
      }
      return [...merged.values()]
        .sort((a, b) => b.last_ts - a.last_ts || (a.user_id < b.user_id ? -1 : 1))
        .slice(0, limit)
        .map((r) => ({ userId: r.user_id, lastSeen: r.last_ts, events: r.events }));
    }),
    recentEvents: read((mark, options: RecentEventsOptions): RecentEvents => {
      const filter = {
        before: options.beforeSeq ?? Number.MAX_SAFE_INTEGER,
        after: options.afterSeq ?? 0,
        name: options.name ?? null,
        user: options.userId ?? null,
        item: options.itemId ?? null,
        limit: options.limit,
      };
      let rows: EventRow[];
      // Where a search that read only part of the log stopped (the next page starts below it).
      let stoppedAt: number | null = null;
      if (filter.user !== null || filter.item !== null) {
        const indexed = (filter.user !== null ? newestUserEventsIndexed : newestItemEventsIndexed).all({
          ...filter,
          through: mark,
        });
        const tail = newestEventsTail.all({ ...filter, through: mark });
        // The tail's positions are all above the indexed part's.
        rows = [...tail, ...indexed].slice(0, filter.limit);
      } else {
        const top = Math.min(filter.before, (lastSeq.get() ?? 0) + 1);
        const floor =
          filter.name === null ? filter.after : Math.max(filter.after, top - 1 - NAME_SCAN_WINDOW);
        // One lower bound, so that the walk down the rowid stops at it.
        rows = newestEvents.all({ ...filter, after: floor });
        if (floor > filter.after && floor > 0) stoppedAt = floor + 1;
      }
      const last = rows.at(-1);
      return {
        events: rows.map((row) => ({ seq: row.seq, event: eventFromRow(row) })),
        nextBefore: rows.length === filter.limit && last !== undefined ? last.seq : stoppedAt,
      };
    }),
    decisionActivity: read((_mark, point: string, from: number, bucketMs: number, count: number) => {
      const buckets = Array.from({ length: count }, (_, b) => ({
        start: from + b * bucketMs,
        decisions: 0,
        rewarded: 0,
        rewardSum: 0,
        explored: 0,
        propensitySum: 0,
      }));
      for (const row of decisionBuckets.all({
        point,
        from,
        bucket: bucketMs,
        end: from + count * bucketMs,
      })) {
        const bucket = buckets[row.b];
        if (bucket === undefined) continue;
        bucket.decisions = row.decisions;
        bucket.rewarded = row.rewarded;
        bucket.rewardSum = row.reward_sum;
        bucket.explored = row.explored;
        bucket.propensitySum = row.propensity_sum;
      }
      return { buckets, earlier: decisionsBefore.get(point, from) ?? 0 };
    }),
    servedListClicks: read((_mark, since: number, until: number, clicks: readonly string[], ignored) => {
      const ignoredKeys = JSON.stringify([...new Set(ignored.map(normalizeEventName))]);
      const clickKeys = new Set(clicks.map(normalizeEventName));
      let lists = 0;
      let clicked = 0;
      // Per user, the lists no request id links, each with its time and items.
      const open = new Map<string, { at: number; items: string }[]>();
      for (const list of windowLists.iterate({ since, until, ignored: ignoredKeys })) {
        lists++;
        if (list.linked === 1) clicked++;
        else {
          const mine = open.get(list.user_id);
          if (mine === undefined) open.set(list.user_id, [{ at: list.created_at, items: list.items }]);
          else mine.push({ at: list.created_at, items: list.items });
        }
      }
      for (const [userId, mine] of open) {
        let first = Infinity;
        for (const list of mine) first = Math.min(first, list.at);
        // The user's click events since their first open list: the latest time of each item clicked.
        const lastClick = new Map<string, number>();
        for (const e of userItemEvents.iterate({ user: userId, from: first, until })) {
          if (!clickKeys.has(keyOf(e.name))) continue;
          if ((lastClick.get(e.item_id) ?? -Infinity) < e.ts) lastClick.set(e.item_id, e.ts);
        }
        if (lastClick.size === 0) continue;
        for (const list of mine) {
          const items = JSON.parse(list.items) as readonly { readonly itemId: string }[];
          if (items.some(({ itemId }) => (lastClick.get(itemId) ?? -Infinity) >= list.at)) clicked++;
        }
      }
      return { lists, clicked };
    }),
  };
}
