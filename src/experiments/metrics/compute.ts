import type { TrackedEvent } from '../../events/types.js';
import type { Impression } from '../../recommendations/impression.js';
import type { EpochMs } from '../../shared/types.js';
import { settleHeap } from './columns.js';
import { groupByUser } from './contributions.js';
import {
  DAY_MS,
  MetricDefinitionError,
  validateMetricDefinitions,
  type ConversionMetric,
  type CountMetric,
  type MetricDefinition,
  type RatioMetric,
  type RetentionMetric,
  type SumMetric,
} from './definitions.js';
import { indexExposures, locateUsers, type ExposedPopulation, type ExposedUser } from './exposures.js';
import {
  HAS_ITEM,
  HAS_REQUEST,
  LocalColumns,
  type ColumnFeed,
  type ColumnJob,
  type EventColumns,
} from './log-columns.js';
import { LogReader } from './log-reader.js';
import {
  compilePlan,
  SOURCE_CLICKS,
  SOURCE_SERVED_LISTS,
  type CompiledMetric,
  type Part,
  type Plan,
} from './plan.js';
import {
  dayOf,
  DEFAULT_SERIES_DAYS,
  MAX_SERIES_DAYS,
  metricSeries,
  seriesFrame,
  type DailyMoments,
  type SeriesFrame,
} from './series.js';
import {
  indexServedLists,
  linkByRequest,
  LINKED_OUTSIDE,
  LIST_WIDTH,
  NOT_LINKED,
  servedItemBetween,
  type BatchSource,
  type ServedListIndex,
} from './served-lists.js';
import { randomSeed } from './string-index.js';

export interface ComputeMetricsInput {
  /** First exposure per user (a later repeat of a user is ignored; two variants for one user throw). */
  readonly exposures: Iterable<ExposedUser>;
  /**
   * The event log in batches, as `Store.scanEvents` yields it; or a reader thread that reads the log and
   * converts it to columns (`LogReader`: the served lists too), so that reading and analysing take one
   * core each. Read once; a `LogReader` is closed when the analysis ends.
   */
  readonly events: BatchSource<TrackedEvent> | LogReader;
  /**
   * The served lists (impression log); required when a metric reads clicks or served lists, unless the
   * events are a `LogReader` (which reads them itself). Read once, first.
   */
  readonly impressions?: BatchSource<Impression>;
  readonly metrics: readonly MetricDefinition[];
  /**
   * The analysis time: only exposures and events before it count, and retention counts only users whose
   * day N has ended by it. An earlier `now` gives the analysis as it was then ("as of").
   */
  readonly now: EpochMs;
  /** Start of day 0 of the daily series; default the UTC midnight before the first exposure. */
  readonly seriesOrigin?: EpochMs;
  /** At most this many snapshots (default 120); earlier days fold into the first. */
  readonly maxSeriesDays?: number;
}

/** A variant's exposed users, in the order every per-user array of its results follows. */
export interface VariantUsers {
  readonly name: string;
  readonly userIds: readonly string[];
  readonly firstAt: Float64Array;
}

/**
 * One variant's per-user values of a conversion, count, sum or retention metric. `value[i]` and
 * `covariate[i]` belong to user `users[i]` (a position in the variant's `userIds`) for retention, which
 * counts only eligible users, and to `userIds[i]` otherwise (`users` null).
 */
export interface ScalarValues {
  readonly variant: string;
  readonly users: Int32Array | null;
  readonly value: Float64Array;
  /** The same metric over the mirrored window before first exposure (CUPED). */
  readonly covariate: Float64Array;
  /** Components: `[value, covariate]`. */
  readonly daily: readonly DailyMoments[];
}

/** One variant's per-user numerators and denominators (aligned with `userIds`), and their covariates. */
export interface RatioValues {
  readonly variant: string;
  readonly numerator: Float64Array;
  readonly denominator: Float64Array;
  readonly covariateNumerator: Float64Array;
  readonly covariateDenominator: Float64Array;
  /** Components: `[numerator, denominator, covariateNumerator, covariateDenominator]`. */
  readonly daily: readonly DailyMoments[];
}

export type MetricResult =
  | {
      readonly kind: 'conversion' | 'count' | 'sum' | 'retention';
      readonly definition: ConversionMetric | CountMetric | SumMetric | RetentionMetric;
      /** Aligned with `ExperimentMetrics.variants`. */
      readonly byVariant: readonly ScalarValues[];
    }
  | { readonly kind: 'ratio'; readonly definition: RatioMetric; readonly byVariant: readonly RatioValues[] };

export interface ExperimentMetrics {
  readonly now: EpochMs;
  /** Sorted by name. */
  readonly variants: readonly VariantUsers[];
  /** Aligned with the metrics given. */
  readonly metrics: readonly MetricResult[];
  /** Snapshot d of every `daily` ends at `min(origin + (d+1)·24h, now)`. */
  readonly series: { readonly origin: EpochMs; readonly days: number };
  /** Events read, and lists (of exposed users, served before now) kept for linking clicks. */
  readonly scanned: { readonly events: number; readonly servedLists: number };
}

/**
 * Per-user metric values of an experiment's exposed users, from one pass over the event log (after one over
 * the served lists, when a metric reads clicks or lists).
 *
 * Each user counts from their first exposure: a metric with a window of W hours reads their records in
 * `[firstAt, firstAt + W)`, retention day N `[firstAt + N·24h, firstAt + (N+1)·24h)`. Users with no
 * matching record are 0; conversion and retention are 1 or 0. A user whose window has not ended by `now`
 * counts with what they have so far (only retention leaves such users out, see `RetentionMetric`): early
 * in an experiment compare variants with each other, not with a finished one.
 *
 * The covariate (CUPED) is the same metric over the same window mirrored before the first exposure:
 * `[firstAt − W, firstAt)`; for retention day N the day `[firstAt − (N+1)·24h, firstAt − N·24h)`, as far
 * before the exposure as the measured day is after it; for a ratio, its numerator and denominator alike
 * (a ratio's delta-method CUPED uses both). It is always complete: it lies before the exposure.
 *
 * Cost per event, in two halves (`log-columns.ts`): what depends on the event alone — one cached lookup of
 * its name (which metrics can count it), their filters and values, the hashes of its user id (and of a
 * click's request and item ids) — then what depends on the exposed users: one lookup of its user in a
 * seeded open-addressing table (`StringIndex`: at a million users a V8 `Map` was 3–4× slower) by those
 * hashes, and for each metric the name routes to a few comparisons and a typed-array update; nothing is
 * allocated per event. Given a `LogReader`, the first half runs in the reader thread while this one runs
 * the second (and indexes the exposures while the reader converts the served lists); given batches, both
 * run here, a batch at a time. Memory: two doubles per user per selection (post and pre), the user table
 * (~32 B per user), the kept lists (~24 B each, plus 8 B per item of lists near the exposure), the series
 * records (14 B per post-exposure match of a count, sum, conversion or ratio), and the batches in
 * columns: one at a time here, at most 64 MiB from a reader.
 */
export async function computeMetrics(input: ComputeMetricsInput): Promise<ExperimentMetrics> {
  return analyse(input, false);
}

/**
 * `computeMetrics` as if two exposed users shared both hashes of their ids, so that users are told apart by
 * their id strings (`StringIndex.comparesKeys`), a case random seeds practically never produce: for tests.
 */
export function computeMetricsComparingKeys(input: ComputeMetricsInput): Promise<ExperimentMetrics> {
  return analyse(input, true);
}

async function analyse(input: ComputeMetricsInput, compareKeys: boolean): Promise<ExperimentMetrics> {
  try {
    return await analyseLog(input, compareKeys);
  } finally {
    if (input.events instanceof LogReader) input.events.close();
  }
}

async function analyseLog(input: ComputeMetricsInput, compareKeys: boolean): Promise<ExperimentMetrics> {
  const { now } = input;
  const validation = validateMetricDefinitions(input.metrics);
  if (!validation.ok) {
    throw new MetricDefinitionError(validation.problems.map((p) => ({ ...p, field: `metrics${p.field}` })));
  }
  const maxDays = input.maxSeriesDays ?? DEFAULT_SERIES_DAYS;
  if (!Number.isInteger(maxDays) || maxDays < 1 || maxDays > MAX_SERIES_DAYS) {
    throw new RangeError(`maxSeriesDays must be an integer in [1, ${MAX_SERIES_DAYS}]`);
  }
  if (!Number.isFinite(now)) throw new RangeError('now must be a finite time');
  if (input.seriesOrigin !== undefined && !Number.isFinite(input.seriesOrigin)) {
    throw new RangeError('seriesOrigin must be a finite time');
  }

  const plan = compilePlan(validation.definitions);
  const job: ColumnJob = {
    metrics: validation.definitions,
    now,
    userSeeds: [randomSeed(), randomSeed()],
    listSeeds: [randomSeed(), randomSeed()],
    lists: plan.needsServedLists,
    keys: false,
  };
  const log = input.events;
  let feed: ColumnFeed;
  if (log instanceof LogReader) {
    if (input.impressions !== undefined) {
      throw new TypeError('impressions are read by the log reader: give them to it, not to computeMetrics');
    }
    // Started before the exposures are indexed: the reader converts the served lists meanwhile.
    feed = log.start(job);
  } else {
    if (plan.needsServedLists && input.impressions === undefined) {
      throw new TypeError('impressions are required: a metric reads clicks or served lists');
    }
    feed = new LocalColumns(job, log, input.impressions ?? []);
  }

  const population = indexExposures(input.exposures, now, job.userSeeds);
  if (compareKeys) population.users.compareKeys();
  if (population.users.comparesKeys) feed.compareKeys();
  const users = population.firstAt.length;
  const frame = seriesFrame(population.firstAt, now, input.seriesOrigin, maxDays);

  let lists: ServedListIndex | null = null;
  if (plan.needsServedLists) {
    await settleHeap();
    lists = await indexServedLists(feed.lists(), population, now, plan.reach, job.listSeeds);
  }
  // The per-user sums (two arrays per part, 8 B per user each) only now, not before the served lists are
  // read: allocated just before a read of batches, they would make V8 collect garbage during its first
  // batch (see `settleHeap`).
  plan.allocate(users);
  if (lists !== null) countServedLists(plan, lists, population, frame);
  const events = await scanEvents(feed.events(), plan, population, frame, lists);
  for (const metric of plan.metrics) {
    if (!metric.indicator) continue;
    for (const part of metric.parts) {
      toIndicator(part.post);
      toIndicator(part.pre);
    }
  }

  const variants = population.variants.map((name, v): VariantUsers => {
    const members = population.members[v]!;
    const ids = population.users.keys;
    return {
      name,
      userIds: Array.from(members, (u) => ids[u]!),
      firstAt: gather(population.firstAt, members),
    };
  });
  return {
    now,
    variants,
    metrics: plan.metrics.map((metric) => metricResult(metric, population, frame, now)),
    series: { origin: frame.origin, days: frame.days },
    scanned: { events, servedLists: lists?.count ?? 0 },
  };
}

/** Adds the served lists to the parts that count them. */
function countServedLists(
  plan: Plan,
  lists: ServedListIndex,
  population: ExposedPopulation,
  frame: SeriesFrame,
) {
  for (const part of plan.parts) {
    if (part.source !== SOURCE_SERVED_LISTS) continue;
    for (let user = 0; user < population.firstAt.length; user++) {
      const first = population.firstAt[user]!;
      for (let p = lists.userStart[user]!; p < lists.userStart[user + 1]!; p++) {
        const at = lists.lists[p * LIST_WIDTH]!;
        const since = at - first;
        if (since >= part.start && since < part.end) {
          part.post[user]!++;
          part.log?.push(user, dayOf(frame.origin, at) - frame.entryDay[user]!, 1);
        } else if (since >= -part.end && since < -part.start) {
          part.pre[user]!++;
        }
      }
    }
  }
}

/** Events per batch the pass has room for before it allocates more (stores yield batches of 10,000). */
const SCRATCH = 16_384;

/** The one pass over the events, in columns (`EventColumns`); returns how many were read. */
async function scanEvents(
  source: AsyncIterable<EventColumns>,
  plan: Plan,
  population: ExposedPopulation,
  frame: SeriesFrame,
  lists: ServedListIndex | null,
): Promise<number> {
  const { firstAt } = population;
  const userStart = lists?.userStart ?? new Int32Array(firstAt.length + 1);
  const parts = plan.parts;
  const reach = plan.reach;
  let scanned = 0;
  // Per event of the batch: its user (-1: not exposed) and their first exposure.
  let userAt = new Int32Array(SCRATCH);
  let firstAtOf = new Float64Array(SCRATCH);
  // Everything the pass needs before its first batch is allocated: see `settleHeap`.
  await settleHeap();
  for await (const batch of source) {
    scanned += batch.read;
    const n = batch.count;
    if (userAt.length < n) {
      userAt = new Int32Array(n);
      firstAtOf = new Float64Array(n);
    }
    const { time, user: userWords, routeEnd, routes, values, link, flags } = batch;
    // Who each event is about and when they were first exposed, in short loops rather than one: their
    // iterations do not wait on each other and read nothing but typed arrays, so their cache misses (a slot
    // of the user table, then a user's exposure, at random among a million) overlap instead of queueing.
    locateUsers(population, userWords, batch.userIds, n, userAt);
    for (let i = 0; i < n; i++) {
      const user = userAt[i]!;
      if (user >= 0) firstAtOf[i] = firstAt[user]!;
    }
    for (let i = 0; i < n; i++) {
      const user = userAt[i]!;
      if (user < 0) continue;
      const at = time[i]!;
      const first = firstAtOf[i]!;
      const since = at - first;
      if (since >= reach || since < -reach) continue;
      const flag = flags[i]!;
      for (let r = i === 0 ? 0 : routeEnd[i - 1]!; r < routeEnd[i]!; r++) {
        const route = routes[r]!;
        const part = parts[route >> 1]!;
        let post: boolean;
        if (since >= part.start && since < part.end) post = true;
        else if (since >= -part.end && since < -part.start) post = false;
        else continue;
        if (part.source === SOURCE_CLICKS) {
          // A click names its list by request id; without one, only a click by name on an item can count
          // (checked before reading the user's lists, which most events on this route never need).
          const byRequest = (flag & HAS_REQUEST) !== 0;
          const byName = (route & 1) !== 0 && (flag & HAS_ITEM) !== 0;
          if (!byRequest && !byName) continue;
          const windowStart = post ? first + part.start : first - part.end;
          const windowEnd = post ? first + part.end : first - part.start;
          const from = userStart[user]!;
          const to = userStart[user + 1]!;
          const linked = byRequest
            ? linkByRequest(lists!, from, to, link[4 * i]!, link[4 * i + 1]!, windowStart, windowEnd)
            : NOT_LINKED;
          if (linked === LINKED_OUTSIDE) continue;
          if (linked === NOT_LINKED) {
            // Only a click by name, on an item of a list served to the user earlier in the window.
            if (!byName) continue;
            if (!servedItemBetween(lists!, from, to, link[4 * i + 2]!, link[4 * i + 3]!, windowStart, at)) {
              continue;
            }
          }
        }
        // Filtered out and zero-valued entries are not in the batch (see `log-columns.ts`).
        const value = values[r]!;
        if (post) {
          part.post[user]! += value;
          // The day since the user's entry, from the exposure time already at hand (not `entryDay[user]`).
          part.log?.push(user, dayOf(frame.origin, at) - dayOf(frame.origin, first), value);
        } else {
          part.pre[user]! += value;
        }
      }
    }
  }
  return scanned;
}

function toIndicator(values: Float64Array): void {
  for (let u = 0; u < values.length; u++) values[u] = values[u]! > 0 ? 1 : 0;
}

function metricResult(
  metric: CompiledMetric,
  population: ExposedPopulation,
  frame: SeriesFrame,
  now: EpochMs,
): MetricResult {
  const users = population.firstAt.length;
  const records = metric.parts.map((part) => (part.log === null ? null : groupByUser(part.log, users)));
  const definition = metric.definition;

  if (definition.kind === 'ratio') {
    const [numerator, denominator] = metric.parts as [Part, Part];
    const byVariant = population.variants.map((variant, v): RatioValues => {
      const members = population.members[v]!;
      return {
        variant,
        numerator: gather(numerator.post, members),
        denominator: gather(denominator.post, members),
        covariateNumerator: gather(numerator.pre, members),
        covariateDenominator: gather(denominator.pre, members),
        daily: metricSeries({ metric, records, frame, now, members }),
      };
    });
    return { kind: 'ratio', definition, byVariant };
  }

  const part = metric.parts[0]!;
  if (definition.kind === 'retention') {
    const dayEnd = (definition.day + 1) * DAY_MS;
    const byVariant = population.variants.map((variant, v): ScalarValues => {
      const members = population.members[v]!;
      // Per member, the day they become eligible (-1: never), and the eligible members' positions.
      const eligibleDays = new Int32Array(members.length);
      const positions = new Int32Array(members.length);
      let eligible = 0;
      for (let m = 0; m < members.length; m++) {
        const ends = population.firstAt[members[m]!]! + dayEnd;
        if (ends > now) {
          eligibleDays[m] = -1;
          continue;
        }
        eligibleDays[m] = Math.min(
          frame.days - 1,
          Math.max(0, Math.ceil((ends - frame.origin) / DAY_MS) - 1),
        );
        positions[eligible++] = m;
      }
      const users = positions.slice(0, eligible);
      const eligibleUsers = new Int32Array(eligible);
      for (let i = 0; i < eligible; i++) eligibleUsers[i] = members[users[i]!]!;
      return {
        variant,
        users,
        value: gather(part.post, eligibleUsers),
        covariate: gather(part.pre, eligibleUsers),
        daily: metricSeries({ metric, records, frame, now, members, eligibleDays }),
      };
    });
    return { kind: 'retention', definition, byVariant };
  }

  const byVariant = population.variants.map((variant, v): ScalarValues => {
    const members = population.members[v]!;
    return {
      variant,
      users: null,
      value: gather(part.post, members),
      covariate: gather(part.pre, members),
      daily: metricSeries({ metric, records, frame, now, members }),
    };
  });
  return { kind: definition.kind, definition, byVariant };
}

/** `values` of the given users, in their order. */
function gather(values: Float64Array, users: Int32Array): Float64Array {
  const out = new Float64Array(users.length);
  for (let i = 0; i < users.length; i++) out[i] = values[users[i]!]!;
  return out;
}
