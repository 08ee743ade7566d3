import type { TrackedEvent } from '../../events/types.js';
import type { Store } from '../../store/types.js';
import { isActivity } from './evaluate.js';
import type { PopulationSource } from './population.js';
import { localHourOfWeek } from './hours.js';
import { activeHourStarts, bestHours, hourCounts, userShares, type HourModelParams } from './model.js';
import { DEFAULT_SEND_POLICY, shouldSendNow, type SendDecision, type SendPolicy } from './policy.js';

const HOUR_MS = 3_600_000;

export interface NotificationTimingOptions {
  /** Rebuild the population after this long (default 1 hour). */
  readonly refreshMs?: number;
  /**
   * Users whose hours are kept during the scan to choose the parameters on (default 1,000): about 1 s of
   * search per 1,000 users with MovieLens-sized histories (144 settings), in the population's worker.
   */
  readonly sampleUsers?: number;
  /** A user's most recent events read per request (default 5,000). */
  readonly userEventLimit?: number;
}

export interface Population {
  readonly shares: Float64Array;
  readonly params: HourModelParams;
  readonly how: string;
  readonly builtAt: number;
}

export interface TimingAnswer {
  readonly bestHours: readonly {
    readonly hourOfWeek: number;
    readonly utcHourOfWeek: number;
    readonly share: number;
  }[];
  readonly sendNow: SendDecision;
  readonly userEvents: number;
  readonly params: HourModelParams;
}

/**
 * Serving side of notification timing. The population (hour-of-week shares of every user's active hours)
 * and the model's parameters come from one full scan of the event log, at the first request and again
 * after `refreshMs`: O(events) reading, O(users) memory for the per-user dedupe of active hours plus the
 * hours of a sample of users (the validation the parameters are chosen on, as `attune notify evaluate`
 * does). Requests during a rebuild keep the previous population. A request reads only its user's events.
 */
export class NotificationTiming {
  private population: Population | null = null;
  private building: Promise<Population> | null = null;
  private readonly refreshMs: number;
  private readonly sampleUsers: number;
  private readonly userEventLimit: number;

  /**
   * `source` builds the population from the log as of a time: `populationInWorker` in the engine (the scan
   * and the parameter search off the serving thread), `populationFromStore` directly in tests.
   */
  constructor(
    private readonly store: Store,
    private readonly now: () => number,
    private readonly source: PopulationSource,
    options: NotificationTimingOptions = {},
  ) {
    this.refreshMs = options.refreshMs ?? HOUR_MS;
    this.sampleUsers = options.sampleUsers ?? 1_000;
    this.userEventLimit = options.userEventLimit ?? 5_000;
  }

  /** The population, built on first use and rebuilt in the background once stale. */
  async currentPopulation(): Promise<Population> {
    const current = this.population;
    if (current !== null && this.now() - current.builtAt < this.refreshMs) return current;
    this.building ??= this.build().finally(() => {
      this.building = null;
    });
    if (current === null) return this.building;
    // A failed refresh keeps serving the old population (the next stale request retries); nobody awaits
    // this promise, so its failure must not become an unhandled rejection.
    this.building.catch(() => undefined);
    return current;
  }

  private async build(): Promise<Population> {
    const builtAt = this.now();
    const built = await this.source(builtAt, this.sampleUsers);
    const population = { ...built, builtAt };
    this.population = population;
    return population;
  }

  /**
   * The user's best hours (local to `offsetMinutes`) and whether to send now; null for a user with no
   * events and no stored traits.
   */
  async answer(
    userId: string,
    offsetMinutes: number,
    policy: SendPolicy = DEFAULT_SEND_POLICY,
    k = 3,
  ): Promise<TimingAnswer | null> {
    const now = this.now();
    const events: TrackedEvent[] = await this.store.userEvents(userId, { limit: this.userEventLimit });
    if (events.length === 0 && (await this.store.getUser(userId)) === null) return null;
    const population = await this.currentPopulation();
    const activity = Float64Array.from(
      events.filter((e) => isActivity(e.name) && e.timestamp <= now).map((e) => e.timestamp),
    ).sort();
    const counts = hourCounts(activeHourStarts(activity), population.params.halfLifeDays, now);
    const shares = userShares(counts, population.shares, population.params);
    return {
      bestHours: bestHours(shares, k).map((h) => ({
        hourOfWeek: localHourOfWeek(h.hourOfWeek, offsetMinutes),
        utcHourOfWeek: h.hourOfWeek,
        share: h.share,
      })),
      sendNow: shouldSendNow(events, now, offsetMinutes, policy),
      userEvents: activity.length,
      params: population.params,
    };
  }
}
