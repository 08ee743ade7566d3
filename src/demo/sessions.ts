import type { TrackedEvent } from '../events/types.js';
import type { EpochMs, Scalar, ScalarRecord } from '../shared/types.js';
import type { DemoCatalog } from './catalog.js';
import { LATENT_DIMS, dot } from './latent.js';
import { Cumulative, type Rng } from './random.js';
import { DAY_MS, HOUR_MS, MINUTE_MS, SECOND_MS } from './time.js';
import type { Device, DemoUserModel } from './users.js';

/** The event names the demo shop sends. */
export const DEMO_EVENTS = {
  view: 'product_viewed',
  cart: 'added_to_cart',
  purchase: 'purchased',
  dismiss: 'dismissed',
  rate: 'rated',
} as const;

/** An event whose `eventId` is filled in once all events are sorted (the id follows time order). */
export type DraftEvent = { -readonly [K in keyof TrackedEvent]: TrackedEvent[K] };

/** Shared by every event without properties: one object instead of ~100k empty ones. */
const NO_PROPERTIES: ScalarRecord = Object.freeze({});

/** How sharply views follow taste: exp(TASTE_SHARPNESS · cosine) against the item's base popularity. */
const TASTE_SHARPNESS = 5;
/** Chance that the next view stays in the category of the last one ("more like this"). */
const COHERENCE = 0.55;
/** Chance that a view ignores taste entirely (home page bestsellers, a friend's link). */
const EXPLORATION = 0.08;
/** Tries at drawing an item that exists and has not expired at the time before scanning for one. */
const DRAW_TRIES = 8;
const DEVICES: readonly Device[] = ['mobile', 'desktop', 'tablet'];
const SESSION_PAGES = ['home', 'search', 'product'] as const;
type Page = (typeof SESSION_PAGES)[number];
const SESSION_PAGE_WEIGHTS = [0.4, 0.35, 0.25];

export interface SimulationPeriod {
  readonly start: EpochMs;
  readonly end: EpochMs;
  readonly days: number;
}

/** Shared, read-only inputs for simulating any user. */
export class ShopSimulation {
  /** Items drawn by popularity alone, for exploration and dismissal candidates. */
  private readonly popular: Cumulative;

  constructor(
    private readonly catalog: DemoCatalog,
    private readonly period: SimulationPeriod,
  ) {
    this.popular = new Cumulative(catalog.popularity);
  }

  /** Appends one user's events (each session in time order) to `out`. */
  simulateUser(model: DemoUserModel, rng: Rng, out: DraftEvent[]): void {
    const { catalog } = this;
    const count = catalog.items.length;
    const affinity = new Float64Array(count);
    const weights = new Float64Array(count);
    for (let i = 0; i < count; i++) {
      const a = dot(model.vector, 0, catalog.vectors, i * LATENT_DIMS);
      affinity[i] = a;
      weights[i] = Math.exp(TASTE_SHARPNESS * a) * (catalog.popularity[i] ?? 0);
    }
    const visitor = new Visitor(catalog, model, rng, affinity, weights, this.popular, out);
    const limit = Math.min(this.period.end, model.lapseAt ?? Infinity);
    let free = Math.max(this.period.start, model.user.createdAt);
    let sessionNumber = 0;
    for (const planned of this.sessionStarts(model, rng)) {
      // Sessions do not overlap: one planned during the previous one waits until it is over.
      const startAt = Math.max(planned, free);
      if (startAt >= limit) break;
      sessionNumber++;
      free = visitor.session(startAt, limit, `${model.user.id}-s${sessionNumber}`) + 10 * MINUTE_MS;
    }
  }

  /**
   * Session start times, day by day: a Poisson count at the user's rate (a bit more at weekends, fading
   * over the two weeks before a lapse so the signal is there to learn), at hours around the user's peak.
   */
  private sessionStarts(model: DemoUserModel, rng: Rng): number[] {
    const { start, days } = this.period;
    const from = Math.max(start, model.user.createdAt);
    const starts: number[] = [];
    for (let d = 0; d < days; d++) {
      const dayStart = start + d * DAY_MS;
      if (dayStart + DAY_MS <= from) continue;
      if (model.lapseAt !== null && dayStart >= model.lapseAt) break;
      const weekday = new Date(dayStart).getUTCDay();
      let rate = model.sessionsPerDay * (weekday === 0 || weekday === 6 ? 1.25 : 1);
      if (model.lapseAt !== null) {
        const daysLeft = (model.lapseAt - dayStart) / DAY_MS;
        if (daysLeft < 14) rate *= 0.3 + (0.7 * daysLeft) / 14;
      }
      const sessions = rng.poisson(rate);
      for (let s = 0; s < sessions; s++) {
        const localHour = rng.chance(0.15) ? rng.uniform(7, 24) : model.peakHour + 1.5 * rng.normal();
        const utcHour = (((localHour - model.utcOffsetHours) % 24) + 24) % 24;
        const at = Math.floor(dayStart + utcHour * HOUR_MS);
        if (at >= from) starts.push(at);
      }
    }
    return starts.sort((a, b) => a - b);
  }
}

/** One user's state while their sessions are simulated. */
class Visitor {
  private readonly taste: Cumulative;
  /** Purchases the user will rate in a later session, oldest first. */
  private readonly unrated: { item: number; at: EpochMs }[] = [];
  private orderNumber = 0;

  constructor(
    private readonly catalog: DemoCatalog,
    private readonly model: DemoUserModel,
    private readonly rng: Rng,
    private readonly affinity: Float64Array,
    private readonly weights: Float64Array,
    private readonly popular: Cumulative,
    private readonly out: DraftEvent[],
  ) {
    this.taste = new Cumulative(weights);
  }

  /**
   * One visit: maybe a dismissal and a rating, then a run of views (each possibly put in the cart) and a
   * checkout of part of the cart. Events at or after `limit` are not emitted, and since time only moves
   * forward within a session, a purchase is never kept without the view before it. Returns the end time.
   */
  session(startAt: EpochMs, limit: EpochMs, sessionId: string): EpochMs {
    const { rng } = this;
    const device = rng.chance(0.85) ? this.model.device : rng.pick(DEVICES);
    const base: ScalarRecord = { device, location: this.model.country, session_id: sessionId };
    // One context object per page per session, shared by its events: far less garbage to collect.
    const contexts: Partial<Record<Page, ScalarRecord>> = {};
    const contextFor = (page: Page | null): ScalarRecord =>
      page === null ? base : (contexts[page] ??= { ...base, page });
    let t = startAt;
    const emit = (name: string, item: number, page: Page | null, properties: ScalarRecord): boolean => {
      if (t >= limit) return false;
      this.out.push({
        eventId: '',
        name,
        userId: this.model.user.id,
        itemId: this.itemId(item),
        timestamp: t,
        receivedAt: t,
        context: contextFor(page),
        properties,
        requestId: null,
      });
      return true;
    };

    if (rng.chance(0.1)) {
      // Shown a few bestsellers on the home page, the user hides the one least to their taste.
      let worst = -1;
      for (let k = 0; k < 3; k++) {
        const candidate = this.drawLive(t, this.popular);
        if (candidate < 0) break;
        if (worst < 0 || (this.affinity[candidate] ?? 0) < (this.affinity[worst] ?? 0)) worst = candidate;
      }
      if (worst >= 0) {
        emit(DEMO_EVENTS.dismiss, worst, 'home', NO_PROPERTIES);
        t += Math.floor(rng.uniform(3, 20) * SECOND_MS);
      }
    }

    const pending = this.unrated[0];
    if (pending && t - pending.at > DAY_MS && this.live(pending.item, t) && rng.chance(0.5)) {
      this.unrated.shift();
      emit(DEMO_EVENTS.rate, pending.item, null, { rating: this.rating(pending.item) });
      t += Math.floor(rng.uniform(10, 60) * SECOND_MS);
    }

    const views = Math.min(15, 1 + rng.poisson(3.5));
    const cart: { item: number; quantity: number }[] = [];
    let last = -1;
    let page: Page = SESSION_PAGES[rng.weightedIndex(SESSION_PAGE_WEIGHTS)] ?? 'home';
    for (let v = 0; v < views && t < limit; v++) {
      let item: number;
      if (last >= 0 && rng.chance(COHERENCE)) {
        item = this.drawInCategory(t, this.catalog.category[last] ?? 0, last);
        page = 'product';
      } else {
        item = rng.chance(EXPLORATION) ? this.drawLive(t, this.popular) : this.drawLive(t, this.taste);
        if (v > 0) page = rng.chance(0.5) ? 'search' : 'home';
      }
      if (item < 0) break; // nothing in the catalog is live yet (only in tiny test catalogs)
      emit(DEMO_EVENTS.view, item, page, NO_PROPERTIES);
      last = item;
      t += Math.floor((3 + rng.exponential(35)) * SECOND_MS);

      const a = this.affinity[item] ?? 0;
      const inCart = cart.some((c) => c.item === item);
      if (
        !inCart &&
        this.catalog.items[item]?.available &&
        rng.chance(0.015 + 0.15 * sigmoid(6 * (a - 0.5)))
      ) {
        const quantity = 1 + rng.weightedIndex([0.85, 0.11, 0.04]);
        if (emit(DEMO_EVENTS.cart, item, 'product', this.money(item, quantity)))
          cart.push({ item, quantity });
        t += Math.floor(rng.uniform(2, 10) * SECOND_MS);
      }
      t += Math.floor((5 + rng.exponential(40)) * SECOND_MS);
    }

    const bought = cart.filter((c) =>
      rng.chance(0.25 + 0.4 * sigmoid(6 * ((this.affinity[c.item] ?? 0) - 0.5))),
    );
    if (bought.length > 0) {
      t += Math.floor(rng.uniform(30, 120) * SECOND_MS);
      this.orderNumber++;
      const orderId = `${sessionId}-o${this.orderNumber}`;
      for (const { item, quantity } of bought) {
        if (!emit(DEMO_EVENTS.purchase, item, null, { ...this.money(item, quantity), order_id: orderId }))
          break;
        // Only some buyers ever leave a rating.
        if (rng.chance(0.3)) this.unrated.push({ item, at: t });
        t += SECOND_MS;
      }
    }
    return t;
  }

  private itemId(index: number): string {
    const item = this.catalog.items[index];
    if (!item) throw new Error(`no item at ${index}`);
    return item.id;
  }

  private money(index: number, quantity: number): Record<string, Scalar> {
    const price = this.catalog.items[index]?.price ?? 0;
    return { price, quantity, currency: 'USD', value: Math.round(price * quantity * 100) / 100 };
  }

  /** 1–5 stars, higher for items closer to the user's taste, with noise. */
  private rating(index: number): number {
    const a = this.affinity[index] ?? 0;
    return Math.min(5, Math.max(1, Math.round(3.2 + 2 * (a - 0.4) + 0.8 * this.rng.normal())));
  }

  /** Whether the item could be seen at `t`: it had been created and had not yet expired. */
  private live(index: number, t: EpochMs): boolean {
    return (
      (this.catalog.liveFrom[index] ?? Infinity) <= t && t < (this.catalog.liveUntil[index] ?? -Infinity)
    );
  }

  /**
   * Draws until an item live at `t` comes up; after a few misses, scans the taste weights instead.
   * -1 when no item is live at `t` at all.
   */
  private drawLive(t: EpochMs, distribution: Cumulative): number {
    for (let k = 0; k < DRAW_TRIES; k++) {
      const item = distribution.draw(this.rng);
      if (this.live(item, t)) return item;
    }
    const masked = this.weights.map((w, i) => (this.live(i, t) ? w : 0));
    return masked.some((w) => w > 0) ? this.rng.weightedIndex(masked) : -1;
  }

  /** A live item of the category by taste weight, other than `except` when there is a choice. */
  private drawInCategory(t: EpochMs, category: number, except: number): number {
    const members = this.catalog.byCategory[category] ?? new Int32Array(0);
    let total = 0;
    for (const i of members) if (i !== except && this.live(i, t)) total += this.weights[i] ?? 0;
    if (total <= 0) return this.drawLive(t, this.taste);
    let r = this.rng.next() * total;
    let chosen = -1;
    for (const i of members) {
      if (i === except || !this.live(i, t)) continue;
      chosen = i;
      r -= this.weights[i] ?? 0;
      if (r < 0) break;
    }
    return chosen;
  }
}

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}
