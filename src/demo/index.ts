/** `attune demo`'s synthetic shop: a deterministic catalog, users and their events, plus the truth behind them. */
export {
  DEMO_DEFAULTS,
  generateDemoShop,
  type DemoShop,
  type DemoShopOptions,
  type DemoTruth,
  type UserHabits,
  type UserTaste,
} from './shop.js';
export { DEMO_EVENTS } from './sessions.js';
export { toEventJson, toEventJsonLines, type EventJson } from './json.js';
export { Rng, deriveSeed } from './random.js';
export {
  CHECKLISTS,
  COMPLETION,
  DISCOUNT_BOUNDS,
  drawOffer,
  drawRole,
  expectedReward,
  firstSession,
  OFFERS,
  optimalAction,
  POINT_ACTIONS,
  ROLES,
  uniformValue,
  type DemoPoint,
  type PricedItem,
  type Role,
} from './roles.js';
