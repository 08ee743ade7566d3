import { defaultFeedbackConfig } from '../../events/feedback.js';
import type {
  ConversionMetric,
  MetricDefinition,
  RatioMetric,
  RetentionMetric,
  SumMetric,
} from './definitions.js';

// `events/feedback.ts` keeps its name groups private (one table of name → feedback kind), so the click and
// purchase names are repeated here: the same groups as that table's "Clicks" and "Purchases", plus the
// spellings this module is asked to name. Matching normalises names, so `Product Clicked` and
// `product_clicked` are one entry; both are listed to say that both are meant.

/** Event names that are clicks, with or without a `request_id`. */
export const CLICK_EVENT_NAMES: readonly string[] = Object.freeze([
  'product_clicked',
  'Product Clicked',
  'item_clicked',
  'clicked',
  'click',
]);

/** Event names that are purchases. */
export const PURCHASE_EVENT_NAMES: readonly string[] = Object.freeze([
  'purchase',
  'purchased',
  'product_purchased',
  'order_completed',
  'Order Completed',
  'checkout_completed',
]);

/**
 * Event names that report a list being shown rather than acted on (impressions): never a click, even when
 * they carry the list's `request_id`. Read from the engine's feedback table (its `exposure` names), so the
 * two never disagree.
 */
export const IMPRESSION_EVENT_NAMES: readonly string[] = Object.freeze(
  Object.entries(defaultFeedbackConfig.events)
    .filter(([, kind]) => kind.kind === 'exposure')
    .map(([name]) => name),
);

/**
 * Clicks per served list. A click on a list served to the user is:
 * 1. any event (whatever its name, impressions excepted) whose `request_id` is that of a list served to the
 *    same user — the list the engine logged for the request; or, when the event has no `request_id` or one
 *    that names no list of this user (an impression dropped under overload, a link shared with someone),
 * 2. an event named in CLICK_EVENT_NAMES on an item of a list served to the same user at or before the event.
 * Either way the list must have been served in the same window as the click (both within 7 days after the
 * first exposure), so the numerator counts clicks on exactly the lists the denominator counts. A click is
 * counted per event: two click events on one list (a click, then an add-to-cart carrying the request id)
 * are two clicks.
 */
export const CLICK_THROUGH: RatioMetric = Object.freeze({
  name: 'click_through',
  kind: 'ratio',
  description: 'Clicks on served lists per list served, within 7 days after first exposure.',
  higherIsBetter: true,
  numerator: Object.freeze({ kind: 'count', source: 'clicks', windowHours: 7 * 24 }),
  denominator: Object.freeze({ kind: 'count', source: 'served_lists', windowHours: 7 * 24 }),
});

export const PURCHASE_CONVERSION: ConversionMetric = Object.freeze({
  name: 'purchase_conversion',
  kind: 'conversion',
  description: 'Purchased at least once within 7 days after first exposure.',
  higherIsBetter: true,
  event: PURCHASE_EVENT_NAMES,
  windowHours: 7 * 24,
});

/**
 * Revenue of purchase events only: cart and view events carry prices too (Segment's "Product Added"), which
 * would otherwise count as revenue. A sender that reports an order both as one "Order Completed" and as
 * per-product "purchased" events is counted twice; such senders should define their own metric.
 */
export const REVENUE_PER_USER: SumMetric = Object.freeze({
  name: 'revenue_per_user',
  kind: 'sum',
  description: 'Revenue from purchases within 14 days after first exposure.',
  higherIsBetter: true,
  event: PURCHASE_EVENT_NAMES,
  value: 'revenue',
  windowHours: 14 * 24,
});

/** Any event on day 7 (168 to 192 hours after first exposure). */
export const DAY7_RETENTION: RetentionMetric = Object.freeze({
  name: 'day7_retention',
  kind: 'retention',
  description: 'Active on day 7 after first exposure; users whose day 7 has not ended are not counted.',
  higherIsBetter: true,
  day: 7,
});

/** The metrics every installation has, by name. */
export const BUILT_IN_METRICS: Readonly<Record<string, MetricDefinition>> = Object.freeze({
  click_through: CLICK_THROUGH,
  purchase_conversion: PURCHASE_CONVERSION,
  revenue_per_user: REVENUE_PER_USER,
  day7_retention: DAY7_RETENTION,
});
