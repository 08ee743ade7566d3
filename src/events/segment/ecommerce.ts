import { createHash } from 'node:crypto';

import type { Scalar, ScalarRecord } from '../../shared/types.js';
import { normalizeEventName } from '../feedback.js';
import { FieldError, isPlainObject, MAX_ID_LENGTH, readId } from '../fields.js';
import { flattenRecord, numberOf } from './flatten.js';

/**
 * Segment's e-commerce spec (v2) in Attune's terms. Spec names are stored under the names the rest of the
 * engine reads: the feedback table gives them their weights (view 1, click 2, wishlist 3, cart 4,
 * purchase 8), the default feature definitions count `product_viewed`, `added_to_cart` and `purchased`, and
 * the experiment metrics count `purchased` as a purchase. Keys are normalised names, so `Product Added`,
 * `product_added` and `productAdded` are one.
 */
const SPEC_NAMES: Readonly<Record<string, string>> = Object.freeze({
  product_viewed: 'product_viewed',
  product_clicked: 'product_clicked',
  product_added: 'added_to_cart',
  product_removed: 'removed_from_cart',
  product_added_to_wishlist: 'added_to_wishlist',
  product_shared: 'product_shared',
  product_reviewed: 'product_reviewed',
  cart_viewed: 'cart_viewed',
  checkout_started: 'checkout_started',
  order_completed: 'purchased',
});

/** Events whose `products[]` each become one event on that product. */
const PER_PRODUCT = new Set(['order_completed', 'checkout_started', 'cart_viewed']);

/** The name Attune stores a Segment `track` event under: the spec's own mapping, else the name as sent. */
export function attuneEventName(segmentName: string): string {
  return SPEC_NAMES[normalizeEventName(segmentName)] ?? segmentName;
}

/** Which properties name the item, in order: Attune's own, then Segment's product fields. */
export const TRACK_ITEM_FIELDS = ['item_id', 'product_id', 'sku', 'id'] as const;
/** Pages and screens name a product only explicitly (`id` on a page is rarely a product). */
export const PAGE_ITEM_FIELDS = ['item_id', 'product_id'] as const;
const PRODUCT_ITEM_FIELDS = ['product_id', 'sku', 'id'] as const;

/** The item a record names by the first of `fields` it has (null: none), checked as an id. */
export function itemOf(
  record: Readonly<Record<string, unknown>>,
  fields: readonly string[],
  path: string,
): string | null | FieldError {
  for (const name of fields) {
    const value = record[name];
    if (value != null) return readId(value, `${path}.${name}`);
  }
  return null;
}

/** One Attune event a Segment message becomes (before identity, time and context are added). */
export interface EventPart {
  readonly name: string;
  readonly itemId: string | null;
  readonly properties: ScalarRecord;
  /** Appended to the message's id so that the parts of one message have distinct, stable ids. */
  readonly part: number | null;
}

/** The money of an order as a whole, as the experiment metrics read one event: revenue, else value, else total. */
const ORDER_AMOUNT_FIELDS = ['revenue', 'value', 'total'] as const;

/**
 * A `track` message's events. One event, on the item the properties name (if any); or, for
 * `Order Completed` / `Checkout Started` / `Cart Viewed` with `products[]`, one event per product that
 * names an item, each carrying the product's fields (price, quantity, …) over the order's.
 *
 * Revenue is counted once per order, never once per product: the order's amount (`revenue`, else `value`,
 * else `total`, what a metric would read off one order event) is split over its products in proportion to
 * price × quantity (equally when no product has a price), in exact units of 1/10,000 so the parts add up
 * to the amount, and each product event carries its part as `revenue` and `value` (the property the default
 * spend features sum). The order's own figures stay as `order_revenue`, `order_value`, `order_total`. Without
 * an order amount, a product event's revenue is its price × quantity (`value`), as a metric would read it.
 */
export function trackParts(event: string, properties: unknown): EventPart[] | FieldError {
  if (properties != null && !isPlainObject(properties)) {
    return new FieldError('properties', 'properties must be an object');
  }
  const props = properties ?? {};
  const name = attuneEventName(event);
  const products = props['products'];
  if (PER_PRODUCT.has(normalizeEventName(event)) && Array.isArray(products)) {
    const parts = productParts(name, props, products);
    if (parts instanceof FieldError || parts.length > 0) return parts;
  }
  const itemId = itemOf(props, TRACK_ITEM_FIELDS, 'properties');
  if (itemId instanceof FieldError) return itemId;
  const flat = flattenRecord(props, 'properties');
  if (flat instanceof FieldError) return flat;
  return [{ name, itemId, properties: flat, part: null }];
}

function productParts(
  name: string,
  order: Readonly<Record<string, unknown>>,
  products: readonly unknown[],
): EventPart[] | FieldError {
  const orderFields: Record<string, unknown> = { ...order };
  delete orderFields['products'];
  const flatOrder = flattenRecord(orderFields, 'properties');
  if (flatOrder instanceof FieldError) return flatOrder;
  const shared: Record<string, Scalar> = { ...flatOrder };
  for (const field of ORDER_AMOUNT_FIELDS) {
    if (Object.hasOwn(shared, field)) {
      shared[`order_${field}`] = shared[field]!;
      delete shared[field];
    }
  }
  const lines: { index: number; itemId: string; fields: ScalarRecord; weight: number }[] = [];
  for (let i = 0; i < products.length; i++) {
    const path = `properties.products[${i}]`;
    const product = products[i];
    if (!isPlainObject(product)) return new FieldError(path, `${path} must be an object`);
    const itemId = itemOf(product, PRODUCT_ITEM_FIELDS, path);
    if (itemId instanceof FieldError) return itemId;
    // A product naming no item cannot be an interaction; its share of the order goes to the others.
    if (itemId === null) continue;
    const fields = flattenRecord(product, path);
    if (fields instanceof FieldError) return fields;
    lines.push({ index: i, itemId, fields, weight: lineAmount(product) });
  }
  if (lines.length === 0) return [];
  const amount = orderAmount(order);
  const shares = Number.isNaN(amount)
    ? null
    : allocate(
        amount,
        lines.map((l) => l.weight),
      );
  return lines.map((line, k) => {
    const properties: Record<string, Scalar> = { ...shared, ...line.fields };
    if (shares !== null) {
      properties['revenue'] = shares[k]!;
      properties['value'] = shares[k]!;
    } else {
      delete properties['revenue'];
      if (line.weight > 0 && !Object.hasOwn(line.fields, 'value')) properties['value'] = line.weight;
    }
    return { name, itemId: line.itemId, properties, part: line.index };
  });
}

function orderAmount(order: Readonly<Record<string, unknown>>): number {
  for (const field of ORDER_AMOUNT_FIELDS) {
    const amount = numberOf(order[field]);
    if (!Number.isNaN(amount)) return amount;
  }
  return Number.NaN;
}

/** price × quantity (quantity 1 when absent), 0 without a price. */
function lineAmount(product: Readonly<Record<string, unknown>>): number {
  const price = numberOf(product['price']);
  if (Number.isNaN(price)) return 0;
  const quantity = numberOf(product['quantity']);
  return Number.isNaN(quantity) ? price : price * quantity;
}

const UNITS = 10_000;

/**
 * `amount` split in proportion to `weights` (equally when they sum to 0 or less), in whole units of
 * 1/10,000; the last part takes what rounding left, so the parts add up to the rounded amount exactly.
 */
export function allocate(amount: number, weights: readonly number[]): number[] {
  const total = Math.round(amount * UNITS);
  const positive = weights.map((w) => (w > 0 && Number.isFinite(w) ? w : 0));
  const sum = positive.reduce((a, b) => a + b, 0);
  const parts: number[] = [];
  let given = 0;
  for (let i = 0; i < weights.length; i++) {
    const units =
      i === weights.length - 1
        ? total - given
        : Math.round(sum > 0 ? (total * positive[i]!) / sum : total / weights.length);
    given += units;
    parts.push(units / UNITS);
  }
  return parts;
}

/**
 * The event id of one part of a message: `<messageId>#<part>`, stable across the sender's retries so that
 * each part is stored once. An id that would grow past the id limit is replaced by its SHA-256.
 */
export function partEventId(messageId: string, part: number | null): string {
  if (part === null) return messageId;
  const id = `${messageId}#${part}`;
  if (id.length <= MAX_ID_LENGTH) return id;
  return `${createHash('sha256').update(messageId).digest('hex')}#${part}`;
}
