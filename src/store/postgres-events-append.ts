import type { AppendResult, TrackedEvent } from '../events/types.js';
import type { AppendOptions } from './types.js';
import type { KnownIds } from './known-ids.js';
import { assertText, type PgDb } from './postgres-db.js';
import { APPEND_LOCK, assertOptionalText } from './postgres-events-common.js';

/*
 * Appends on PostgreSQL. Every append is ONE statement run on its own (an implicit transaction: atomic,
 * acknowledged after its commit is durable) that takes the append lock shared, draws its seqs, inserts the
 * events and their placeholder items, and commits. No BEGIN/COMMIT round trips. Appends of different
 * connections and processes run side by side (two API instances use both of PostgreSQL's cores); readers
 * that need a settled prefix of the log wait for those in flight (`APPEND_BARRIER`, postgres-events-common).
 *
 * Within one store, appends are serial: calls made while one is committing are grouped into the next
 * statement (group commit, as the SQLite store does), and each caller gets the result its batch would have
 * had had the batches been committed one after the other in call order (which of two batches carrying the
 * same new id stores it). Appends of different stores racing on the same ids insert them in one order and
 * so cannot deadlock on them; a deadlock with anything else PostgreSQL resolves by failing one statement,
 * which is then run again.
 */

/** Runs of a statement PostgreSQL failed as a deadlock victim before the failure is passed on. */
const DEADLOCK_RETRIES = 3;
const DEADLOCK_DETECTED = '40P01';

/** Events one grouped statement carries at most (a single larger batch still goes alone, whole). */
const MAX_GROUP_EVENTS = 10_000;

/** One batch's columns, checked and encoded, in the order of the statement's parameters. */
interface EncodedEvents {
  readonly eventIds: string[];
  readonly names: string[];
  readonly users: string[];
  readonly items: (string | null)[];
  readonly times: number[];
  readonly received: number[];
  readonly contexts: string[];
  readonly properties: string[];
  readonly requests: (string | null)[];
}

/** An `appendEvents` call waiting for its group's statement. */
interface PendingAppend {
  readonly rows: EncodedEvents;
  readonly createMissingItems: boolean;
  readonly resolve: (result: AppendResult) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * The append statement when no event asks for a placeholder item (the usual case: the writer knows every
 * item to be in `items` already, `KnownIds`). `lock` is materialised once and gates the scan before any
 * row reaches `nextval`, so no seq is drawn before the lock is held. The input's order (ORDINALITY) is the
 * order of the seqs: `nextval` runs in the numbered subquery (OFFSET 0 keeps it from being merged into the
 * outer query, whose sort would otherwise come first). The rows then go in in event id order, so that
 * appends racing on the same ids wait for each other's ids in one order and cannot deadlock. Repeats of
 * stored ids are skipped by ON CONFLICT; repeats within the statement were taken out by the caller.
 */
const INSERT_EVENTS = `
  WITH lock AS MATERIALIZED (SELECT ${APPEND_LOCK})
  INSERT INTO events (seq, event_id, name, user_id, item_id, ts, received_at, context, properties, request_id)
  SELECT seq, event_id, name, user_id, item_id, ts, received_at, context, properties, request_id
  FROM (
    SELECT nextval('events_seq') AS seq, o.*
    FROM (
      SELECT i.* FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[],
                             $7::text[], $8::text[], $9::text[])
        WITH ORDINALITY AS i (event_id, name, user_id, item_id, ts, received_at, context, properties,
                              request_id, ord)
      WHERE EXISTS (SELECT FROM lock)
      ORDER BY i.ord
    ) AS o
    OFFSET 0
  ) AS numbered
  ORDER BY event_id COLLATE "C"
  ON CONFLICT (event_id) DO NOTHING
  RETURNING seq, event_id, false AS created_item`;

/**
 * The append statement when some events ask for a placeholder item: the same insert (a CTE this time, as
 * the items need its result), then the placeholders. They come only from events stored now (a re-sent
 * event cannot resurrect a deleted item), one per item from its first such event, and only for events that
 * asked for one; they go in in item id order (`firsts` is sorted so), for the reason the events go in in
 * event id order. About a
 * third dearer than `INSERT_EVENTS` for a batch of 2,000 events, even when every item exists already.
 */
const INSERT_EVENTS_WITH_ITEMS = `
  WITH lock AS MATERIALIZED (SELECT ${APPEND_LOCK}),
  input AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[],
                         $7::text[], $8::text[], $9::text[], $10::boolean[])
      WITH ORDINALITY AS i (event_id, name, user_id, item_id, ts, received_at, context, properties,
                            request_id, create_item, ord)
  ),
  numbered AS MATERIALIZED (
    SELECT nextval('events_seq') AS seq, o.* FROM (SELECT input.* FROM input, lock ORDER BY input.ord) AS o
  ),
  stored AS (
    INSERT INTO events (seq, event_id, name, user_id, item_id, ts, received_at, context, properties, request_id)
    SELECT seq, event_id, name, user_id, item_id, ts, received_at, context, properties, request_id
    FROM numbered ORDER BY event_id COLLATE "C"
    ON CONFLICT (event_id) DO NOTHING
    RETURNING seq, event_id, item_id, ts, received_at
  ),
  firsts AS (
    SELECT DISTINCT ON (s.item_id) s.item_id, s.seq, s.ts, s.received_at
    FROM stored AS s JOIN input AS i ON i.event_id = s.event_id
    WHERE i.create_item AND s.item_id IS NOT NULL
    ORDER BY s.item_id, s.seq
  ),
  created AS (
    INSERT INTO items (id, categories, tags, price, available, created_at, expires_at, attributes, updated_at)
    SELECT item_id, '[]', '[]', NULL, true, ts, NULL, '{}', received_at FROM firsts
    ON CONFLICT (id) DO NOTHING
    RETURNING id
  )
  SELECT s.seq, s.event_id, c.id IS NOT NULL AS created_item
  FROM stored AS s LEFT JOIN firsts AS f ON f.seq = s.seq LEFT JOIN created AS c ON c.id = f.item_id`;

/**
 * Checks and encodes a batch before it joins a group, so that a bad batch fails alone and before any SQL:
 * ids refused by PostgreSQL text (U+0000) name their field, values JSON cannot hold throw here.
 */
export function encodeEvents(events: readonly TrackedEvent[]): EncodedEvents {
  const rows: EncodedEvents = {
    eventIds: [],
    names: [],
    users: [],
    items: [],
    times: [],
    received: [],
    contexts: [],
    properties: [],
    requests: [],
  };
  events.forEach((event, index) => {
    const field = `events[${index}]`;
    rows.eventIds.push(assertText(`${field}.eventId`, event.eventId));
    rows.names.push(assertText(`${field}.name`, event.name));
    rows.users.push(assertText(`${field}.userId`, event.userId));
    rows.items.push(assertOptionalText(`${field}.itemId`, event.itemId));
    rows.times.push(event.timestamp);
    rows.received.push(event.receivedAt);
    rows.contexts.push(JSON.stringify(event.context));
    rows.properties.push(JSON.stringify(event.properties));
    rows.requests.push(assertOptionalText(`${field}.requestId`, event.requestId));
  });
  return rows;
}

export class EventAppender {
  #queue: PendingAppend[] = [];
  #running = false;
  /** Calls not yet answered: what `settled()` waits for. */
  readonly #unsettled = new Set<Promise<unknown>>();

  constructor(
    private readonly db: PgDb,
    /** Told the highest seq of each commit (the activity catch-up decides from it whether to run). */
    private readonly committed: (lastSeq: number) => void,
    /**
     * Items known to be in `items`: their events ask for no placeholder. The store that owns it forgets
     * the items it deletes; one deleted through another process may be believed present for the set's
     * maximum age, and an event for it stored meanwhile creates no placeholder.
     */
    private readonly knownItems: KnownIds,
  ) {}

  async append(events: readonly TrackedEvent[], options: AppendOptions): Promise<AppendResult> {
    this.db.assertWritable('append events');
    if (events.length === 0) return { stored: 0, duplicates: [], createdItems: [], positions: [] };
    const rows = encodeEvents(events);
    const answer = new Promise<AppendResult>((resolve, reject) => {
      this.#queue.push({ rows, createMissingItems: options.createMissingItems, resolve, reject });
    });
    const settled = answer.catch(() => undefined);
    this.#unsettled.add(settled);
    void settled.then(() => this.#unsettled.delete(settled));
    this.#schedule();
    return answer;
  }

  /** Resolves once every append requested before the call is answered (erasure and merges include them). */
  async settled(): Promise<void> {
    await Promise.all([...this.#unsettled]);
  }

  /** Calls of the same turn of the event loop share the first statement; later ones queue behind it. */
  #schedule(): void {
    if (this.#running) return;
    this.#running = true;
    setImmediate(() => void this.#drain());
  }

  async #drain(): Promise<void> {
    try {
      // The check and the reset below run without a yield between them: a call queued meanwhile is seen.
      while (this.#queue.length > 0) await this.#commitGroup(this.#takeGroup());
    } finally {
      this.#running = false;
    }
  }

  #takeGroup(): PendingAppend[] {
    let events = 0;
    let taken = 0;
    for (const pending of this.#queue) {
      const size = pending.rows.eventIds.length;
      if (taken > 0 && events + size > MAX_GROUP_EVENTS) break;
      events += size;
      taken += 1;
    }
    return this.#queue.splice(0, taken);
  }

  async #commitGroup(group: readonly PendingAppend[]): Promise<void> {
    try {
      const results = await this.#insert(group);
      group.forEach((pending, index) => pending.resolve(results[index]!));
      return;
    } catch (error) {
      if (group.length === 1) {
        group[0]!.reject(error);
        return;
      }
    }
    // The shared statement failed whole; each batch alone, so that one failure fails only itself.
    for (const pending of group) {
      try {
        const [result] = await this.#insert([pending]);
        pending.resolve(result!);
      } catch (error) {
        pending.reject(error);
      }
    }
  }

  /** One statement for the group; the results as if its batches had been committed one after the other. */
  async #insert(group: readonly PendingAppend[]): Promise<AppendResult[]> {
    const slotOf = new Map<string, number>();
    const input = {
      eventIds: [] as string[],
      names: [] as string[],
      users: [] as string[],
      items: [] as (string | null)[],
      times: [] as number[],
      received: [] as number[],
      contexts: [] as string[],
      properties: [] as string[],
      requests: [] as (string | null)[],
      createItem: [] as boolean[],
    };
    let placeholders = false;
    // Per batch, per event: its row in the statement, or null for a repeat of an id seen earlier in the group.
    const slots = group.map(({ rows, createMissingItems }) =>
      rows.eventIds.map((eventId, k) => {
        if (slotOf.has(eventId)) return null;
        const slot = input.eventIds.length;
        const item = rows.items[k]!;
        const createItem = createMissingItems && item !== null && !this.knownItems.has(item);
        placeholders ||= createItem;
        slotOf.set(eventId, slot);
        input.eventIds.push(eventId);
        input.names.push(rows.names[k]!);
        input.users.push(rows.users[k]!);
        input.items.push(item);
        input.times.push(rows.times[k]!);
        input.received.push(rows.received[k]!);
        input.contexts.push(rows.contexts[k]!);
        input.properties.push(rows.properties[k]!);
        input.requests.push(rows.requests[k]!);
        input.createItem.push(createItem);
        return slot;
      }),
    );
    const columns = [
      input.eventIds,
      input.names,
      input.users,
      input.items,
      input.times,
      input.received,
      input.contexts,
      input.properties,
      input.requests,
    ];
    const stored = await insertEvents(
      this.db,
      placeholders ? INSERT_EVENTS_WITH_ITEMS : INSERT_EVENTS,
      placeholders ? [...columns, input.createItem] : columns,
    );
    const seqs = new Array<number | null>(input.eventIds.length).fill(null);
    const created = new Array<boolean>(input.eventIds.length).fill(false);
    let last = 0;
    for (const row of stored) {
      const slot = slotOf.get(row.event_id)!;
      seqs[slot] = row.seq;
      created[slot] = row.created_item;
      last = Math.max(last, row.seq);
    }
    if (last > 0) this.committed(last);
    return group.map(({ rows, createMissingItems }, b) => {
      const duplicates: string[] = [];
      const createdItems: string[] = [];
      const positions = slots[b]!.map((slot, k) => {
        const seq = slot === null ? null : (seqs[slot] ?? null);
        const item = rows.items[k]!;
        if (seq === null) duplicates.push(rows.eventIds[k]!);
        else if (slot !== null && created[slot]) createdItems.push(item);
        // Stored with placeholders asked for, its item is in `items` now. Not a duplicate's: a re-sent
        // event creates nothing, so its item may be one deleted since.
        if (seq !== null && createMissingItems && item !== null) this.knownItems.add(item);
        return seq;
      });
      return { stored: positions.length - duplicates.length, duplicates, createdItems, positions };
    });
  }
}

async function insertEvents(db: PgDb, statement: string, values: readonly unknown[]): Promise<InsertedRow[]> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await db.query<InsertedRow>(statement, values);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code !== DEADLOCK_DETECTED || attempt >= DEADLOCK_RETRIES) throw error;
    }
  }
}

interface InsertedRow {
  readonly seq: number;
  readonly event_id: string;
  readonly created_item: boolean;
}
