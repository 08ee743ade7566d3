import type { Clock } from '../shared/clock.js';
import type { EpochMs, JsonValue } from '../shared/types.js';
import { ApiClient, inParallel } from './http.js';
import { orderValueMultiplier, type Scenario } from './scenario.js';
import { DAY_MS, HOUR_MS, react, visitHour, visitTimes, type Population, type Shopper } from './shoppers.js';

/** A clock the simulation moves: the engine reads it, the driver sets it hour by simulated hour. */
export class SimulatedClock {
  private time: EpochMs;
  readonly now: Clock = () => this.time;

  constructor(start: EpochMs) {
    this.time = start;
  }

  set(time: EpochMs): void {
    if (time < this.time) throw new Error('the simulated clock only moves forward');
    this.time = time;
  }
}

export interface DriveOptions {
  readonly api: ApiClient;
  readonly clock: SimulatedClock;
  readonly population: Population;
  readonly scenario: Scenario;
  readonly seed: number;
  readonly days: number;
  /** Requests in flight at once. */
  readonly concurrency: number;
  /** Length of each served list. */
  readonly listLength: number;
  readonly onDay?: (day: number, counts: DriveCounts) => void;
}

/** What the shoppers did, counted by the driver: what the reports must agree with. */
export interface DriveCounts {
  visits: number;
  clicks: number;
  purchases: number;
  events: number;
  /** Per arm: `holdout`, `personalized` (in no variant of the scenario), or the variant. */
  readonly arms: Record<string, ArmCounts>;
}

export interface ArmCounts {
  lists: number;
  /** Distinct shoppers served a list in the arm. */
  shoppers: number;
  /** Revenue of the arm's purchases, all made after the shopper's first list. */
  revenue: number;
}

interface ServedList {
  readonly request_id: string;
  readonly holdout: boolean;
  readonly experiments: readonly { experiment: string; variant: string; served: boolean }[];
  readonly items: readonly { item_id: string }[];
}

interface Visit {
  readonly shopper: Shopper;
  /** Offset of the visit within its hour; the list is requested (and exposed) at the hour's start. */
  readonly offsetMs: number;
}

/** The largest batch the driver posts (the API takes up to 1,000 events). */
const EVENT_BATCH = 500;

/**
 * Drives the shoppers through the running API over simulated days, an hour at a time. Within an hour the
 * clock stands at the hour's start while every visiting shopper asks for a list (requests in parallel, each
 * exposure logged at that time), then moves to the hour's end while the events of those visits (a page
 * view, clicks carrying the list's `request_id`, purchases with their revenue) are posted, all timed within
 * the hour. So every list an hour serves sees every event of the hours before it, and nothing of its own hour.
 */
export async function drive(options: DriveOptions): Promise<DriveCounts> {
  const { api, clock, population, scenario, seed } = options;
  const counts: DriveCounts = { visits: 0, clicks: 0, purchases: 0, events: 0, arms: {} };
  const served = new Set<string>();
  const start = clock.now();
  let eventNumber = 0;
  const eventId = () => `sim-${seed}-${++eventNumber}`;

  for (let day = 0; day < options.days; day++) {
    const byHour: Visit[][] = Array.from({ length: 24 }, () => []);
    for (const shopper of population.shoppers) {
      const hour = visitHour(shopper);
      if (hour >= 0)
        byHour[hour]!.push({ shopper, offsetMs: Math.floor(shopper.rng.uniform(0, 40 * 60_000)) });
    }
    for (let hour = 0; hour < 24; hour++) {
      const hourStart = start + day * DAY_MS + hour * HOUR_MS;
      clock.set(hourStart);
      const visits = byHour[hour]!;
      const lists = await inParallel(visits, options.concurrency, ({ shopper }) =>
        api.get<ServedList>(
          `/v1/recommendations?user_id=${encodeURIComponent(shopper.id)}&n=${options.listLength}`,
        ),
      );
      const events: JsonValue[] = [];
      visits.forEach((visit, v) => {
        const list = lists[v]!;
        const variant = list.experiments.find(
          (e) => e.experiment === scenario.experiment && e.served,
        )?.variant;
        const arm = (counts.arms[list.holdout ? 'holdout' : (variant ?? 'personalized')] ??= {
          lists: 0,
          shoppers: 0,
          revenue: 0,
        });
        arm.lists++;
        // Assignment is sticky, so a shopper's arm is the same on every visit.
        if (!served.has(visit.shopper.id)) {
          served.add(visit.shopper.id);
          arm.shoppers++;
        }
        counts.visits++;
        const at = hourStart + visit.offsetMs;
        const reaction = react(
          visit.shopper,
          list.items.map((i) => i.item_id),
          population,
        );
        const times = visitTimes(at, reaction);
        const base = { user_id: visit.shopper.id, context: { device: visit.shopper.device } };
        events.push({ ...base, event_id: eventId(), event: 'page_viewed', timestamp: at + 1_000 });
        reaction.clicked.forEach((item, k) =>
          events.push({
            ...base,
            event_id: eventId(),
            event: 'product_clicked',
            item_id: item,
            timestamp: times.clicks[k]!,
            properties: { request_id: list.request_id },
          }),
        );
        const multiplier = orderValueMultiplier(scenario, variant);
        reaction.bought.forEach(({ item, quantity }, k) => {
          const price = population.itemPrice.get(item) ?? 0;
          const revenue = price * quantity * multiplier;
          arm.revenue += revenue;
          events.push({
            ...base,
            event_id: eventId(),
            event: 'purchased',
            item_id: item,
            timestamp: times.purchases[k]!,
            properties: {
              price,
              quantity,
              currency: 'USD',
              revenue,
              request_id: list.request_id,
            },
          });
        });
        counts.clicks += reaction.clicked.length;
        counts.purchases += reaction.bought.length;
      });
      clock.set(hourStart + HOUR_MS);
      for (let from = 0; from < events.length; from += EVENT_BATCH) {
        const reply = await api.post<{ rejected: number; errors: unknown[] }>('/v1/events', {
          events: events.slice(from, from + EVENT_BATCH),
        });
        if (reply.rejected > 0)
          throw new Error(`the API rejected simulated events: ${JSON.stringify(reply.errors)}`);
      }
      counts.events += events.length;
    }
    options.onDay?.(day + 1, counts);
  }
  return counts;
}
