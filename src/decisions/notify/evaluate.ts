import { HOURS_PER_WEEK, hourOfWeek } from './hours.js';
import {
  activeHourStarts,
  bestHours,
  DEFAULT_HOUR_PARAMS,
  hourCounts,
  populationShares,
  userShares,
  type HourModelParams,
} from './model.js';

const WEEK_MS = 7 * 86_400_000;

/**
 * The replay protocol. Each user's activity (timestamps, ascending) is split at their last event − 7 days:
 * the events before are the history, the first event at or after the split is the "next activity". A
 * user is judged when their history is not empty (with none, the model has only the population to say,
 * so both answers are the same and the user tells nothing apart). Hit: the hour-of-week (UTC) of the next
 * activity is in the top `k` hours computed from the history alone, the population's counts from every
 * user's history alone, so nothing after a split point is ever read.
 */
export interface UserSplit {
  readonly history: Float64Array;
  readonly next: number;
}

export function splitUser(sortedTimestamps: Float64Array): UserSplit | null {
  const n = sortedTimestamps.length;
  if (n === 0) return null;
  const split = sortedTimestamps[n - 1]! - WEEK_MS;
  let i = 0;
  while (i < n && sortedTimestamps[i]! < split) i++;
  return { history: sortedTimestamps.subarray(0, i), next: sortedTimestamps[i]! };
}

export interface TimingEvaluation {
  /** Users with at least one event. */
  readonly users: number;
  /** Users with a non-empty history: the ones the hit rates are over. */
  readonly judged: number;
  readonly hitRate: number;
  /**
   * The baseline: the population's top hours by its plain active-hour counts (no smoothing or pooling,
   * so that the baseline does not move with the parameters being chosen).
   */
  readonly populationHitRate: number;
  /** hitRate / populationHitRate (null when the population never hits). */
  readonly ratio: number | null;
  /** The population's top hours by plain counts (UTC hour-of-week). */
  readonly populationTop: readonly number[];
  /**
   * A stronger baseline: the top hours of the population's shares spread as the model spreads them (the
   * model with an infinite prior strength, i.e. without the user's own hours).
   */
  readonly spreadPopulationHitRate: number;
  /** Mean log posterior share of the next activity's hour: what validation maximises. */
  readonly meanLogShare: number;
}

/** Population hour counts from the histories' active hours (every user's active hour counts once). */
export function populationCounts(histories: readonly Float64Array[]): Float64Array {
  const counts = new Float64Array(HOURS_PER_WEEK);
  for (const history of histories) {
    const userCounts = hourCounts(activeHourStarts(history));
    for (let h = 0; h < HOURS_PER_WEEK; h++) counts[h]! += userCounts[h]!;
  }
  return counts;
}

/** Runs the protocol on users' sorted timestamps with fixed parameters. */
export function evaluateTiming(
  users: readonly Float64Array[],
  params: HourModelParams,
  k = 3,
): TimingEvaluation {
  const splits: UserSplit[] = [];
  for (const timestamps of users) {
    const split = splitUser(timestamps);
    if (split !== null) splits.push(split);
  }
  const counts = populationCounts(splits.map((s) => s.history));
  const population = populationShares(counts, params);
  const populationTop = bestHours(counts, k).map((h) => h.hourOfWeek);
  const spreadTop = bestHours(population, k).map((h) => h.hourOfWeek);
  let judged = 0;
  let hits = 0;
  let populationHits = 0;
  let spreadHits = 0;
  let logShare = 0;
  for (const { history, next } of splits) {
    if (history.length === 0) continue;
    judged++;
    const starts = activeHourStarts(history);
    const reference = history[history.length - 1]!;
    const shares = userShares(hourCounts(starts, params.halfLifeDays, reference), population, params);
    const target = hourOfWeek(next);
    if (bestHours(shares, k).some((h) => h.hourOfWeek === target)) hits++;
    if (populationTop.includes(target)) populationHits++;
    if (spreadTop.includes(target)) spreadHits++;
    logShare += Math.log(shares[target]!);
  }
  const hitRate = judged === 0 ? 0 : hits / judged;
  const populationHitRate = judged === 0 ? 0 : populationHits / judged;
  return {
    users: splits.length,
    judged,
    hitRate,
    populationHitRate,
    ratio: populationHitRate > 0 ? hitRate / populationHitRate : null,
    populationTop,
    spreadPopulationHitRate: judged === 0 ? 0 : spreadHits / judged,
    meanLogShare: judged === 0 ? 0 : logShare / judged,
  };
}

/**
 * What validation chooses among: prior strength × circular smoothing × recency half-life × day pooling
 * (144 settings; each costs one pass over the users' hours).
 */
export const PARAMETER_GRID: readonly HourModelParams[] = [0.5, 1, 2, 4, 8, 16, 32, 64].flatMap(
  (priorStrength) =>
    [0, 0.25, 0.5].flatMap((smoothing) =>
      [null, 30].flatMap((halfLifeDays) =>
        [0, 0.5, 0.9].map((dayPooling) => ({ priorStrength, smoothing, halfLifeDays, dayPooling })),
      ),
    ),
);

export interface ParameterChoice {
  readonly params: HourModelParams;
  /** How it was chosen, for reports. */
  readonly how: string;
  /** The validation's result for the chosen parameters (null when the defaults were kept). */
  readonly validation: TimingEvaluation | null;
}

/** Fewer judged users on validation than this and the grid's winner is noise: keep the defaults. */
export const MIN_VALIDATION_USERS = 30;

/**
 * Chooses the prior strength, smoothing, half-life and day pooling on a validation cut of the training
 * part: the same protocol run on each user's history alone (split again at the history's last event − 7
 * days). The setting with the highest mean log posterior share of the validation hour wins (ties to the
 * earlier grid entry): it reads the whole posterior, where a top-3 hit counts a handful of users (on
 * MovieLens 100K ~150 users are judged on validation and ~10 of them hit), so it picks far less noise.
 * The events judged by `evaluateTiming` are never read here.
 */
export function chooseParameters(
  histories: readonly Float64Array[],
  grid: readonly HourModelParams[] = PARAMETER_GRID,
  k = 3,
): ParameterChoice {
  let best: { params: HourModelParams; result: TimingEvaluation } | null = null;
  for (const params of grid) {
    const result = evaluateTiming(histories, params, k);
    if (result.judged < MIN_VALIDATION_USERS) {
      return {
        params: DEFAULT_HOUR_PARAMS,
        how: `defaults: ${result.judged} users on validation (fewer than ${MIN_VALIDATION_USERS})`,
        validation: null,
      };
    }
    if (best === null || result.meanLogShare > best.result.meanLogShare) best = { params, result };
  }
  if (best === null) return { params: DEFAULT_HOUR_PARAMS, how: 'defaults: empty grid', validation: null };
  return {
    params: best.params,
    how: `validation cut (each history split at its last event − 7 days; ${best.result.judged} users; best mean log posterior share of the next hour over ${grid.length} settings)`,
    validation: best.result,
  };
}

export interface TimingReport {
  readonly test: TimingEvaluation;
  readonly choice: ParameterChoice;
}

/**
 * The whole offline run: parameters chosen on the histories' own validation cut, then the protocol on
 * the judged events. `users` are sorted timestamps per user.
 */
export function runTimingEvaluation(
  users: readonly Float64Array[],
  k = 3,
  grid: readonly HourModelParams[] = PARAMETER_GRID,
): TimingReport {
  const histories: Float64Array[] = [];
  for (const timestamps of users) {
    const split = splitUser(timestamps);
    if (split !== null && split.history.length > 0) histories.push(split.history);
  }
  const choice = chooseParameters(histories, grid, k);
  return { test: evaluateTiming(users, choice.params, k), choice };
}

/** Names that are not the user's own activity: the sending, and a dismissal (a no, not a visit). */
const NOT_ACTIVITY = new Set(['notification_sent', 'notification_dismissed']);

/** Whether an event counts as the user being active (every event but a notification sent or dismissed). */
export function isActivity(name: string | undefined): boolean {
  return name === undefined || !NOT_ACTIVITY.has(name);
}

/**
 * Rows of a log (any order) as each user's activity timestamps, ascending, for `runTimingEvaluation`.
 * Rows without an event name (MovieLens ratings) are all activity.
 */
export async function timestampsByUser(
  rows: AsyncIterable<{ readonly user: string; readonly timestamp: number; readonly event?: string }>,
): Promise<Float64Array[]> {
  const byUser = new Map<string, number[]>();
  for await (const row of rows) {
    if (!isActivity(row.event)) continue;
    let list = byUser.get(row.user);
    if (list === undefined) byUser.set(row.user, (list = []));
    list.push(row.timestamp);
  }
  return [...byUser.values()].map((list) => Float64Array.from(list).sort());
}
