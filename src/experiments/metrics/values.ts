import type { Scalar, ScalarRecord } from '../../shared/types.js';

/**
 * A property read as a number: a finite number, or a string holding one (`"19.90"`; senders often send
 * amounts as strings). Anything else — absent, null, boolean, `""`, `"n/a"` — is NaN, meaning "absent".
 */
export function numberOf(value: Scalar | undefined): number {
  if (typeof value === 'number') return Number.isFinite(value) ? value : NaN;
  if (typeof value !== 'string' || value.trim() === '') return NaN;
  const parsed = Number(value);
  return Number.isFinite(parsed) ? parsed : NaN;
}

/**
 * The revenue of an event as Segment's e-commerce events carry it: `revenue` (Order Completed), else
 * `value`, else `price × quantity` (a product event; quantity 1 when absent), else `total`; 0 when none is
 * there. Each is taken only when it reads as a number, so `revenue: null` falls through to `value`.
 */
export function revenueOf(properties: ScalarRecord): number {
  const revenue = numberOf(properties['revenue']);
  if (revenue === revenue) return revenue; // not NaN
  const value = numberOf(properties['value']);
  if (value === value) return value;
  const price = numberOf(properties['price']);
  if (price === price) {
    const quantity = numberOf(properties['quantity']);
    return quantity === quantity ? price * quantity : price;
  }
  const total = numberOf(properties['total']);
  return total === total ? total : 0;
}

/** A numeric property, 0 when absent or not a number. */
export function propertyValueOf(properties: ScalarRecord, property: string): number {
  const value = numberOf(properties[property]);
  return value === value ? value : 0;
}
