import { normalizeEventName } from '../../events/feedback.js';
import type { TrackedEvent } from '../../events/types.js';
import type { Impression } from '../../recommendations/impression.js';
import type { EpochMs } from '../../shared/types.js';
import { CLICK_EVENT_NAMES, IMPRESSION_EVENT_NAMES } from './builtins.js';
import { DAY_MS, eventNameList, HOUR_MS, type MetricDefinition, type RatioPart } from './definitions.js';
import type { ExposedUser } from './exposures.js';
import { propertyValueOf, revenueOf } from './values.js';

/**
 * A deliberately naive recomputation of the metrics, for tests: for each user and metric it filters the
 * user's whole history again, straight from the definitions' wording. Slow and obviously right is the point.
 */

export interface ReferenceInput {
  readonly exposures: readonly ExposedUser[];
  readonly events: readonly TrackedEvent[];
  readonly impressions?: readonly Impression[];
  readonly now: EpochMs;
}

/** Per exposed user: `[value, covariate]` or `[numerator, denominator, covNumerator, covDenominator]`;
 *  null for a retention user whose day N has not ended. */
export type ReferenceValues = Map<string, number[] | null>;

interface Window {
  readonly from: number;
  readonly to: number;
}
type Selection = RatioPart | (MetricDefinition & { readonly kind: 'conversion' | 'count' | 'sum' });

export function referenceMetric(input: ReferenceInput, metric: MetricDefinition): ReferenceValues {
  const { now } = input;
  const first = new Map<string, number>();
  for (const e of input.exposures) first.set(e.userId, Math.min(first.get(e.userId) ?? Infinity, e.firstAt));
  const eventsOf = new Map<string, TrackedEvent[]>();
  for (const e of input.events) {
    if (!(e.timestamp < now)) continue;
    const list = eventsOf.get(e.userId) ?? [];
    list.push(e);
    eventsOf.set(e.userId, list);
  }
  // The lists served before now to exposed users, by user.
  const listsOf = new Map<string, Impression[]>();
  for (const list of input.impressions ?? []) {
    const f = first.get(list.userId);
    if (f === undefined || !(f < now) || !(list.createdAt < now)) continue;
    const own = listsOf.get(list.userId) ?? [];
    own.push(list);
    listsOf.set(list.userId, own);
  }

  const out: ReferenceValues = new Map();
  for (const [user, f] of first) {
    if (!(f < now)) continue;
    const events = eventsOf.get(user) ?? [];
    const post = (hours: number): Window => ({ from: f, to: f + hours * HOUR_MS });
    const pre = (hours: number): Window => ({ from: f - hours * HOUR_MS, to: f });
    const lists = listsOf.get(user) ?? [];
    const select = (s: Selection, w: Window) => selected(s, w, events, lists);
    switch (metric.kind) {
      case 'ratio':
        out.set(user, [
          select(metric.numerator, post(metric.numerator.windowHours)),
          select(metric.denominator, post(metric.denominator.windowHours)),
          select(metric.numerator, pre(metric.numerator.windowHours)),
          select(metric.denominator, pre(metric.denominator.windowHours)),
        ]);
        break;
      case 'retention': {
        if (f + (metric.day + 1) * DAY_MS > now) {
          out.set(user, null);
          break;
        }
        const names = new Set(eventNameList(metric.event).map(normalizeEventName));
        const active = (w: Window) =>
          events.some(
            (e) =>
              e.timestamp >= w.from &&
              e.timestamp < w.to &&
              (names.size === 0 || names.has(normalizeEventName(e.name))) &&
              Object.entries(metric.where ?? {}).every(([k, v]) => e.properties[k] === v),
          )
            ? 1
            : 0;
        out.set(user, [
          active({ from: f + metric.day * DAY_MS, to: f + (metric.day + 1) * DAY_MS }),
          active({ from: f - (metric.day + 1) * DAY_MS, to: f - metric.day * DAY_MS }),
        ]);
        break;
      }
      default: {
        const values = [select(metric, post(metric.windowHours)), select(metric, pre(metric.windowHours))];
        out.set(user, metric.kind === 'conversion' ? values.map((v) => (v > 0 ? 1 : 0)) : values);
      }
    }
  }
  return out;
}

function selected(
  selection: Selection,
  w: Window,
  events: readonly TrackedEvent[],
  lists: readonly Impression[],
): number {
  const inWindow = (at: number) => at >= w.from && at < w.to;
  const source = selection.source ?? 'events';
  if (source === 'served_lists') return lists.filter((l) => inWindow(l.createdAt)).length;

  const names = new Set(eventNameList(selection.event).map(normalizeEventName));
  const clickNames = names.size > 0 ? names : new Set(CLICK_EVENT_NAMES.map(normalizeEventName));
  const impressionNames = new Set(IMPRESSION_EVENT_NAMES.map(normalizeEventName));
  let total = 0;
  for (const e of events) {
    if (!inWindow(e.timestamp)) continue;
    if (!Object.entries(selection.where ?? {}).every(([k, v]) => e.properties[k] === v)) continue;
    const name = normalizeEventName(e.name);
    if (source === 'events') {
      if (names.size > 0 && !names.has(name)) continue;
    } else {
      if (impressionNames.has(name)) continue;
      // The user's own lists under the event's request id (one, the store keys lists by it).
      const linked = lists.filter((l) => l.requestId === e.requestId);
      if (linked.length > 0) {
        if (!linked.some((l) => inWindow(l.createdAt))) continue;
      } else {
        const itemId = e.itemId;
        if (!clickNames.has(name) || itemId === null) continue;
        const onAList = lists.some(
          (l) =>
            l.createdAt >= w.from &&
            l.createdAt <= e.timestamp &&
            l.items.some((item) => item.itemId === itemId),
        );
        if (!onAList) continue;
      }
    }
    total +=
      selection.kind !== 'sum'
        ? 1
        : selection.value === 'revenue'
          ? revenueOf(e.properties)
          : propertyValueOf(e.properties, selection.value.property);
  }
  return total;
}
