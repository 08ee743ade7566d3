import type { ColumnMeaning } from './drivers.js';

/**
 * Churn domain knowledge as monotone constraints on the trees (`GbdtParams.monotone`), for the columns
 * where it is sound whatever the data: the feature must measure the very activity whose absence is churn
 * (its events among the cut's qualifying events; any event when the cut counts every event), so that
 * - more days since that activity (`recency`) never lowers the risk: +1;
 * - more of that activity (`frequency`, `count`) never raises it: −1.
 * - longer than usual since that activity (the derived `recency_over_gap`) never lowers it: +1 — being more
 *   overdue against one's own rhythm is the same signal as recency, scaled per user.
 * Everything else is left free: spend, order value, tenure, shares and other events' counts can go either
 * way (a long-tenured customer may be loyal or fading; a support-ticket count may raise risk), and so do
 * the other derived ratios: a high share of tenure spent silent is either a lapsed customer or a new one
 * who bought once on day one, and a purchase rate per 30 days of tenure is high both for steady buyers and
 * for one-day customers whose tenure is short.
 *
 * Why constrain at all: a tree is flat beyond the values it was trained on and follows noise between
 * them, while a later cutoff shows users inactive for longer than any training row (one cohort ages
 * together). The constraints keep the learned curve in the direction the business already knows, so the
 * trees rank such users at least as risky as the most inactive ones they saw, and do not invert on noise.
 */
export function churnMonotone(
  columns: readonly ColumnMeaning[],
  activity: readonly string[] | null,
): Int8Array {
  const counts = (events: readonly string[] | null): boolean => {
    if (activity === null) return true;
    return events !== null && events.length > 0 && events.every((name) => activity.includes(name));
  };
  return Int8Array.from(columns, (meaning) => {
    if (!counts(meaning.events)) return 0;
    if (meaning.kind === 'derived') return meaning.derived === 'recency_over_gap' ? 1 : 0;
    if (meaning.kind === 'recency') return 1;
    if (meaning.kind === 'frequency' || meaning.kind === 'count') return -1;
    return 0;
  });
}
