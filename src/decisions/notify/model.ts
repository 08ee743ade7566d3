import { absoluteHour, HOURS_PER_WEEK, hourOfWeek } from './hours.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/**
 * How a user's hours are read. A user's counts are the hours (one per hour since the epoch) in which they
 * were active, binned by hour-of-week: a session of 200 ratings within one hour is one active hour, not
 * 200, so a single binge does not outweigh months of habit.
 */
export interface HourModelParams {
  /**
   * The Dirichlet prior's strength: the population's share of each hour counts as this many active hours
   * of the user. A user with n hours is trusted n / (n + strength) of the way from the population.
   */
  readonly priorStrength: number;
  /** Share of each bin's mass moved to its two neighbours (half each, circular: Sunday 23h neighbours Monday 0h). */
  readonly smoothing: number;
  /** Recency weighting of a user's active hours: half-life in days, or null for equal weights. */
  readonly halfLifeDays: number | null;
  /**
   * Share of each bin's mass spread evenly over the same hour of all seven days: habits are daily more
   * than weekly, and a user seen at 21h on Tuesdays is likely at 21h on Wednesdays too (0: none).
   */
  readonly dayPooling: number;
}

/** When nothing was chosen on validation (a store with too few users to judge): a moderate prior. */
export const DEFAULT_HOUR_PARAMS: HourModelParams = {
  priorStrength: 8,
  smoothing: 0.25,
  halfLifeDays: null,
  dayPooling: 0.5,
};

/**
 * The distinct active hours of timestamps sorted ascending (start of each hour, epoch ms). Equal hours
 * are adjacent in sorted input, so one pass drops the repeats.
 */
export function activeHourStarts(sortedTimestamps: ArrayLike<number>): Float64Array {
  const out = new Float64Array(sortedTimestamps.length);
  let n = 0;
  let last = Number.NaN;
  for (let i = 0; i < sortedTimestamps.length; i++) {
    const hour = absoluteHour(sortedTimestamps[i]!);
    if (hour !== last) out[n++] = hour * HOUR_MS;
    last = hour;
  }
  return out.subarray(0, n);
}

/**
 * Hour-of-week counts (UTC) of active hours, each weighted `0.5^((reference − t) / halfLife)` when a
 * half-life is given (hours after `reference` weigh 1).
 */
export function hourCounts(
  hourStarts: ArrayLike<number>,
  halfLifeDays: number | null = null,
  reference = 0,
): Float64Array {
  const counts = new Float64Array(HOURS_PER_WEEK);
  const decay = halfLifeDays === null ? 0 : Math.LN2 / (halfLifeDays * DAY_MS);
  for (let i = 0; i < hourStarts.length; i++) {
    const t = hourStarts[i]!;
    const weight = decay === 0 ? 1 : Math.exp(-decay * Math.max(0, reference - t));
    counts[hourOfWeek(t)]! += weight;
  }
  return counts;
}

/**
 * Moves `smoothing` of each bin's mass to its neighbours, half to each, around the week's circle. The
 * total is kept, so smoothed counts still say how many hours the user has.
 */
export function smoothCircular(counts: Float64Array, smoothing: number): Float64Array {
  if (smoothing === 0) return counts.slice();
  const n = counts.length;
  const out = new Float64Array(n);
  const side = smoothing / 2;
  for (let h = 0; h < n; h++) {
    out[h] = (1 - smoothing) * counts[h]! + side * (counts[(h + n - 1) % n]! + counts[(h + 1) % n]!);
  }
  return out;
}

/** Moves `pooling` of each bin's mass evenly onto the same hour of the seven days (itself included); keeps the total. */
export function poolDays(counts: Float64Array, pooling: number): Float64Array {
  if (pooling === 0) return counts.slice();
  const byHour = new Float64Array(24);
  for (let h = 0; h < HOURS_PER_WEEK; h++) byHour[h % 24]! += counts[h]!;
  const out = new Float64Array(HOURS_PER_WEEK);
  for (let h = 0; h < HOURS_PER_WEEK; h++)
    out[h] = (1 - pooling) * counts[h]! + (pooling * byHour[h % 24]!) / 7;
  return out;
}

/** Day pooling, then circular smoothing: how every count vector is read before shares are taken. */
export function spreadCounts(
  counts: Float64Array,
  params: Pick<HourModelParams, 'smoothing' | 'dayPooling'>,
): Float64Array {
  return smoothCircular(poolDays(counts, params.dayPooling), params.smoothing);
}

/**
 * The population's share of each hour: its smoothed counts plus half an hour per bin (so that an hour no
 * one was active in still has a little mass and a posterior never divides by zero), normalised to 1.
 */
export function populationShares(
  counts: Float64Array,
  params: Pick<HourModelParams, 'smoothing' | 'dayPooling'>,
): Float64Array {
  const smoothed = spreadCounts(counts, params);
  let total = 0;
  for (let h = 0; h < smoothed.length; h++) total += smoothed[h]! + 0.5;
  for (let h = 0; h < smoothed.length; h++) smoothed[h] = (smoothed[h]! + 0.5) / total;
  return smoothed;
}

/**
 * The posterior mean of the user's hour shares under a Dirichlet(strength × population) prior:
 * `(c_h + α p_h) / (n + α)` with `c` the user's spread (day-pooled, smoothed) counts and `n` their total. It is the expected
 * share of the user's next active hour that falls in each bin: the engagement a reply reports.
 */
export function posteriorShares(
  userCounts: Float64Array,
  prior: Float64Array,
  priorStrength: number,
  spread: Pick<HourModelParams, 'smoothing' | 'dayPooling'>,
): Float64Array {
  const counts = spreadCounts(userCounts, spread);
  let total = 0;
  for (let h = 0; h < counts.length; h++) total += counts[h]!;
  const out = new Float64Array(counts.length);
  const denominator = total + priorStrength;
  for (let h = 0; h < counts.length; h++) {
    out[h] = denominator > 0 ? (counts[h]! + priorStrength * prior[h]!) / denominator : prior[h]!;
  }
  return out;
}

export interface RankedHour {
  /** UTC hour-of-week. */
  readonly hourOfWeek: number;
  /** Posterior share: the expected chance that the user's next active hour is this one. */
  readonly share: number;
}

/**
 * The `k` bins with the largest shares, largest first; ties go to the earlier hour, so answers are stable.
 * k passes over the bins rather than a sort: validation calls this for every user and setting.
 */
export function bestHours(shares: Float64Array, k: number): RankedHour[] {
  const out: RankedHour[] = [];
  const taken = new Uint8Array(shares.length);
  for (let r = 0; r < Math.min(k, shares.length); r++) {
    let best = -1;
    for (let h = 0; h < shares.length; h++) {
      if (taken[h] === 0 && (best < 0 || shares[h]! > shares[best]!)) best = h;
    }
    taken[best] = 1;
    out.push({ hourOfWeek: best, share: shares[best]! });
  }
  return out;
}

/** The shares of a user's hour counts shrunk to the population's, as one call. */
export function userShares(
  userCounts: Float64Array,
  population: Float64Array,
  params: HourModelParams,
): Float64Array {
  return posteriorShares(userCounts, population, params.priorStrength, params);
}
