import { isPlainObject } from './fields.js';
import type { FeedbackKind, TrackedEvent } from './types.js';

/**
 * What each event name means as feedback. Names are matched after `normalizeEventName`, so
 * `Product Viewed` (Segment), `product_viewed`, `productViewed` and `PRODUCT-VIEWED` are one key.
 * Treat a config as immutable once used: lookups are cached per config object.
 */
export interface FeedbackConfig {
  readonly events: Readonly<Record<string, FeedbackKind>>;
  /** For names the table does not list. */
  readonly unknown: FeedbackKind;
}

const positive = (weight: number): FeedbackKind => Object.freeze({ kind: 'positive', weight });
const negative = (weight: number): FeedbackKind => Object.freeze({ kind: 'negative', weight });
const EXPOSURE: FeedbackKind = Object.freeze({ kind: 'exposure' });
const NONE: FeedbackKind = Object.freeze({ kind: 'none' });

// The default weights form one scale of intent: seeing (1) < clicking (2) < keeping for later or
// expressing an opinion (3) < putting in the cart (4) < buying (8). Negative weights say how firmly
// the user turned the item down; removing from the cart is only a mild signal (people tidy carts).
const VIEW = positive(1);
const CLICK = positive(2);
const OPINION = positive(3);
const CART = positive(4);
const PURCHASE = positive(8);

/** Keys are normalised names; Segment's e-commerce spec names normalise onto the same keys. */
const DEFAULT_EVENTS: Readonly<Record<string, FeedbackKind>> = Object.freeze({
  // Views. A page view only carries an item when it is an item's page; without one it is ignored anyway.
  product_viewed: VIEW,
  item_viewed: VIEW,
  viewed: VIEW,
  view: VIEW,
  page_viewed: VIEW,
  // A mobile app's screen (Segment's `screen` call): a view of the item it names, like a page.
  screen_viewed: VIEW,
  // Clicks.
  product_clicked: CLICK,
  item_clicked: CLICK,
  clicked: CLICK,
  click: CLICK,
  // Cart and checkout ("Product Added", "Checkout Started").
  added_to_cart: CART,
  add_to_cart: CART,
  product_added: CART,
  item_added_to_cart: CART,
  checkout_started: CART,
  // Keeping for later, opinions and sharing ("Product Added to Wishlist", "Product Shared",
  // "Product Reviewed"). A rating's value is not read: the act of rating shows interest either way.
  added_to_wishlist: OPINION,
  add_to_wishlist: OPINION,
  product_added_to_wishlist: OPINION,
  liked: OPINION,
  like: OPINION,
  favorited: OPINION,
  rated: OPINION,
  product_rated: OPINION,
  reviewed: OPINION,
  product_reviewed: OPINION,
  shared: OPINION,
  product_shared: OPINION,
  // Purchases ("Order Completed").
  purchased: PURCHASE,
  purchase: PURCHASE,
  product_purchased: PURCHASE,
  order_completed: PURCHASE,
  checkout_completed: PURCHASE,
  // Turned down.
  dismissed: negative(2),
  recommendation_dismissed: negative(2),
  hidden: negative(3),
  not_interested: negative(4),
  disliked: negative(4),
  removed_from_cart: negative(1),
  product_removed: negative(1),
  // Shown, not acted on ("Product List Viewed" has no single item; "Promotion Viewed" may have one).
  impression: EXPOSURE,
  product_impression: EXPOSURE,
  item_impression: EXPOSURE,
  item_shown: EXPOSURE,
  product_list_viewed: EXPOSURE,
  promotion_viewed: EXPOSURE,
});

export const defaultFeedbackConfig: FeedbackConfig = Object.freeze({ events: DEFAULT_EVENTS, unknown: NONE });

/**
 * The one key an event name is matched by: lower case, words joined by single underscores. Spaces,
 * `-`, `.`, `/` and `_` separate words, as do camelCase boundaries (`productViewed`,
 * `PDPViewed` → `pdp_viewed`). Characters outside ASCII are lower-cased and kept.
 */
export function normalizeEventName(name: string): string {
  let out = '';
  let pendingSeparator = false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c === 32 || c === 95 || c === 45 || c === 46 || c === 47 || c === 9) {
      pendingSeparator = out.length > 0;
      continue;
    }
    if (c >= 65 && c <= 90) {
      const prev = i > 0 ? name.charCodeAt(i - 1) : 0;
      const next = i + 1 < name.length ? name.charCodeAt(i + 1) : 0;
      const afterLowerOrDigit = isLower(prev) || isDigit(prev);
      const endsAcronym = isUpper(prev) && isLower(next);
      if (out.length > 0 && (afterLowerOrDigit || endsAcronym)) pendingSeparator = true;
      if (pendingSeparator) out += '_';
      out += String.fromCharCode(c + 32);
    } else {
      if (pendingSeparator) out += '_';
      out += c < 128 ? name.charAt(i) : name.charAt(i).toLowerCase();
    }
    pendingSeparator = false;
  }
  return out;
}

function isLower(c: number): boolean {
  return c >= 97 && c <= 122;
}
function isUpper(c: number): boolean {
  return c >= 65 && c <= 90;
}
function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

interface Lookup {
  readonly table: ReadonlyMap<string, FeedbackKind>;
  /** Raw name → kind, so the hot path (training scans millions of events) does not normalise each time. */
  readonly memo: Map<string, FeedbackKind>;
}

/** Caps the memo: names are few in practice, but they come from senders and are not bounded. */
const MEMO_LIMIT = 4096;
const lookups = new WeakMap<FeedbackConfig, Lookup>();

function lookupOf(config: FeedbackConfig): Lookup {
  let lookup = lookups.get(config);
  if (lookup === undefined) {
    const table = new Map<string, FeedbackKind>();
    // A config written by hand in code may use any spelling; normalise its keys like event names.
    for (const [name, kind] of Object.entries(config.events)) table.set(normalizeEventName(name), kind);
    lookup = { table, memo: new Map() };
    lookups.set(config, lookup);
  }
  return lookup;
}

/** What an event means as feedback under `config`. Properties are not consulted by the defaults. */
export function feedbackOf(
  config: FeedbackConfig,
  event: Pick<TrackedEvent, 'name' | 'properties'>,
): FeedbackKind {
  const lookup = lookupOf(config);
  const known = lookup.memo.get(event.name);
  if (known !== undefined) return known;
  const kind = lookup.table.get(normalizeEventName(event.name)) ?? config.unknown;
  if (lookup.memo.size < MEMO_LIMIT) lookup.memo.set(event.name, kind);
  return kind;
}

/** A feedback config file that does not make sense; `problems` names each bad key. */
export class FeedbackConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`invalid feedback config: ${problems.join('; ')}`);
    this.name = 'FeedbackConfigError';
    this.problems = problems;
  }
}

/**
 * Reads a feedback config file and merges it over the defaults:
 *
 *     { "events": { "Product Viewed": 2, "Video Watched": { "kind": "positive", "weight": 3 },
 *                   "dismissed": "none", "banner_shown": "exposure", "Thumbs Down": -4 },
 *       "unknown": "none" }
 *
 * A kind is `{"kind": "positive"|"negative", "weight": w > 0}`, `{"kind": "exposure"|"none"}`, or a
 * shorthand: a number (positive weight when > 0, negative weight of its size when < 0) or the string
 * `"exposure"` or `"none"`. Overrides replace the default of the same normalised name; to drop a
 * default, map it to `"none"`. `null` or `{}` gives the defaults. Every problem is reported at once.
 */
export function parseFeedbackConfig(json: unknown): FeedbackConfig {
  if (json == null) return defaultFeedbackConfig;
  const problems: string[] = [];
  if (!isPlainObject(json)) throw new FeedbackConfigError(['the config must be a JSON object']);

  for (const key of Object.keys(json)) {
    if (key !== 'events' && key !== 'unknown') {
      problems.push(`unknown key "${key}"; accepted keys: events, unknown`);
    }
  }

  const events: Record<string, FeedbackKind> = { ...DEFAULT_EVENTS };
  const eventsJson = json['events'];
  if (eventsJson != null) {
    if (!isPlainObject(eventsJson)) {
      problems.push('events must be an object mapping event names to feedback kinds');
    } else {
      const seen = new Map<string, string>();
      for (const [name, spec] of Object.entries(eventsJson)) {
        const path = `events[${JSON.stringify(name)}]`;
        const key = normalizeEventName(name);
        if (key === '') {
          problems.push(`${path}: the event name is empty`);
          continue;
        }
        const earlier = seen.get(key);
        if (earlier !== undefined) {
          problems.push(`${path}: names the same event as ${JSON.stringify(earlier)} (both are "${key}")`);
          continue;
        }
        seen.set(key, name);
        const kind = parseKind(spec, path, problems);
        if (kind !== undefined) events[key] = kind;
      }
    }
  }

  let unknown = NONE;
  if (json['unknown'] != null) unknown = parseKind(json['unknown'], 'unknown', problems) ?? NONE;

  if (problems.length > 0) throw new FeedbackConfigError(problems);
  return Object.freeze({ events: Object.freeze(events), unknown });
}

const KIND_HINT =
  'expected a weight (number ≠ 0), "exposure", "none", or {"kind": "positive"|"negative", "weight": w > 0}';

function parseKind(spec: unknown, path: string, problems: string[]): FeedbackKind | undefined {
  if (typeof spec === 'number') {
    if (!Number.isFinite(spec) || spec === 0) {
      problems.push(`${path}: a weight must be a finite number other than 0 (use "none" to ignore an event)`);
      return undefined;
    }
    return spec > 0 ? positive(spec) : negative(-spec);
  }
  if (spec === 'exposure') return EXPOSURE;
  if (spec === 'none') return NONE;
  if (!isPlainObject(spec)) {
    problems.push(`${path}: ${KIND_HINT}`);
    return undefined;
  }
  const kind = spec['kind'];
  for (const key of Object.keys(spec)) {
    const allowed = key === 'kind' || (key === 'weight' && (kind === 'positive' || kind === 'negative'));
    if (!allowed) {
      problems.push(`${path}: unexpected key "${key}" for kind ${JSON.stringify(kind)}`);
      return undefined;
    }
  }
  switch (kind) {
    case 'exposure':
      return EXPOSURE;
    case 'none':
      return NONE;
    case 'positive':
    case 'negative': {
      const weight = spec['weight'];
      if (typeof weight !== 'number' || !Number.isFinite(weight) || weight <= 0) {
        problems.push(`${path}.weight: must be a finite number > 0`);
        return undefined;
      }
      return kind === 'positive' ? positive(weight) : negative(weight);
    }
    default:
      problems.push(`${path}.kind: must be "positive", "negative", "exposure" or "none"`);
      return undefined;
  }
}
