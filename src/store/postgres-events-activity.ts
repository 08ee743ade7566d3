import { normalizeEventName } from '../events/feedback.js';
import type { PgDb, PgTx } from './postgres-db.js';
import {
  ACTIVITY_LOCK,
  ACTIVITY_TRY_LOCK,
  EVENT_COLUMNS,
  HOUR_OF,
  MINUTE_MS,
  MINUTE_OF_TS,
  settled,
} from './postgres-events-common.js';
import { assertCount } from './keyset.js';
import { eventFromRow, type EventRow } from './rows.js';
import { NAME_SCAN_WINDOW } from './sqlite-activity.js';
import type { RecentEvents, RecentEventsOptions, ServedListClicks, UserActivity } from './types.js';

/*
 * Activity over time, for the dashboard, on PostgreSQL: the SQLite store's design (`sqlite-activity.ts`),
 * for the same reason. Every append already waits for the append lock (`postgres-events-append.ts`); a
 * per-user upsert inside it would add a random row update per user per batch to the time that lock is held,
 * which is what bounds ingestion. So the tables are derived after the commit, by a catch-up that holds only
 * its own lock and runs beside the appends:
 * - `event_minutes`: events per minute of their timestamp (a chunk of live traffic touches a row or two);
 * - `user_activity`: per user, the newest event time and the event count, indexed by the hour of that
 *   time (`last_hour`, migration 2), which most updates leave as it is, so that they rewrite the user's row
 *   in place (HOT) rather than add index entries: active users since a time are a range of the index
 *   checked against `last_ts`, the user picker reads the newest hours whole;
 * - `event_log`: the mark (`activity_through`: the tables hold exactly the events with seq ≤ it) and the
 *   totals of what they hold (events, users), so that neither is a count over the whole log.
 * Reads add the log's tail beyond the mark (a primary-key range: a few thousand rows, or about a second
 * of events under heavy ingestion) in the same snapshot, so they are exact however far the tables lag.
 * Whatever deletes or moves events (retention, erasure, merges) takes the activity lock and adjusts the
 * tables for the counted ones in its transaction.
 */

/** Log positions beyond the mark after which a commit starts a catch-up: about what the tail reads scan. */
export const CATCH_UP_BEHIND = 2_000;
/**
 * A store starts a catch-up at most this often. Each one waits for the appends in flight, and new appends
 * wait behind it, to read a settled target (`settled`): run after every few thousand events, that barrier
 * took two instances' ingestion from ~48,000 to ~36,000 events/s. Under heavy ingestion the tail the reads
 * scan is then about a second of events.
 */
export const CATCH_UP_INTERVAL_MS = 1_000;
/** Log positions one catch-up transaction adds at most. */
export const CATCH_UP_CHUNK = 50_000;

/** One deleted event, as retention and erasure know it. */
export interface DeletedEvent {
  readonly seq: number;
  readonly user_id: string;
  readonly ts: number;
}

const READ_SNAPSHOT = 'REPEATABLE READ READ ONLY';

export class ActivityTables {
  /** The mark as this process last saw it: only decides when to catch up, never what a read answers. */
  #mark = 0;
  #running: Promise<void> | null = null;
  #lastStarted = -Infinity;

  constructor(private readonly db: PgDb) {}

  /**
   * After a commit up to `lastSeq`: starts a catch-up in the background when the tail grew long and none
   * runs here. The append is acknowledged already and does not wait for it; a failure (the store closing,
   * the database gone) leaves it to a later commit, since reads are exact either way.
   */
  committed(lastSeq: number): void {
    if (this.#running !== null || lastSeq - this.#mark < CATCH_UP_BEHIND) return;
    const now = Date.now();
    if (now - this.#lastStarted < CATCH_UP_INTERVAL_MS) return;
    this.#lastStarted = now;
    this.#running = this.catchUp()
      .then(
        () => undefined,
        () => undefined,
      )
      .finally(() => {
        this.#running = null;
      });
  }

  /** Resolves when no catch-up started here is running (before the store closes its pool). */
  async settled(): Promise<void> {
    await this.#running;
  }

  /**
   * Brings the tables up to the log position found when called (not one that keeps moving under
   * ingestion, so one call's work is bounded), in transactions of at most `chunk` positions. Returns how
   * many positions it added; 0 when another connection is catching up or deleting (it will get there).
   */
  async catchUp(chunk: number = CATCH_UP_CHUNK): Promise<number> {
    assertCount('chunk', chunk, 1);
    // A settled position: no append still to commit at or below it (`settled`, postgres-events-common.ts).
    const [top] = await this.db.query<{ seq: number }>(settled('(SELECT coalesce(max(seq), 0) FROM events)'));
    const target = top?.seq ?? 0;
    let added = 0;
    while (true) {
      const step = await this.db.transaction((tx) => catchUpStep(tx, target, chunk));
      if (step === null) return added;
      this.#mark = Math.max(this.#mark, step.mark);
      if (step.added === 0) return added;
      added += step.added;
    }
  }

  // --- reads ------------------------------------------------------------------------------------------

  async eventCounts(from: number, to: number, bucketMs: number): Promise<number[]> {
    const fromMinute = Math.floor(from / MINUTE_MS);
    const perBucket = bucketMs / MINUTE_MS;
    const n = Math.max(0, Math.ceil((to - fromMinute * MINUTE_MS) / bucketMs));
    const counts = new Array<number>(n).fill(0);
    if (n === 0) return counts;
    const toMinute = fromMinute + n * perBucket;
    const rows = await this.#read((tx, mark) =>
      tx.query<{ b: number; n: number }>(
        `SELECT b, sum(n) AS n FROM (
           SELECT (minute - $1) / $2 AS b, events AS n FROM event_minutes WHERE minute >= $1 AND minute < $3
           UNION ALL
           SELECT (${MINUTE_OF_TS} - $1) / $2, 1 FROM events WHERE seq > $4 AND ts >= $5 AND ts < $6
         ) AS x GROUP BY b`,
        [fromMinute, perBucket, toMinute, mark, fromMinute * MINUTE_MS, toMinute * MINUTE_MS],
      ),
    );
    for (const row of rows) if (row.b >= 0 && row.b < n) counts[row.b] = row.n;
    return counts;
  }

  async activeUsers(since: number): Promise<number> {
    const [row] = await this.#read((tx, mark) =>
      tx.query<{ n: number }>(
        // Users active in the tail whom the table does not already count as active since `since`.
        `SELECT (SELECT count(*) FROM user_activity
                 WHERE last_hour >= ${HOUR_OF('$1::bigint')} AND last_ts >= $1)
              + (SELECT count(DISTINCT e.user_id) FROM events AS e
                   LEFT JOIN user_activity AS a ON a.user_id = e.user_id
                 WHERE e.seq > $2 AND e.ts >= $1 AND (a.last_ts IS NULL OR a.last_ts < $1)) AS n`,
        [since, mark],
      ),
    );
    return row?.n ?? 0;
  }

  /** Stored events, from the kept total (exact: the counted part plus the tail). */
  async events(): Promise<number> {
    const [row] = await this.#read((tx, mark) =>
      tx.query<{ events: number }>(
        'SELECT counted_events + (SELECT count(*) FROM events WHERE seq > $1) AS events FROM event_log',
        [mark],
      ),
    );
    return row?.events ?? 0;
  }

  async totals(): Promise<{ events: number; users: number }> {
    const [row] = await this.#read((tx, mark) =>
      tx.query<{ events: number; users: number }>(
        `SELECT counted_events + (SELECT count(*) FROM events WHERE seq > $1) AS events,
                counted_users + (SELECT count(DISTINCT e.user_id) FROM events AS e
                                 WHERE e.seq > $1
                                   AND NOT EXISTS (SELECT 1 FROM user_activity AS a WHERE a.user_id = e.user_id))
                  AS users
         FROM event_log`,
        [mark],
      ),
    );
    return { events: row?.events ?? 0, users: row?.users ?? 0 };
  }

  /** The newest users of the table, and every user of the tail merged with their counted part. */
  async recentUsers(prefix: string | null, limit: number): Promise<UserActivity[]> {
    // The table's newest: those of a prefix come from the key; the others from the hours index, whose
    // newest `limit` entries name the oldest hour any of the `limit` newest users can be in (a user of an
    // older hour is older than all of them), and those hours are read whole and sorted.
    const newest =
      prefix === null
        ? `SELECT user_id FROM user_activity
           WHERE last_hour >= (SELECT min(last_hour) FROM (
             SELECT last_hour FROM user_activity ORDER BY last_hour DESC LIMIT $3) AS hours)
           ORDER BY last_ts DESC, user_id LIMIT $3`
        : // The range (byte order: COLLATE "C") lets a rare prefix be read from the key instead of the
          // hours index; U+10FFFF is above every character that can follow the prefix.
          `SELECT user_id FROM user_activity
           WHERE user_id >= $2 AND user_id < $4 AND starts_with(user_id, $2)
           ORDER BY last_ts DESC, user_id LIMIT $3`;
    const rows = await this.#read((tx, mark) =>
      tx.query<{ user_id: string; last_ts: number; events: number }>(
        `WITH tail AS (
           SELECT user_id, max(ts) AS last_ts, count(*) AS events FROM events
           WHERE seq > $1 AND ($2::text IS NULL OR starts_with(user_id, $2)) GROUP BY user_id
         ),
         top AS (${newest}),
         candidates AS (SELECT user_id FROM top UNION SELECT user_id FROM tail)
         SELECT c.user_id, greatest(a.last_ts, t.last_ts) AS last_ts,
                coalesce(a.events, 0) + coalesce(t.events, 0) AS events
         FROM candidates AS c
           LEFT JOIN user_activity AS a ON a.user_id = c.user_id
           LEFT JOIN tail AS t ON t.user_id = c.user_id
         ORDER BY last_ts DESC, c.user_id LIMIT $3`,
        prefix === null ? [mark, prefix, limit] : [mark, prefix, limit, `${prefix}\u{10FFFF}`],
      ),
    );
    return rows.map((r) => ({ userId: r.user_id, lastSeen: r.last_ts, events: r.events }));
  }

  /**
   * Newest first by position. A user's or an item's events come through their index; a search by name
   * alone has none, so one call reads at most `NAME_SCAN_WINDOW` positions down the primary key and says
   * where to go on (as the SQLite store does).
   */
  async recentEvents(options: RecentEventsOptions, lastSeq: () => Promise<number>): Promise<RecentEvents> {
    const before = options.beforeSeq ?? Number.MAX_SAFE_INTEGER;
    const after = options.afterSeq ?? 0;
    const name = options.name ?? null;
    const user = options.userId ?? null;
    const item = options.itemId ?? null;
    const filters = `seq < $1 AND seq > $2 AND ($3::text IS NULL OR name = $3)
      AND ($4::text IS NULL OR user_id = $4) AND ($5::text IS NULL OR item_id = $5)`;
    let floor = after;
    // Where a search that read only part of the log stopped (the next page starts below it).
    let stoppedAt: number | null = null;
    if (user === null && item === null && name !== null) {
      const top = Math.min(before, (await lastSeq()) + 1);
      floor = Math.max(after, top - 1 - NAME_SCAN_WINDOW);
      if (floor > after && floor > 0) stoppedAt = floor + 1;
    }
    const rows = await this.db.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE ${filters} ORDER BY seq DESC LIMIT $6`,
      [before, floor, name, user, item, options.limit],
    );
    const last = rows.at(-1);
    return {
      events: rows.map((row) => ({ seq: row.seq, event: eventFromRow(row) })),
      nextBefore: rows.length === options.limit && last !== undefined ? last.seq : stoppedAt,
    };
  }

  /**
   * Lists served in `[since, until)` and how many were clicked (`Store.servedListClicks`), in one snapshot.
   * The request-id link is one probe of its index per list (the names it finds are matched here, by
   * `normalizeEventName`); the click link is read per user, not per list: each user's events since their
   * earliest unlinked list, fetched for many users per statement and matched here, as SQLite does.
   */
  async servedListClicks(
    since: number,
    until: number,
    clickNames: readonly string[],
    ignoredNames: readonly string[],
  ): Promise<ServedListClicks> {
    const ignored = new Set(ignoredNames.map(normalizeEventName));
    const clicks = new Set(clickNames.map(normalizeEventName));
    const keys = new Map<string, string>();
    const keyOf = (name: string): string => {
      let key = keys.get(name);
      if (key === undefined) {
        key = normalizeEventName(name);
        // Names are few; a log full of distinct ones must not grow the map without end.
        if (keys.size < 10_000) keys.set(name, key);
      }
      return key;
    };
    return this.db.transaction(async (tx) => {
      const lists = await tx.query<{ user_id: string; created_at: number; items: string; names: string[] }>(
        `SELECT i.user_id, i.created_at, i.items,
                ARRAY(SELECT DISTINCT e.name FROM events AS e
                      WHERE e.request_id = i.request_id AND e.user_id = i.user_id) AS names
         FROM impressions AS i WHERE i.created_at >= $1 AND i.created_at < $2`,
        [since, until],
      );
      let clicked = 0;
      // Per user, the lists no request id links, each with its time and items.
      const open = new Map<string, { at: number; items: string }[]>();
      for (const list of lists) {
        if (list.names.some((n) => !ignored.has(keyOf(n)))) {
          clicked++;
          continue;
        }
        const mine = open.get(list.user_id);
        if (mine === undefined) open.set(list.user_id, [{ at: list.created_at, items: list.items }]);
        else mine.push({ at: list.created_at, items: list.items });
      }
      const users = [...open.keys()];
      for (let start = 0; start < users.length; start += USERS_PER_STATEMENT) {
        const chunk = users.slice(start, start + USERS_PER_STATEMENT);
        const firsts = chunk.map((u) =>
          open.get(u)!.reduce((first, list) => Math.min(first, list.at), Infinity),
        );
        const events = await tx.query<{ user_id: string; item_id: string; ts: number; name: string }>(
          `SELECT e.user_id, e.item_id, e.ts, e.name
           FROM unnest($1::text[], $2::bigint[]) AS u (user_id, first)
             JOIN events AS e ON e.user_id = u.user_id AND e.ts >= u.first AND e.ts < $3
           WHERE e.item_id IS NOT NULL`,
          [chunk, firsts, until],
        );
        // Per user, the latest time of each item clicked.
        const lastClick = new Map<string, Map<string, number>>();
        for (const e of events) {
          if (!clicks.has(keyOf(e.name))) continue;
          let mine = lastClick.get(e.user_id);
          if (mine === undefined) lastClick.set(e.user_id, (mine = new Map()));
          if ((mine.get(e.item_id) ?? -Infinity) < e.ts) mine.set(e.item_id, e.ts);
        }
        for (const [userId, itemsClicked] of lastClick) {
          for (const list of open.get(userId) ?? []) {
            const items = JSON.parse(list.items) as readonly { readonly itemId: string }[];
            if (items.some(({ itemId }) => (itemsClicked.get(itemId) ?? -Infinity) >= list.at)) clicked++;
          }
        }
      }
      return { lists: lists.length, clicked };
    }, READ_SNAPSHOT);
  }

  /** The mark and whatever `work` reads, in one snapshot: an event is either counted or in the tail. */
  #read<T>(work: (tx: PgTx, mark: number) => Promise<T>): Promise<T> {
    return this.db.transaction(async (tx) => work(tx, await activityMark(tx)), READ_SNAPSHOT);
  }
}

/** Users whose events one statement of `servedListClicks` reads. */
const USERS_PER_STATEMENT = 1_000;

/**
 * One catch-up transaction. The lock is tried (a catch-up never waits), and taken before anything is
 * read: each statement after it reads a snapshot in which no deletion is half done. The mark is read first
 * and bound as a constant, so the planner sees the short primary-key range it is.
 */
async function catchUpStep(
  tx: PgTx,
  target: number,
  chunk: number,
): Promise<{ mark: number; added: number } | null> {
  const [lock] = await tx.query<{ got: boolean }>(`SELECT ${ACTIVITY_TRY_LOCK} AS got`);
  if (!lock?.got) return null;
  const mark = await activityMark(tx);
  if (mark >= target) return { mark, added: 0 };
  const upTo = Math.min(target, mark + chunk);
  // `xmax = 0` tells a row ON CONFLICT inserted from one it updated: new users are counted once.
  await tx.query(
    `WITH fresh AS MATERIALIZED (SELECT user_id, ts FROM events WHERE seq > $1 AND seq <= $2),
     minutes AS (
       INSERT INTO event_minutes (minute, events)
       SELECT ${MINUTE_OF_TS} AS minute, count(*) FROM fresh GROUP BY 1
       ON CONFLICT (minute) DO UPDATE SET events = event_minutes.events + excluded.events
     ),
     users AS (
       INSERT INTO user_activity (user_id, last_ts, events)
       SELECT user_id, max(ts), count(*) FROM fresh GROUP BY user_id
       ON CONFLICT (user_id) DO UPDATE SET
         last_ts = greatest(user_activity.last_ts, excluded.last_ts),
         events = user_activity.events + excluded.events
       RETURNING xmax = 0 AS inserted
     )
     UPDATE event_log SET activity_through = $2,
       counted_events = counted_events + (SELECT count(*) FROM fresh),
       counted_users = counted_users + (SELECT count(*) FROM users WHERE inserted)`,
    [mark, upTo],
  );
  return { mark: upTo, added: upTo - mark };
}

export async function activityMark(tx: PgTx): Promise<number> {
  const [row] = await tx.query<{ mark: number }>('SELECT activity_through AS mark FROM event_log');
  return row?.mark ?? 0;
}

/** First in a transaction that deletes or moves events: waits for a running catch-up, holds the next off. */
export async function lockActivity(tx: PgTx): Promise<void> {
  await tx.query(`SELECT ${ACTIVITY_LOCK}`);
}

/**
 * Takes deleted events out of the tables (call after `lockActivity`, in the deleting transaction). Events
 * past the mark were never counted. A user left with no counted events loses their row; with `dropUser`
 * (erasure) that user's row goes whatever it holds. A user whose newest events went keeps the older
 * `last_ts` (retention deletes only events older than any window shown).
 */
export async function forgetEvents(
  tx: PgTx,
  deleted: readonly DeletedEvent[],
  dropUser: string | null = null,
): Promise<void> {
  const mark = await activityMark(tx);
  const counted = deleted.filter((e) => e.seq <= mark);
  const perMinute = new Map<number, number>();
  const perUser = new Map<string, number>();
  for (const { ts, user_id: user } of counted) {
    const minute = Math.floor(ts / MINUTE_MS);
    perMinute.set(minute, (perMinute.get(minute) ?? 0) + 1);
    if (user !== dropUser) perUser.set(user, (perUser.get(user) ?? 0) + 1);
  }
  if (perMinute.size > 0) {
    const minutes = [...perMinute.keys()];
    await tx.query(
      `UPDATE event_minutes AS m SET events = m.events - d.n
       FROM unnest($1::bigint[], $2::bigint[]) AS d (minute, n) WHERE m.minute = d.minute`,
      [minutes, [...perMinute.values()]],
    );
    await tx.query('DELETE FROM event_minutes WHERE minute = ANY($1::bigint[]) AND events <= 0', [minutes]);
  }
  let usersGone = 0;
  if (perUser.size > 0) {
    const users = [...perUser.keys()];
    await tx.query(
      `UPDATE user_activity AS a SET events = a.events - d.n
       FROM unnest($1::text[], $2::bigint[]) AS d (user_id, n) WHERE a.user_id = d.user_id`,
      [users, [...perUser.values()]],
    );
    usersGone += await tx.execute(
      'DELETE FROM user_activity WHERE user_id = ANY($1::text[]) AND events <= 0',
      [users],
    );
  }
  if (dropUser !== null)
    usersGone += await tx.execute('DELETE FROM user_activity WHERE user_id = $1', [dropUser]);
  if (counted.length > 0 || usersGone > 0) {
    await tx.query(
      'UPDATE event_log SET counted_events = counted_events - $1, counted_users = counted_users - $2',
      [counted.length, usersGone],
    );
  }
}

/** `fromId`'s events became `toId`'s (`Store.mergeUser`): their counted parts merge the same way. */
export async function mergeActivity(tx: PgTx, fromId: string, toId: string): Promise<void> {
  await tx.query(
    `WITH moved AS (DELETE FROM user_activity WHERE user_id = $1 RETURNING last_ts, events),
     merged AS (
       INSERT INTO user_activity (user_id, last_ts, events) SELECT $2, last_ts, events FROM moved
       ON CONFLICT (user_id) DO UPDATE SET
         last_ts = greatest(user_activity.last_ts, excluded.last_ts),
         events = user_activity.events + excluded.events
       RETURNING xmax = 0 AS inserted
     )
     UPDATE event_log SET counted_users = counted_users - (SELECT count(*) FROM merged WHERE NOT inserted)`,
    [fromId, toId],
  );
}
