import type { User } from '../catalog/types.js';
import type { EpochMs } from '../shared/types.js';
import { CATEGORIES } from './categories.js';
import { LATENT_DIMS, normalize } from './latent.js';
import type { Rng } from './random.js';
import { DAY_MS } from './time.js';

export type Device = 'mobile' | 'desktop' | 'tablet';

/** A generated user plus the hidden facts their behaviour is simulated from. */
export interface DemoUserModel {
  readonly user: User;
  readonly country: string;
  /** Hours to add to UTC for the user's local time; sessions follow local habits. */
  readonly utcOffsetHours: number;
  /** Favourite categories (indices into `CATEGORIES`), strongest first, with weights summing to 1. */
  readonly favourites: readonly number[];
  readonly favouriteWeights: readonly number[];
  /** Unit taste vector (LATENT_DIMS). */
  readonly vector: Float64Array;
  readonly device: Device;
  /** Local hour (0–24, fractional) around which the user's sessions cluster. */
  readonly peakHour: number;
  /** Mean sessions per day while active. */
  readonly sessionsPerDay: number;
  /** When the user stopped coming back (start of a period day), or null for users who never lapse. */
  readonly lapseAt: EpochMs | null;
  /** A loyal heavy user (`HEAVY_EVERY`): thousands of events over the period. */
  readonly heavy: boolean;
}

interface Country {
  readonly code: string;
  readonly weight: number;
  readonly utcOffsetHours: number;
}

// Standard-time offsets; daylight saving would shift habits by an hour and teaches nothing here.
const COUNTRIES: readonly Country[] = [
  { code: 'US', weight: 0.34, utcOffsetHours: -5 },
  { code: 'GB', weight: 0.16, utcOffsetHours: 0 },
  { code: 'DE', weight: 0.13, utcOffsetHours: 1 },
  { code: 'FR', weight: 0.1, utcOffsetHours: 1 },
  { code: 'IN', weight: 0.15, utcOffsetHours: 5.5 },
  { code: 'BR', weight: 0.12, utcOffsetHours: -3 },
];
const CHANNELS = ['organic', 'paid_search', 'social', 'referral', 'email'] as const;
const CHANNEL_WEIGHTS = [0.38, 0.22, 0.2, 0.1, 0.1];
const AGE_BANDS = ['18-24', '25-34', '35-44', '45-54', '55+'] as const;
const AGE_WEIGHTS = [0.18, 0.32, 0.24, 0.15, 0.11];
const COUNTRY_WEIGHTS = COUNTRIES.map((c) => c.weight);
const DEVICES: readonly Device[] = ['mobile', 'desktop', 'tablet'];
const DEVICE_WEIGHTS = [0.56, 0.34, 0.1];
/** Morning people, lunch-break browsers, evening people, night owls (local peak hours). */
const PEAK_HOURS = [8, 12.5, 20, 23];
const PEAK_WEIGHTS = [0.25, 0.15, 0.45, 0.15];

/** Share of users who stop coming back during the period (what churn prediction should find). */
export const LAPSE_SHARE = 0.15;
/** Lapses happen no sooner than this after a user's first active day and before the period's end. */
const MIN_ACTIVE_BEFORE_LAPSE_MS = 7 * DAY_MS;
/**
 * Every this many users one is a loyal heavy user: a customer since before the period, never lapsing, with
 * about `HEAVY_SESSIONS_PER_DAY` visits a day, so thousands of events over the period. A shop's most loyal
 * customers are who serving must get right (nothing they already own or turned down), so the demo and the
 * tests built on it have some. Chosen by position, not drawn, so the other users stay as they were.
 */
export const HEAVY_EVERY = 200;
const HEAVY_SESSIONS_PER_DAY = 10;

/** A lapse this close to the end could not be told apart from a pause, so none is placed there. */
const MIN_SILENCE_AFTER_LAPSE_MS = 14 * DAY_MS;

export function generateUsers(
  rng: Rng,
  count: number,
  start: EpochMs,
  end: EpochMs,
  centroids: Float64Array,
): DemoUserModel[] {
  const width = Math.max(4, String(count).length);
  const shares = CATEGORIES.map((c) => c.share);
  const out: DemoUserModel[] = [];
  for (let i = 0; i < count; i++) {
    const country = COUNTRIES[rng.weightedIndex(COUNTRY_WEIGHTS)];
    if (!country) throw new Error('unreachable: weightedIndex stays within COUNTRIES');
    const wantsLapse = rng.chance(LAPSE_SHARE);
    // Lapsing users who sign up during the period do so early enough to be active before they lapse.
    const latestSignup = wantsLapse
      ? end - MIN_SILENCE_AFTER_LAPSE_MS - MIN_ACTIVE_BEFORE_LAPSE_MS
      : end - 7 * DAY_MS;
    const createdAt =
      rng.chance(0.75) || latestSignup <= start
        ? Math.floor(start - rng.uniform(1, 730) * DAY_MS)
        : Math.floor(rng.uniform(start, latestSignup));
    const lapseAt = wantsLapse ? lapseTime(rng, start, end, createdAt) : null;

    const favouriteCount = rng.weightedIndex([0.35, 0.4, 0.25]) + 1;
    const favourites: number[] = [];
    const pool = [...shares];
    for (let f = 0; f < favouriteCount; f++) {
      const c = rng.weightedIndex(pool);
      favourites.push(c);
      pool[c] = 0;
    }
    // Exponential draws normalised = a flat Dirichlet: some users are single-minded, some split evenly.
    const raw = favourites.map(() => rng.exponential(1) + 0.05);
    const total = raw.reduce((a, b) => a + b, 0);
    const weighted = favourites
      .map((c, f) => ({ c, w: (raw[f] ?? 0) / total }))
      .sort((a, b) => b.w - a.w || a.c - b.c);

    const vector = new Float64Array(LATENT_DIMS);
    for (let d = 0; d < LATENT_DIMS; d++) {
      let v = 0.15 * rng.normal();
      for (const { c, w } of weighted) v += w * (centroids[c * LATENT_DIMS + d] ?? 0);
      vector[d] = v;
    }
    normalize(vector);

    const peakHour = (PEAK_HOURS[rng.weightedIndex(PEAK_WEIGHTS)] ?? 20) + rng.normal();
    // Drawn in this order for every user alike (the stream stays in step); heavy users override some.
    const signupChannel = CHANNELS[rng.weightedIndex(CHANNEL_WEIGHTS)] ?? 'organic';
    const ageBand = AGE_BANDS[rng.weightedIndex(AGE_WEIGHTS)] ?? '25-34';
    const device = DEVICES[rng.weightedIndex(DEVICE_WEIGHTS)] ?? 'mobile';
    const sessionsPerDay = Math.min(2, rng.lognormal(Math.log(0.18), 0.7));
    const heavy = (i + 1) % HEAVY_EVERY === 0;
    out.push({
      user: {
        id: `user-${String(i + 1).padStart(width, '0')}`,
        traits: {
          country: country.code,
          signup_channel: signupChannel,
          age_band: ageBand,
        },
        createdAt: heavy ? Math.min(createdAt, start - DAY_MS) : createdAt,
        updatedAt: heavy ? Math.min(createdAt, start - DAY_MS) : createdAt,
      },
      country: country.code,
      utcOffsetHours: country.utcOffsetHours,
      favourites: weighted.map((x) => x.c),
      favouriteWeights: weighted.map((x) => x.w),
      vector,
      device,
      peakHour,
      // Heavy-tailed: most users visit every few days, a few nearly daily, heavy users many times a day.
      sessionsPerDay: heavy ? HEAVY_SESSIONS_PER_DAY : sessionsPerDay,
      lapseAt: heavy ? null : lapseAt,
      heavy,
    });
  }
  return out;
}

/** The start of a period day at least a week after the user's first active day and two weeks before the end. */
function lapseTime(rng: Rng, start: EpochMs, end: EpochMs, createdAt: EpochMs): EpochMs | null {
  const firstActive = Math.max(start, createdAt);
  const firstDay = Math.ceil((firstActive + MIN_ACTIVE_BEFORE_LAPSE_MS - start) / DAY_MS);
  const lastDay = Math.floor((end - MIN_SILENCE_AFTER_LAPSE_MS - start) / DAY_MS);
  if (lastDay < firstDay) return null; // a period too short to lapse in
  return start + rng.int(firstDay, lastDay) * DAY_MS;
}
