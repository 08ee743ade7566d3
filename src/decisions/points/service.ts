import { normalizeEventName } from '../../events/index.js';
import type { TrackedEvent } from '../../events/types.js';
import { BatchLog } from '../../shared/batch-log.js';
import { LruMap } from '../../shared/lru.js';
import { timeOrderedId } from '../../shared/time-ordered-id.js';
import type { EpochMs, JsonValue } from '../../shared/types.js';
import type { Store } from '../../store/index.js';
import type { ApprenticeReport } from '../learners/index.js';
import {
  DecisionPointError,
  learnerShape,
  parseDecisionPoint,
  type Action,
  type DecisionPoint,
} from './definition.js';
import { offer, type OfferRequest } from './eligibility.js';
import type { DecisionInputs } from './encoder.js';
import type { GuardrailStatus } from './guardrail.js';
import { LivePoint, type InputNeeds, type LivePointState, type RequestedPolicy } from './live-point.js';
import type { DecisionClose, DecisionOutcome, DecisionPolicy, LoggedDecision } from './log-types.js';

export type { InputNeeds } from './live-point.js';

/** Where the user stands in the experiments for one decision point. */
export type DecisionArm =
  | { readonly kind: 'none' }
  | { readonly kind: 'holdout' }
  /** The user's consent withholds personalization: the default action, not learned from, outside experiments. */
  | { readonly kind: 'withheld' }
  | {
      readonly kind: 'experiment';
      readonly experiment: string;
      readonly variant: string;
      readonly policy: RequestedPolicy;
    };

/** The engine's side of decisions: everything the service reads or tells outside its own state. */
export interface DecisionEnvironment {
  readonly store: Store;
  readonly now: () => EpochMs;
  /** The feature store's numeric user columns (what features may name). */
  readonly userFeatureColumns: readonly string[];
  readonly userInputs: (
    userId: string,
    needs: InputNeeds,
  ) => Promise<Pick<DecisionInputs, 'traits' | 'segment' | 'user'>>;
  /** The user's arm for this point (and records the exposure to it). */
  readonly arm: (userId: string, point: string, at: EpochMs) => Promise<DecisionArm>;
  readonly onError: (where: string, error: unknown) => void;
  /** How long a logged decision may wait for its batch (the impression log's setting). */
  readonly flushMs: number;
}

export interface DecideRequest extends OfferRequest {
  readonly userId: string;
  readonly context: { readonly [key: string]: JsonValue };
}

export interface RankedAction {
  readonly id: string;
  readonly score: number | null;
  readonly probability: number;
}

export interface Decision {
  readonly id: string;
  readonly point: string;
  readonly action: Action;
  readonly propensity: number;
  readonly policy: DecisionPolicy;
  /** Every offered action, most probable first (then by score). */
  readonly ranking: readonly RankedAction[];
  readonly experiment: { readonly id: string; readonly variant: string } | null;
  readonly deadline: EpochMs;
}

export interface PointStatus {
  /**
   * Decisions logged and closed: the log's counts when this instance opened, plus what it logged and closed
   * since (other instances' later decisions are in the log, not here).
   */
  readonly decisions: number;
  readonly closed: number;
  readonly open: number;
  readonly meanReward: number | null;
  /** `savedVersion`: how many times the state was saved (it is saved every 20,000 rewards or 30 s). */
  readonly learner: { readonly kind: string; readonly updates: number; readonly savedVersion: number };
  readonly apprentice: ApprenticeReport | null;
  readonly guardrail: GuardrailStatus | null;
}

export type RewardResult = {
  readonly status: 'recorded';
  readonly reward: number;
  readonly decision: string;
};

/**
 * What closing a decision and learning from it read. An open decision is held as these fields only: the
 * request's context, the offered actions and their probabilities go to the log and nowhere else, so that
 * a held decision (alive for its reward's 50–200 ms, long enough to outlive a young-generation collection
 * or two at 1,000 decisions/s) does not drag the request's parsed body into V8's old generation with it.
 */
type DecisionRef = Pick<
  LoggedDecision,
  'id' | 'point' | 'userId' | 'at' | 'features' | 'action' | 'propensity' | 'policy' | 'deadline'
>;

/** A decision whose reward window is open, as this instance holds it. */
interface OpenDecision {
  readonly decision: DecisionRef;
  /** Its place in its point's deadline queue, emptied when the decision leaves memory. */
  readonly slot: DeadlineSlot;
  /** Σ of the reward property over attributed events (`value: "sum"`). */
  sum: number;
  hits: number;
}

/**
 * A place in a deadline queue. It outlives its decision (until the queue's head passes it or the queue is
 * compacted) but holds only the deadline once the decision is closed: a decision, with its context and
 * feature row, is some kilobytes and most close within a second, while compaction came every few seconds
 * at 1,000 rewards/s. Whatever holds a decision that long moves it into V8's old generation, whose
 * collections (traced with `perf sched` under the decide bench, 2026-12-06) took both cores for tens of ms.
 */
interface DeadlineSlot {
  readonly deadline: EpochMs;
  held: OpenDecision | null;
}

type LogOp = { readonly append: LoggedDecision } | { readonly close: DecisionClose };

/**
 * A point's held decisions in the order they were made: their deadlines come in the same order. The slots
 * of closed ones stay in it, empty, until the head passes them or it is compacted (`dead` of them).
 */
interface DeadlineQueue {
  items: DeadlineSlot[];
  head: number;
  dead: number;
}

/** A queue is compacted once it holds more than this many empty slots, and more empty than held. */
const COMPACT_DEAD = 4_096;

const SWEEP_BATCH = 1_000;
/**
 * Learner state is saved every this many rewards or `SAVE_INTERVAL_MS`: a save serialises every model
 * (~0.6 MB for 20 actions × 30 features) on the serving thread, so not every second at 1,000 rewards/s.
 */
const SAVE_EVERY = 20_000;
const SAVE_INTERVAL_MS = 30_000;
const SWEEP_INTERVAL_MS = 1_000;
/**
 * Decisions this instance does not hold (evicted, or made before a restart) are closed from the log this
 * often, a little after their deadline, so that the held ones are closed from memory first.
 */
const LOG_SWEEP_INTERVAL_MS = 60_000;
const LOG_SWEEP_GRACE_MS = 5_000;
/** Open decisions held for attribution; beyond it the oldest close from the log alone (default reward). */
const MAX_OPEN = 500_000;
const REMEMBER_CLOSED = 100_000;

export const stateKey = (point: string): string => `decision-point/${point}`;

/**
 * Decision points: their definitions (stored under compare-and-set), the live learners, the decision log
 * and the rewards. Deciding never waits for the store: the decision is logged in batches (appends and the
 * closes of rewards in one ordered queue, committed off the serving thread where the store can), rewards
 * for decisions this instance holds are learned at once, and windows that end without a reward are closed
 * from memory each second of the engine's clock (checked by a timer and by every call, so a simulated clock
 * works too), and, for decisions this instance does not hold, from the log each minute. Learner state is
 * saved to the store's metadata, versioned, every 20,000 rewards or 30 s and on close, and restored on open.
 */
export class DecisionPoints {
  private readonly points = new Map<string, LivePoint>();
  private readonly open = new Map<string, OpenDecision>();
  /** Per user, ids of their open decisions, oldest first (stale ids are skipped when read). */
  private readonly byUser = new Map<string, string[]>();
  private readonly closed = new LruMap<string, DecisionOutcome>(REMEMBER_CLOSED);
  private readonly deadlines = new Map<string, DeadlineQueue>();
  /** Per point: decisions logged, closed, and Σ reward (the log's at open, plus this instance's since). */
  private readonly counts = new Map<string, { decisions: number; closed: number; rewardSum: number }>();
  private readonly saved = new Map<string, number>();
  private readonly log: BatchLog<LogOp>;
  private readonly timers: NodeJS.Timeout[] = [];
  private sweeping: Promise<void> | null = null;
  private nextSweepAt = 0;
  private nextLogSweepAt = 0;

  private constructor(private readonly env: DecisionEnvironment) {
    this.log = new BatchLog((ops) => this.writeOps(ops), {
      flushMs: env.flushMs,
      onError: (error) => env.onError('decision-log', error),
      maxBacklog: 200_000,
    });
  }

  static async open(
    env: DecisionEnvironment,
    options: { readonly timers?: boolean } = {},
  ): Promise<DecisionPoints> {
    const service = new DecisionPoints(env);
    for (const stored of await env.store.listDecisionPoints()) {
      const point = stored.body as unknown as DecisionPoint;
      const state = await service.savedState(point);
      service.points.set(point.id, new LivePoint(point, state));
      // Counted once here from the log, then kept by this instance: the status never scans the log.
      service.counts.set(point.id, { ...(await env.store.decisionStats(point.id)) });
    }
    if (options.timers !== false) {
      service.timers.push(
        setInterval(() => service.sweepIfDue(env.now()), SWEEP_INTERVAL_MS).unref(),
        setInterval(() => void service.saveAll(false), SAVE_INTERVAL_MS).unref(),
      );
    }
    return service;
  }

  // --- definitions --------------------------------------------------------------------------------

  list(): DecisionPoint[] {
    return [...this.points.values()].map((p) => p.definition).sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  get(id: string): DecisionPoint {
    return this.live(id).definition;
  }

  async status(id: string): Promise<PointStatus> {
    const live = this.live(id);
    // Windows that ended are closed before counting, so that the status is current on any clock.
    this.closeExpiredHeld(this.env.now());
    const stats = this.counts.get(id) ?? { decisions: 0, closed: 0, rewardSum: 0 };
    const queue = this.deadlines.get(id);
    // Every held decision of the point is in its queue, beyond the head, and not among the dead.
    const open = queue === undefined ? 0 : queue.items.length - queue.head - queue.dead;
    return {
      decisions: stats.decisions,
      closed: stats.closed,
      open,
      meanReward: stats.closed > 0 ? stats.rewardSum / stats.closed : null,
      learner: {
        kind: live.definition.learner.kind,
        updates: live.learner.updates,
        savedVersion: this.saved.get(id) ?? 0,
      },
      apprentice: live.apprenticeReport,
      guardrail: live.guardrailStatus,
    };
  }

  async create(input: unknown): Promise<DecisionPoint> {
    const point = parseDecisionPoint(input, this.context());
    if (!(await this.env.store.saveDecisionPoint({ id: point.id, revision: 1, body: toJson(point) }, null))) {
      throw new DecisionPointError(409, 'id', `a decision point "${point.id}" exists already`);
    }
    const live = new LivePoint(point);
    this.points.set(point.id, live);
    this.counts.set(point.id, { decisions: 0, closed: 0, rewardSum: 0 });
    await this.save(live);
    return point;
  }

  /** Replaces a definition; the learner carries over when the change leaves it the same problem. */
  async replace(id: string, input: unknown): Promise<{ point: DecisionPoint; learnerReset: boolean }> {
    const current = this.live(id);
    const revision = (input as { revision?: unknown } | null)?.revision;
    if (revision !== undefined && revision !== current.definition.revision) {
      throw new DecisionPointError(
        409,
        'revision',
        `is ${current.definition.revision} now, not ${String(revision)}: someone else changed the point`,
      );
    }
    const point = parseDecisionPoint(input, this.context(), current.definition);
    const stored = { id, revision: point.revision, body: toJson(point) };
    if (!(await this.env.store.saveDecisionPoint(stored, current.definition.revision))) {
      throw new DecisionPointError(
        409,
        'revision',
        'someone else changed the point meanwhile; read it again',
      );
    }
    const learnerReset = learnerShape(point) !== learnerShape(current.definition);
    const live = new LivePoint(point, learnerReset ? null : current.state());
    this.points.set(id, live);
    await this.save(live);
    return { point, learnerReset };
  }

  async remove(id: string): Promise<void> {
    this.live(id);
    await this.log.flush();
    this.points.delete(id);
    this.counts.delete(id);
    for (const entry of this.open.values()) if (entry.decision.point === id) this.drop(entry);
    this.deadlines.delete(id);
    await this.env.store.deleteDecisionPoint(id);
    await this.env.store.setMeta(stateKey(id), null);
    this.saved.delete(id);
  }

  // --- deciding -----------------------------------------------------------------------------------

  async decide(pointId: string, request: DecideRequest): Promise<Decision> {
    const live = this.live(pointId);
    const point = live.definition;
    const now = this.env.now();
    this.sweepIfDue(now);
    const inputs = await this.env.userInputs(request.userId, live.needs);
    const offered = offer(point, request, { context: request.context, ...inputs });
    const input = live.encoder.encode({ context: request.context, now, ...inputs });
    const arm = await this.env.arm(request.userId, pointId, now);
    const requested: RequestedPolicy =
      arm.kind === 'holdout'
        ? 'default'
        : arm.kind === 'experiment'
          ? arm.policy
          : arm.kind === 'withheld'
            ? 'consent'
            : 'learner';
    const choice = live.choose(input, offered.allowed, requested);
    const ids: string[] = [];
    const probabilities: number[] = [];
    const ranking: RankedAction[] = [];
    point.actions.forEach((action, a) => {
      if (!offered.allowed[a]) return;
      ids.push(action.id);
      probabilities.push(choice.probabilities[a]!);
      const score = choice.scores[a]!;
      ranking.push({
        id: action.id,
        score: Number.isFinite(score) ? score : null,
        probability: choice.probabilities[a]!,
      });
    });
    ranking.sort((x, y) => y.probability - x.probability || (y.score ?? -Infinity) - (x.score ?? -Infinity));
    const experiment =
      arm.kind === 'experiment'
        ? { id: arm.experiment, variant: arm.variant }
        : arm.kind === 'holdout'
          ? { id: 'holdout', variant: 'holdout' }
          : null;
    const decision: LoggedDecision = {
      id: timeOrderedId(now),
      point: pointId,
      userId: request.userId,
      at: now,
      context: request.context,
      features: input,
      offered: ids,
      probabilities,
      action: point.actions[choice.action]!.id,
      propensity: choice.probabilities[choice.action]!,
      policy: choice.policy,
      experiment,
      deadline: now + point.reward.windowMs,
      outcome: null,
    };
    this.log.record({ append: decision });
    const counts = this.counts.get(pointId);
    if (counts) counts.decisions++;
    this.hold({
      id: decision.id,
      point: pointId,
      userId: decision.userId,
      at: now,
      features: input,
      action: decision.action,
      propensity: decision.propensity,
      policy: decision.policy,
      deadline: decision.deadline,
    });
    return {
      id: decision.id,
      point: pointId,
      action: point.actions[choice.action]!,
      propensity: decision.propensity,
      policy: decision.policy,
      ranking,
      experiment,
      deadline: decision.deadline,
    };
  }

  // --- rewards ------------------------------------------------------------------------------------

  /**
   * An explicit reward. Refused with 404 for a decision nobody logged (or of another point), 410 when its
   * window has closed (late), 409 when it has a reward already (duplicate), each naming what was found.
   */
  async reward(pointId: string, decisionId: string, value: number): Promise<RewardResult> {
    this.live(pointId);
    const now = this.env.now();
    this.sweepIfDue(now);
    const held = this.open.get(decisionId);
    if (held) {
      this.checkPoint(held.decision, pointId);
      if (now > held.decision.deadline) throw late(held.decision);
      this.closeHeld(held, { reward: value, at: now, source: 'explicit' });
      return { status: 'recorded', reward: value, decision: decisionId };
    }
    const known = this.closed.get(decisionId);
    if (known) throw alreadyClosed(decisionId, known);
    await this.log.flush();
    const stored = await this.env.store.getDecision(decisionId);
    if (stored === null) {
      throw new DecisionPointError(404, 'decision_id', `no decision "${decisionId}" was logged`);
    }
    this.checkPoint(stored, pointId);
    if (stored.outcome) throw alreadyClosed(decisionId, stored.outcome);
    if (now > stored.deadline) throw late(stored);
    const [result] = await this.env.store.closeDecisions([
      { id: decisionId, outcome: { reward: value, at: now, source: 'explicit' } },
    ]);
    if (result?.status === 'recorded') {
      this.settle(result.decision, result.decision.outcome!);
      return { status: 'recorded', reward: value, decision: decisionId };
    }
    if (result?.status === 'closed') throw alreadyClosed(decisionId, result.outcome);
    throw new DecisionPointError(404, 'decision_id', `no decision "${decisionId}" was logged`);
  }

  /**
   * Attributes committed events to the open decisions of their users: each event that a point's reward
   * names goes to the user's latest open decision of that point made at or before the event. `once`
   * closes it with 1 at the first such event; `sum` adds the property and is learned when the window ends.
   */
  observeEvents(events: readonly TrackedEvent[]): void {
    if (this.byUser.size === 0) return;
    for (const event of events) {
      const ids = this.byUser.get(event.userId);
      if (ids === undefined) continue;
      const name = normalizeEventName(event.name);
      // Each point's latest matching decision takes the event: one per point, newest first.
      const attributed: string[] = [];
      for (let i = ids.length - 1; i >= 0; i--) {
        const held = this.open.get(ids[i]!);
        if (held === undefined) continue;
        const decision = held.decision;
        if (attributed.includes(decision.point)) continue;
        const reward = this.points.get(decision.point)?.definition.reward;
        if (reward?.source !== 'event' || normalizeEventName(reward.event) !== name) continue;
        if (event.timestamp < decision.at || event.timestamp > decision.deadline) continue;
        attributed.push(decision.point);
        if (reward.value === 'once') this.closeHeld(held, { reward: 1, at: this.env.now(), source: 'event' });
        else {
          const value = reward.property === null ? undefined : event.properties[reward.property];
          held.sum += typeof value === 'number' && Number.isFinite(value) ? value : 0;
          held.hits++;
        }
      }
    }
  }

  /**
   * Closes every decision whose window ended, with the attributed sum or the point's default reward: those
   * this instance holds from memory, then any others from the log.
   */
  sweep(): Promise<void> {
    this.closeExpiredHeld(this.env.now());
    return this.sweepLog(this.env.now());
  }

  /** Writes the decision log and every learner's state; stops the timers. */
  async close(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    await this.sweeping;
    await this.log.flush();
    await this.saveAll(true);
  }

  /**
   * Erasure: the user's decisions leave memory (their stored rows are deleted with the user): open ones
   * get no reward, closed ones (`decisionIds`, read from the log, which must be flushed first) are no
   * longer remembered, so a reward for any of them is a reward for an unknown decision.
   */
  forgetUser(userId: string, decisionIds: readonly string[]): void {
    for (const id of decisionIds) this.closed.delete(id);
    const ids = this.byUser.get(userId);
    if (ids === undefined) return;
    this.byUser.delete(userId);
    for (const id of ids) {
      const entry = this.open.get(id);
      if (entry !== undefined) this.drop(entry);
    }
    for (const queue of this.deadlines.values()) {
      queue.items = queue.items.slice(queue.head).filter((slot) => slot.held !== null);
      queue.head = 0;
      queue.dead = 0;
    }
  }

  /** Writes what is queued (tests and the CLI read the log right after). */
  flush(): Promise<void> {
    return this.log.flush();
  }

  // --- internals ----------------------------------------------------------------------------------

  private live(id: string): LivePoint {
    const live = this.points.get(id);
    if (live === undefined) throw new DecisionPointError(404, null, `no decision point "${id}"`);
    return live;
  }

  private context() {
    return { now: this.env.now(), userFeatures: this.env.userFeatureColumns };
  }

  private checkPoint(decision: DecisionRef, pointId: string): void {
    if (decision.point !== pointId) {
      throw new DecisionPointError(
        404,
        'decision_id',
        `decision "${decision.id}" belongs to "${decision.point}", not "${pointId}"`,
      );
    }
  }

  private hold(decision: DecisionRef): void {
    if (this.open.size >= MAX_OPEN) {
      const oldest = this.open.values().next().value;
      if (oldest !== undefined) this.release(oldest.decision);
    }
    const slot: DeadlineSlot = { deadline: decision.deadline, held: null };
    const entry: OpenDecision = { decision, slot, sum: 0, hits: 0 };
    slot.held = entry;
    this.open.set(decision.id, entry);
    const queue = this.deadlines.get(decision.point);
    if (queue === undefined) this.deadlines.set(decision.point, { items: [slot], head: 0, dead: 0 });
    else queue.items.push(slot);
    const ids = this.byUser.get(decision.userId);
    if (ids === undefined) this.byUser.set(decision.userId, [decision.id]);
    else {
      // Stale ids (closed, evicted) are dropped whenever the list is touched, so it stays short.
      const live = ids.filter((id) => this.open.has(id));
      live.push(decision.id);
      this.byUser.set(decision.userId, live);
    }
  }

  /** The decision leaves memory: out of `open`, its queue slot emptied (and counted among the dead). */
  private drop(entry: OpenDecision): void {
    this.open.delete(entry.decision.id);
    entry.slot.held = null;
    const queue = this.deadlines.get(entry.decision.point);
    if (queue !== undefined) queue.dead++;
  }

  private release(decision: DecisionRef): void {
    const entry = this.open.get(decision.id);
    if (entry === undefined) return;
    this.drop(entry);
    const ids = this.byUser.get(decision.userId);
    if (ids === undefined) return;
    const live = ids.filter((id) => this.open.has(id));
    if (live.length === 0) this.byUser.delete(decision.userId);
    else this.byUser.set(decision.userId, live);
  }

  private closeHeld(held: OpenDecision, outcome: DecisionOutcome): void {
    this.release(held.decision);
    this.log.record({ close: { id: held.decision.id, outcome } });
    this.settle(held.decision, outcome);
  }

  /** A decision's outcome is recorded: remember it (for duplicate replies), count it, learn from it. */
  private settle(decision: DecisionRef, outcome: DecisionOutcome): void {
    this.closed.set(decision.id, outcome);
    const counts = this.counts.get(decision.point);
    if (counts) {
      counts.closed++;
      counts.rewardSum += outcome.reward;
    }
    this.learnFrom(decision, outcome.reward);
  }

  private learnFrom(decision: DecisionRef, reward: number): void {
    // A user whose consent withholds personalization teaches no policy anything.
    if (decision.policy === 'consent') return;
    const live = this.points.get(decision.point);
    if (live === undefined) return;
    const action = live.definition.actions.findIndex((a) => a.id === decision.action);
    // A decision made under an earlier, different learner has a row of another shape: not learnable.
    if (action < 0 || decision.features.length !== live.encoder.inputLength) return;
    live.learn(action, decision.features, reward, decision.policy, decision.propensity);
    if (live.unsaved >= SAVE_EVERY)
      void this.save(live).catch((error) => this.env.onError('decision-state', error));
  }

  private sweepIfDue(now: EpochMs): void {
    if (now < this.nextSweepAt) return;
    this.nextSweepAt = now + SWEEP_INTERVAL_MS;
    this.closeExpiredHeld(now);
    if (now >= this.nextLogSweepAt) {
      this.nextLogSweepAt = now + LOG_SWEEP_INTERVAL_MS;
      void this.sweepLog(now - LOG_SWEEP_GRACE_MS);
    }
  }

  /** Closes the held decisions whose window ended, from memory: no store read on the serving thread. */
  private closeExpiredHeld(now: EpochMs): void {
    for (const [point, queue] of this.deadlines) {
      const reward = this.points.get(point)?.definition.defaultReward ?? 0;
      const items = queue.items;
      while (queue.head < items.length) {
        const slot = items[queue.head]!;
        const held = slot.held;
        // Closed already (a reward, an event), evicted or erased: the head passes it whatever its deadline.
        if (held === null) {
          queue.head++;
          queue.dead--;
          continue;
        }
        if (slot.deadline >= now) break;
        queue.head++;
        this.closeHeld(
          held,
          held.hits > 0
            ? { reward: held.sum, at: now, source: 'event' }
            : { reward, at: now, source: 'timeout' },
        );
        // Released above, which counted it as dead; it has left the queue already.
        queue.dead--;
      }
      if (queue.head === queue.items.length) this.deadlines.delete(point);
      else if (queue.dead > COMPACT_DEAD && queue.dead * 2 > queue.items.length - queue.head) {
        queue.items = queue.items.slice(queue.head).filter((slot) => slot.held !== null);
        queue.head = 0;
        queue.dead = 0;
      } else if (queue.head > 1_024 && queue.head * 2 > queue.items.length) {
        queue.items = queue.items.slice(queue.head);
        queue.head = 0;
      }
    }
  }

  /** Closes, from the log, decisions whose window ended before `before` that this instance does not hold. */
  private sweepLog(before: EpochMs): Promise<void> {
    this.sweeping ??= this.closeExpiredLogged(before).finally(() => {
      this.sweeping = null;
    });
    return this.sweeping;
  }

  private async closeExpiredLogged(before: EpochMs): Promise<void> {
    try {
      await this.log.flush();
      for (;;) {
        const now = this.env.now();
        const expired = await this.env.store.expiredDecisions(before, SWEEP_BATCH);
        if (expired.length === 0) return;
        const closes = expired.map((decision): DecisionClose => {
          const held = this.open.get(decision.id);
          const point = this.points.get(decision.point)?.definition;
          const outcome: DecisionOutcome =
            held && held.hits > 0
              ? { reward: held.sum, at: now, source: 'event' }
              : { reward: point?.defaultReward ?? 0, at: now, source: 'timeout' };
          return { id: decision.id, outcome };
        });
        const results = await this.env.store.closeDecisions(closes);
        results.forEach((result, i) => {
          const decision = expired[i]!;
          this.release(decision);
          if (result.status === 'recorded') this.settle(result.decision, closes[i]!.outcome);
        });
        if (expired.length < SWEEP_BATCH) return;
      }
    } catch (error) {
      this.env.onError('decision-sweep', error);
    }
  }

  /**
   * Writes a batch of the queue as one commit, appends before closes: a close can only follow its own
   * decision's append (in this batch or an earlier one), so that order loses nothing.
   */
  private writeOps(ops: readonly LogOp[]): Promise<void> {
    const appends: LoggedDecision[] = [];
    const closes: DecisionClose[] = [];
    for (const op of ops) {
      if ('append' in op) appends.push(op.append);
      else closes.push(op.close);
    }
    return this.env.store.writeDecisionLog(appends, closes);
  }

  private async savedState(point: DecisionPoint): Promise<LivePointState | null> {
    const value = await this.env.store.getMeta(stateKey(point.id));
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
    const saved = value as unknown as LivePointState & { saveVersion?: number };
    if (saved.format !== 'attune.decision-point' || saved.shape !== learnerShape(point)) return null;
    this.saved.set(point.id, saved.saveVersion ?? 0);
    return saved;
  }

  private async save(live: LivePoint): Promise<void> {
    const id = live.definition.id;
    const version = (this.saved.get(id) ?? 0) + 1;
    live.unsaved = 0;
    this.saved.set(id, version);
    const state = { ...live.state(), saveVersion: version };
    await this.env.store.setMeta(stateKey(id), state as unknown as JsonValue);
  }

  private async saveAll(all: boolean): Promise<void> {
    for (const live of this.points.values()) {
      if (!all && live.unsaved === 0) continue;
      await this.save(live).catch((error) => this.env.onError('decision-state', error));
    }
  }
}

function late(decision: DecisionRef): DecisionPointError {
  return new DecisionPointError(
    410,
    'decision_id',
    `the reward window of decision "${decision.id}" closed at ${new Date(decision.deadline).toISOString()}; the reward was not learned`,
    'late',
  );
}

function alreadyClosed(id: string, outcome: DecisionOutcome): DecisionPointError {
  return outcome.source === 'timeout'
    ? new DecisionPointError(
        410,
        'decision_id',
        `the reward window of decision "${id}" closed at ${new Date(outcome.at).toISOString()} with the default reward ${outcome.reward}`,
        'late',
      )
    : new DecisionPointError(
        409,
        'decision_id',
        `decision "${id}" has a reward already (${outcome.reward}, ${outcome.source}, at ${new Date(outcome.at).toISOString()}); this one was not learned`,
        'duplicate',
      );
}

function toJson(point: DecisionPoint): JsonValue {
  return point as unknown as JsonValue;
}
