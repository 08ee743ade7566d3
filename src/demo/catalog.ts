import type { Item } from '../catalog/types.js';
import type { EpochMs } from '../shared/types.js';
import { CATEGORIES, COLORS } from './categories.js';
import { LATENT_DIMS, normalize } from './latent.js';
import type { Rng } from './random.js';
import { DAY_MS, HOUR_MS } from './time.js';

/** The generated catalog plus the hidden facts behaviour is simulated from (index-aligned with `items`). */
export interface DemoCatalog {
  readonly items: readonly Item[];
  /** Main category of each item, as an index into `CATEGORIES`. */
  readonly category: Int32Array;
  /** Item taste vectors, `items.length × LATENT_DIMS`, unit length. */
  readonly vectors: Float64Array;
  /** Long-tailed base popularity (Zipf over a random ranking), largest 1. */
  readonly popularity: Float64Array;
  /** createdAt and expiresAt (Infinity when none) as typed arrays: checked on every simulated view. */
  readonly liveFrom: Float64Array;
  readonly liveUntil: Float64Array;
  /** Item indices per main category. */
  readonly byCategory: readonly Int32Array[];
}

/** Zipf exponent of base popularity: a few items draw much of the traffic, most draw little. */
const ZIPF_EXPONENT = 0.8;
/** How far an item strays from its category's direction; enough that items within a category differ. */
const ITEM_NOISE = 0.25;

export function generateCatalog(
  rng: Rng,
  count: number,
  start: EpochMs,
  end: EpochMs,
  centroids: Float64Array,
): DemoCatalog {
  const width = Math.max(4, String(count).length);
  const category = new Int32Array(count);
  const vectors = new Float64Array(count * LATENT_DIMS);
  const popularity = new Float64Array(count);
  const items: Item[] = [];

  // Every category gets at least one item (when there are enough items), the rest go by share.
  const shares = CATEGORIES.map((c) => c.share);
  const mains = Array.from({ length: count }, (_, i) =>
    i < CATEGORIES.length ? i : rng.weightedIndex(shares),
  );
  rng.shuffle(mains);
  const ranks = rng.shuffle(Array.from({ length: count }, (_, i) => i));

  for (let i = 0; i < count; i++) {
    const main = mains[i] ?? 0;
    const spec = CATEGORIES[main];
    if (!spec) throw new Error(`no category ${main}`);
    category[i] = main;
    popularity[i] = ((ranks[i] ?? 0) + 1) ** -ZIPF_EXPONENT;

    const secondary = spec.related.length > 0 && rng.chance(0.25) ? rng.pick(spec.related) : null;
    const secondaryIndex = secondary === null ? -1 : CATEGORIES.findIndex((c) => c.name === secondary);
    const offset = i * LATENT_DIMS;
    for (let d = 0; d < LATENT_DIMS; d++) {
      let v = (centroids[main * LATENT_DIMS + d] ?? 0) + ITEM_NOISE * rng.normal();
      if (secondaryIndex >= 0) v += 0.5 * (centroids[secondaryIndex * LATENT_DIMS + d] ?? 0);
      vectors[offset + d] = v;
    }
    normalize(vectors, offset);

    const tagCount = rng.int(2, Math.min(4, spec.tags.length));
    const tags = rng.shuffle([...spec.tags]).slice(0, tagCount);
    const brand = rng.pick(spec.brands);
    const color = rng.pick(COLORS);
    const noun = rng.pick(spec.nouns);

    // A small share is out of stock, a few expired before `end` (tests check neither is recommended), a
    // few more expire after it (still recommendable), and some items are new during the period.
    const available = !rng.chance(0.03);
    const expiry = rng.next();
    const expiresInPast = expiry < 0.02;
    const expiresInFuture = !expiresInPast && expiry < 0.04;
    const createdAt = itemCreatedAt(rng, start, end, expiresInPast);
    let expiresAt: EpochMs | null = null;
    if (expiresInPast)
      expiresAt = Math.floor(rng.uniform(Math.max(createdAt, end - 30 * DAY_MS), end - HOUR_MS));
    if (expiresInFuture) expiresAt = Math.floor(end + rng.uniform(7, 60) * DAY_MS);
    const updatedAt = available ? createdAt : Math.floor(rng.uniform(Math.max(createdAt, start), end));

    items.push({
      id: `item-${String(i + 1).padStart(width, '0')}`,
      categories: secondary === null ? [spec.name] : [spec.name, secondary],
      tags,
      price: price(rng, spec.medianPrice, spec.priceSpread),
      available,
      createdAt,
      expiresAt,
      attributes: { brand, color, title: `${brand} ${color} ${noun}` },
      updatedAt,
    });
  }

  const byCategory = CATEGORIES.map((_, c) => {
    const members: number[] = [];
    for (let i = 0; i < count; i++) if (category[i] === c) members.push(i);
    return Int32Array.from(members);
  });
  const liveFrom = Float64Array.from(items, (item) => item.createdAt);
  const liveUntil = Float64Array.from(items, (item) => item.expiresAt ?? Infinity);
  return { items, category, vectors, popularity, liveFrom, liveUntil, byCategory };
}

/**
 * Most of the catalog predates the period; a quarter arrives during it and a few items in its last week,
 * so "new item" logic has something to find. Items that will expire are old stock.
 */
function itemCreatedAt(rng: Rng, start: EpochMs, end: EpochMs, old: boolean): EpochMs {
  const r = old ? 0 : rng.next();
  if (r < 0.7) return Math.floor(start - rng.uniform(1, 365) * DAY_MS);
  if (r < 0.95) return Math.floor(rng.uniform(start, Math.max(start, end - 7 * DAY_MS)));
  return Math.floor(rng.uniform(end - 7 * DAY_MS, end - HOUR_MS));
}

/** Lognormal around the category's median, then shop-style rounding (x.99). */
function price(rng: Rng, median: number, spread: number): number {
  const raw = rng.lognormal(Math.log(median), spread);
  return Math.max(1, Math.round(raw)) - 0.01;
}
