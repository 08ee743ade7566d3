import type { TrackedEvent } from '../events/index.js';
import { FeatureAccumulator, type FeatureRow } from './accumulator.js';
import type { PairItem } from './aggregators.js';
import type { EventReader, ItemLookup } from './feature-event.js';
import { toUnits } from './feature-event.js';
import type { EntityColumns, FeatureSet } from './feature-set.js';

/**
 * Batch features for training, point-in-time correct: a row at time `t` is computed from exactly the
 * events with timestamp < t (a window w covers t − w ≤ timestamp < t), through the same accumulator that
 * serves online values, so the two agree exactly at the same time.
 */

/** A numeric feature vector: models read `values[k]` as column `columns[k]`; NaN is missing. */
export interface FeatureVector {
  readonly columns: readonly string[];
  readonly values: Float64Array;
}

export function toVector(row: FeatureRow): FeatureVector {
  return { columns: row.columns.numeric, values: row.numbers };
}

/** Column → value, NaN as null: the JSON the API answers and the CSV export writes. */
export function rowToJson(row: FeatureRow): Record<string, number | string | null> {
  const json: Record<string, number | string | null> = {};
  row.columns.numeric.forEach((name, k) => {
    const value = row.numbers[k] ?? Number.NaN;
    json[name] = Number.isNaN(value) ? null : value;
  });
  row.columns.labels.forEach((name, k) => (json[name] = row.labels[k] ?? null));
  return json;
}

/** The item of a user-item pair as the catalog has it. */
export function pairItem(itemId: string, items: ItemLookup): PairItem {
  const facts = items(itemId);
  return { id: itemId, category: facts?.categories[0] ?? null, priceUnits: toUnits(facts?.price ?? null) };
}

export type FeatureEntity = 'user' | 'item';

function accumulatorFor(set: FeatureSet, entity: FeatureEntity): FeatureAccumulator {
  return new FeatureAccumulator(entity === 'user' ? set.userPlan : set.itemPlan);
}

/**
 * A user's (or an item's) features at `t` from their events, in any order: the pure form of what
 * `GET /v1/users/:id/features` answers at `t`. Events at or after `t` are given but not counted.
 */
export function featuresAt(
  set: FeatureSet,
  entity: FeatureEntity,
  events: Iterable<TrackedEvent>,
  t: number,
  items: ItemLookup,
): FeatureRow {
  const accumulator = fold(set, entity, events, t, set.eventReader(items));
  return accumulator.read(entity === 'user' ? set.user : set.item, t);
}

/** The user-item pair features of `itemId` at `t` from the user's events. */
export function pairFeaturesAt(
  set: FeatureSet,
  userEvents: Iterable<TrackedEvent>,
  itemId: string,
  t: number,
  items: ItemLookup,
): FeatureRow {
  const accumulator = fold(set, 'user', userEvents, t, set.eventReader(items));
  return accumulator.read(set.userItem, t, pairItem(itemId, items));
}

function fold(
  set: FeatureSet,
  entity: FeatureEntity,
  events: Iterable<TrackedEvent>,
  t: number,
  reader: EventReader,
): FeatureAccumulator {
  const accumulator = accumulatorFor(set, entity);
  accumulator.advance(t);
  // Every event goes in: the read applies the rule (timestamp < t), the one place it is written.
  for (const event of events) accumulator.add(reader.read(event));
  return accumulator;
}

/**
 * A replay: one entity's events and the times to read them at; yields a row per time, in the order of
 * `times` (ascending), each from the events before it. One accumulator moves forward through the events,
 * so reading at many times costs one pass (what a training set of many cutoffs per user needs).
 */
export function replayFeatures(
  set: FeatureSet,
  entity: FeatureEntity,
  events: readonly TrackedEvent[],
  times: readonly number[],
  items: ItemLookup,
  columns: EntityColumns = entity === 'user' ? set.user : set.item,
): FeatureRow[] {
  const reader = set.eventReader(items);
  const sorted = [...events].sort((a, b) => a.timestamp - b.timestamp);
  const accumulator = accumulatorFor(set, entity);
  const rows: FeatureRow[] = [];
  let next = 0;
  let previous = -Infinity;
  for (const t of times) {
    if (t < previous) throw new RangeError('replayFeatures reads at times in ascending order');
    previous = t;
    while (next < sorted.length && sorted[next]!.timestamp < t) accumulator.add(reader.read(sorted[next++]!));
    accumulator.advance(t);
    rows.push(accumulator.read(columns, t));
  }
  return rows;
}

/** A whole table of one entity's numeric features: row `r` is `ids[r]`, `values[r * columns.length + k]`. */
export interface FeatureTable {
  readonly ids: readonly string[];
  readonly columns: readonly string[];
  readonly values: Float64Array;
  /** Text columns per row (`labelColumns` order), for CSV; models read `values`. */
  readonly labelColumns: readonly string[];
  readonly labels: readonly (readonly (string | null)[])[];
}

/**
 * Every user with an event before `cutoff`, with their features at `cutoff`, from one pass over an event
 * scan in any order (`Store.scanEvents`). Memory: each user's lifetime summaries plus their events within
 * the longest window before the cutoff; events at or after the cutoff are skipped as they stream by.
 * Users are in order of first appearance in the scan.
 */
export async function userFeatureTable(
  set: FeatureSet,
  scan: AsyncIterable<readonly TrackedEvent[]>,
  cutoff: number,
  items: ItemLookup,
): Promise<FeatureTable> {
  const reader = set.eventReader(items);
  const users = new Map<string, FeatureAccumulator>();
  for await (const batch of scan) {
    for (const event of batch) {
      if (event.timestamp >= cutoff) continue;
      let accumulator = users.get(event.userId);
      if (accumulator === undefined) {
        accumulator = new FeatureAccumulator(set.userPlan);
        // Fixed before the first event: older events go straight into the summaries, keeping memory small.
        accumulator.advance(cutoff);
        users.set(event.userId, accumulator);
      }
      accumulator.add(reader.read(event));
    }
  }
  const columns = set.user.numeric;
  const values = new Float64Array(users.size * columns.length);
  const labels: (string | null)[][] = [];
  let r = 0;
  for (const accumulator of users.values()) {
    const row = accumulator.read(set.user, cutoff);
    values.set(row.numbers, r++ * columns.length);
    labels.push(row.labels);
  }
  return { ids: [...users.keys()], columns, values, labelColumns: set.user.labels, labels };
}
