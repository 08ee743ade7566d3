import type { DemoShop } from '../demo/index.js';
import { deriveSeed, Rng } from '../demo/index.js';
import type { EpochMs } from '../shared/types.js';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

/**
 * How simulated shoppers react to what they are shown. The demo shop's hidden tastes decide: the affinity
 * of a shopper for an item is the cosine of their latent vectors (about 0 ± 0.35 for a random item, 0.6 and
 * more for the items a shopper's favourite categories hold), as in the demo's own sessions.
 */
export const BEHAVIOUR = {
  /** Chance that the shopper looks at position k of a list: POSITION_DECAY^k (position bias). */
  positionDecay: 0.85,
  /**
   * Click chance of a looked-at item: floor + span · sigmoid(sharpness · (affinity − midpoint) + appeal).
   * The item's appeal is its pull as a listing (picture, title, price as shown), apart from taste: a
   * normal logit offset per item with standard deviation `appealSpread`, so that at a typical match of
   * taste an item one deviation above the mean is clicked about twice as often as one a deviation below.
   * The demo's history (what the engine trains its models on) knows nothing of it; only what the shoppers
   * do with served lists does, as in a shop whose catalogue views say little about which listings pull.
   */
  click: { floor: 0.02, span: 0.5, sharpness: 6, midpoint: 0.6 },
  appealSpread: 1,
  /**
   * Each earlier list that showed the shopper an item they did not click multiplies their chance of
   * clicking it later by this: what was passed over is passed over again (impression fatigue). The
   * history's models cannot see it; the impression log can.
   */
  fatigue: 0.75,
  /** Purchase chance after a click, by the same curve. */
  purchase: { floor: 0.04, span: 0.3, sharpness: 6, midpoint: 0.5 },
  /** Engagement scales the daily visit rate; a visit with a click raises it, one without lowers it. */
  engagement: { start: 1, min: 0.3, max: 1.6, afterClick: 0.1, afterNothing: -0.15 },
  /** Shoppers who had stopped visiting in the demo history come back at this fraction of their rate. */
  lapsedRate: 0.2,
  /** Spread (hours, normal) of visit times around the shopper's local peak hour. */
  hourSpread: 2,
} as const;

interface Curve {
  readonly floor: number;
  readonly span: number;
  readonly sharpness: number;
  readonly midpoint: number;
}

const curve = (c: Curve, affinity: number, offset = 0): number =>
  c.floor + c.span / (1 + Math.exp(-c.sharpness * (affinity - c.midpoint) - offset));

export const clickChance = (affinity: number, appeal: number): number =>
  curve(BEHAVIOUR.click, affinity, appeal);
export const purchaseChance = (affinity: number): number => curve(BEHAVIOUR.purchase, affinity);

/** One shopper: a demo user with their taste and habits, and how engaged the simulation has left them. */
export interface Shopper {
  readonly id: string;
  readonly vector: readonly number[];
  /** Mean visits per day at engagement 1. */
  readonly rate: number;
  readonly peakHourUtc: number;
  readonly device: string;
  /** The shopper's own random stream: what they do does not depend on the order requests complete in. */
  readonly rng: Rng;
  engagement: number;
  /** Per item: served lists that showed it to this shopper without a click. */
  readonly passedOver: Map<string, number>;
}

/** The shoppers and the catalog as the simulation knows them (the demo shop's truth). */
export interface Population {
  readonly shoppers: readonly Shopper[];
  readonly itemVector: ReadonlyMap<string, readonly number[]>;
  /** Each item's appeal as a listing (`BEHAVIOUR.appealSpread`), drawn from the simulation's seed. */
  readonly itemAppeal: ReadonlyMap<string, number>;
  readonly itemPrice: ReadonlyMap<string, number>;
}

export function population(shop: DemoShop, seed: number): Population {
  const { truth } = shop;
  const shoppers = shop.users.map((user, u): Shopper => {
    const taste = truth.userTaste.get(user.id);
    const habits = truth.userHabits.get(user.id);
    if (taste === undefined || habits === undefined)
      throw new Error(`the demo shop has no truth for ${user.id}`);
    const lapsed = truth.lapsedAt.has(user.id);
    return {
      id: user.id,
      vector: taste.vector,
      rate: habits.sessionsPerDay * (lapsed ? BEHAVIOUR.lapsedRate : 1),
      peakHourUtc: habits.peakHour - habits.utcOffsetHours,
      device: habits.device,
      rng: new Rng(deriveSeed(seed, 'shopper', u)),
      engagement: BEHAVIOUR.engagement.start,
      passedOver: new Map(),
    };
  });
  const appeal = new Rng(deriveSeed(seed, 'appeal'));
  return {
    shoppers,
    itemVector: truth.itemVector,
    itemAppeal: new Map(shop.items.map((item) => [item.id, BEHAVIOUR.appealSpread * appeal.normal()])),
    itemPrice: new Map(shop.items.map((item) => [item.id, item.price ?? 0])),
  };
}

/** The hour of the day (UTC, 0–23) of the shopper's visit on a day they visit, or -1 on a day they don't. */
export function visitHour(shopper: Shopper): number {
  const { rng } = shopper;
  // A Poisson process at the engaged rate visits at least once with this chance; one visit a day is simulated.
  if (!rng.chance(1 - Math.exp(-shopper.rate * shopper.engagement))) return -1;
  const hour = Math.floor(shopper.peakHourUtc + BEHAVIOUR.hourSpread * rng.normal());
  return ((hour % 24) + 24) % 24;
}

export function affinity(shopper: Shopper, item: readonly number[] | undefined): number {
  if (item === undefined) return 0;
  let sum = 0;
  for (let d = 0; d < item.length; d++) sum += (shopper.vector[d] ?? 0) * (item[d] ?? 0);
  return sum;
}

/** What a shopper did with one list: the items they clicked and, of those, bought (with quantity). */
export interface Reaction {
  readonly clicked: readonly string[];
  readonly bought: readonly { readonly item: string; readonly quantity: number }[];
}

/** Looks down a served list, clicks and buys by taste, and updates the shopper's engagement. */
export function react(shopper: Shopper, items: readonly string[], population: Population): Reaction {
  const { rng } = shopper;
  const clicked: string[] = [];
  const bought: { item: string; quantity: number }[] = [];
  items.forEach((item, position) => {
    if (!rng.chance(BEHAVIOUR.positionDecay ** position)) return;
    const a = affinity(shopper, population.itemVector.get(item));
    const fatigue = BEHAVIOUR.fatigue ** (shopper.passedOver.get(item) ?? 0);
    if (!rng.chance(fatigue * clickChance(a, population.itemAppeal.get(item) ?? 0))) return;
    clicked.push(item);
    if (rng.chance(purchaseChance(a)))
      bought.push({ item, quantity: 1 + rng.weightedIndex([0.85, 0.11, 0.04]) });
  });
  for (const item of items) {
    if (!clicked.includes(item)) shopper.passedOver.set(item, (shopper.passedOver.get(item) ?? 0) + 1);
  }
  const { engagement } = BEHAVIOUR;
  const step = clicked.length > 0 ? engagement.afterClick : engagement.afterNothing;
  shopper.engagement = Math.min(engagement.max, Math.max(engagement.min, shopper.engagement + step));
  return { clicked, bought };
}

/** Seconds between a shopper's actions within a visit: they read, then click, then check out. */
export function visitTimes(start: EpochMs, reaction: Reaction): { clicks: EpochMs[]; purchases: EpochMs[] } {
  let t = start + 5_000;
  const clicks = reaction.clicked.map(() => (t += 20_000));
  const purchases = reaction.bought.map(() => (t += 60_000));
  return { clicks, purchases };
}
