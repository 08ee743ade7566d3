import type { TrackedEvent } from '../events/index.js';
import { userFeatureTable, type FeatureSet, type ItemLookup } from '../features/index.js';

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
  /** The feature store's numeric user columns. */
  readonly columns: readonly string[];
  /** Row-major ids.length × columns.length; NaN is missing. */
  readonly x: Float64Array;
  /** 1 = churned (no qualifying event in the window). */
  readonly y: Uint8Array;
  /** Days from each user's last event (any name) to the cutoff: the recency-only baseline's score. */
  readonly recencyDays: Float64Array;
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
 * `userFeatureTable` at the cutoff (which skips every event at or after it) and the labels beside it.
 * The caller makes sure the window has ended in the data (`cutoff + window ≤ now`), or every user in it
 * looks churned.
 */
export async function churnTable(
  set: FeatureSet,
  scan: EventScan,
  cut: ChurnCut,
  items: ItemLookup,
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
  return { cut, ids: table.ids, columns: table.columns, x: table.values, y, recencyDays };
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
