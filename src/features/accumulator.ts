import type { AggregateState, Aggregator, ColumnSink, PairItem, SavedState } from './aggregators.js';
import type { TrackedEvent } from '../events/index.js';
import type { EventReader, FeatureEvent } from './feature-event.js';
import type { AccumulatorPlan, EntityColumns } from './feature-set.js';

/** Rough bytes of one buffered event (the object, its arrays, the buffer slot); only bounds caches. */
const BYTES_PER_EVENT = 240;
const OVERHEAD_BYTES = 400;

/** Values of one entity's columns at one time: numbers (NaN for missing) and labels (null for none). */
export interface FeatureRow {
  readonly columns: EntityColumns;
  readonly numbers: Float64Array;
  readonly labels: (string | null)[];
}

/** A buffered event as JSON: the fields of `FeatureEvent` in order, null for NaN. */
type SavedEvent = readonly [
  eventId: string,
  timestamp: number,
  name: string,
  userId: string,
  itemId: string | null,
  session: string | null,
  category: string | null,
  priceUnits: number | null,
  fields: readonly (string | null)[],
  amounts: readonly (number | null)[],
];

/**
 * An accumulator as JSON, to be taken up by another process with the same plan (`snapshot`, `restore`):
 * the summaries of retired events and the events still buffered, so every value it could still give, it
 * gives again, and events added afterwards fold in as they would have.
 */
export interface AccumulatorSnapshot {
  readonly added: number;
  /** Null for -Infinity (nothing retired yet). */
  readonly horizon: number | null;
  readonly summaries: readonly (SavedState | null)[];
  readonly events: readonly SavedEvent[];
}

const orNull = (value: number): number | null => (Number.isNaN(value) ? null : value);
const orNaN = (value: number | null): number => value ?? Number.NaN;

/**
 * The one place feature values are computed, online and in batch alike: the events of one user (or one
 * item), folded so that the value at any time `t` it may still be asked about is a function of exactly the
 * events with timestamp < t.
 *
 * Events within the plan's span of the newest time asked about are kept one by one in a buffer sorted by
 * timestamp (windows are read from it exactly). Older ones are retired into each lifetime aggregate's
 * summary, whose folds are order-free (counts, integer sums, min, max, value counts), so an event may
 * arrive in any order, late ones included: one older than the horizon goes straight into the summaries,
 * one inside it is inserted at its place. A value at `t` is then summary ⊕ buffered events before `t` for
 * lifetime aggregates, and the buffered events in [t − window, t) for the others.
 *
 * The one limit: after `advance(now)`, times before `now` minus the span cannot be asked about any more
 * (their windows' events may have been retired). Online reads move forward with the clock; batch replays
 * read in time order.
 */
export class FeatureAccumulator {
  #buffer: FeatureEvent[] = [];
  /** Buffered events start here; those before were retired (compacted away from time to time). */
  #head = 0;
  /** Events with timestamp < horizon are in the summaries only. */
  #horizon = -Infinity;
  readonly #summaries: (AggregateState | null)[];
  /** The lifetime aggregates and their summaries, all a retired event is still folded into. */
  readonly #lifetime: { readonly aggregator: Aggregator; readonly summary: AggregateState }[];
  /** Events ever added, future-dated ones included. */
  #added = 0;
  /** The summaries' bytes, summed again only after one changed: caches weigh an accumulator per batch. */
  #summaryBytes = -1;
  #heldThrough = 0;

  constructor(readonly plan: AccumulatorPlan) {
    this.#summaries = plan.aggregators.map((a) => (a.spanMs === null ? a.create(Number.NaN) : null));
    this.#lifetime = [];
    this.#summaries.forEach((summary, k) => {
      if (summary !== null) this.#lifetime.push({ aggregator: plan.aggregators[k]!, summary });
    });
  }

  /**
   * Every event of its key at or below this log position is folded in: the position of the shared snapshot
   * it was restored from (`features/snapshots.ts`), 0 otherwise. Such an event recorded again (one in flight
   * when the snapshot was taken) must not be added a second time.
   */
  get heldThrough(): number {
    return this.#heldThrough;
  }

  /** This accumulator as JSON (see `AccumulatorSnapshot`). */
  snapshot(): AccumulatorSnapshot {
    const events: SavedEvent[] = [];
    for (let k = this.#head; k < this.#buffer.length; k++) {
      const e = this.#buffer[k]!;
      events.push([
        e.eventId,
        e.timestamp,
        e.name,
        e.userId,
        e.itemId,
        e.session,
        e.category,
        orNull(e.priceUnits),
        e.fields,
        e.amounts.map(orNull),
      ]);
    }
    return {
      added: this.#added,
      horizon: Number.isFinite(this.#horizon) ? this.#horizon : null,
      summaries: this.#summaries.map((summary) => summary?.save() ?? null),
      events,
    };
  }

  /**
   * The accumulator a snapshot describes, for the same plan (the same feature definitions): a snapshot of
   * another plan, or one damaged on the way, throws rather than give wrong values. `heldThrough`: the log
   * position through which the snapshot folds every event of its key, when it is known.
   */
  static restore(plan: AccumulatorPlan, snapshot: AccumulatorSnapshot, heldThrough = 0): FeatureAccumulator {
    const accumulator = new FeatureAccumulator(plan);
    accumulator.#heldThrough = heldThrough;
    const summaries = snapshot.summaries;
    if (!Array.isArray(summaries) || summaries.length !== plan.aggregators.length) {
      throw new TypeError('accumulator snapshot: its summaries do not match the feature definitions');
    }
    summaries.forEach((saved, k) => {
      const summary = accumulator.#summaries[k] ?? null;
      if ((summary === null) !== (saved === null)) {
        throw new TypeError('accumulator snapshot: its summaries do not match the feature definitions');
      }
      if (summary !== null && saved !== null) summary.load(saved);
    });
    accumulator.#summaryBytes = -1;
    let last = -Infinity;
    for (const saved of snapshot.events) {
      const [eventId, timestamp, name, userId, itemId, session, category, price, fields, amounts] = saved;
      if (typeof eventId !== 'string' || typeof timestamp !== 'number' || timestamp < last) {
        throw new TypeError('accumulator snapshot: its events are not in time order');
      }
      last = timestamp;
      accumulator.#buffer.push({
        eventId,
        timestamp,
        name,
        userId,
        itemId,
        session,
        category,
        priceUnits: orNaN(price),
        fields,
        amounts: amounts.map(orNaN),
      });
    }
    accumulator.#horizon = snapshot.horizon ?? -Infinity;
    accumulator.#added = snapshot.added;
    return accumulator;
  }

  /** How many events were added (any timestamp): zero means nobody has heard of this user or item. */
  get eventCount(): number {
    return this.#added;
  }

  /** The earliest time that can still be read. */
  get readableFrom(): number {
    return this.#horizon + this.plan.spanMs;
  }

  get bytes(): number {
    if (this.#summaryBytes < 0) {
      this.#summaryBytes = 0;
      for (const summary of this.#summaries) if (summary !== null) this.#summaryBytes += summary.bytes;
    }
    return OVERHEAD_BYTES + (this.#buffer.length - this.#head) * BYTES_PER_EVENT + this.#summaryBytes;
  }

  /** Folds one event in, whatever its timestamp and whatever was added before it. */
  add(event: FeatureEvent): void {
    this.#added++;
    if (event.timestamp < this.#horizon) {
      this.#summarise(event);
      return;
    }
    const buffer = this.#buffer;
    const last = buffer[buffer.length - 1];
    if (last === undefined || last.timestamp <= event.timestamp || buffer.length === this.#head) {
      buffer.push(event);
      return;
    }
    // A late event: after every buffered one with the same or an earlier timestamp.
    buffer.splice(this.#upperBound(event.timestamp), 0, event);
  }

  /**
   * Declares that nothing before `now` minus the span will be read again, retiring older buffered events
   * into the summaries. Never moves back.
   */
  advance(now: number): void {
    const horizon = now - this.plan.spanMs;
    if (!(horizon > this.#horizon)) return;
    this.#horizon = horizon;
    const buffer = this.#buffer;
    let head = this.#head;
    while (head < buffer.length && buffer[head]!.timestamp < horizon) this.#summarise(buffer[head++]!);
    this.#head = head;
    if (head > 64 && head * 2 > buffer.length) {
      this.#buffer = buffer.slice(head);
      this.#head = 0;
    }
  }

  /**
   * The entity's values at `t`: from exactly the events with timestamp < t. `pair` is the item for
   * user-item columns. Throws when `t` is before what was retired (`readableFrom`).
   */
  read(columns: EntityColumns, t: number, pair: PairItem | null = null): FeatureRow {
    if (t < this.readableFrom) {
      throw new RangeError(
        `features at ${new Date(t).toISOString()} cannot be read: events before ` +
          `${new Date(this.#horizon).toISOString()} were summarised`,
      );
    }
    const sink: FeatureRow = {
      columns,
      numbers: new Float64Array(columns.numeric.length),
      labels: columns.labels.map(() => null),
    };
    const end = this.#lowerBound(t);
    for (const slot of columns.slots) {
      const aggregator = this.plan.aggregators[slot.aggregator]!;
      const summary = this.#summaries[slot.aggregator] ?? null;
      const state = summary === null ? aggregator.create(t) : summary.clone();
      const from = aggregator.spanMs === null ? this.#head : this.#lowerBound(t - aggregator.spanMs);
      for (let k = from; k < end; k++) {
        const event = this.#buffer[k]!;
        if (aggregator.accepts(event, pair)) state.add(event);
      }
      state.write(t, pair, sink satisfies ColumnSink, slot.numberAt, slot.labelAt);
    }
    return sink;
  }

  #summarise(event: FeatureEvent): void {
    this.#summaryBytes = -1;
    // Lifetime aggregates never filter by the pair's item (validation keeps those windowed).
    for (const { aggregator, summary } of this.#lifetime) {
      if (aggregator.accepts(event, null)) summary.add(event);
    }
  }

  /** First buffered index with timestamp ≥ t. */
  #lowerBound(t: number): number {
    let lo = this.#head;
    let hi = this.#buffer.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#buffer[mid]!.timestamp < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** First buffered index with timestamp > t. */
  #upperBound(t: number): number {
    let lo = this.#head;
    let hi = this.#buffer.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#buffer[mid]!.timestamp <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/**
 * Folds events as the store returns them (newest first) into the accumulator, oldest first: each add then
 * appends to the buffer rather than inserting before what is there.
 */
export function foldNewestFirst(
  accumulator: FeatureAccumulator,
  reader: EventReader,
  events: readonly TrackedEvent[],
): void {
  for (let k = events.length - 1; k >= 0; k--) accumulator.add(reader.read(events[k]!));
}
