import type { TrackedEvent } from '../../events/types.js';
import { mulberry32 } from '../../models/random.js';
import type { Impression, ImpressionItem } from '../../recommendations/impression.js';
import type { EpochMs, ScalarRecord } from '../../shared/types.js';
import { DAY_MS, HOUR_MS } from './definitions.js';
import type { ExposedUser } from './exposures.js';

/**
 * A seeded synthetic experiment log, for the scale test and `bench/experiment-analysis.ts`: users exposed
 * over two weeks to `control` or `treatment`, 0 to 3 lists served to each from two days before to ten days
 * after the exposure, and events from nine days before to twenty-one days after it — views, clicks (70% of
 * those on a list carrying its `request_id`, the rest only its item), cart adds, purchases in both revenue
 * shapes (`revenue`; `price` × `quantity`), impressions and searches. Activity is skewed: a few users have
 * many events.
 *
 * The log is held as typed columns (ten million events take ~300 MB, outside the JS heap) and turned into
 * `TrackedEvent` and `Impression` objects one batch at a time when read, as a store scan materialises rows:
 * every batch is fresh objects with fresh id strings, and garbage once read.
 */
export interface SyntheticLog {
  readonly users: number;
  readonly eventCount: number;
  readonly servedListCount: number;
  /** An analysis time after every event. */
  readonly now: EpochMs;
  exposures(): Iterable<ExposedUser>;
  /** The served lists in batches of `batchSize` (the option's, unless given). */
  impressions(batchSize?: number): Iterable<Impression[]>;
  /** The events in batches of `batchSize`, in generation order. */
  events(): Iterable<TrackedEvent[]>;
}

export interface SyntheticOptions {
  readonly users: number;
  readonly events: number;
  readonly seed?: number;
  readonly batchSize?: number;
  readonly catalog?: number;
  readonly itemsPerList?: number;
}

export const SYNTHETIC_START: EpochMs = Date.UTC(2025, 2, 3);

const NAMES = [
  'product_viewed',
  'product_clicked',
  'Product Added',
  'Order Completed',
  'purchased',
  'impression',
  'search',
];
const [VIEW, CLICK, CART, ORDER, PURCHASE, IMPRESSION, SEARCH] = [0, 1, 2, 3, 4, 5, 6] as const;
const EMPTY: ScalarRecord = Object.freeze({});

export function syntheticLog(options: SyntheticOptions): SyntheticLog {
  const { users, events } = options;
  const random = mulberry32(options.seed ?? 1);
  const batchSize = options.batchSize ?? 10_000;
  const catalog = options.catalog ?? 50_000;
  const perList = options.itemsPerList ?? 8;
  const pick = (n: number) => Math.floor(random() * n);
  const { treatment, firstAt } = drawExposures(users, random);

  const listStart = new Int32Array(users + 1);
  for (let u = 0; u < users; u++) listStart[u + 1] = listStart[u]! + pick(4);
  const lists = listStart[users]!;
  const listUser = new Int32Array(lists);
  const listAt = new Float64Array(lists);
  const listItems = new Int32Array(lists * perList);
  for (let u = 0; u < users; u++) {
    for (let list = listStart[u]!; list < listStart[u + 1]!; list++) {
      listUser[list] = u;
      listAt[list] = firstAt[u]! - 2 * DAY_MS + pick(12 * DAY_MS);
      for (let k = 0; k < perList; k++) listItems[list * perList + k] = pick(catalog);
    }
  }

  const user = new Int32Array(events);
  const at = new Float64Array(events);
  const kind = new Uint8Array(events);
  const item = new Int32Array(events); // -1: none
  const request = new Int32Array(events); // -1: none
  const amount = new Float32Array(events); // revenue, or price
  const quantity = new Uint8Array(events);
  for (let e = 0; e < events; e++) {
    const u = Math.floor(users * random() * random());
    const own = listStart[u + 1]! - listStart[u]!;
    user[e] = u;
    at[e] = firstAt[u]! - 9 * DAY_MS + pick(30 * DAY_MS);
    item[e] = pick(catalog);
    request[e] = -1;
    const roll = random();
    if (roll < 0.5) {
      kind[e] = VIEW;
    } else if (roll < 0.75) {
      kind[e] = CLICK;
      if (own > 0) {
        const list = listStart[u]! + pick(own);
        item[e] = listItems[list * perList + pick(perList)]!;
        at[e] = listAt[list]! + pick(2 * HOUR_MS);
        if (random() < 0.7) request[e] = list;
      }
    } else if (roll < 0.85) {
      kind[e] = CART;
      amount[e] = 5 + pick(100);
      quantity[e] = 1;
    } else if (roll < 0.88) {
      kind[e] = ORDER;
      item[e] = -1;
      amount[e] = 10 + pick(200);
    } else if (roll < 0.9) {
      kind[e] = PURCHASE;
      amount[e] = 5 + pick(100);
      quantity[e] = 1 + pick(3);
    } else if (roll < 0.95 && own > 0) {
      kind[e] = IMPRESSION;
      const list = listStart[u]! + pick(own);
      request[e] = list;
      at[e] = listAt[list]!;
    } else {
      kind[e] = SEARCH;
      item[e] = -1;
    }
  }

  const propertiesOf = (e: number): ScalarRecord => {
    switch (kind[e]) {
      case CART:
      case PURCHASE:
        return { price: amount[e]!, quantity: quantity[e]! };
      case ORDER:
        return { revenue: amount[e]!, currency: 'EUR' };
      default:
        return request[e]! >= 0 ? { request_id: `r${request[e]!}` } : EMPTY;
    }
  };

  function* batches<T>(count: number, make: (index: number) => T, size = batchSize): Iterable<T[]> {
    for (let start = 0; start < count; start += size) {
      const end = Math.min(count, start + size);
      const batch = new Array<T>(end - start);
      for (let i = start; i < end; i++) batch[i - start] = make(i);
      yield batch;
    }
  }

  return {
    users,
    eventCount: events,
    servedListCount: lists,
    now: SYNTHETIC_NOW,
    exposures: () => exposuresOf(treatment, firstAt),
    impressions: (size?: number) =>
      batches(
        lists,
        (list): Impression => {
          const items: ImpressionItem[] = [];
          for (let k = 0; k < perList; k++) {
            items.push({ itemId: `i${listItems[list * perList + k]!}`, position: k, score: 1 - k / perList });
          }
          return {
            requestId: `r${list}`,
            userId: `u${listUser[list]!}`,
            createdAt: listAt[list]!,
            surface: 'recommendations',
            model: 'als',
            modelVersion: 1,
            fallback: false,
            items,
          };
        },
        size,
      ),
    events: () =>
      batches(events, (e): TrackedEvent => {
        const properties = propertiesOf(e);
        const requestId = properties['request_id'];
        return {
          eventId: '', // never read by the analysis; unique ids would only cost time here
          name: NAMES[kind[e]!]!,
          userId: `u${user[e]!}`,
          itemId: item[e]! >= 0 ? `i${item[e]!}` : null,
          timestamp: at[e]!,
          receivedAt: at[e]!,
          context: EMPTY,
          properties,
          requestId: typeof requestId === 'string' ? requestId : null,
        };
      }),
  };
}

const SYNTHETIC_NOW: EpochMs = SYNTHETIC_START + 45 * DAY_MS;

/**
 * The exposures of `syntheticLog(options)` alone, without generating its log: the same users, variants and
 * times (the log draws them first). For an analysis in one thread whose log is generated in another.
 */
export function syntheticExposures(
  options: SyntheticOptions,
): Pick<SyntheticLog, 'users' | 'now' | 'exposures'> {
  const { treatment, firstAt } = drawExposures(options.users, mulberry32(options.seed ?? 1));
  return { users: options.users, now: SYNTHETIC_NOW, exposures: () => exposuresOf(treatment, firstAt) };
}

function drawExposures(users: number, random: () => number) {
  const treatment = new Uint8Array(users);
  const firstAt = new Float64Array(users);
  for (let u = 0; u < users; u++) {
    treatment[u] = random() < 0.5 ? 0 : 1;
    firstAt[u] = SYNTHETIC_START + Math.floor(random() * (14 * DAY_MS));
  }
  return { treatment, firstAt };
}

/** Fresh objects with fresh id strings on every read, as a store's scan makes them. */
function* exposuresOf(treatment: Uint8Array, firstAt: Float64Array): Iterable<ExposedUser> {
  for (let u = 0; u < treatment.length; u++) {
    yield { userId: `u${u}`, variant: treatment[u] === 1 ? 'treatment' : 'control', firstAt: firstAt[u]! };
  }
}
