import type { FeatureDefinition } from './definitions.js';
import { UNITS, type FeatureEvent } from './feature-event.js';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
/** Events without `context.session_id` start a new session after this long without an event. */
export const SESSION_GAP_MS = 30 * 60_000;

/** The item a user-item pair is about, as the catalog has it when the value is read. */
export interface PairItem {
  readonly id: string;
  readonly category: string | null;
  /** In units, NaN when unknown. */
  readonly priceUnits: number;
}

/** Where an aggregate writes its columns. */
export interface ColumnSink {
  readonly numbers: Float64Array;
  readonly labels: (string | null)[];
}

/**
 * One definition's running aggregate over a set of events. Every state adds events commutatively (counts,
 * integer sums, min, max, sets) except where it reads them in time order from the window (sessions split
 * by gaps), so the value depends only on which events were added, never on their arrival order.
 */
export interface AggregateState {
  add(event: FeatureEvent): void;
  clone(): AggregateState;
  /** What it has folded, as JSON (a snapshot shared between instances, `accumulator.ts`). */
  save(): SavedState;
  /** Takes back what `save` gave, on a state fresh from the same aggregator; throws on another shape. */
  load(saved: SavedState): void;
  /** Writes the columns as of `t` at `numberAt` / `labelAt`. */
  write(t: number, pair: PairItem | null, sink: ColumnSink, numberAt: number, labelAt: number): void;
  /** Rough bytes held, to bound caches. */
  readonly bytes: number;
}

/** A compiled definition: which events it reads, how far back, and the state it folds them into. */
/** A state's folded values as JSON: numbers (null for ±Infinity), lists of them, or text–count pairs. */
export type SavedState = readonly (number | null | string | readonly (string | number)[])[];

/** A saved number: JSON has no ±Infinity or NaN. */
const finite = (value: number): number | null => (Number.isFinite(value) ? value : null);

function savedNumber(saved: SavedState, at: number, fallback: number): number {
  const value = saved[at];
  if (value === null) return fallback;
  if (typeof value !== 'number') throw new TypeError(`saved state: position ${at} is not a number`);
  return value;
}

function savedList(saved: SavedState, at: number): readonly (string | number)[] {
  const value = saved[at];
  if (!Array.isArray(value)) throw new TypeError(`saved state: position ${at} is not a list`);
  return value as readonly (string | number)[];
}

export interface Aggregator {
  readonly definition: FeatureDefinition;
  readonly numericColumns: readonly string[];
  readonly labelColumns: readonly string[];
  /** How far before `t` it reads; `null` is lifetime (a summary of retired events plus the buffer). */
  readonly spanMs: number | null;
  accepts(event: FeatureEvent, pair: PairItem | null): boolean;
  create(t: number): AggregateState;
}

const nanIfEmpty = (numerator: number, denominator: number): number =>
  denominator === 0 ? Number.NaN : numerator / denominator;

class CountState implements AggregateState {
  constructor(public n = 0) {}
  add(): void {
    this.n++;
  }
  clone(): CountState {
    return new CountState(this.n);
  }
  save(): SavedState {
    return [this.n];
  }
  load(saved: SavedState): void {
    this.n = savedNumber(saved, 0, 0);
  }
  write(_t: number, _pair: PairItem | null, sink: ColumnSink, at: number): void {
    sink.numbers[at] = this.n;
  }
  get bytes(): number {
    return 24;
  }
}

class SumState implements AggregateState {
  constructor(
    private readonly amountAt: number,
    /** Also write the mean per event carrying the property (monetary). */
    private readonly withMean: boolean,
    public units = 0,
    public n = 0,
  ) {}
  add(event: FeatureEvent): void {
    const units = event.amounts[this.amountAt] ?? Number.NaN;
    if (Number.isNaN(units)) return;
    this.units += units;
    this.n++;
  }
  clone(): SumState {
    return new SumState(this.amountAt, this.withMean, this.units, this.n);
  }
  save(): SavedState {
    return [this.units, this.n];
  }
  load(saved: SavedState): void {
    this.units = savedNumber(saved, 0, 0);
    this.n = savedNumber(saved, 1, 0);
  }
  write(_t: number, _pair: PairItem | null, sink: ColumnSink, at: number): void {
    sink.numbers[at] = this.units / UNITS;
    if (this.withMean) sink.numbers[at + 1] = nanIfEmpty(this.units / UNITS, this.n);
  }
  get bytes(): number {
    return 40;
  }
}

/** Days since the newest event (recency) or the oldest (tenure) before `t`; NaN when there is none. */
class ExtremeState implements AggregateState {
  constructor(
    private readonly newest: boolean,
    public at = newest ? -Infinity : Infinity,
  ) {}
  add(event: FeatureEvent): void {
    this.at = this.newest ? Math.max(this.at, event.timestamp) : Math.min(this.at, event.timestamp);
  }
  clone(): ExtremeState {
    return new ExtremeState(this.newest, this.at);
  }
  save(): SavedState {
    return [finite(this.at)];
  }
  load(saved: SavedState): void {
    this.at = savedNumber(saved, 0, this.newest ? -Infinity : Infinity);
  }
  write(t: number, _pair: PairItem | null, sink: ColumnSink, at: number): void {
    sink.numbers[at] = Number.isFinite(this.at) ? (t - this.at) / DAY_MS : Number.NaN;
  }
  get bytes(): number {
    return 32;
  }
}

/**
 * Shares of a categorical value (a category, a device, a country) among the events that have one. With
 * listed values: one share column each. Without: the top value's share, the number of distinct values and
 * the top value as a label (ties go to the value first in code-point order, so arrival order never
 * matters). For a pair: the share of the pair's item's category.
 */
class ShareState implements AggregateState {
  constructor(
    private readonly valueOf: (event: FeatureEvent) => string | null,
    private readonly values: readonly string[] | null,
    private readonly pairCategory: boolean,
    public counts = new Map<string, number>(),
    public total = 0,
  ) {}
  add(event: FeatureEvent): void {
    const value = this.valueOf(event);
    if (value === null) return;
    this.counts.set(value, (this.counts.get(value) ?? 0) + 1);
    this.total++;
  }
  clone(): ShareState {
    return new ShareState(this.valueOf, this.values, this.pairCategory, new Map(this.counts), this.total);
  }
  save(): SavedState {
    return [this.total, [...this.counts].flat()];
  }
  load(saved: SavedState): void {
    this.total = savedNumber(saved, 0, 0);
    this.counts = pairsOf(savedList(saved, 1));
  }
  write(_t: number, pair: PairItem | null, sink: ColumnSink, at: number, labelAt: number): void {
    if (this.pairCategory) {
      const category = pair?.category ?? null;
      sink.numbers[at] =
        category === null ? Number.NaN : nanIfEmpty(this.counts.get(category) ?? 0, this.total);
      return;
    }
    if (this.values !== null) {
      this.values.forEach(
        (value, k) => (sink.numbers[at + k] = nanIfEmpty(this.counts.get(value) ?? 0, this.total)),
      );
      return;
    }
    let top: string | null = null;
    let topCount = 0;
    for (const [value, count] of this.counts) {
      if (count > topCount || (count === topCount && top !== null && value < top)) {
        top = value;
        topCount = count;
      }
    }
    sink.numbers[at] = nanIfEmpty(topCount, this.total);
    sink.numbers[at + 1] = this.counts.size;
    sink.labels[labelAt] = top;
  }
  get bytes(): number {
    return 64 + this.counts.size * 64;
  }
}

/**
 * Distinct sessions: distinct `context.session_id`s, plus, for events sent without one, runs separated by
 * more than `SESSION_GAP_MS`. Events arrive here in time order (the window is read from the sorted buffer).
 */
class SessionState implements AggregateState {
  constructor(
    public ids = new Set<string>(),
    public runs = 0,
    public lastLone = -Infinity,
  ) {}
  add(event: FeatureEvent): void {
    if (event.session !== null) this.ids.add(event.session);
    else {
      if (event.timestamp - this.lastLone > SESSION_GAP_MS) this.runs++;
      this.lastLone = event.timestamp;
    }
  }
  clone(): SessionState {
    return new SessionState(new Set(this.ids), this.runs, this.lastLone);
  }
  save(): SavedState {
    return [this.runs, finite(this.lastLone), [...this.ids]];
  }
  load(saved: SavedState): void {
    this.runs = savedNumber(saved, 0, 0);
    this.lastLone = savedNumber(saved, 1, -Infinity);
    this.ids = new Set(savedList(saved, 2).map(String));
  }
  write(_t: number, _pair: PairItem | null, sink: ColumnSink, at: number): void {
    sink.numbers[at] = this.ids.size + this.runs;
  }
  get bytes(): number {
    return 64 + this.ids.size * 48;
  }
}

/** Hour of the week in UTC, Monday 00:00 = 0 … Sunday 23:00 = 167 (1970-01-01 was a Thursday). */
export function hourOfWeek(timestamp: number): number {
  const hours = Math.floor(timestamp / HOUR_MS);
  return (((hours + 3 * 24) % 168) + 168) % 168;
}

export const HOUR_OF_WEEK_SUFFIXES = [
  'weekend_share',
  'night_share',
  'morning_share',
  'afternoon_share',
  'evening_share',
  'peak_hour',
] as const;

/**
 * When the events happen, in UTC: a count per hour of the week, written as the shares at weekends and in
 * four parts of the day (night 0–6, morning 6–12, afternoon 12–18, evening 18–24) and the busiest hour of
 * the week (the earliest on a tie).
 */
class HourState implements AggregateState {
  constructor(
    public counts = new Float64Array(168),
    public total = 0,
  ) {}
  add(event: FeatureEvent): void {
    this.counts[hourOfWeek(event.timestamp)]! += 1;
    this.total++;
  }
  clone(): HourState {
    return new HourState(this.counts.slice(), this.total);
  }
  save(): SavedState {
    return [this.total, [...this.counts]];
  }
  load(saved: SavedState): void {
    this.total = savedNumber(saved, 0, 0);
    const counts = savedList(saved, 1);
    if (counts.length !== 168) throw new TypeError('saved state: hour-of-week counts must be 168');
    this.counts = Float64Array.from(counts, Number);
  }
  write(_t: number, _pair: PairItem | null, sink: ColumnSink, at: number): void {
    let weekend = 0;
    const parts = [0, 0, 0, 0];
    let peak = -1;
    let peakCount = 0;
    for (let h = 0; h < 168; h++) {
      const count = this.counts[h] ?? 0;
      if (h >= 5 * 24) weekend += count;
      parts[Math.floor((h % 24) / 6)]! += count;
      if (count > peakCount) {
        peak = h;
        peakCount = count;
      }
    }
    sink.numbers[at] = nanIfEmpty(weekend, this.total);
    parts.forEach((count, k) => (sink.numbers[at + 1 + k] = nanIfEmpty(count, this.total)));
    sink.numbers[at + 5] = peak < 0 ? Number.NaN : peak;
  }
  get bytes(): number {
    return 168 * 8 + 64;
  }
}

/** The mean price of the events with one (usual_price), or the pair's item's price over it (price_ratio). */
class PriceState implements AggregateState {
  constructor(
    private readonly ratio: boolean,
    public units = 0,
    public n = 0,
  ) {}
  add(event: FeatureEvent): void {
    if (Number.isNaN(event.priceUnits)) return;
    this.units += event.priceUnits;
    this.n++;
  }
  clone(): PriceState {
    return new PriceState(this.ratio, this.units, this.n);
  }
  save(): SavedState {
    return [this.units, this.n];
  }
  load(saved: SavedState): void {
    this.units = savedNumber(saved, 0, 0);
    this.n = savedNumber(saved, 1, 0);
  }
  write(_t: number, pair: PairItem | null, sink: ColumnSink, at: number): void {
    const mean = nanIfEmpty(this.units / UNITS, this.n);
    if (!this.ratio) sink.numbers[at] = mean;
    else {
      const price = (pair?.priceUnits ?? Number.NaN) / UNITS;
      sink.numbers[at] = mean > 0 ? price / mean : Number.NaN;
    }
  }
  get bytes(): number {
    return 40;
  }
}

class DistinctUsersState implements AggregateState {
  constructor(public users = new Set<string>()) {}
  add(event: FeatureEvent): void {
    this.users.add(event.userId);
  }
  clone(): DistinctUsersState {
    return new DistinctUsersState(new Set(this.users));
  }
  save(): SavedState {
    return [[...this.users]];
  }
  load(saved: SavedState): void {
    this.users = new Set(savedList(saved, 0).map(String));
  }
  write(_t: number, _pair: PairItem | null, sink: ColumnSink, at: number): void {
    sink.numbers[at] = this.users.size;
  }
  get bytes(): number {
    return 64 + this.users.size * 48;
  }
}

/** `to` events per `from` event; NaN when there was no `from` event. */
class ConversionState implements AggregateState {
  constructor(
    private readonly from: string,
    private readonly to: string,
    public starts = 0,
    public conversions = 0,
  ) {}
  add(event: FeatureEvent): void {
    if (event.name === this.from) this.starts++;
    if (event.name === this.to) this.conversions++;
  }
  clone(): ConversionState {
    return new ConversionState(this.from, this.to, this.starts, this.conversions);
  }
  save(): SavedState {
    return [this.starts, this.conversions];
  }
  load(saved: SavedState): void {
    this.starts = savedNumber(saved, 0, 0);
    this.conversions = savedNumber(saved, 1, 0);
  }
  write(_t: number, _pair: PairItem | null, sink: ColumnSink, at: number): void {
    sink.numbers[at] = nanIfEmpty(this.conversions, this.starts);
  }
  get bytes(): number {
    return 40;
  }
}

/**
 * Events in the window before `t` over events in the window before that ([t − 2w, t − w)); NaN when the
 * earlier window is empty (nothing to compare with).
 */
class TrendState implements AggregateState {
  constructor(
    private readonly split: number,
    public recent = 0,
    public previous = 0,
  ) {}
  add(event: FeatureEvent): void {
    if (event.timestamp >= this.split) this.recent++;
    else this.previous++;
  }
  clone(): TrendState {
    return new TrendState(this.split, this.recent, this.previous);
  }
  save(): SavedState {
    return [this.recent, this.previous];
  }
  load(saved: SavedState): void {
    this.recent = savedNumber(saved, 0, 0);
    this.previous = savedNumber(saved, 1, 0);
  }
  write(_t: number, _pair: PairItem | null, sink: ColumnSink, at: number): void {
    sink.numbers[at] = nanIfEmpty(this.recent, this.previous);
  }
  get bytes(): number {
    return 40;
  }
}

/** A map from a flat [text, count, text, count, …] list. */
function pairsOf(flat: readonly (string | number)[]): Map<string, number> {
  if (flat.length % 2 !== 0) throw new TypeError('saved state: value counts must come in pairs');
  const counts = new Map<string, number>();
  for (let k = 0; k < flat.length; k += 2) counts.set(String(flat[k]), Number(flat[k + 1]));
  return counts;
}

/** Column-name-safe form of a listed value: `Home & Garden` → `home_garden`. */
export function columnSuffix(value: string): string {
  const safe = value
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_|_$/g, '');
  return safe === '' ? 'value' : safe;
}

/** Builds the aggregator of a validated definition. */
export function compileAggregator(
  definition: FeatureDefinition,
  fieldIndex: (path: string) => number,
  amountIndex: (property: string) => number,
): Aggregator {
  const { name, kind, windowMs, events } = definition;
  const names = events === null ? null : new Set(events);
  const pairItemOnly = definition.entity === 'user_item' && (kind === 'count' || kind === 'recency');
  const spanMs = windowMs === null ? null : kind === 'trend' ? 2 * windowMs : windowMs;
  let numericColumns: string[] = [name];
  let labelColumns: string[] = [];
  let create: (t: number) => AggregateState;
  let acceptsName = (event: FeatureEvent) => names === null || names.has(event.name);

  switch (kind) {
    case 'count':
    case 'frequency':
      create = () => new CountState();
      break;
    case 'sum':
    case 'monetary': {
      const amountAt = amountIndex(definition.property ?? 'value');
      const withMean = kind === 'monetary';
      if (withMean) numericColumns = [name, `${name}_mean`];
      create = () => new SumState(amountAt, withMean);
      break;
    }
    case 'recency':
    case 'tenure': {
      const newest = kind === 'recency';
      create = () => new ExtremeState(newest);
      break;
    }
    case 'category_affinity':
    case 'share': {
      const at = kind === 'share' ? fieldIndex(definition.field ?? '') : -1;
      const valueOf =
        kind === 'share' ? (e: FeatureEvent) => e.fields[at] ?? null : (e: FeatureEvent) => e.category;
      const values = definition.values;
      const pairCategory = definition.entity === 'user_item';
      if (!pairCategory) {
        if (values !== null) numericColumns = values.map((v) => `${name}_${columnSuffix(v)}`);
        else {
          numericColumns = [`${name}_top_share`, `${name}_distinct`];
          labelColumns = [`${name}_top`];
        }
      }
      create = () => new ShareState(valueOf, values, pairCategory);
      break;
    }
    case 'distinct_sessions':
      create = () => new SessionState();
      break;
    case 'hour_of_week':
      numericColumns = HOUR_OF_WEEK_SUFFIXES.map((suffix) => `${name}_${suffix}`);
      create = () => new HourState();
      break;
    case 'usual_price':
    case 'price_ratio': {
      const ratio = kind === 'price_ratio';
      create = () => new PriceState(ratio);
      break;
    }
    case 'popularity':
      create = () => new DistinctUsersState();
      break;
    case 'conversion_rate': {
      const from = definition.from ?? '';
      const to = definition.to ?? '';
      acceptsName = (event) => event.name === from || event.name === to;
      create = () => new ConversionState(from, to);
      break;
    }
    case 'trend': {
      const window = windowMs ?? 0;
      create = (t) => new TrendState(t - window);
      break;
    }
  }
  return {
    definition,
    numericColumns,
    labelColumns,
    spanMs,
    accepts: pairItemOnly
      ? (event, pair) => acceptsName(event) && (pair === null || event.itemId === pair.id)
      : acceptsName,
    create,
  };
}
