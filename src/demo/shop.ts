import type { Item, User } from '../catalog/types.js';
import type { TrackedEvent } from '../events/types.js';
import type { EpochMs } from '../shared/types.js';
import { generateCatalog } from './catalog.js';
import { CATEGORIES } from './categories.js';
import { LATENT_DIMS, categoryCentroids } from './latent.js';
import { Rng, deriveSeed } from './random.js';
import { ShopSimulation, type DraftEvent } from './sessions.js';
import { DAY_MS, DEFAULT_DEMO_END } from './time.js';
import { generateUsers, type Device } from './users.js';

export interface DemoShopOptions {
  /** Same seed, same shop (default 1). */
  readonly seed?: number;
  /** Number of users (default 2,000). */
  readonly users?: number;
  /** Number of catalog items (default 500). */
  readonly items?: number;
  /** Length of the simulated period in days (default 60). */
  readonly days?: number;
  /** End of the period, epoch ms, exclusive (default 2026-11-01T00:00:00Z). */
  readonly end?: EpochMs;
}

/** What a user likes, as the simulation knows it; recommenders should recover it from the events. */
export interface UserTaste {
  /** Favourite categories, strongest first. */
  readonly favourites: readonly string[];
  /** Weight of every category (favourites sum to 1, the others are 0). */
  readonly categoryWeights: Readonly<Record<string, number>>;
  /** Unit latent vector in the same space as `DemoTruth.itemVector`. */
  readonly vector: readonly number[];
}

/** When and how a user visits. */
export interface UserHabits {
  readonly device: Device;
  /** Local hour around which sessions cluster. */
  readonly peakHour: number;
  readonly utcOffsetHours: number;
  readonly sessionsPerDay: number;
}

/** The hidden facts the shop was generated from, for tests and evaluation to check against. */
export interface DemoTruth {
  readonly seed: number;
  readonly start: EpochMs;
  readonly end: EpochMs;
  readonly categories: readonly string[];
  readonly userTaste: ReadonlyMap<string, UserTaste>;
  readonly userHabits: ReadonlyMap<string, UserHabits>;
  /** Main category of each item. */
  readonly itemCategory: ReadonlyMap<string, string>;
  readonly itemVector: ReadonlyMap<string, readonly number[]>;
  /** Base popularity before taste (long-tailed, the most popular item is 1). */
  readonly itemPopularity: ReadonlyMap<string, number>;
  /** Users who stopped visiting during the period, in user order. */
  readonly lapsedUsers: readonly string[];
  /** When each lapsed user stopped: they have no events at or after this time. */
  readonly lapsedAt: ReadonlyMap<string, EpochMs>;
  /** Loyal heavy users, thousands of events each (one in `HEAVY_EVERY`), in user order. */
  readonly heavyUsers: readonly string[];
}

export interface DemoShop {
  readonly items: Item[];
  readonly users: User[];
  /** Sorted by timestamp; ids `demo-1`, `demo-2`, … in that order. */
  readonly events: TrackedEvent[];
  readonly truth: DemoTruth;
}

export const DEMO_DEFAULTS = { seed: 1, users: 2_000, items: 500, days: 60, end: DEFAULT_DEMO_END } as const;

/**
 * A small, realistic shop, deterministic in its options: the quick start loads it and tests use it.
 * Each part draws from its own seeded stream, so e.g. the catalog does not change with the user count.
 */
export function generateDemoShop(options: DemoShopOptions = {}): DemoShop {
  const seed = options.seed ?? DEMO_DEFAULTS.seed;
  const userCount = positiveInteger('users', options.users ?? DEMO_DEFAULTS.users);
  const itemCount = positiveInteger('items', options.items ?? DEMO_DEFAULTS.items);
  const days = positiveInteger('days', options.days ?? DEMO_DEFAULTS.days);
  const end = options.end ?? DEMO_DEFAULTS.end;
  if (!Number.isFinite(seed)) throw new RangeError(`seed must be a finite number, got ${seed}`);
  if (!Number.isSafeInteger(end)) throw new RangeError(`end must be epoch milliseconds, got ${end}`);
  const start = end - days * DAY_MS;

  const centroids = categoryCentroids(new Rng(deriveSeed(seed, 'categories')), CATEGORIES.length);
  const catalog = generateCatalog(new Rng(deriveSeed(seed, 'items')), itemCount, start, end, centroids);
  const models = generateUsers(new Rng(deriveSeed(seed, 'users')), userCount, start, end, centroids);

  const simulation = new ShopSimulation(catalog, { start, end, days });
  const drafts: DraftEvent[] = [];
  models.forEach((model, u) =>
    simulation.simulateUser(model, new Rng(deriveSeed(seed, 'events', u)), drafts),
  );
  // Stable sort: ties keep generation order (user, then session order), so ids are deterministic too.
  drafts.sort((a, b) => a.timestamp - b.timestamp);
  drafts.forEach((e, n) => (e.eventId = `demo-${n + 1}`));
  const events: TrackedEvent[] = drafts;

  const categoryNames = CATEGORIES.map((c) => c.name);
  const vectorAt = (v: Float64Array, row: number) =>
    Array.from(v.subarray(row * LATENT_DIMS, (row + 1) * LATENT_DIMS));
  const truth: DemoTruth = {
    seed,
    start,
    end,
    categories: categoryNames,
    userTaste: new Map(
      models.map((m) => {
        const categoryWeights: Record<string, number> = Object.fromEntries(categoryNames.map((c) => [c, 0]));
        m.favourites.forEach(
          (c, f) => (categoryWeights[categoryNames[c] ?? ''] = m.favouriteWeights[f] ?? 0),
        );
        const favourites = m.favourites.map((c) => categoryNames[c] ?? '');
        return [m.user.id, { favourites, categoryWeights, vector: Array.from(m.vector) }];
      }),
    ),
    userHabits: new Map(
      models.map((m) => [
        m.user.id,
        {
          device: m.device,
          peakHour: m.peakHour,
          utcOffsetHours: m.utcOffsetHours,
          sessionsPerDay: m.sessionsPerDay,
        },
      ]),
    ),
    itemCategory: new Map(
      catalog.items.map((item, i) => [item.id, categoryNames[catalog.category[i] ?? 0] ?? '']),
    ),
    itemVector: new Map(catalog.items.map((item, i) => [item.id, vectorAt(catalog.vectors, i)])),
    itemPopularity: new Map(catalog.items.map((item, i) => [item.id, catalog.popularity[i] ?? 0])),
    lapsedUsers: models.filter((m) => m.lapseAt !== null).map((m) => m.user.id),
    lapsedAt: new Map(models.flatMap((m) => (m.lapseAt === null ? [] : [[m.user.id, m.lapseAt] as const]))),
    heavyUsers: models.filter((m) => m.heavy).map((m) => m.user.id),
  };

  return { items: [...catalog.items], users: models.map((m) => m.user), events, truth };
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1)
    throw new RangeError(`${name} must be a positive integer, got ${value}`);
  return value;
}
