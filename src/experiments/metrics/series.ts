import type { EpochMs } from '../../shared/types.js';
import type { ContributionsByUser } from './contributions.js';
import { DAY_MS } from './definitions.js';
import { addRow, momentsWidth, unflatten, type Moments } from './moments.js';
import type { CompiledMetric } from './plan.js';

/**
 * The daily cumulative series. Snapshot `d` is the analysis as it would have been at the end of day `d`:
 * users first exposed before then, with their events before then (and retention counting only users whose
 * day N had ended). The last snapshot ends at `now` and equals the full result.
 *
 * How it stays cheap: a user's value as of day d only changes on days a record of theirs counts, so the pass
 * keeps those records (user, day, amount) for the parts that need them (`ContributionLog`), and afterwards
 * each user adds to a per-day difference array the change of their moments on their entry day and on each
 * day their value changes. A prefix sum turns the differences into the moments of every snapshot. Cost:
 * O(users + kept records + days) per metric, with no per-user-per-day storage.
 */

/** How analysis days are laid out. Day d covers `[origin + d·24h, origin + (d+1)·24h)`, the last ends at now. */
export interface SeriesFrame {
  readonly origin: EpochMs;
  readonly days: number;
  /** Per user: the day of their first exposure (their first snapshot); 0 for users not exposed yet. */
  readonly entryDay: Uint16Array;
}

/**
 * The moments of one snapshot. They are raw sums (Σx, Σx², Σxy), fine for drawing a result over time; the
 * final result should be computed from the per-user values, whose two-pass variance does not lose digits
 * to cancellation when the mean is large against the spread.
 */
export interface DailyMoments {
  /** The snapshot's analysis time: events and exposures before it count. */
  readonly asOf: EpochMs;
  readonly moments: Moments;
}

/** The default and the largest number of days a series may hold; earlier days fold into its first. */
export const DEFAULT_SERIES_DAYS = 120;
export const MAX_SERIES_DAYS = 3660;

/**
 * Lays out the days: from `origin` (default: the UTC midnight before the first exposure) to the day of `now`.
 * When that spans more than `maxDays`, the series starts `maxDays` days before the end, and everything
 * earlier is in its first snapshot.
 */
export function seriesFrame(
  firstAt: Float64Array,
  now: EpochMs,
  origin: EpochMs | undefined,
  maxDays: number,
): SeriesFrame {
  let earliest = now - 1; // users not exposed before now have +Infinity
  for (let u = 0; u < firstAt.length; u++) if (firstAt[u]! < earliest) earliest = firstAt[u]!;
  let start = origin ?? Math.floor(earliest / DAY_MS) * DAY_MS;
  const lastDay = Math.floor((now - 1 - start) / DAY_MS);
  if (lastDay >= maxDays) start += (lastDay - maxDays + 1) * DAY_MS;
  const days = Math.max(0, Math.min(lastDay + 1, maxDays));
  const entryDay = new Uint16Array(firstAt.length);
  for (let u = 0; u < firstAt.length; u++) if (firstAt[u]! < now) entryDay[u] = dayOf(start, firstAt[u]!);
  return { origin: start, days, entryDay };
}

/** The day a time falls on; times before the origin fall on day 0. */
export function dayOf(origin: EpochMs, at: EpochMs): number {
  return at < origin ? 0 : Math.floor((at - origin) / DAY_MS);
}

/** The end of snapshot d (exclusive). */
export function snapshotEnd(frame: SeriesFrame, day: number, now: EpochMs): EpochMs {
  return Math.min(frame.origin + (day + 1) * DAY_MS, now);
}

export interface MetricSeriesInput {
  readonly metric: CompiledMetric;
  /** Per part, its post-exposure records grouped by user (null for retention, whose value is final). */
  readonly records: readonly (ContributionsByUser | null)[];
  readonly frame: SeriesFrame;
  readonly now: EpochMs;
  /** The variant's users. */
  readonly members: Int32Array;
  /**
   * For retention, per member (as `members`): the day they become eligible, -1 never (their day N has not
   * ended by now).
   */
  readonly eligibleDays?: Int32Array;
}

/** One variant's daily moments of one metric. Components as in `compute.ts`: post values, then covariates. */
export function metricSeries(input: MetricSeriesInput): DailyMoments[] {
  const { metric, records, frame, now, members, eligibleDays } = input;
  const parts = metric.parts;
  const p = parts.length;
  const k = 2 * p;
  const width = momentsWidth(k);
  const diff = new Float64Array(frame.days * width);
  if (frame.days === 0) return [];
  const row = new Float64Array(k);
  const raw = new Float64Array(p);
  const post = parts.map((part) => part.post);
  const pre = parts.map((part) => part.pre);
  // Per part, a user's records summed by day since entry; cleared after each user (the days they used).
  const byDay = parts.map(() => new Float64Array(frame.days));
  const indicator = metric.indicator;
  const valueOf = (sum: number): number => (indicator ? (sum > 0 ? 1 : 0) : sum);

  for (let m = 0; m < members.length; m++) {
    const u = members[m]!;
    for (let j = 0; j < p; j++) row[p + j] = pre[j]![u]!;
    if (eligibleDays !== undefined) {
      // Retention: the value is final once day N has ended, so the user enters once, with it.
      const day = eligibleDays[m]!;
      if (day < 0) continue;
      for (let j = 0; j < p; j++) row[j] = post[j]![u]!;
      addUser(diff, day * width, k, row);
      continue;
    }
    const entry = frame.entryDay[u]!;
    let lastDay = 0;
    let kept = 0;
    for (let j = 0; j < p; j++) {
      const grouped = records[j];
      if (!grouped) continue;
      const days = byDay[j]!;
      const end = grouped.start[u + 1]!;
      for (let r = grouped.start[u]!; r < end; r++) {
        const day = grouped.days[r]!;
        days[day]! += grouped.values[r]!;
        if (day > lastDay) lastDay = day;
        kept++;
      }
    }
    for (let j = 0; j < p; j++) {
      raw[j] = byDay[j]![0]!;
      row[j] = valueOf(raw[j]!);
    }
    addUser(diff, entry * width, k, row);
    if (kept === 0) continue;
    for (let day = 1; day <= lastDay; day++) {
      let changed = false;
      for (let j = 0; j < p; j++) {
        const added = byDay[j]![day]!;
        if (added === 0) continue;
        raw[j]! += added;
        if (valueOf(raw[j]!) !== row[j]) changed = true;
      }
      if (!changed) continue;
      const base = (entry + day) * width;
      addRow(diff, base, k, row, -1, false);
      for (let j = 0; j < p; j++) row[j] = valueOf(raw[j]!);
      addRow(diff, base, k, row, 1, false);
    }
    for (let j = 0; j < p; j++) {
      const grouped = records[j];
      if (!grouped) continue;
      const days = byDay[j]!;
      for (let r = grouped.start[u]!; r < grouped.start[u + 1]!; r++) days[grouped.days[r]!] = 0;
    }
  }

  const series: DailyMoments[] = [];
  for (let day = 0; day < frame.days; day++) {
    if (day > 0) for (let s = 0; s < width; s++) diff[day * width + s]! += diff[(day - 1) * width + s]!;
    series.push({ asOf: snapshotEnd(frame, day, now), moments: unflatten(diff, day * width, k) });
  }
  return series;
}

/**
 * Adds a user's row at `base`, as `addRow(…, 1, true)`. A row of zeros (most users, for a rare event) adds
 * only to n: its sums and products would add +0, which leaves any sum as it was (a sum that starts at +0
 * never becomes −0), so skipping them gives the same bits.
 */
function addUser(flat: Float64Array, base: number, k: number, row: Float64Array): void {
  for (let i = 0; i < k; i++) {
    if (row[i] !== 0) {
      addRow(flat, base, k, row, 1, true);
      return;
    }
  }
  flat[base]! += 1;
}
