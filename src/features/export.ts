import type { TrackedEvent } from '../events/index.js';
import { parseCsv } from '../shared/csv.js';
import { FeatureAccumulator, type FeatureRow } from './accumulator.js';
import { pairItem, userFeatureTable } from './batch.js';
import type { ItemLookup } from './feature-event.js';
import type { AccumulatorPlan, EntityColumns, FeatureSet } from './feature-set.js';

/**
 * `attune features export`: training tables as CSV, point-in-time correct (each row from the events with
 * timestamp < its time), computed by the accumulators that serve online values.
 */

/** One row asked for: a user at a time, optionally with an item (then item and pair columns follow). */
export interface ExportRow {
  readonly userId: string;
  readonly timestamp: number;
  readonly itemId: string | null;
}

export class ExportInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExportInputError';
  }
}

/** An ISO 8601 time or epoch milliseconds. */
export function parseTime(text: string, what: string): number {
  const trimmed = text.trim();
  const ms = /^-?\d+$/.test(trimmed) ? Number(trimmed) : Date.parse(trimmed);
  if (!Number.isSafeInteger(ms)) {
    throw new ExportInputError(`${what}: expected an ISO 8601 time or epoch milliseconds, got "${text}"`);
  }
  return ms;
}

/** A rows file: CSV with the header `user_id,timestamp` or `user_id,timestamp,item_id`. */
export function parseExportRows(text: string): ExportRow[] {
  const table = parseCsv(text);
  const [user, time, item, ...rest] = table.header.map((h) => h.trim());
  if (
    user !== 'user_id' ||
    time !== 'timestamp' ||
    (item !== undefined && item !== 'item_id') ||
    rest.length
  ) {
    throw new ExportInputError(
      `the header must be user_id,timestamp or user_id,timestamp,item_id; got ${table.header.join(',')}`,
    );
  }
  return table.rows.map((row, index) => {
    const line = index + 2;
    const userId = row[0] ?? '';
    if (userId === '') throw new ExportInputError(`line ${line}: user_id is empty`);
    const itemId = item === undefined || row[2] === '' ? null : (row[2] ?? null);
    return { userId, timestamp: parseTime(row[1] ?? '', `line ${line}: timestamp`), itemId };
  });
}

/** A CSV field, quoted when it must be (RFC 4180). */
function csvField(value: number | string | null): string {
  if (value === null) return '';
  if (typeof value === 'number') return String(value);
  return /[",\n\r]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

function header(prefix: string, columns: EntityColumns): string[] {
  return [...columns.numeric, ...columns.labels].map((name) => `${prefix}${name}`);
}

function fields(row: FeatureRow): (number | string | null)[] {
  return [...Array.from(row.numbers, (v) => (Number.isNaN(v) ? null : v)), ...row.labels];
}

/**
 * One row per user with an event before `cutoff` (in order of first appearance in the scan): `user_id`,
 * `timestamp` (the cutoff), then the user columns (`user.` prefixed). Writes lines through `write`.
 */
export async function exportAt(
  set: FeatureSet,
  scan: AsyncIterable<readonly TrackedEvent[]>,
  cutoff: number,
  items: ItemLookup,
  write: (line: string) => void,
): Promise<number> {
  const table = await userFeatureTable(set, scan, cutoff, items);
  write(['user_id', 'timestamp', ...header('user.', set.user)].map(csvField).join(','));
  const at = new Date(cutoff).toISOString();
  const width = table.columns.length;
  table.ids.forEach((userId, r) => {
    const numbers = Array.from(table.values.subarray(r * width, (r + 1) * width), (v) =>
      Number.isNaN(v) ? null : v,
    );
    write([userId, at, ...numbers, ...(table.labels[r] ?? [])].map(csvField).join(','));
  });
  return table.ids.length;
}

interface Replay {
  readonly accumulator: FeatureAccumulator;
  from: number;
  until: number;
}

function replayFor(map: Map<string, Replay>, key: string, t: number, plan: AccumulatorPlan): void {
  const found = map.get(key);
  if (found === undefined) map.set(key, { accumulator: new FeatureAccumulator(plan), from: t, until: t });
  else {
    found.from = Math.min(found.from, t);
    found.until = Math.max(found.until, t);
  }
}

/**
 * The rows asked for, in their order, each with its features at its own timestamp: `user_id`, `timestamp`,
 * `item_id` (when the rows name items), the user columns, then the item's and the pair's. One pass over the
 * scan keeps, for each user (item) named, its events from its earliest row minus the longest window up to its
 * latest row; older ones go into the lifetime summaries.
 */
export async function exportRows(
  set: FeatureSet,
  scan: AsyncIterable<readonly TrackedEvent[]>,
  rows: readonly ExportRow[],
  items: ItemLookup,
  write: (line: string) => void,
): Promise<number> {
  const reader = set.eventReader(items);
  // Per user (item) named: the accumulator, its earliest row and its latest (events from then on are
  // never read). Starting at the earliest row sends events older than it minus the span to the summaries.
  const users = new Map<string, Replay>();
  const itemStates = new Map<string, Replay>();
  for (const row of rows) {
    replayFor(users, row.userId, row.timestamp, set.userPlan);
    if (row.itemId !== null) replayFor(itemStates, row.itemId, row.timestamp, set.itemPlan);
  }
  for (const state of [...users.values(), ...itemStates.values()]) state.accumulator.advance(state.from);

  for await (const batch of scan) {
    for (const event of batch) {
      const user = users.get(event.userId);
      const item = event.itemId === null ? undefined : itemStates.get(event.itemId);
      const wantsUser = user !== undefined && event.timestamp < user.until;
      const wantsItem = item !== undefined && event.timestamp < item.until;
      if (!wantsUser && !wantsItem) continue;
      const featureEvent = reader.read(event);
      if (wantsUser) user.accumulator.add(featureEvent);
      if (wantsItem) item.accumulator.add(featureEvent);
    }
  }

  const withItems = rows.some((row) => row.itemId !== null);
  write(
    [
      'user_id',
      'timestamp',
      ...(withItems ? ['item_id'] : []),
      ...header('user.', set.user),
      ...(withItems ? [...header('item.', set.item), ...header('user_item.', set.userItem)] : []),
    ]
      .map(csvField)
      .join(','),
  );
  for (const row of rows) {
    const t = row.timestamp;
    const user = users.get(row.userId)!.accumulator;
    const line: (number | string | null)[] = [row.userId, new Date(t).toISOString()];
    if (withItems) line.push(row.itemId);
    line.push(...fields(user.read(set.user, t)));
    if (withItems) {
      if (row.itemId === null) {
        line.push(...header('', set.item).map(() => null), ...header('', set.userItem).map(() => null));
      } else {
        line.push(...fields(itemStates.get(row.itemId)!.accumulator.read(set.item, t)));
        line.push(...fields(user.read(set.userItem, t, pairItem(row.itemId, items))));
      }
    }
    write(line.map(csvField).join(','));
  }
  return rows.length;
}
