import { feedbackOf, type FeedbackConfig } from '../events/index.js';
import type { Recommender, ScoredIndex } from '../models/index.js';
import type { ModelBundle } from '../training/index.js';
import type { PipelineContext, Reason, Stage } from './types.js';
import type { HistoryEntry } from './user-history.js';

/**
 * How the user's current session shifts a list. The defaults were tuned on a validation slice of the demo
 * shop's training period (`bench/session.ts`), never on its test replay.
 */
export interface SessionConfig {
  /**
   * Weight of the session term against the model's scores, both scaled to the same top value first; 0 turns
   * the session stage off. 1 lets the strongest session neighbour tie the model's best item.
   */
  readonly weight: number;
  /** The most distinct items of the session that count, newest first. */
  readonly maxItems: number;
  /** Each session item counts `decay` times the one viewed after it: recency within the session. */
  readonly decay: number;
  /** Neighbours read per session item: the sparse lists keep a request's cost at maxItems × neighbors. */
  readonly neighbors: number;
  /**
   * The session window: the user's feedback events within this long (ms) before their newest one are what
   * a session is read from (`user-history.ts` keeps exactly these as events). Without a
   * `context.session_id` they all form the session; with one, those sharing the newest event's id. The
   * session is over once its newest event is this old when a request comes in.
   */
  readonly windowMs: number;
  /** At most this many of the window's newest events are kept (a client sending thousands a minute). */
  readonly windowEvents: number;
  /** Which item similarities to use; the bundle's other model serves when this one is missing. */
  readonly similarity: 'itemknn' | 'als';
}

/**
 * Chosen on the demo shop's validation slice (`bench/session.ts`): item-kNN similarities beat ALS ones for
 * every weight and decay tried; weight 1 with decay 0.25 was within 1% of the best MRR@10 both with
 * `exclude_seen` on and off, where the per-setting optima (1.5/0.5 and 0.75/0.25) disagree.
 */
export const defaultSessionConfig: SessionConfig = {
  weight: 1,
  maxItems: 5,
  decay: 0.25,
  neighbors: 50,
  windowMs: 30 * 60_000,
  windowEvents: 1000,
  similarity: 'itemknn',
};

/**
 * A request's own session settings (`session_weight`, `session_items`), over the engine's configured
 * `SessionConfig`; what is absent stays as configured. `weight: 0` turns the session stage off.
 */
export interface SessionOverride {
  readonly weight?: number;
  readonly maxItems?: number;
}

/** One item the user touched in the current session. */
export interface SessionItem {
  readonly itemId: string;
  /** The item's index in the bundle, -1 when the bundle does not know it (it boosts nothing). */
  readonly index: number;
  /** The strongest event on it in this session, for the reason ("just viewed", "just added"). */
  readonly action: string;
  /** Its newest event's time. */
  readonly at: number;
}

/** The user's newest session as the request's profile carries it, with the settings that blend it in. */
export interface CurrentSession {
  /** `context.session_id` of its events; `null` when the session was cut by time. */
  readonly id: string | null;
  /** Positive items, newest first, each once, at most `config.maxItems`. */
  readonly items: readonly SessionItem[];
  /** When its newest event happened. */
  readonly lastAt: number;
  readonly config: SessionConfig;
}

/** What the session stage added to one item's score, and the session item that added the most. */
export interface SessionContribution {
  readonly added: number;
  /** The model's own score for the item, before the session term. */
  readonly model: number;
  readonly item: SessionItem;
}

/** What the session stage did to this request's scores, for the reasons and the explain endpoint. */
export interface SessionBoost {
  /** Bundle index → what the session added to it; only boosted items are present. */
  readonly contributions: ReadonlyMap<number, SessionContribution>;
  /** The session blended in, with this request's settings (`requestSession`). */
  readonly session?: CurrentSession;
}

/**
 * The user's newest session from the session window (newest first, feedback events only): the events
 * sharing the newest event's `session_id`, or, when it has none, all of them. Items the user turned down
 * are left out: a dismissal is not "more like this". `null` when there is nothing to go on.
 */
export function currentSession(
  recent: readonly HistoryEntry[],
  bundle: ModelBundle | null,
  feedback: FeedbackConfig,
  config: SessionConfig,
  rejected: (itemId: string) => boolean,
): CurrentSession | null {
  if (config.weight <= 0 || config.maxItems <= 0) return null;
  const anchor = recent[0];
  if (anchor === undefined) return null;
  const sessionId = anchor.sessionId ?? null;
  const items: SessionItem[] = [];
  const strength = new Map<string, number>();
  for (const event of recent) {
    if (event.timestamp < anchor.timestamp - config.windowMs) break;
    // With a session id, another session's events are skipped rather than ending the scan: clients'
    // clocks can interleave two sessions.
    if (sessionId !== null && event.sessionId !== sessionId) continue;
    const kind = feedbackOf(feedback, { name: event.name, properties: NO_PROPERTIES });
    if (kind.kind !== 'positive' || rejected(event.itemId)) continue;
    const known = strength.get(event.itemId);
    if (known === undefined) {
      if (items.length >= config.maxItems) continue;
      strength.set(event.itemId, kind.weight);
      items.push({
        itemId: event.itemId,
        index: bundle?.itemIndex.get(event.itemId) ?? -1,
        action: event.name,
        at: event.timestamp,
      });
    } else if (kind.weight > known) {
      strength.set(event.itemId, kind.weight);
      const at = items.findIndex((item) => item.itemId === event.itemId);
      const item = items[at];
      if (item) items[at] = { ...item, action: event.name };
    }
  }
  if (items.length === 0) return null;
  return { id: sessionId, items, lastAt: anchor.timestamp, config };
}

const NO_PROPERTIES = Object.freeze({});

/**
 * The session this request blends in: the profile's, or, when the request has its own settings
 * (`session_weight`, `session_items`), the same window read with those settings over the configured ones
 * (one pass over the window, only for such requests). `null` when there is no session or the weight is 0.
 */
export function requestSession(context: PipelineContext): CurrentSession | null {
  const { profile } = context;
  const override = context.request.rules?.session ?? null;
  if (override === null) return profile.session;
  const config: SessionConfig = { ...profile.settings.session, ...override };
  if (config.weight <= 0 || config.maxItems <= 0) return null;
  const { history } = profile;
  return currentSession(history.recent, context.bundle, profile.settings.feedback, config, (itemId) =>
    history.rejected(itemId),
  );
}

/**
 * Neighbour lists per model, filled as items are asked for. item-kNN lists are already sparse; ALS
 * similarities cost a pass over every item, so each item's list is computed once per bundle and reused.
 */
const neighbourCache = new WeakMap<Recommender, Map<number, NeighbourList>>();

interface NeighbourList {
  /** How many were asked for; the list is shorter when the item has fewer neighbours. */
  readonly asked: number;
  readonly list: readonly ScoredIndex[];
}

function neighboursOf(model: Recommender, item: number, n: number): readonly ScoredIndex[] {
  let lists = neighbourCache.get(model);
  if (!lists) {
    lists = new Map();
    neighbourCache.set(model, lists);
  }
  const cached = lists.get(item);
  if (cached && cached.asked >= n) return cached.list.length > n ? cached.list.slice(0, n) : cached.list;
  const list = model.similar(item, n);
  lists.set(item, { asked: n, list });
  return list;
}

function similarityModel(bundle: ModelBundle, preferred: SessionConfig['similarity']): Recommender | null {
  const other = preferred === 'itemknn' ? 'als' : 'itemknn';
  return bundle.model(preferred) ?? bundle.model(other) ?? null;
}

/**
 * Blends the current session into the chosen model's scores: item j gains
 * `weight × Σ_r decay^rank(r) × sim(r, j)` over the session items r (newest first), read from sparse
 * neighbour lists, so the cost is maxItems × neighbors, not a pass over item pairs. Both parts are scaled
 * to the same top value over the items this request may show, so `weight` means the same whatever the
 * model's score range; the model's scores keep their units. Runs after `filter`, before `select`.
 */
export const sessionItems: Stage = {
  name: 'session',
  run(context) {
    const { bundle, scores, request } = context;
    if (!bundle || !scores || !context.model || request.personalized === false) return;
    const session = requestSession(context);
    if (!session) return;
    const { config } = session;
    if (config.weight <= 0 || request.now - session.lastAt > config.windowMs) return;
    const model = similarityModel(bundle, config.similarity);
    if (!model || model.nItems !== scores.length) return;

    const totals = new Map<number, number>();
    const best = new Map<number, { readonly item: SessionItem; readonly part: number }>();
    let recency = 1;
    for (const item of session.items) {
      if (item.index >= 0) {
        for (const { index, score: similarity } of neighboursOf(model, item.index, config.neighbors)) {
          if (!(similarity > 0)) continue;
          const part = recency * similarity;
          totals.set(index, (totals.get(index) ?? 0) + part);
          const top = best.get(index);
          if (!top || part > top.part) best.set(index, { item, part });
        }
      }
      recency *= config.decay;
    }
    if (totals.size === 0) return;

    const excluded = context.excluded;
    let sessionTop = 0;
    for (const [index, total] of totals) {
      if (excluded?.[index] !== 1 && total > sessionTop) sessionTop = total;
    }
    if (sessionTop <= 0) return;
    let modelTop = 0;
    for (let index = 0; index < scores.length; index++) {
      if (excluded?.[index] === 1) continue;
      const magnitude = Math.abs(scores[index]!);
      if (magnitude > modelTop) modelTop = magnitude;
    }
    // A model with nothing to say (all zeros) leaves the session to rank on its own scale.
    const factor = (config.weight * (modelTop > 0 ? modelTop : 1)) / sessionTop;
    const contributions = new Map<number, SessionContribution>();
    for (const [index, total] of totals) {
      const added = factor * total;
      const own = scores[index]!;
      scores[index] = own + added;
      contributions.set(index, { added, model: own, item: best.get(index)!.item });
    }
    context.session = { contributions, session };
  },
};

/** "Because you just viewed X", or what the user just did with X. */
export function sessionReasonText(action: string, itemId: string): string {
  const name = action.toLowerCase();
  if (/purchas|order|bought|checkout/.test(name)) return `Because you just bought ${itemId}`;
  if (/wish/.test(name)) return `Because you just saved ${itemId}`;
  if (/cart|added/.test(name)) return `Because you just added ${itemId} to your cart`;
  return `Because you just viewed ${itemId}`;
}

/** Reasons the session may replace: ones drawn from the model's evidence, not rules or catalog backfill. */
const MODEL_REASONS: ReadonlySet<Reason['kind']> = new Set([
  'because_item',
  'taste',
  'popular',
  'similar_item',
]);

/**
 * Names the just-viewed item as the reason for items the session put forward: those whose session part is
 * at least what the model gave them, or whose model evidence already points into the current session
 * (then the session item that added most is named). Runs after `explain`; other reasons stay as explained.
 */
export const explainSessionItems: Stage = {
  name: 'explain-session',
  run(context) {
    const boost = context.session;
    const bundle = context.bundle;
    const session = boost?.session ?? context.profile.session;
    if (!boost || !bundle || !session) return;
    const sessionIds = new Set(session.items.map((item) => item.itemId));
    context.items = context.items.map((item) => {
      const index = bundle.itemIndex.get(item.itemId);
      const contribution = index === undefined ? undefined : boost.contributions.get(index);
      if (!contribution || !MODEL_REASONS.has(item.reason.kind)) return item;
      const pointsIntoSession =
        item.reason.kind === 'because_item' && sessionIds.has(item.reason.itemId ?? '');
      // Compared with the model's own score: later stages (rules) may rescale the list's scores.
      if (!pointsIntoSession && contribution.added < contribution.model) return item;
      const { itemId, action } = contribution.item;
      const reason: Reason = { kind: 'because_item', text: sessionReasonText(action, itemId), itemId };
      return { ...item, reason };
    });
  },
};
