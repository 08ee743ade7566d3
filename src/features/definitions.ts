import { readFileSync } from 'node:fs';

/**
 * Feature definitions: what a config file (`ATTUNE_FEATURES=features.json`) says, validated into a
 * normalised form. Each definition is one aggregate over events for one entity: a user, an item, or a
 * user-item pair (the user's events as they bear on one item). The meaning of every kind is in
 * `aggregators.ts`; this file only checks the shape and names the field that is wrong.
 */

export const ENTITIES = ['user', 'item', 'user_item'] as const;
export type Entity = (typeof ENTITIES)[number];

export const FEATURE_KINDS = [
  'count',
  'sum',
  'recency',
  'frequency',
  'monetary',
  'tenure',
  'category_affinity',
  'distinct_sessions',
  'share',
  'hour_of_week',
  'usual_price',
  'price_ratio',
  'popularity',
  'conversion_rate',
  'trend',
] as const;
export type FeatureKind = (typeof FEATURE_KINDS)[number];

/** Which kinds each entity may use. */
const KINDS_BY_ENTITY: Readonly<Record<Entity, readonly FeatureKind[]>> = {
  user: [
    'count',
    'sum',
    'recency',
    'frequency',
    'monetary',
    'tenure',
    'category_affinity',
    'distinct_sessions',
    'share',
    'hour_of_week',
    'usual_price',
    'conversion_rate',
    'trend',
  ],
  item: [
    'count',
    'sum',
    'recency',
    'monetary',
    'distinct_sessions',
    'share',
    'hour_of_week',
    'usual_price',
    'popularity',
    'conversion_rate',
    'trend',
  ],
  user_item: ['count', 'recency', 'category_affinity', 'price_ratio'],
};

/**
 * Kinds whose value needs every event of a window one by one (distinct values, gaps, two sub-windows):
 * they keep no lifetime summary, so they need a finite window.
 */
const WINDOWED_ONLY: ReadonlySet<FeatureKind> = new Set(['distinct_sessions', 'popularity', 'trend']);

/**
 * Item features and the pair features that pick the pair's item out of the user's events read only the
 * recent window (an item's whole history can be the size of the log), so they need a finite window too.
 */
const PAIR_ITEM_KINDS: ReadonlySet<FeatureKind> = new Set(['count', 'recency']);

/** A validated definition: every option filled in. */
export interface FeatureDefinition {
  readonly entity: Entity;
  /** Column name (multi-column kinds add `_suffix`es). */
  readonly name: string;
  readonly kind: FeatureKind;
  /** Window in ms; `null` is the whole history before the time asked about (lifetime). */
  readonly windowMs: number | null;
  /** The window as written (`7d`, `lifetime`): for the definitions endpoint and column names. */
  readonly window: string;
  /** Event names counted (as sent); `null` counts every event. */
  readonly events: readonly string[] | null;
  /** `sum`, `monetary`: the numeric property summed. */
  readonly property: string | null;
  /** `share`: where the value is, `context.<key>` or `properties.<key>`. */
  readonly field: string | null;
  /** `share`, `category_affinity`: values to give a share column each; `null` gives top/distinct. */
  readonly values: readonly string[] | null;
  /** `conversion_rate`: the events converted from and to. */
  readonly from: string | null;
  readonly to: string | null;
}

/** The definitions of the three entities, in the order their columns appear. */
export interface FeatureDefinitions {
  readonly user: readonly FeatureDefinition[];
  readonly item: readonly FeatureDefinition[];
  readonly user_item: readonly FeatureDefinition[];
}

export interface FeatureConfigIssue {
  /** Where in the file, e.g. `user[2].window`. */
  readonly field: string;
  readonly message: string;
}

export class FeatureConfigError extends Error {
  constructor(
    readonly issues: readonly FeatureConfigIssue[],
    source = 'feature definitions',
  ) {
    super(`${source}: ${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`);
    this.name = 'FeatureConfigError';
  }
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const UNIT_MS: Readonly<Record<string, number>> = { m: 60_000, h: HOUR_MS, d: DAY_MS };
/** The longest window a definition may ask for: a year of an item's events is read on a cache miss. */
const MAX_WINDOW_MS = 365 * DAY_MS;
const NAME = /^[a-z][a-z0-9_]{0,62}$/;
const FIELD = /^(context|properties)\.[A-Za-z0-9_.-]+$/;

/** `90m`, `12h`, `7d` → ms; `lifetime` → null; anything else → undefined. */
export function parseWindow(text: string): number | null | undefined {
  if (text === 'lifetime') return null;
  const match = /^([1-9][0-9]{0,4})([mhd])$/.exec(text);
  if (!match) return undefined;
  const ms = Number(match[1]) * (UNIT_MS[match[2] ?? ''] ?? Number.NaN);
  return ms > 0 && ms <= MAX_WINDOW_MS ? ms : undefined;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Kinds' defaults: the event and property RFM reads, the window a kind means without one. */
function defaultWindow(kind: FeatureKind): string | undefined {
  switch (kind) {
    case 'recency':
    case 'frequency':
    case 'monetary':
    case 'tenure':
    case 'hour_of_week':
    case 'usual_price':
    case 'category_affinity':
    case 'price_ratio':
      return 'lifetime';
    default:
      return undefined;
  }
}

const KNOWN_KEYS = new Set([
  'name',
  'kind',
  'window',
  'windows',
  'event',
  'property',
  'field',
  'values',
  'from',
  'to',
]);

/**
 * Validates a definitions document: `{ "user": [...], "item": [...], "user_item": [...] }`, each entry
 * `{ "name", "kind", "window" | "windows", … }` (see docs/guide.md, "Features"). A `windows` list expands to one
 * definition per window, named `<name>_<window>`. Throws `FeatureConfigError` listing every problem, each
 * with the field it is in.
 */
export function parseFeatureDefinitions(document: unknown, source?: string): FeatureDefinitions {
  const issues: FeatureConfigIssue[] = [];
  const out: Record<Entity, FeatureDefinition[]> = { user: [], item: [], user_item: [] };
  if (!isObject(document)) {
    throw new FeatureConfigError([{ field: '(document)', message: 'must be a JSON object' }], source);
  }
  for (const key of Object.keys(document)) {
    if (!(ENTITIES as readonly string[]).includes(key)) {
      issues.push({ field: key, message: `unknown entity; expected one of ${ENTITIES.join(', ')}` });
    }
  }
  const names = new Set<string>();
  for (const entity of ENTITIES) {
    const list = document[entity];
    if (list === undefined) continue;
    if (!Array.isArray(list)) {
      issues.push({ field: entity, message: 'must be an array of definitions' });
      continue;
    }
    list.forEach((entry, index) => {
      const at = `${entity}[${index}]`;
      for (const definition of parseEntry(entity, entry, at, issues)) {
        const column = `${entity}.${definition.name}`;
        if (names.has(column)) {
          issues.push({
            field: `${at}.name`,
            message: `"${definition.name}" is defined twice for ${entity}`,
          });
        }
        names.add(column);
        out[entity].push(definition);
      }
    });
  }
  if (issues.length > 0) throw new FeatureConfigError(issues, source);
  return out;
}

function parseEntry(
  entity: Entity,
  entry: Json,
  at: string,
  issues: FeatureConfigIssue[],
): FeatureDefinition[] {
  if (!isObject(entry)) {
    issues.push({ field: at, message: 'must be an object' });
    return [];
  }
  const before = issues.length;
  const problem = (key: string, message: string) => issues.push({ field: `${at}.${key}`, message });
  for (const key of Object.keys(entry)) if (!KNOWN_KEYS.has(key)) problem(key, 'unknown field');

  const name = entry['name'];
  if (typeof name !== 'string' || !NAME.test(name)) {
    problem('name', 'must be a lower-case name: a letter, then letters, digits or _ (at most 63)');
  }
  const kind = entry['kind'];
  const kindOk = typeof kind === 'string' && (KINDS_BY_ENTITY[entity] as readonly string[]).includes(kind);
  if (!kindOk) problem('kind', `must be one of ${KINDS_BY_ENTITY[entity].join(', ')} for ${entity} features`);
  const featureKind = kindOk ? (kind as FeatureKind) : 'count';

  const windows = windowsOf(entry, featureKind, problem);
  const events = eventsOf(entry['event'], problem);
  const property = optionalString(entry, 'property', problem);
  const field = optionalString(entry, 'field', problem);
  const values = valuesOf(entry['values'], problem);
  const from = optionalString(entry, 'from', problem);
  const to = optionalString(entry, 'to', problem);

  if ((featureKind === 'sum' || featureKind === 'monetary') && kindOk) {
    if (featureKind === 'sum' && property === null)
      problem('property', 'is required for sum: a numeric property');
  } else if (property !== null) problem('property', `is only for sum and monetary, not ${featureKind}`);
  if (featureKind === 'share') {
    if (field === null) problem('field', 'is required for share, e.g. "context.device"');
    else if (!FIELD.test(field)) problem('field', 'must be context.<key> or properties.<key>');
  } else if (field !== null) problem('field', `is only for share, not ${featureKind}`);
  if (values !== null && featureKind !== 'share' && featureKind !== 'category_affinity') {
    problem('values', `is only for share and category_affinity, not ${featureKind}`);
  }
  if (values !== null && entity === 'user_item') {
    problem('values', "is not for user_item features: they give the share of the pair's item's category");
  }
  if (featureKind !== 'conversion_rate' && (from !== null || to !== null)) {
    problem(from !== null ? 'from' : 'to', `is only for conversion_rate, not ${featureKind}`);
  }
  if (featureKind === 'conversion_rate' && events !== null) {
    problem('event', 'conversion_rate counts `from` and `to` events instead');
  }
  for (const { window } of windows) {
    if (window.ms !== null) continue;
    const where = entry['windows'] !== undefined ? 'windows' : 'window';
    if (WINDOWED_ONLY.has(featureKind)) problem(where, `${featureKind} needs a finite window, not lifetime`);
    else if (entity === 'item') {
      problem(where, "item features read the item's recent events: give a finite window, not lifetime");
    } else if (entity === 'user_item' && PAIR_ITEM_KINDS.has(featureKind)) {
      problem(where, "user_item counts and recency read the user's recent events: give a finite window");
    }
  }
  if (issues.length > before || typeof name !== 'string') return [];

  const expand = entry['windows'] !== undefined;
  return windows.map(({ text, window }) => ({
    entity,
    name: expand ? `${name}_${text}` : name,
    kind: featureKind,
    windowMs: window.ms,
    window: text,
    events,
    property: featureKind === 'monetary' ? (property ?? 'value') : property,
    field,
    values,
    from: featureKind === 'conversion_rate' ? (from ?? 'product_viewed') : null,
    to: featureKind === 'conversion_rate' ? (to ?? 'purchased') : null,
  }));
}

function windowsOf(
  entry: JsonObject,
  kind: FeatureKind,
  problem: (key: string, message: string) => void,
): { readonly text: string; readonly window: { readonly ms: number | null } }[] {
  const windowText = 'one of 1h, 1d, 7d, 30d, lifetime, or a duration like 90m, 12h, 14d (at most 365d)';
  const single = entry['window'];
  const list = entry['windows'];
  if (single !== undefined && list !== undefined) {
    problem('windows', 'give either window or windows, not both');
    return [];
  }
  let texts: Json[];
  let key: string;
  if (list !== undefined) {
    key = 'windows';
    if (!Array.isArray(list) || list.length === 0) {
      problem('windows', 'must be a non-empty array of windows');
      return [];
    }
    texts = list;
  } else {
    key = 'window';
    const fallback = defaultWindow(kind);
    if (single === undefined && fallback === undefined) {
      problem('window', `is required for ${kind}: ${windowText}`);
      return [];
    }
    texts = [single ?? fallback ?? ''];
  }
  const out: { text: string; window: { ms: number | null } }[] = [];
  texts.forEach((text, index) => {
    const where = key === 'windows' ? `windows[${index}]` : 'window';
    const ms = typeof text === 'string' ? parseWindow(text) : undefined;
    if (ms === undefined || typeof text !== 'string')
      problem(where, `must be ${windowText}; got ${JSON.stringify(text)}`);
    else out.push({ text, window: { ms } });
  });
  return out;
}

function eventsOf(value: Json | undefined, problem: (key: string, message: string) => void): string[] | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string' && value !== '') return [value];
  if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string' && v !== '')) {
    return value as string[];
  }
  problem('event', 'must be an event name or a non-empty array of names (omit it to count every event)');
  return null;
}

function valuesOf(value: Json | undefined, problem: (key: string, message: string) => void): string[] | null {
  if (value === undefined) return null;
  if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string' && v !== '')) {
    return value as string[];
  }
  problem('values', 'must be a non-empty array of strings');
  return null;
}

function optionalString(
  entry: JsonObject,
  key: string,
  problem: (key: string, message: string) => void,
): string | null {
  const value = entry[key];
  if (value === undefined) return null;
  if (typeof value === 'string' && value !== '') return value;
  problem(key, 'must be a non-empty string');
  return null;
}

/** Reads and validates a definitions file; errors name the file and the field. */
export function loadFeatureDefinitions(path: string): FeatureDefinitions {
  let document: unknown;
  try {
    document = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new FeatureConfigError(
      [{ field: '(file)', message: error instanceof Error ? error.message : String(error) }],
      path,
    );
  }
  return parseFeatureDefinitions(document, path);
}

/**
 * The built-in definitions, used when no file is given. Event names are the demo shop's (and the common
 * e-commerce ones): `product_viewed`, `added_to_cart`, `purchased` with `properties.value`.
 */
export const DEFAULT_FEATURE_DOCUMENT = {
  user: [
    { name: 'events', kind: 'count', windows: ['1h', '1d', '7d', '30d'] },
    { name: 'views', kind: 'count', event: 'product_viewed', windows: ['1h', '1d', '7d', '30d'] },
    { name: 'carts', kind: 'count', event: 'added_to_cart', windows: ['1d', '7d', '30d'] },
    { name: 'purchases', kind: 'count', event: 'purchased', windows: ['1d', '7d', '30d'] },
    { name: 'spend', kind: 'sum', event: 'purchased', property: 'value', windows: ['7d', '30d'] },
    { name: 'recency_days', kind: 'recency' },
    { name: 'purchase_recency_days', kind: 'recency', event: 'purchased' },
    { name: 'frequency', kind: 'frequency', event: 'purchased' },
    { name: 'monetary', kind: 'monetary', event: 'purchased' },
    { name: 'tenure_days', kind: 'tenure' },
    { name: 'category', kind: 'category_affinity', window: '30d' },
    { name: 'sessions', kind: 'distinct_sessions', windows: ['7d', '30d'] },
    {
      name: 'device',
      kind: 'share',
      field: 'context.device',
      values: ['mobile', 'desktop', 'tablet'],
      window: '30d',
    },
    { name: 'location', kind: 'share', field: 'context.location', window: '30d' },
    { name: 'activity', kind: 'hour_of_week' },
    { name: 'usual_price', kind: 'usual_price' },
    { name: 'view_to_purchase', kind: 'conversion_rate', window: '30d' },
  ],
  item: [
    { name: 'views', kind: 'count', event: 'product_viewed', windows: ['1h', '1d', '7d', '30d'] },
    { name: 'carts', kind: 'count', event: 'added_to_cart', windows: ['7d', '30d'] },
    { name: 'purchases', kind: 'count', event: 'purchased', windows: ['1d', '7d', '30d'] },
    { name: 'revenue', kind: 'sum', event: 'purchased', property: 'value', window: '30d' },
    { name: 'popularity', kind: 'popularity', windows: ['7d', '30d'] },
    { name: 'conversion_rate', kind: 'conversion_rate', window: '30d' },
    { name: 'view_trend', kind: 'trend', event: 'product_viewed', window: '7d' },
    { name: 'recency_days', kind: 'recency', window: '30d' },
    {
      name: 'device',
      kind: 'share',
      field: 'context.device',
      values: ['mobile', 'desktop', 'tablet'],
      window: '30d',
    },
  ],
  user_item: [
    { name: 'views', kind: 'count', event: 'product_viewed', windows: ['7d', '30d'] },
    { name: 'carts', kind: 'count', event: 'added_to_cart', window: '30d' },
    { name: 'recency_days', kind: 'recency', window: '30d' },
    { name: 'category_affinity', kind: 'category_affinity' },
    { name: 'price_ratio', kind: 'price_ratio' },
  ],
} as const;

export const DEFAULT_FEATURE_DEFINITIONS: FeatureDefinitions = parseFeatureDefinitions(
  DEFAULT_FEATURE_DOCUMENT,
  'built-in feature definitions',
);

/** A definition as `GET /v1/features/definitions` and the docs show it. */
export function definitionToJson(definition: FeatureDefinition): Record<string, string | readonly string[]> {
  const json: Record<string, string | readonly string[]> = {
    name: definition.name,
    kind: definition.kind,
    window: definition.window,
  };
  if (definition.events !== null) json['event'] = definition.events;
  if (definition.property !== null) json['property'] = definition.property;
  if (definition.field !== null) json['field'] = definition.field;
  if (definition.values !== null) json['values'] = definition.values;
  if (definition.from !== null) json['from'] = definition.from;
  if (definition.to !== null) json['to'] = definition.to;
  return json;
}
