import { compileAggregator, type Aggregator } from './aggregators.js';
import {
  DEFAULT_FEATURE_DEFINITIONS,
  definitionToJson,
  type Entity,
  type FeatureDefinitions,
} from './definitions.js';
import { EventReader, type ItemLookup } from './feature-event.js';

/** One entity's columns and the aggregators that write them, in definition order. */
export interface EntityColumns {
  readonly entity: Entity;
  /** Numeric columns, in vector order: what models read (NaN for missing). */
  readonly numeric: readonly string[];
  /** Text columns (a top category, a top country): in JSON and CSV, not in vectors. */
  readonly labels: readonly string[];
  /** Indices into the accumulator plan's aggregators, with where each writes. */
  readonly slots: readonly {
    readonly aggregator: number;
    readonly numberAt: number;
    readonly labelAt: number;
  }[];
}

/**
 * What an accumulator folds: the aggregators of one kind of accumulator (a user's also serve the user-item
 * pair features, which read the user's events) and how far back from the newest read its windows reach.
 */
export interface AccumulatorPlan {
  readonly aggregators: readonly Aggregator[];
  /** The longest finite span; events older than (read time − span) live only in lifetime summaries. */
  readonly spanMs: number;
}

/**
 * Validated definitions compiled once: the aggregators, the column layout of each entity, and the event
 * fields they read. Online and batch both compute through it (`FeatureAccumulator`).
 */
export class FeatureSet {
  readonly user: EntityColumns;
  readonly userItem: EntityColumns;
  readonly item: EntityColumns;
  readonly userPlan: AccumulatorPlan;
  readonly itemPlan: AccumulatorPlan;
  readonly #fields: string[] = [];
  readonly #properties: string[] = [];

  constructor(
    readonly definitions: FeatureDefinitions = DEFAULT_FEATURE_DEFINITIONS,
    /** Where the definitions came from: a file path or `built-in`. */
    readonly source = 'built-in',
  ) {
    const fieldIndex = (path: string) => indexOf(this.#fields, path);
    const amountIndex = (property: string) => indexOf(this.#properties, property);
    const compile = (entity: Entity) =>
      definitions[entity].map((definition) => compileAggregator(definition, fieldIndex, amountIndex));
    const user = compile('user');
    const pair = compile('user_item');
    const item = compile('item');
    this.userPlan = { aggregators: [...user, ...pair], spanMs: longestSpan([...user, ...pair]) };
    this.itemPlan = { aggregators: item, spanMs: longestSpan(item) };
    this.user = layout('user', user, 0);
    this.userItem = layout('user_item', pair, user.length);
    this.item = layout('item', item, 0);
  }

  /** Reads tracked events into the shape the aggregators read, with the catalog for categories and prices. */
  eventReader(items: ItemLookup): EventReader {
    return new EventReader(this.#fields, this.#properties, items);
  }

  /** What `GET /v1/features/definitions` answers. */
  toJson(): {
    source: string;
    definitions: Record<Entity, Record<string, string | readonly string[]>[]>;
    columns: Record<Entity, { numeric: readonly string[]; labels: readonly string[] }>;
  } {
    const columns = (c: EntityColumns) => ({ numeric: c.numeric, labels: c.labels });
    return {
      source: this.source,
      definitions: {
        user: this.definitions.user.map(definitionToJson),
        item: this.definitions.item.map(definitionToJson),
        user_item: this.definitions.user_item.map(definitionToJson),
      },
      columns: { user: columns(this.user), item: columns(this.item), user_item: columns(this.userItem) },
    };
  }
}

function indexOf(list: string[], value: string): number {
  const at = list.indexOf(value);
  if (at >= 0) return at;
  list.push(value);
  return list.length - 1;
}

function longestSpan(aggregators: readonly Aggregator[]): number {
  return aggregators.reduce((longest, a) => Math.max(longest, a.spanMs ?? 0), 0);
}

function layout(entity: Entity, aggregators: readonly Aggregator[], first: number): EntityColumns {
  const numeric: string[] = [];
  const labels: string[] = [];
  const slots = aggregators.map((aggregator, k) => {
    const slot = { aggregator: first + k, numberAt: numeric.length, labelAt: labels.length };
    numeric.push(...aggregator.numericColumns);
    labels.push(...aggregator.labelColumns);
    return slot;
  });
  return { entity, numeric, labels, slots };
}
