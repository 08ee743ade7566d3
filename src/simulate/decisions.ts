import {
  deriveSeed,
  Rng,
  CHECKLISTS,
  DISCOUNT_BOUNDS,
  drawOffer,
  drawRole,
  expectedReward,
  firstSession,
  optimalAction,
  OFFERS,
  POINT_ACTIONS,
  ROLES,
  uniformValue,
  COMPLETION,
  type DemoPoint,
  type PricedItem,
  type Role,
} from '../demo/index.js';
import type { EpochMs, JsonValue } from '../shared/types.js';
import type { SimulatedClock } from './driver.js';
import { inParallel, type ApiClient } from './http.js';

/**
 * `attune simulate --scenario decisions`: new users of the demo shop, each with a hidden role, arrive
 * through the HTTP API. Their first events go to `/v1/events`; then one decision point orders their
 * onboarding checklist and another picks their discount, both from what the feature store made of those
 * events. The simulation draws each outcome from the role's true probabilities for the chosen action and
 * reports it back (an explicit reward for the checklist, a `purchased` event carrying the order's margin
 * for the offer), so it can say, window by window, how close the learned policies come to the optimal one
 * (which knows every role) and to a uniform one.
 */

export const DEMO_POINTS: readonly DemoPoint[] = ['onboarding', 'offer'];

/** A learner as a decision point's definition takes it. */
export type LearnerBody = { readonly kind: 'linucb' | 'thompson' | 'epsilon_greedy' } & Readonly<
  Record<string, number | string>
>;

/**
 * Tuned on the simulation's seed 1 (10,000 users; LinUCB with alpha 1 to 20, Thompson sampling, and
 * epsilon-greedy tried). Alpha is in reward units: the checklist's reward is 0 or 1, the offer's an order's
 * margin (0, or about 10–20), and the offer's decisive difference is small beside that noise (a buyer's 5%
 * discount costs 1.6 of 12.8 a decision): with alpha 3, or Thompson sampling, the offer settled on the 5%
 * discount for a quarter of the buyers; alpha 5 and 10 did not (10 kept, the safer side of a near tie).
 * The floors keep every action's propensity at 0.4–0.5% or more for later off-policy evaluation, and cost
 * less than the 5% the guide's example uses (docs/guide.md) (one point less of optimal at both points).
 */
export const DEFAULT_DECISION_LEARNERS: Readonly<Record<DemoPoint, LearnerBody>> = {
  onboarding: { kind: 'linucb', alpha: 1, floor: 0.02 },
  offer: { kind: 'linucb', alpha: 10, floor: 0.02 },
};

/** What the points read of a user: their first session as the feature store counts it. */
const USER_FEATURES = ['views_1d', 'carts_1d', 'purchases_1d', 'usual_price'] as const;

/** The offer's reward window; every simulated purchase falls inside it. */
const OFFER_WINDOW_MS = 20 * 60_000;
/** Simulated time between two batches of arriving users. */
const STEP_MS = 2 * 60_000;

/** The bodies of `POST /v1/decision-points` for the two demo points. */
export function decisionPointBodies(
  learners: Readonly<Record<DemoPoint, LearnerBody>> = DEFAULT_DECISION_LEARNERS,
): Record<DemoPoint, { [key: string]: JsonValue }> {
  const features = USER_FEATURES.map((name) => ({ source: 'user', name, transform: 'log1p' }));
  return {
    onboarding: {
      id: 'onboarding',
      description: 'the order of the onboarding checklist, from the first events',
      actions: Object.entries(CHECKLISTS).map(([id, steps]) => ({ id, payload: { steps: [...steps] } })),
      features,
      learner: { ...learners.onboarding },
      default_action: 'profile_first',
      // The app reports 1 when the checklist is completed and 0 when it is abandoned.
      reward: { source: 'explicit', window: '1h' },
    },
    offer: {
      id: 'offer',
      description: 'a bounded discount, learned on the margin of the orders it brings',
      actions: Object.entries(OFFERS).map(([id, discount]) => ({ id, params: { discount_pct: discount } })),
      parameters: { discount_pct: { ...DISCOUNT_BOUNDS } },
      features,
      learner: { ...learners.offer },
      default_action: 'none',
      reward: { source: 'event', event: 'purchased', window: '20m', value: 'sum', property: 'margin' },
    },
  };
}

export interface DecisionDriveOptions {
  readonly api: ApiClient;
  readonly clock: SimulatedClock;
  readonly seed: number;
  /** New users, each decided once at each point. */
  readonly users: number;
  /** Decisions per reported window. */
  readonly window: number;
  /** Users arriving per simulated step (`STEP_MS`). */
  readonly batch: number;
  readonly concurrency: number;
  /** The shop's catalog, sorted by price: what first sessions view. */
  readonly catalog: readonly PricedItem[];
  readonly onWindow?: (point: DemoPoint, window: WindowReport) => void;
}

/** One window of decisions at a point, every value the mean per decision unless said otherwise. */
export interface WindowReport {
  /** Decisions before the window, and in it. */
  readonly from: number;
  readonly decisions: number;
  /** What the users answered: completions, or margin. */
  readonly mean_reward: number;
  /** The true expected reward of the chosen actions (the draws' noise taken out). */
  readonly expected: number;
  /** What the optimal policy (knowing each role) and a uniform one would expect on the same users. */
  readonly optimal: number;
  readonly uniform: number;
  readonly ratio: number;
  readonly uniform_ratio: number;
  /** Cumulative Σ (optimal − expected) since the first decision, for the points' policy and a uniform one. */
  readonly regret: number;
  readonly uniform_regret: number;
  /** Per role: the share of its decisions in the window that chose each action. */
  readonly shares: Readonly<Record<Role, Readonly<Record<string, number>>>>;
}

export interface PointOutcome {
  readonly point: DemoPoint;
  readonly windows: readonly WindowReport[];
  /** `GET /v1/decision-points/:id`'s status after the run (every reward window closed). */
  readonly status: PointStatusJson;
}

export interface DecisionDriveOutcome {
  readonly users: number;
  readonly roles: Readonly<Record<Role, number>>;
  readonly points: readonly PointOutcome[];
}

export interface PointStatusJson {
  readonly decisions: number;
  readonly closed: number;
  readonly open: number;
  readonly mean_reward: number | null;
  readonly learner: { readonly kind: string; readonly updates: number; readonly saved_version: number };
}

interface DecisionReply {
  readonly decision_id: string;
  readonly action: { readonly id: string; readonly params: Readonly<Record<string, number>> };
  readonly policy: string;
}

/** Sums of one point's current window, and its cumulative regrets. */
class PointTally {
  readonly windows: WindowReport[] = [];
  private from = 0;
  private n = 0;
  private reward = 0;
  private expected = 0;
  private optimal = 0;
  private uniform = 0;
  private regret = 0;
  private uniformRegret = 0;
  private counts = emptyCounts();

  constructor(readonly point: DemoPoint) {}

  add(role: Role, action: string, reward: number): void {
    const expected = expectedReward(this.point, role, action);
    const optimal = optimalAction(this.point, role).value;
    const uniform = uniformValue(this.point, role);
    this.n++;
    this.reward += reward;
    this.expected += expected;
    this.optimal += optimal;
    this.uniform += uniform;
    this.regret += optimal - expected;
    this.uniformRegret += optimal - uniform;
    const counts = this.counts[role];
    counts[action] = (counts[action] ?? 0) + 1;
  }

  /** Closes the window (when it holds anything) and returns its report. */
  close(): WindowReport | null {
    if (this.n === 0) return null;
    const report: WindowReport = {
      from: this.from,
      decisions: this.n,
      mean_reward: this.reward / this.n,
      expected: this.expected / this.n,
      optimal: this.optimal / this.n,
      uniform: this.uniform / this.n,
      ratio: this.expected / this.optimal,
      uniform_ratio: this.uniform / this.optimal,
      regret: this.regret,
      uniform_regret: this.uniformRegret,
      shares: shares(this.point, this.counts),
    };
    this.windows.push(report);
    this.from += this.n;
    this.n = this.reward = this.expected = this.optimal = this.uniform = 0;
    this.counts = emptyCounts();
    return report;
  }
}

const emptyCounts = (): Record<Role, Record<string, number>> => ({ buyer: {}, browser: {}, deal_hunter: {} });

function shares(point: DemoPoint, counts: Record<Role, Record<string, number>>) {
  const out = emptyCounts();
  for (const role of ROLES) {
    const total = Object.values(counts[role]).reduce((a, b) => a + b, 0);
    for (const action of POINT_ACTIONS[point])
      out[role][action] = total === 0 ? 0 : (counts[role][action] ?? 0) / total;
  }
  return out;
}

/** An event as `POST /v1/events` takes it. */
type EventBody = { readonly timestamp: EpochMs } & { readonly [key: string]: JsonValue };

interface Arrival {
  readonly index: number;
  readonly id: string;
  readonly role: Role;
  readonly device: string;
  /** The user's own random stream: outcomes do not depend on the order requests complete in. */
  readonly rng: Rng;
}

const EVENT_BATCH = 1_000;

/**
 * Creates the two points and drives `users` new users through them, `batch` at a time every simulated
 * `STEP_MS`. Each batch: the clock moves on, the purchases that have come due and the batch's first
 * sessions (all before the clock) are posted, both points decide for every user, the checklist's outcome
 * is posted as an explicit reward, and an offer that converts becomes a `purchased` event within the
 * offer's window, posted once the clock has passed it. Rewards of the offer are learned as its windows
 * close (the engine's sweep, on its clock), so the offer learns `OFFER_WINDOW_MS` behind the traffic.
 */
export async function driveDecisions(
  options: DecisionDriveOptions,
  learners: Readonly<Record<DemoPoint, LearnerBody>> = DEFAULT_DECISION_LEARNERS,
): Promise<DecisionDriveOutcome> {
  const { api, clock, seed, catalog } = options;
  if (catalog.length === 0) throw new RangeError('the simulation needs a catalog');
  const bodies = decisionPointBodies(learners);
  for (const point of DEMO_POINTS) await api.post('/v1/decision-points', bodies[point]);

  const tallies = { onboarding: new PointTally('onboarding'), offer: new PointTally('offer') };
  const roles: Record<Role, number> = { buyer: 0, browser: 0, deal_hunter: 0 };
  /** Purchases not yet posted, in time order (each batch appends later times than the ones before). */
  const pending: EventBody[] = [];
  const width = String(options.users).length;
  let eventNumber = 0;
  const eventId = () => `sim-decisions-${seed}-${++eventNumber}`;
  const start = clock.now();
  const closeWindows = () => {
    for (const point of DEMO_POINTS) {
      const report = tallies[point].close();
      if (report !== null) options.onWindow?.(point, report);
    }
  };

  for (let first = 0, step = 1; first < options.users; first += options.batch, step++) {
    const now = start + step * STEP_MS;
    clock.set(now);
    const arrivals: Arrival[] = [];
    const events: EventBody[] = takeDue(pending, now);
    for (let u = first; u < Math.min(options.users, first + options.batch); u++) {
      const rng = new Rng(deriveSeed(seed, 'decision-user', u));
      const role = drawRole(rng);
      roles[role]++;
      const session = firstSession(role, rng, catalog);
      const id = `new-${String(u + 1).padStart(width, '0')}`;
      arrivals.push({ index: u, id, role, device: session.device, rng });
      // The session ends before the clock: the feature store counts events strictly before `now`.
      const sessionStart = now - session.durationMs - 30_000;
      for (const e of session.events) {
        const order: { [key: string]: JsonValue } =
          e.event === 'purchased' ? { quantity: 1, value: e.price, revenue: e.price } : {};
        events.push({
          event_id: eventId(),
          event: e.event,
          user_id: id,
          item_id: e.itemId,
          timestamp: sessionStart + e.offsetMs,
          context: { device: session.device },
          properties: { price: e.price, ...order },
        });
      }
    }
    await postEvents(api, events);

    const replies = await inParallel(arrivals, options.concurrency, async (user) => {
      const body = { user_id: user.id, context: { device: user.device, page: 'welcome' } };
      const onboarding = await api.post<DecisionReply>('/v1/decisions/onboarding', body);
      const offer = await api.post<DecisionReply>('/v1/decisions/offer', body);
      return { onboarding, offer };
    });

    const rewards: { readonly decision: string; readonly value: number }[] = [];
    arrivals.forEach((user, k) => {
      const { onboarding, offer } = replies[k]!;
      const completed = user.rng.chance(COMPLETION[user.role][onboarding.action.id] ?? 0) ? 1 : 0;
      rewards.push({ decision: onboarding.decision_id, value: completed });
      tallies.onboarding.add(user.role, onboarding.action.id, completed);

      const discount = offer.action.params['discount_pct'] ?? 0;
      const { order } = drawOffer(user.role, discount, user.rng);
      tallies.offer.add(user.role, offer.action.id, order?.margin ?? 0);
      if (order !== null) {
        pending.push({
          event_id: eventId(),
          event: 'purchased',
          user_id: user.id,
          // Within the offer's window, never at its very edges.
          timestamp: now + Math.floor(user.rng.uniform(60_000, OFFER_WINDOW_MS - 60_000)),
          context: { device: user.device },
          properties: {
            value: order.revenue,
            revenue: order.revenue,
            margin: order.margin,
            list_value: order.listValue,
            discount_pct: discount,
            currency: 'USD',
          },
        });
      }
      if ((user.index + 1) % options.window === 0) closeWindows();
    });
    pending.sort((a, b) => a.timestamp - b.timestamp);
    await inParallel(rewards, options.concurrency, (r) =>
      api.post('/v1/decisions/onboarding/reward', { decision_id: r.decision, value: r.value }),
    );
  }
  closeWindows();

  // The last purchases, then past the longest window (the checklist's hour): the sweep closes the rest.
  const last = pending.at(-1)?.timestamp ?? clock.now();
  clock.set(Math.max(clock.now(), last + 1));
  await postEvents(api, takeDue(pending, clock.now()));
  clock.set(clock.now() + 60 * 60_000 + 1_000);
  const status = await settled(api);
  return {
    users: options.users,
    roles,
    points: DEMO_POINTS.map((point) => ({ point, windows: tallies[point].windows, status: status[point] })),
  };
}

/** Removes and returns the events at or before `now` from a time-ordered queue. */
function takeDue(queue: EventBody[], now: EpochMs): EventBody[] {
  let due = 0;
  while (due < queue.length && queue[due]!.timestamp <= now) due++;
  return queue.splice(0, due);
}

async function postEvents(api: ApiClient, events: readonly EventBody[]): Promise<void> {
  for (let from = 0; from < events.length; from += EVENT_BATCH) {
    const batch = events.slice(from, from + EVENT_BATCH);
    const reply = await api.post<{ rejected: number; errors: unknown[] }>('/v1/events', { events: batch });
    if (reply.rejected > 0)
      throw new Error(`the API rejected simulated events: ${JSON.stringify(reply.errors).slice(0, 500)}`);
  }
}

/**
 * The points' status once every decision has closed. The engine sweeps expired windows every second of
 * wall time (and on any decision call once its clock has moved), so this waits for the sweep, up to 30 s.
 */
async function settled(api: ApiClient): Promise<Record<DemoPoint, PointStatusJson>> {
  const read = async () => {
    const out = {} as Record<DemoPoint, PointStatusJson>;
    for (const point of DEMO_POINTS)
      out[point] = (await api.get<{ status: PointStatusJson }>(`/v1/decision-points/${point}`)).status;
    return out;
  };
  const deadline = performance.now() + 30_000;
  for (;;) {
    const status = await read();
    const done = DEMO_POINTS.every((p) => status[p].open === 0 && status[p].closed === status[p].decisions);
    if (done || performance.now() > deadline) return status;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
