import type { Rng } from './random.js';
import { MINUTE_MS } from './time.js';

/**
 * Roles of the demo shop's new users, for decision points: a hidden role shows in a user's first events
 * (noisily: the roles' habits overlap) and decides how they answer an onboarding checklist's order and a
 * discount. The true expected reward of every (role, action) is exported, so the value of the optimal
 * policy (one that knows each user's role) is exact, not estimated.
 */

export const ROLES = ['buyer', 'browser', 'deal_hunter'] as const;
export type Role = (typeof ROLES)[number];

/** Shares of new users by role. */
export const ROLE_SHARES: Readonly<Record<Role, number>> = { buyer: 0.3, browser: 0.45, deal_hunter: 0.25 };

export function drawRole(rng: Rng): Role {
  return ROLES[rng.weightedIndex(ROLES.map((role) => ROLE_SHARES[role]))]!;
}

// --- first events -----------------------------------------------------------------------------------------

/** How a role's first session looks. */
interface FirstSessionHabits {
  /** Items viewed: `min` plus a Poisson count of mean `extra`. */
  readonly views: { readonly min: number; readonly extra: number };
  /** Where in the catalog's price order (0 cheapest, 1 dearest) viewed items lie: normal, clamped. */
  readonly priceQuantile: { readonly mean: number; readonly sd: number };
  /** Chance that a viewed item goes to the cart. */
  readonly cart: number;
  /** Chance that the session ends with buying what is in the cart. */
  readonly purchase: number;
  /** Chance of a mobile device (else desktop). */
  readonly mobile: number;
}

/**
 * Buyers look at few, dearer items and cart early; browsers view many items and rarely cart; deal hunters
 * view cheap items and cart some. Every signal overlaps (a buyer may view two cheap items and cart none):
 * the best any classifier does from a first session is about 88% right (measured with the exact posterior
 * over binned views, carts, purchases and mean price on the demo catalog: deal hunters pass for browsers
 * most often), and a linear model over the feature store's counts gets 93–94% of the optimal policy's
 * reward at best.
 */
export const FIRST_SESSION: Readonly<Record<Role, FirstSessionHabits>> = {
  buyer: {
    views: { min: 1, extra: 2.5 },
    priceQuantile: { mean: 0.65, sd: 0.3 },
    cart: 0.5,
    purchase: 0.3,
    mobile: 0.45,
  },
  browser: {
    views: { min: 2, extra: 5 },
    priceQuantile: { mean: 0.5, sd: 0.3 },
    cart: 0.04,
    purchase: 0.05,
    mobile: 0.7,
  },
  deal_hunter: {
    views: { min: 2, extra: 3 },
    priceQuantile: { mean: 0.2, sd: 0.3 },
    cart: 0.1,
    purchase: 0.1,
    mobile: 0.55,
  },
};

export interface PricedItem {
  readonly id: string;
  readonly price: number;
}

export type FirstEventName = 'product_viewed' | 'added_to_cart' | 'purchased';

/** One event of a first session; `offsetMs` is from the session's start. */
export interface FirstEvent {
  readonly event: FirstEventName;
  readonly itemId: string;
  readonly price: number;
  readonly offsetMs: number;
}

export interface FirstSession {
  readonly device: 'mobile' | 'desktop';
  readonly events: readonly FirstEvent[];
  /** Length of the session: every offset is below it. */
  readonly durationMs: number;
}

/** The gap between two events of a first session. */
const STEP_MS = MINUTE_MS;

/**
 * A user's first session by role, over a catalog sorted by price (ascending). The features a decision
 * point can read of it: `views_1d`, `carts_1d`, `purchases_1d`, `events_1d`, `usual_price` (events carry
 * `price`) and the `device` share.
 */
export function firstSession(role: Role, rng: Rng, byPrice: readonly PricedItem[]): FirstSession {
  if (byPrice.length === 0) throw new RangeError('firstSession needs a catalog');
  const habits = FIRST_SESSION[role];
  const device = rng.chance(habits.mobile) ? 'mobile' : 'desktop';
  const views = habits.views.min + rng.poisson(habits.views.extra);
  const events: FirstEvent[] = [];
  const carted: PricedItem[] = [];
  let offsetMs = 0;
  for (let v = 0; v < views; v++) {
    const q = habits.priceQuantile.mean + habits.priceQuantile.sd * rng.normal();
    const at = Math.round(Math.min(1, Math.max(0, q)) * (byPrice.length - 1));
    const item = byPrice[at]!;
    events.push({ event: 'product_viewed', itemId: item.id, price: item.price, offsetMs });
    offsetMs += STEP_MS;
    if (rng.chance(habits.cart)) {
      carted.push(item);
      events.push({ event: 'added_to_cart', itemId: item.id, price: item.price, offsetMs });
      offsetMs += STEP_MS;
    }
  }
  if (carted.length > 0 && rng.chance(habits.purchase)) {
    for (const item of carted) {
      events.push({ event: 'purchased', itemId: item.id, price: item.price, offsetMs });
      offsetMs += STEP_MS;
    }
  }
  return { device, events, durationMs: offsetMs };
}

// --- onboarding ---------------------------------------------------------------------------------------------

export const ONBOARDING_STEPS = ['profile', 'browse', 'wishlist', 'first_order'] as const;
export type OnboardingStep = (typeof ONBOARDING_STEPS)[number];

/** The checklist orders a decision point chooses among; each leads with the step its id names. */
export const CHECKLISTS: Readonly<Record<string, readonly OnboardingStep[]>> = {
  profile_first: ['profile', 'browse', 'wishlist', 'first_order'],
  browse_first: ['browse', 'wishlist', 'profile', 'first_order'],
  wishlist_first: ['wishlist', 'browse', 'first_order', 'profile'],
  order_first: ['first_order', 'browse', 'wishlist', 'profile'],
};

/**
 * The chance that a user completes the checklist in each order: buyers want to order, browsers to look
 * around, deal hunters to set up a wishlist (where price drops show). Nobody likes the profile first. No
 * single order earns more than 80% of the optimal policy, uniform 69%.
 */
export const COMPLETION: Readonly<Record<Role, Readonly<Record<string, number>>>> = {
  buyer: { profile_first: 0.3, browse_first: 0.38, wishlist_first: 0.34, order_first: 0.6 },
  browser: { profile_first: 0.34, browse_first: 0.52, wishlist_first: 0.44, order_first: 0.18 },
  deal_hunter: { profile_first: 0.24, browse_first: 0.36, wishlist_first: 0.56, order_first: 0.32 },
};

// --- offers -------------------------------------------------------------------------------------------------

/** The discounts offered, as actions with a `discount_pct` param within `DISCOUNT_BOUNDS`. */
export const OFFERS: Readonly<Record<string, number>> = {
  none: 0,
  pct5: 5,
  pct10: 10,
  pct15: 15,
  pct20: 20,
};
export const DISCOUNT_BOUNDS = { min: 0, max: 25 } as const;

/** Cost of goods as a share of the list price: an order at discount d earns value · (1 − d − COST_SHARE). */
export const COST_SHARE = 0.6;

/** How a role answers a discount: the chance to buy within the offer's window, by discount_pct. */
interface OfferResponse {
  readonly purchase: Readonly<Record<number, number>>;
  /** Mean list value of an order (lognormal with spread `ORDER_VALUE_SPREAD`). */
  readonly orderValue: number;
}

/**
 * Buyers buy anyway (a discount only gives margin away), browsers need a nudge, deal hunters a big one:
 * the best discount is 0 for buyers (12.8 a decision; 5% off earns 11.2), 10% for browsers (1.8) and 20%
 * for deal hunters (2.88). No single discount earns more than 82% of the optimal policy, uniform 74%.
 */
export const OFFER_RESPONSE: Readonly<Record<Role, OfferResponse>> = {
  buyer: { purchase: { 0: 0.8, 5: 0.8, 10: 0.81, 15: 0.81, 20: 0.82 }, orderValue: 40 },
  browser: { purchase: { 0: 0.05, 5: 0.08, 10: 0.12, 15: 0.14, 20: 0.15 }, orderValue: 50 },
  deal_hunter: { purchase: { 0: 0.03, 5: 0.06, 10: 0.12, 15: 0.24, 20: 0.36 }, orderValue: 40 },
};

/** σ of the log of an order's list value. */
export const ORDER_VALUE_SPREAD = 0.3;

function purchaseChance(role: Role, discountPct: number): number {
  const chance = OFFER_RESPONSE[role].purchase[discountPct];
  if (chance === undefined) throw new RangeError(`no purchase chance for a ${discountPct}% discount`);
  return chance;
}

/** What the shop keeps of an order of list value `value` at a discount: revenue minus the cost of goods. */
export function orderMargin(value: number, discountPct: number): number {
  return value * (1 - discountPct / 100 - COST_SHARE);
}

export interface OfferOutcome {
  /** Null: no purchase in the offer's window. */
  readonly order: { readonly listValue: number; readonly revenue: number; readonly margin: number } | null;
}

/** Whether a user of `role` buys under the offer, and what the order is worth. */
export function drawOffer(role: Role, discountPct: number, rng: Rng): OfferOutcome {
  if (!rng.chance(purchaseChance(role, discountPct))) return { order: null };
  // μ = ln(mean) − σ²/2 makes the lognormal's mean the role's order value, so expectations stay exact.
  const mu = Math.log(OFFER_RESPONSE[role].orderValue) - ORDER_VALUE_SPREAD ** 2 / 2;
  const listValue = Math.round(rng.lognormal(mu, ORDER_VALUE_SPREAD) * 100) / 100;
  return {
    order: {
      listValue,
      revenue: listValue * (1 - discountPct / 100),
      margin: orderMargin(listValue, discountPct),
    },
  };
}

// --- the truth ---------------------------------------------------------------------------------------------

export type DemoPoint = 'onboarding' | 'offer';

/** The actions of each demo decision point, in the order the points define them. */
export const POINT_ACTIONS: Readonly<Record<DemoPoint, readonly string[]>> = {
  onboarding: Object.keys(CHECKLISTS),
  offer: Object.keys(OFFERS),
};

/** The true expected reward of an action for a user of a role: completion chance, or expected margin. */
export function expectedReward(point: DemoPoint, role: Role, action: string): number {
  if (point === 'onboarding') {
    const chance = COMPLETION[role][action];
    if (chance === undefined) throw new RangeError(`unknown checklist '${action}'`);
    return chance;
  }
  const discount = OFFERS[action];
  if (discount === undefined) throw new RangeError(`unknown offer '${action}'`);
  return purchaseChance(role, discount) * orderMargin(OFFER_RESPONSE[role].orderValue, discount);
}

/** The best action for a role and its expected reward: what the optimal policy earns per user. */
export function optimalAction(
  point: DemoPoint,
  role: Role,
): { readonly action: string; readonly value: number } {
  let best = { action: '', value: -Infinity };
  for (const action of POINT_ACTIONS[point]) {
    const value = expectedReward(point, role, action);
    if (value > best.value) best = { action, value };
  }
  return best;
}

/** A uniformly random action's expected reward for a role. */
export function uniformValue(point: DemoPoint, role: Role): number {
  const actions = POINT_ACTIONS[point];
  return actions.reduce((sum, action) => sum + expectedReward(point, role, action), 0) / actions.length;
}

/** Expected reward per user over the role mix, of a policy given as an action per role. */
export function policyValue(point: DemoPoint, choose: (role: Role) => string): number {
  return ROLES.reduce((sum, role) => sum + ROLE_SHARES[role] * expectedReward(point, role, choose(role)), 0);
}
