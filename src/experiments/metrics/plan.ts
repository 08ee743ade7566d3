import { normalizeEventName } from '../../events/feedback.js';
import type { Scalar } from '../../shared/types.js';
import { CLICK_EVENT_NAMES, IMPRESSION_EVENT_NAMES } from './builtins.js';
import { ContributionLog } from './contributions.js';
import { StringIndex } from './string-index.js';
import {
  DAY_MS,
  eventNameList,
  HOUR_MS,
  type EventNames,
  type MetricDefinition,
  type MetricSource,
  type PropertyFilter,
  type RatioPart,
  type SumValue,
} from './definitions.js';

/**
 * Metric definitions compiled for the one pass over the events: each metric becomes one "part" (two for a
 * ratio), a part being one selection of records with a window and per-user accumulators, and every event
 * name maps to the parts it can feed, so an event is tested only against metrics that may count it.
 */

export const SOURCE_EVENTS = 0;
export const SOURCE_CLICKS = 1;
export const SOURCE_SERVED_LISTS = 2;
export const VALUE_ONE = 0;
export const VALUE_REVENUE = 1;
export const VALUE_PROPERTY = 2;

const SOURCE_CODES: Readonly<Record<MetricSource, number>> = {
  events: SOURCE_EVENTS,
  clicks: SOURCE_CLICKS,
  served_lists: SOURCE_SERVED_LISTS,
};

/** One selection of records, its window, and what it has added up per user (by user index). */
export class Part {
  /** After exposure: `[firstAt + start, firstAt + end)`; before it, mirrored: `[firstAt − end, firstAt − start)`. */
  readonly start: number;
  readonly end: number;
  /** Per user, within the window after first exposure (allocated by `Plan.allocate`). */
  post = NO_VALUES;
  /** Per user, within the mirrored window before first exposure: the CUPED covariate. */
  pre = NO_VALUES;
  /** Post-exposure records by day, for the daily series; null when the series needs none (retention). */
  readonly log: ContributionLog | null;

  constructor(
    readonly source: number,
    /** Normalised names; null: every event (or, for clicks, the default click names). */
    readonly names: ReadonlySet<string> | null,
    readonly whereKeys: readonly string[],
    readonly whereValues: readonly Scalar[],
    readonly valueKind: number,
    readonly property: string,
    window: { readonly start: number; readonly end: number },
    logged: boolean,
  ) {
    this.start = window.start;
    this.end = window.end;
    this.log = logged ? new ContributionLog() : null;
  }
}

const NO_VALUES = new Float64Array(0);

export interface CompiledMetric {
  readonly definition: MetricDefinition;
  /** One part; for a ratio, the numerator's and the denominator's. */
  readonly parts: readonly Part[];
  /** Conversion and retention: a user's value is 1 when anything matched, not how much. */
  readonly indicator: boolean;
}

/** A route: part index × 2, plus 1 when the name is a click name (may link to a list by its item). */
export type Routes = Int32Array;

export interface Plan {
  readonly metrics: readonly CompiledMetric[];
  readonly parts: readonly Part[];
  /** The furthest any window reaches from a first exposure, on either side. */
  readonly reach: number;
  readonly needsServedLists: boolean;
  routesFor(name: string): Routes;
  /**
   * Gives every part its per-user sums. Separate from compiling so that the analysis can allocate them
   * (tens of MB) after reading the served lists rather than just before: see `settleHeap` (columns.ts).
   */
  allocate(users: number): void;
}

/** Caps the memo of names: names come from senders and are not bounded, but are few in practice. */
const ROUTE_MEMO_LIMIT = 4096;
const NO_ROUTES: Routes = new Int32Array(0);
const RECENT_MASK = 63;
const IMPRESSION_NAMES: ReadonlySet<string> = new Set(IMPRESSION_EVENT_NAMES.map(normalizeEventName));
const DEFAULT_CLICK_NAMES: ReadonlySet<string> = new Set(CLICK_EVENT_NAMES.map(normalizeEventName));

export function compilePlan(definitions: readonly MetricDefinition[]): Plan {
  const parts: Part[] = [];
  const metrics = definitions.map((definition): CompiledMetric => {
    const add = (part: Part): Part => (parts.push(part), part);
    switch (definition.kind) {
      case 'ratio':
        return {
          definition,
          indicator: false,
          parts: [add(selectionPart(definition.numerator)), add(selectionPart(definition.denominator))],
        };
      case 'retention': {
        const window = { start: definition.day * DAY_MS, end: (definition.day + 1) * DAY_MS };
        const part = new Part(
          SOURCE_EVENTS,
          namesOf(definition.event),
          ...filterOf(definition.where),
          VALUE_ONE,
          '',
          window,
          false,
        );
        return { definition, indicator: true, parts: [add(part)] };
      }
      default:
        return {
          definition,
          indicator: definition.kind === 'conversion',
          parts: [add(selectionPart(definition))],
        };
    }
  });

  const memoNames = new StringIndex(64);
  const memoRoutes: Routes[] = [];
  const recentNames = new Array<string | undefined>(RECENT_MASK + 1).fill(undefined);
  const recentRoutes = new Array<Routes>(RECENT_MASK + 1).fill(NO_ROUTES);
  const routesOf = (name: string): Routes => {
    const normalized = normalizeEventName(name);
    const codes: number[] = [];
    parts.forEach((part, index) => {
      if (part.source === SOURCE_EVENTS) {
        if (part.names === null || part.names.has(normalized)) codes.push(index * 2);
      } else if (part.source === SOURCE_CLICKS && !IMPRESSION_NAMES.has(normalized)) {
        const clickNames = part.names ?? DEFAULT_CLICK_NAMES;
        codes.push(index * 2 + (clickNames.has(normalized) ? 1 : 0));
      }
    });
    return codes.length === 0 ? NO_ROUTES : Int32Array.from(codes);
  };

  return {
    metrics,
    parts,
    reach: parts.reduce((max, part) => Math.max(max, part.end), 0),
    needsServedLists: parts.some((part) => part.source !== SOURCE_EVENTS),
    allocate(users: number): void {
      for (const part of parts) {
        part.post = new Float64Array(users);
        part.pre = new Float64Array(users);
      }
    },
    routesFor(name: string): Routes {
      // A direct-mapped cache first: a few character reads and one string comparison, where the table
      // below hashes every character. Event names are few, so nearly every event hits it.
      const slot =
        (name.length * 31 + name.charCodeAt(0) * 7 + name.charCodeAt(name.length - 1)) & RECENT_MASK;
      if (recentNames[slot] === name) return recentRoutes[slot]!;
      const known = memoNames.get(name);
      let routes: Routes;
      if (known >= 0) {
        routes = memoRoutes[known]!;
      } else {
        routes = routesOf(name);
        if (memoNames.size < ROUTE_MEMO_LIMIT) {
          memoNames.add(name);
          memoRoutes.push(routes);
        }
      }
      recentNames[slot] = name;
      recentRoutes[slot] = routes;
      return routes;
    },
  };
}

type SelectionDefinition = RatioPart | (MetricDefinition & { readonly kind: 'conversion' | 'count' | 'sum' });

function selectionPart(selection: SelectionDefinition): Part {
  const value: SumValue | null = selection.kind === 'sum' ? selection.value : null;
  const valueKind = value === null ? VALUE_ONE : value === 'revenue' ? VALUE_REVENUE : VALUE_PROPERTY;
  const property = value !== null && value !== 'revenue' ? value.property : '';
  const window = { start: 0, end: selection.windowHours * HOUR_MS };
  const source = SOURCE_CODES[selection.source ?? 'events'];
  return new Part(
    source,
    namesOf(selection.event),
    ...filterOf(selection.where),
    valueKind,
    property,
    window,
    true,
  );
}

function namesOf(names: EventNames | undefined): ReadonlySet<string> | null {
  const list = eventNameList(names);
  return list.length === 0 ? null : new Set(list.map(normalizeEventName));
}

function filterOf(where: PropertyFilter | undefined): [readonly string[], readonly Scalar[]] {
  const entries = Object.entries(where ?? {});
  return [entries.map(([key]) => key), entries.map(([, value]) => value)];
}
