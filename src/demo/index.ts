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
