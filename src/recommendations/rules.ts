import { LruMap } from '../shared/lru.js';
import { ItemFilterError, parseItemFilter, type ItemFilter } from '../catalog/index.js';
import type { SessionOverride } from './session.js';

/**
 * Business rules for one request: what a merchandiser adds on top of the model. They arrive as strings
 * (query parameters, or a saved preset's JSON) in a `RulesSpec` and are compiled once per request into
 * `Rules`, whose shape admits only valid states: parsed filters, finite factors, pins on distinct slots
 * and items. Stages then apply them with comparisons only (no parsing or regex per item).
 *
 * Syntax (every value is a string as it would appear in a query):
 * - `filter=<expr>` (repeatable): item property expressions, as `catalog/filter.ts` reads them
 *   (`category=shoes`, `price<100`, `available=true`, `brand!=acme`), plus `not purchased`: leave out
 *   items the user bought. `category=a,b` is the any-of list.
 * - `boost=<expr>[:<factor>]`, `bury=<expr>[:<factor>]` (repeatable): items matching `<expr>` get their
 *   rule value multiplied by `factor` (boost ≥ 1, default 2; bury in [0, 1], default 0.5), or shifted by a
 *   signed `+x` (boost) / `-x` (bury). The factor is whatever follows the last `:` when it is a number.
 * - `pin=<item_id>:<slot>` (repeatable): the item appears exactly at 0-based `slot` (when the list is
 *   longer than `slot`; at its end otherwise), if it exists, is recommendable, is not in `exclude` and
 *   the user did not turn it down. Pins override filters and the re-show policy: a pin is a deliberate
 *   placement. A slot at or beyond `n` is ignored.
 * - `exclude=<id>[,<id>…]` (repeatable): never shown, pins included.
 * - `reshow=<clause>[,<clause>]`: which items the user already interacted with may come back; see
 *   `ReshowPolicy`. Clauses: `never` (nothing seen or bought), `always` (anything), `seen_after_days:N`
 *   (seen items N days after the last interaction), `seen_never`, `purchased_never`,
 *   `purchased_after_days:N` (for consumables), `purchased_always`. Without `reshow`, `exclude_seen`
 *   decides as before (true = `never`, false = `always`). Items the user turned down never come back.
 * - `diversity=0..1`: maximal-marginal-relevance strength over category overlap (0 = off, the default).
 * - `max_per_category=N` (integer 0..1000): at most N items of any one category in the list (an item with
 *   several categories counts toward each; pins are exempt; 0 = off, the default). See `diversify`.
 * - `freshness=0..1`: boost for new items by `createdAt` age (0 = off, the default).
 * - `session_weight=0..5`, `session_items=1..50`: this request's session blend (`session.ts`), instead of
 *   the engine's configured weight and number of session items; `session_weight=0` turns it off.
 * - `segment=<segment_id>:<preset>` (repeatable): the preset's rules are added when the requesting user is
 *   in that segment (`rules-segments.ts` resolves them before compiling; compiling ignores them).
 *
 * The multi-word keys are spelt as in the query (snake_case), because a preset body is a spec as written.
 */
export interface RulesSpec {
  readonly filter?: readonly string[];
  readonly category?: readonly string[];
  readonly boost?: readonly string[];
  readonly bury?: readonly string[];
  readonly pin?: readonly string[];
  readonly exclude?: readonly string[];
  readonly reshow?: string;
  readonly diversity?: number;
  readonly freshness?: number;
  readonly max_per_category?: number;
  readonly session_weight?: number;
  readonly session_items?: number;
  readonly segment?: readonly string[];
}

/** When an item the user already had may be shown again. */
export type Reshow =
  { readonly kind: 'never' } | { readonly kind: 'always' } | { readonly kind: 'after'; readonly ms: number };

/**
 * The re-show policy: `purchased` applies to items the user bought, `seen` to every other item they
 * interacted with; the clock starts at the latest interaction with the item.
 */
export interface ReshowPolicy {
  readonly seen: Reshow;
  readonly purchased: Reshow;
}

/** Multiplies (`scale`) then shifts (`add`) the rule value of items matching `filter`. */
export interface ScoreAdjustment {
  readonly kind: 'boost' | 'bury';
  readonly filter: ItemFilter;
  readonly scale: number;
  readonly add: number;
}

export interface Pin {
  readonly itemId: string;
  readonly slot: number;
}

export interface Rules {
  /** Property filter (categories and expressions), applied like the request filter; `null` = none. */
  readonly filter: ItemFilter | null;
  readonly notPurchased: boolean;
  readonly adjustments: readonly ScoreAdjustment[];
  /** Sorted by slot; slots and items distinct. */
  readonly pins: readonly Pin[];
  readonly exclude: ReadonlySet<string>;
  /** `null`: the request's `exclude_seen` decides. */
  readonly reshow: ReshowPolicy | null;
  /** 0..1; 0 = off. */
  readonly diversity: number;
  /** 0..1; 0 = off. */
  readonly freshness: number;
  /** At most this many items per category (pins exempt); 0 = off. */
  readonly maxPerCategory: number;
  /** The request's own session settings; `null`: the engine's configured ones. */
  readonly session: SessionOverride | null;
}

/** A rule the API answers with 400; `parameter` names the query or body field. */
export class RulesError extends Error {
  /** Read by the API's error handler: a client error. */
  readonly statusCode = 400;
  constructor(
    readonly parameter: string,
    /** What is wrong, without the parameter name (a preset body names it as a body field). */
    readonly detail: string,
  ) {
    super(`query field "${parameter}": ${detail}`);
    this.name = 'RulesError';
  }
}

export const DEFAULT_BOOST = 2;
export const DEFAULT_BURY = 0.5;
/** Slots a pin may name; lists are never longer than the engine's result limit anyway. */
export const MAX_PIN_SLOT = 1000;
/** The largest `max_per_category` (a cap above the longest list changes nothing anyway). */
export const MAX_PER_CATEGORY = 1000;
/** The largest `session_weight`: 5 lets the session outrank the model's best item fivefold. */
export const MAX_SESSION_WEIGHT = 5;
/** The most session items a request may ask for (each costs one neighbour list). */
export const MAX_SESSION_ITEMS = 50;
const DAY_MS = 86_400_000;

const NOT_PURCHASED = new Set(['not purchased', 'purchased=false', 'purchased!=true', '!purchased']);
const FACTOR = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const INTEGER = /^\d+$/;

/** Rules that change nothing: what a request without rule parameters gets. */
export const noRules: Rules = Object.freeze({
  filter: null,
  notPurchased: false,
  adjustments: Object.freeze([]) as readonly ScoreAdjustment[],
  pins: Object.freeze([]) as readonly Pin[],
  exclude: new Set<string>(),
  reshow: null,
  diversity: 0,
  freshness: 0,
  maxPerCategory: 0,
  session: null,
});

/** Whether `rules` can change a list at all, so the stages can skip their work. */
export function hasRules(rules: Rules | null | undefined): rules is Rules {
  if (!rules) return false;
  return (
    rules.filter !== null ||
    rules.notPurchased ||
    rules.adjustments.length > 0 ||
    rules.pins.length > 0 ||
    rules.exclude.size > 0 ||
    rules.reshow !== null ||
    rules.diversity > 0 ||
    rules.freshness > 0 ||
    rules.maxPerCategory > 0 ||
    rules.session !== null
  );
}

/**
 * Compiled rules by spec, most recently used last. Serving sees the same few rule sets over and over (a
 * page's preset and query), and compiling one parses every filter expression; a compiled `Rules` is
 * immutable, so requests with equal specs share one. Bounded, so arbitrary queries cannot grow it.
 */
const compiled = new LruMap<string, Rules>(256);

/**
 * Compiles a spec; throws RulesError naming the first bad parameter. Equal specs (same JSON) return the
 * same frozen `Rules`, compiled once; invalid specs are not remembered and throw every time.
 */
export function compileRules(spec: RulesSpec): Rules {
  // JSON tells specs apart exactly: lists of strings and finite numbers (NaN and ±Infinity become null,
  // but those never compile, so they never reach the cache).
  const key = JSON.stringify(spec);
  const hit = compiled.get(key);
  if (hit !== undefined) return hit;
  const rules = compileUncached(spec);
  compiled.set(key, rules);
  sources.set(rules, key);
  return rules;
}

/** What each compiled rules object was made from, as text: equal text, equal rules, in any process. */
const sources = new WeakMap<Rules, string>();

/**
 * The rules' source as text, for keys of caches shared between processes (where object identity means
 * nothing); null for rules not made by `compileRules` or `withServingOptions`.
 */
export function rulesSource(rules: Rules): string | null {
  return sources.get(rules) ?? null;
}

function compileUncached(spec: RulesSpec): Rules {
  const expressions: string[] = [];
  let notPurchased = false;
  for (const expression of spec.filter ?? []) {
    if (NOT_PURCHASED.has(expression.trim().toLowerCase().replace(/\s+/g, ' '))) notPurchased = true;
    else expressions.push(expression);
  }
  const categories = (spec.category ?? []).flatMap((value) => value.split(',')).filter((v) => v !== '');
  let filter: ItemFilter | null = null;
  if (expressions.length > 0 || categories.length > 0) {
    filter = wrapFilterError('filter', () => parseItemFilter(expressions, categories));
  }
  const adjustments = [
    ...(spec.boost ?? []).map((text) => adjustment('boost', text)),
    ...(spec.bury ?? []).map((text) => adjustment('bury', text)),
  ];
  const exclude = new Set((spec.exclude ?? []).flatMap((value) => value.split(',')).filter((v) => v !== ''));
  return Object.freeze({
    filter,
    notPurchased,
    adjustments: Object.freeze(adjustments),
    pins: Object.freeze(pins(spec.pin ?? [])),
    exclude,
    reshow: spec.reshow === undefined ? null : reshowPolicy(spec.reshow),
    diversity: unit('diversity', spec.diversity),
    freshness: unit('freshness', spec.freshness),
    maxPerCategory: integer('max_per_category', spec.max_per_category, 0, MAX_PER_CATEGORY) ?? 0,
    session: sessionOverride(spec),
  });
}

/**
 * Compiled rules with a request's serving options (`max_per_category`, `session_weight`,
 * `session_items`) on top: what the request says wins over what `rules` (a preset, say) said. Throws
 * RulesError naming a bad option.
 */
export function withServingOptions(
  rules: Rules | null,
  options: Pick<RulesSpec, 'max_per_category' | 'session_weight' | 'session_items'>,
): Rules | null {
  const max = integer('max_per_category', options.max_per_category, 0, MAX_PER_CATEGORY);
  const session = sessionOverride(options);
  if (max === undefined && session === null) return rules;
  const base = rules ?? noRules;
  const extended: Rules = Object.freeze({
    ...base,
    maxPerCategory: max ?? base.maxPerCategory,
    session: session === null ? base.session : { ...base.session, ...session },
  });
  const source = rules === null ? '' : sources.get(rules);
  if (source !== undefined) sources.set(extended, `${source}|${max ?? ''}|${JSON.stringify(session)}`);
  return extended;
}

function sessionOverride(spec: RulesSpec): SessionOverride | null {
  const weight = spec.session_weight;
  if (weight !== undefined && !(Number.isFinite(weight) && weight >= 0 && weight <= MAX_SESSION_WEIGHT)) {
    throw new RulesError('session_weight', `${String(weight)} is not between 0 and ${MAX_SESSION_WEIGHT}`);
  }
  const items = integer('session_items', spec.session_items, 1, MAX_SESSION_ITEMS);
  if (weight === undefined && items === undefined) return null;
  return Object.freeze({
    ...(weight !== undefined ? { weight } : {}),
    ...(items !== undefined ? { maxItems: items } : {}),
  });
}

/**
 * A preset extended by a request: list rules (filters, boosts, buries, excludes) add up; a request pin
 * replaces a preset pin of the same item or slot; scalars (`reshow`, `diversity`, `freshness`,
 * `max_per_category`, `session_weight`, `session_items`) given in the request win.
 */
export function mergeRulesSpecs(preset: RulesSpec, request: RulesSpec): RulesSpec {
  const requestPins = request.pin ?? [];
  const taken = new Set<string>();
  for (const pin of requestPins) {
    const parsed = splitPin(pin);
    if (parsed) {
      taken.add(`item:${parsed.itemId}`);
      taken.add(`slot:${parsed.slot}`);
    }
  }
  const presetPins = (preset.pin ?? []).filter((pin) => {
    const parsed = splitPin(pin);
    return !parsed || (!taken.has(`item:${parsed.itemId}`) && !taken.has(`slot:${parsed.slot}`));
  });
  const list = (a: readonly string[] | undefined, b: readonly string[] | undefined): string[] => [
    ...(a ?? []),
    ...(b ?? []),
  ];
  const reshow = request.reshow ?? preset.reshow;
  const diversity = request.diversity ?? preset.diversity;
  const freshness = request.freshness ?? preset.freshness;
  const maxPerCategory = request.max_per_category ?? preset.max_per_category;
  const sessionWeight = request.session_weight ?? preset.session_weight;
  const sessionItems = request.session_items ?? preset.session_items;
  return {
    filter: list(preset.filter, request.filter),
    category: list(preset.category, request.category),
    boost: list(preset.boost, request.boost),
    bury: list(preset.bury, request.bury),
    pin: [...presetPins, ...requestPins],
    exclude: list(preset.exclude, request.exclude),
    ...(preset.segment !== undefined || request.segment !== undefined
      ? { segment: list(preset.segment, request.segment) }
      : {}),
    ...(reshow !== undefined ? { reshow } : {}),
    ...(diversity !== undefined ? { diversity } : {}),
    ...(freshness !== undefined ? { freshness } : {}),
    ...(maxPerCategory !== undefined ? { max_per_category: maxPerCategory } : {}),
    ...(sessionWeight !== undefined ? { session_weight: sessionWeight } : {}),
    ...(sessionItems !== undefined ? { session_items: sessionItems } : {}),
  };
}

function wrapFilterError<T>(parameter: string, compile: () => T): T {
  try {
    return compile();
  } catch (error) {
    if (error instanceof ItemFilterError) throw new RulesError(parameter, error.message);
    throw error;
  }
}

function adjustment(kind: 'boost' | 'bury', text: string): ScoreAdjustment {
  const colon = text.lastIndexOf(':');
  const suffix = colon >= 0 ? text.slice(colon + 1).trim() : '';
  const hasFactor = FACTOR.test(suffix);
  const expression = hasFactor ? text.slice(0, colon) : text;
  if (expression.trim() === '') throw new RulesError(kind, `${JSON.stringify(text)} has no expression`);
  const filter = wrapFilterError(kind, () => parseItemFilter([expression]));
  if (!hasFactor) return { kind, filter, scale: kind === 'boost' ? DEFAULT_BOOST : DEFAULT_BURY, add: 0 };
  const value = Number(suffix);
  if (!Number.isFinite(value))
    throw new RulesError(kind, `${JSON.stringify(text)}: the factor is not finite`);
  const signed = suffix.startsWith('+') || suffix.startsWith('-');
  if (signed) {
    // A boost only lifts and a bury only lowers, so the names never lie about what a rule does.
    if (kind === 'boost' ? value < 0 : value > 0) {
      throw new RulesError(
        kind,
        `${JSON.stringify(text)}: a ${kind} shifts by ${kind === 'boost' ? '+' : '-'}x`,
      );
    }
    return { kind, filter, scale: 1, add: value };
  }
  if (kind === 'boost' ? value < 1 : value > 1) {
    const range = kind === 'boost' ? 'at least 1' : 'between 0 and 1';
    throw new RulesError(kind, `${JSON.stringify(text)}: a ${kind} factor is ${range}`);
  }
  return { kind, filter, scale: value, add: 0 };
}

function splitPin(text: string): Pin | null {
  const colon = text.lastIndexOf(':');
  if (colon <= 0) return null;
  const itemId = text.slice(0, colon).trim();
  const slotText = text.slice(colon + 1).trim();
  if (itemId === '' || !INTEGER.test(slotText)) return null;
  return { itemId, slot: Number(slotText) };
}

function pins(texts: readonly string[]): Pin[] {
  const out: Pin[] = [];
  const slots = new Set<number>();
  const items = new Set<string>();
  for (const text of texts) {
    const pin = splitPin(text);
    if (!pin) throw new RulesError('pin', `${JSON.stringify(text)}: expected <item_id>:<slot>, slot from 0`);
    if (pin.slot > MAX_PIN_SLOT)
      throw new RulesError('pin', `${JSON.stringify(text)}: slot above ${MAX_PIN_SLOT}`);
    if (slots.has(pin.slot)) throw new RulesError('pin', `two pins on slot ${pin.slot}`);
    if (items.has(pin.itemId)) throw new RulesError('pin', `${JSON.stringify(pin.itemId)} is pinned twice`);
    slots.add(pin.slot);
    items.add(pin.itemId);
    out.push(pin);
  }
  return out.sort((a, b) => a.slot - b.slot);
}

function reshowPolicy(text: string): ReshowPolicy {
  let seen: Reshow | null = null;
  let purchased: Reshow | null = null;
  const bad = (why: string): never => {
    throw new RulesError('reshow', `${JSON.stringify(text)}: ${why}`);
  };
  const clauses = text
    .split(',')
    .map((clause) => clause.trim())
    .filter((clause) => clause !== '');
  if (clauses.length === 0) bad('no clause');
  for (const clause of clauses) {
    const [head = '', arg, ...rest] = clause.split(':');
    if (rest.length > 0) bad(`clause ${JSON.stringify(clause)} has more than one ":"`);
    const days = (): Reshow => {
      if (arg === undefined || !FACTOR.test(arg) || Number(arg) < 0) bad(`${head} takes a number of days`);
      return { kind: 'after', ms: Number(arg) * DAY_MS };
    };
    const none = (): void => {
      if (arg !== undefined) bad(`${head} takes no argument`);
    };
    switch (head) {
      case 'never':
        none();
        seen = { kind: 'never' };
        purchased = { kind: 'never' };
        break;
      case 'always':
        none();
        seen = { kind: 'always' };
        purchased = { kind: 'always' };
        break;
      case 'seen_never':
        none();
        seen = { kind: 'never' };
        break;
      case 'seen_always':
        none();
        seen = { kind: 'always' };
        break;
      case 'seen_after_days':
        seen = days();
        break;
      case 'purchased_never':
        none();
        purchased = { kind: 'never' };
        break;
      case 'purchased_always':
        none();
        purchased = { kind: 'always' };
        break;
      case 'purchased_after_days':
        purchased = days();
        break;
      default:
        bad(
          `unknown clause ${JSON.stringify(head)}; use never, always, seen_never, seen_always, ` +
            'seen_after_days:N, purchased_never, purchased_always, purchased_after_days:N',
        );
    }
  }
  // A clause left unsaid keeps the cautious default: do not show again what the user already had.
  return { seen: seen ?? { kind: 'never' }, purchased: purchased ?? { kind: 'never' } };
}

/** An integer in [min, max], or undefined when absent; throws RulesError naming the parameter. */
function integer(parameter: string, value: number | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RulesError(parameter, `${String(value)} is not an integer from ${min} to ${max}`);
  }
  return value;
}

function unit(parameter: string, value: number | undefined): number {
  if (value === undefined) return 0;
  if (!Number.isFinite(value) || value < 0 || value > 1) {
    throw new RulesError(parameter, `${String(value)} is not between 0 and 1`);
  }
  return value;
}

/** Whether `policy` lets an item the user last touched at `lastAt` (bought or not) come back at `now`. */
export function reshowAllows(reshow: Reshow, lastAt: number, now: number): boolean {
  switch (reshow.kind) {
    case 'never':
      return false;
    case 'always':
      return true;
    case 'after':
      return now - lastAt >= reshow.ms;
  }
}
