import type { Item, User } from '../catalog/types.js';
import { csrFromCoo } from '../models/csr.js';
import type { CsrMatrix } from '../models/types.js';
import type { Scalar, ScalarRecord } from '../shared/types.js';

/**
 * Side features for the hybrid model: one row per matrix item (or user), one column per feature name,
 * value = the feature's weight. Columns are the feature names sorted, so the same catalog always yields the
 * same index whatever order items arrive in.
 */
export interface SideFeatures {
  readonly matrix: CsrMatrix;
  readonly names: readonly string[];
}

export interface FeatureOptions {
  /**
   * Features carried by fewer rows are dropped (default 1: keep all). A feature seen on one row only adds
   * nothing the identity feature does not, and one seen only on cold rows is never trained.
   */
  readonly minCount?: number;
  /**
   * Weigh each feature group of a row (the part of a name before `=`: `category`, `tag`, `attr.year`, …)
   * equally: a token's weight is 1 / (its group's tokens in the row). Default false: every token weighs 1,
   * so a row with many tags of one kind is mostly those tags once the model normalises it.
   */
  readonly balanceGroups?: boolean;
}

/** The group of a feature name: what comes before its first `=` (the whole name without one). */
export function featureGroup(name: string): string {
  const at = name.indexOf('=');
  return at < 0 ? name : name.slice(0, at);
}

/**
 * The price band of a price: log-scale buckets of one doubling, `price=[16,32)`, so 19.99 and 24.50 share
 * a band and 20 and 2,000 do not. Free and sub-unit prices get their own bands.
 */
export function priceBand(price: number): string | null {
  if (!Number.isFinite(price) || price < 0) return null;
  if (price === 0) return 'price=0';
  if (price < 1) return 'price=(0,1)';
  const low = 2 ** Math.floor(Math.log2(price));
  return `price=[${low},${low * 2})`;
}

function scalarToken(key: string, value: Scalar): string | null {
  if (value === null) return null;
  if (typeof value === 'string' && value.trim() === '') return null;
  return `${key}=${String(value)}`;
}

function recordTokens(prefix: string, record: ScalarRecord): string[] {
  const out: string[] = [];
  for (const [key, value] of Object.entries(record)) {
    const token = scalarToken(`${prefix}${key}`, value);
    if (token !== null) out.push(token);
  }
  return out;
}

/**
 * An item's feature names: `category=…`, `tag=…`, its price band, and free attributes as `attr.key=value`
 * (prefixed so an attribute named `category` cannot collide with the categories). Numeric attributes are
 * kept verbatim, so continuous values should be sent already banded.
 */
export function itemFeatureTokens(item: Item): string[] {
  const tokens = [
    ...item.categories.map((c) => `category=${c}`),
    ...item.tags.map((t) => `tag=${t}`),
    ...recordTokens('attr.', item.attributes),
  ];
  const band = item.price === null ? null : priceBand(item.price);
  if (band !== null) tokens.push(band);
  return tokens;
}

/** A user's feature names: every trait as `key=value`. */
export function userFeatureTokens(user: User): string[] {
  return recordTokens('', user.traits);
}

/**
 * Builds the item-feature matrix for a matrix's item index: row r holds the features of `itemIds[r]`
 * (weight 1 each; the model normalises rows). Ids missing from `items` get an empty row.
 */
export function buildItemFeatures(
  itemIds: readonly string[],
  items: Iterable<Item>,
  options: FeatureOptions = {},
): SideFeatures {
  const byId = new Map<string, Item>();
  for (const item of items) byId.set(item.id, item);
  return buildFeatures(
    itemIds.map((id) => {
      const item = byId.get(id);
      return item === undefined ? [] : itemFeatureTokens(item);
    }),
    options,
  );
}

/** Builds the user-feature matrix for a matrix's user index from user traits. */
export function buildUserFeatures(
  userIds: readonly string[],
  users: Iterable<User>,
  options: FeatureOptions = {},
): SideFeatures {
  const byId = new Map<string, User>();
  for (const user of users) byId.set(user.id, user);
  return buildFeatures(
    userIds.map((id) => {
      const user = byId.get(id);
      return user === undefined ? [] : userFeatureTokens(user);
    }),
    options,
  );
}

/** Rows of feature names → CSR over the sorted names (a name repeated in one row counts once). */
export function buildFeatures(
  rows: readonly (readonly string[])[],
  options: FeatureOptions = {},
): SideFeatures {
  const minCount = options.minCount ?? 1;
  const counts = new Map<string, number>();
  const unique = rows.map((tokens) => [...new Set(tokens)]);
  for (const tokens of unique) for (const t of tokens) counts.set(t, (counts.get(t) ?? 0) + 1);
  const names = [...counts.keys()].filter((t) => counts.get(t)! >= minCount).sort();
  const column = new Map(names.map((name, c) => [name, c]));
  const rowIdx: number[] = [];
  const colIdx: number[] = [];
  const values: number[] = [];
  unique.forEach((tokens, r) => {
    const kept = tokens.filter((t) => column.has(t));
    const perGroup = new Map<string, number>();
    if (options.balanceGroups === true) {
      for (const t of kept) perGroup.set(featureGroup(t), (perGroup.get(featureGroup(t)) ?? 0) + 1);
    }
    for (const t of kept) {
      rowIdx.push(r);
      colIdx.push(column.get(t)!);
      values.push(options.balanceGroups === true ? 1 / perGroup.get(featureGroup(t))! : 1);
    }
  });
  const { matrix } = csrFromCoo({ rows: rows.length, cols: names.length, rowIdx, colIdx, values });
  return { matrix, names };
}
