import type { TrackedEvent } from '../events/index.js';
import { userFeatureTable, type FeatureSet, type ItemLookup } from '../features/index.js';
import { churnColumns, modelRows, type ChurnColumnOptions } from './derived.js';

/**
 * Churn from the engine's events: who was active before a cutoff, who came back within a window after it,
 * and their features at the cutoff (the feature store's point-in-time batch values). The rule: a user with
 * any event before `cutoff` is in the table; they churned (label 1) when they have no qualifying event
 * with `cutoff ≤ timestamp < cutoff + window`. Features see only events with timestamp < cutoff.
 */

export const DAY_MS = 86_400_000;

/** Where a table is cut and how its labels are read. */
export interface ChurnCut {
  /** Features before it, labels from it. */
  readonly cutoff: number;
  /** The inactivity window after the cutoff, in ms. */
  readonly windowMs: number;
  /** Event names that count as coming back; `null`: any event. */
  readonly events: readonly string[] | null;
}

/** Users × features at a cutoff with their churn labels. */
export interface ChurnTable {
  readonly cut: ChurnCut;
  /** Row r is `ids[r]`. */
  readonly ids: readonly string[];
  /** The churn model's columns (`churnColumns`): the feature store's numeric user columns, then the derived. */
  readonly columns: readonly string[];
  /** Row-major ids.length × columns.length; NaN is missing. */
  readonly x: Float64Array;
  /** 1 = churned (no qualifying event in the window). */
  readonly y: Uint8Array;
  /** Days from each user's last event (any name) to the cutoff: the recency-only baseline's score. */
  readonly recencyDays: Float64Array;
  /** A stacked table's cutoffs, newest first (`stackChurnTables`); absent for one cutoff's table. */
  readonly cutoffs?: readonly number[];
}

/** Events in batches, as `Store.scanEvents` yields them; a table reads one fresh scan. */
export type EventScan = AsyncIterable<readonly TrackedEvent[]>;

/** Checks a cut's numbers; the message names the option a user would fix. */
export function checkCut(cut: ChurnCut): void {
  if (!Number.isSafeInteger(cut.cutoff)) throw new RangeError(`the cutoff must be a time, got ${cut.cutoff}`);
  if (!(cut.windowMs > 0 && Number.isFinite(cut.windowMs))) {
    throw new RangeError(`the window must be a positive number of days, got ${cut.windowMs / DAY_MS}`);
  }
  if (cut.events !== null && cut.events.length === 0) {
    throw new RangeError('give at least one event name, or none to count every event');
  }
}

/**
 * Watches events stream by and keeps what labels need: each user's newest event before the cutoff (any
 * name) and who had a qualifying event in [cutoff, cutoff + window). Memory: one number per user seen.
 */
export class LabelCollector {
  readonly #lastBefore = new Map<string, number>();
  readonly #returned = new Set<string>();
  readonly #names: ReadonlySet<string> | null;
  readonly #end: number;

  constructor(readonly cut: ChurnCut) {
    checkCut(cut);
    this.#names = cut.events === null ? null : new Set(cut.events);
    this.#end = cut.cutoff + cut.windowMs;
  }

  add(event: TrackedEvent): void {
    const t = event.timestamp;
    if (t < this.cut.cutoff) {
      const last = this.#lastBefore.get(event.userId);
      if (last === undefined || t > last) this.#lastBefore.set(event.userId, t);
    } else if (t < this.#end && (this.#names === null || this.#names.has(event.name))) {
      this.#returned.add(event.userId);
    }
  }

  /** 1 when the user was active before the cutoff and did not come back; undefined when not active before. */
  label(userId: string): 0 | 1 | undefined {
    if (!this.#lastBefore.has(userId)) return undefined;
    return this.#returned.has(userId) ? 0 : 1;
  }

  /** Days from the user's last event before the cutoff to the cutoff (NaN when none). */
  recencyDays(userId: string): number {
    const last = this.#lastBefore.get(userId);
    return last === undefined ? Number.NaN : (this.cut.cutoff - last) / DAY_MS;
  }
}

/** Passes a scan through unchanged, showing every event to `see` on the way. */
async function* tapped(scan: EventScan, see: (event: TrackedEvent) => void): EventScan {
  for await (const batch of scan) {
    for (const event of batch) see(event);
    yield batch;
  }
}

/**
 * The churn table at a cut from one pass over a scan of the events (any order): the feature store's
 * `userFeatureTable` at the cutoff (which skips every event at or after it), mapped to the churn model's
 * columns (`churnColumns`, `modelRows`: the derived ratios computed as serving computes them), and the
 * labels beside it. The caller makes sure the window has ended in the data (`cutoff + window ≤ now`), or
 * every user in it looks churned.
 */
export async function churnTable(
  set: FeatureSet,
  scan: EventScan,
  cut: ChurnCut,
  items: ItemLookup,
  options: ChurnColumnOptions = {},
): Promise<ChurnTable> {
  const labels = new LabelCollector(cut);
  const table = await userFeatureTable(
    set,
    tapped(scan, (event) => labels.add(event)),
    cut.cutoff,
    items,
  );
  const n = table.ids.length;
  const y = new Uint8Array(n);
  const recencyDays = new Float64Array(n);
  table.ids.forEach((id, r) => {
    // Every user in the feature table had an event before the cutoff, so the collector saw it too.
    y[r] = labels.label(id) ?? 0;
    recencyDays[r] = labels.recencyDays(id);
  });
  const meanings = churnColumns(set, cut.events, options);
  const x = modelRows(meanings, table.columns, table.values, n);
  return { cut, ids: table.ids, columns: meanings.map((m) => m.column), x, y, recencyDays };
}

/** The share of churned rows. */
export function churnRate(table: Pick<ChurnTable, 'y'>): number {
  let churned = 0;
  for (const label of table.y) churned += label;
  return table.y.length === 0 ? Number.NaN : churned / table.y.length;
}

/**
 * The two cuts of time-based validation ending at `cutoff` (default `now − window`): the model is trained
 * on the table at `cutoff − window` (labels in [cutoff − window, cutoff), known by the cutoff) and judged
 * on the table at `cutoff` (labels in [cutoff, cutoff + window), which must have ended by `now`).
 */
export function validationCuts(
  now: number,
  windowMs: number,
  events: readonly string[] | null,
  cutoff: number = now - windowMs,
): { readonly train: ChurnCut; readonly evaluation: ChurnCut } {
  const evaluation: ChurnCut = { cutoff, windowMs, events };
  checkCut(evaluation);
  if (cutoff + windowMs > now) {
    throw new RangeError(
      `the window after the cutoff ${new Date(cutoff).toISOString()} ends ` +
        `${new Date(cutoff + windowMs).toISOString()}, after now (${new Date(now).toISOString()}): ` +
        'its labels are not known yet; give an earlier --cutoff or a shorter --window',
    );
  }
  return { train: { ...evaluation, cutoff: cutoff - windowMs }, evaluation };
}

/**
 * How far back training stacks cutoffs: one every `STACK_STEP_DAYS` from the newest training cutoff, at
 * most `MAX_STACKED_CUTS` of them, while the users active before a cutoff still include both outcomes.
 */
export const STACK_STEP_DAYS = 30;
export const MAX_STACKED_CUTS = 12;

/**
 * The training cutoffs stacked below `newest`: newest first, every `stepMs` back, at most `max`. Each
 * keeps `newest`'s window and events, so its labels end before `newest`'s do and were known as early.
 */
export function stackedCuts(
  newest: ChurnCut,
  stepMs: number = STACK_STEP_DAYS * DAY_MS,
  max = MAX_STACKED_CUTS,
): ChurnCut[] {
  checkCut(newest);
  if (!(stepMs > 0) || !Number.isInteger(max) || max < 1)
    throw new RangeError('stackedCuts: step and count must be positive');
  return Array.from({ length: max }, (_, k) => ({ ...newest, cutoff: newest.cutoff - k * stepMs }));
}

/**
 * One training table from several cutoffs' tables (same columns): every (user, cutoff) pair a row with
 * the features before that cutoff and the label of its window. A single cutoff shows one moment of the
 * users' lives; in a cohort that ages together (CDNOW: every customer's first purchase in Q1 1997) a
 * later cutoff shows longer inactivity and tenure than any row of it. Stacking earlier cutoffs puts the
 * same users at many ages in the table, so the model learns how risk moves with time since the last
 * event rather than one snapshot's pattern. Rows of one user stay together in `tuningSplit` (it splits
 * by id), so tuning never sees a user it fits. `cut` is the newest table's; empty tables are left out.
 */
export function stackChurnTables(tables: readonly ChurnTable[]): ChurnTable {
  const kept = tables.filter((t) => t.ids.length > 0);
  const newest = kept[0] ?? tables[0];
  if (newest === undefined) throw new RangeError('stackChurnTables: no table');
  if (kept.length <= 1) return newest;
  const width = newest.columns.length;
  for (const t of kept) {
    if (t.columns.join('\n') !== newest.columns.join('\n'))
      throw new Error('stacked churn tables have different columns');
  }
  const n = kept.reduce((sum, t) => sum + t.ids.length, 0);
  const x = new Float64Array(n * width);
  const y = new Uint8Array(n);
  const recencyDays = new Float64Array(n);
  const ids: string[] = [];
  let at = 0;
  for (const t of kept) {
    x.set(t.x, at * width);
    y.set(t.y, at);
    recencyDays.set(t.recencyDays, at);
    for (const id of t.ids) ids.push(id);
    at += t.ids.length;
  }
  const cutoffs = kept.map((t) => t.cut.cutoff);
  return { cut: newest.cut, ids, columns: newest.columns, x, y, recencyDays, cutoffs };
}

/**
 * The stacked training table below `newest` (`stackedCuts`), one fresh scan per cutoff; `scan` gives a
 * new scan of the same events each call (a store's `scanEvents` through a fixed position). Also the
 * newest cutoff's own table: the users as they are at one moment (what risk bands are cut on).
 */
export async function stackedChurnTable(
  set: FeatureSet,
  scan: () => EventScan,
  newest: ChurnCut,
  items: ItemLookup,
  cuts: readonly ChurnCut[] = stackedCuts(newest),
  options: ChurnColumnOptions = {},
): Promise<{ readonly stacked: ChurnTable; readonly newest: ChurnTable }> {
  const tables: ChurnTable[] = [];
  for (const cut of cuts) {
    const table = await churnTable(set, scan(), cut, items, options);
    // Further back, fewer users were active yet: stop at the first cutoff with nobody before it.
    if (table.ids.length === 0 && tables.length > 0) break;
    tables.push(table);
  }
  return { stacked: stackChurnTables(tables), newest: tables[0]! };
}
