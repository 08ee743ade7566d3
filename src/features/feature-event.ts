import type { TrackedEvent } from '../events/index.js';

/** What features read of an item: its catalog categories (the first is its category) and price. */
export interface ItemFacts {
  readonly categories: readonly string[];
  readonly price: number | null;
}

/** The catalog as features see it (`CatalogIndex.get` fits; batch jobs pass a map of scanned items). */
export type ItemLookup = (itemId: string) => ItemFacts | undefined;

/**
 * Sums are kept in integer units of 1/10,000 (money to a hundredth of a cent): integer addition is exact
 * and order-free, so a value folded in late or in another order gives the same total to the last bit,
 * which is what makes online and batch values equal rather than merely close.
 */
export const UNITS = 10_000;

/** A number as exact units, or NaN when it is not a number or too large to add exactly. */
export function toUnits(value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) return Number.NaN;
  const units = Math.round(value * UNITS);
  return Math.abs(units) <= 2 ** 40 ? units : Number.NaN;
}

/**
 * An event reduced to what the definitions read: one small object per event, shared by the user's and the
 * item's accumulators. `category` and `price` come from the event's own properties when it carries them
 * (`properties.category`, `properties.price`), else from the catalog entry when the event is read.
 */
export interface FeatureEvent {
  readonly eventId: string;
  readonly timestamp: number;
  readonly name: string;
  readonly userId: string;
  readonly itemId: string | null;
  /** `context.session_id` when sent. */
  readonly session: string | null;
  readonly category: string | null;
  /** The price in units (`toUnits`), NaN when unknown. */
  readonly priceUnits: number;
  /** Values of the `share` definitions' fields, in `EventReader.fields` order. */
  readonly fields: readonly (string | null)[];
  /** Values of the summed properties in units, in `EventReader.properties` order; NaN when absent. */
  readonly amounts: readonly number[];
}

/** Where a `share` field is read: `context.<key>` or `properties.<key>`, split once rather than per event. */
interface FieldPath {
  readonly inContext: boolean;
  readonly key: string;
}

/** Reduces tracked events to `FeatureEvent`s for one set of definitions. */
export class EventReader {
  readonly #paths: readonly FieldPath[];

  constructor(
    /** `context.<key>` / `properties.<key>` paths the `share` definitions read. */
    readonly fields: readonly string[],
    /** Numeric properties `sum` and `monetary` read. */
    readonly properties: readonly string[],
    private readonly items: ItemLookup,
  ) {
    this.#paths = fields.map((path) => {
      const dot = path.indexOf('.');
      return { inContext: path.slice(0, dot) === 'context', key: path.slice(dot + 1) };
    });
  }

  read(event: TrackedEvent): FeatureEvent {
    const facts = event.itemId === null ? undefined : this.items(event.itemId);
    const ownCategory = event.properties['category'];
    const ownPrice = toUnits(event.properties['price']);
    const session = event.context['session_id'];
    return {
      eventId: event.eventId,
      timestamp: event.timestamp,
      name: event.name,
      userId: event.userId,
      itemId: event.itemId,
      session: typeof session === 'string' && session !== '' ? session : null,
      category:
        typeof ownCategory === 'string' && ownCategory !== '' ? ownCategory : (facts?.categories[0] ?? null),
      priceUnits: Number.isNaN(ownPrice) ? toUnits(facts?.price ?? null) : ownPrice,
      fields: this.#paths.map((path) => fieldValue(event, path)),
      amounts: this.properties.map((property) => toUnits(event.properties[property])),
    };
  }
}

function fieldValue(event: TrackedEvent, path: FieldPath): string | null {
  const value = (path.inContext ? event.context : event.properties)[path.key];
  if (value === undefined || value === null || value === '') return null;
  return String(value);
}
