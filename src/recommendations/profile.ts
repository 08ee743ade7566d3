import { feedbackOf, normalizeEventName, type FeedbackConfig } from '../events/index.js';
import type { UserProfile } from '../models/index.js';
import type { ModelBundle } from '../training/index.js';
import type { HistoryEntry } from './recent-history.js';
import type { CurrentSession } from './session.js';

/** What one request knows of its user: built from the user's newest events, fresh on every request. */
export interface ServingProfile {
  readonly userId: string;
  /** Items the user interacted with (positively or negatively); excluded with `exclude_seen`. */
  readonly seen: ReadonlySet<string>;
  /** Items the user turned down; never recommended, whatever `exclude_seen` says. */
  readonly rejected: ReadonlySet<string>;
  /** Items the user bought (for the `not purchased` filter and the re-show policy). */
  readonly purchased: ReadonlySet<string>;
  /** The time (event timestamp) of the user's latest interaction with each seen item, for re-show rules. */
  readonly lastSeenAt: ReadonlyMap<string, number>;
  /** The event behind each positive item, newest strongest first, for reasons ("because you bought X"). */
  readonly actions: ReadonlyMap<string, string>;
  /**
   * The profile in the bundle's index space, for the models, newest item first. Empty when no bundle or
   * no known items.
   */
  readonly model: UserProfile;
  /** The user's current session, when the session stage is on (`withSession` in `session.ts`). */
  readonly session?: CurrentSession | null;
}

const EMPTY: UserProfile = {
  userIndex: -1,
  fresh: false,
  items: new Int32Array(0),
  weights: new Float32Array(0),
};

/**
 * Turns a user's newest events (newest first) into a profile. Feedback is aggregated per item the same
 * way training aggregates it, so a folded-in profile means what a trained row means. The profile is
 * `fresh` when any of its events arrived after the bundle's training cutoff.
 */
export function buildProfile(
  userId: string,
  history: readonly HistoryEntry[],
  bundle: ModelBundle | null,
  feedback: FeedbackConfig,
): ServingProfile {
  const seen = new Set<string>();
  const rejected = new Set<string>();
  const purchased = new Set<string>();
  const lastSeenAt = new Map<string, number>();
  const actions = new Map<string, { name: string; weight: number }>();
  const weights = new Map<string, number>();
  let fresh = false;
  for (const event of history) {
    if (event.itemId === null) continue;
    const kind = feedbackOf(feedback, event);
    if (kind.kind === 'exposure' || kind.kind === 'none') continue;
    const itemId = event.itemId;
    seen.add(itemId);
    // Newest first, so the first time met is the latest.
    if (!lastSeenAt.has(itemId)) lastSeenAt.set(itemId, event.timestamp);
    if (bundle && event.receivedAt >= bundle.info.cutoff) fresh = true;
    if (kind.kind === 'negative') {
      weights.set(itemId, (weights.get(itemId) ?? 0) - kind.weight);
      rejected.add(itemId);
      continue;
    }
    weights.set(itemId, (weights.get(itemId) ?? 0) + kind.weight);
    if (isPurchase(event.name)) purchased.add(itemId);
    const strongest = actions.get(itemId);
    if (!strongest || kind.weight > strongest.weight)
      actions.set(itemId, { name: event.name, weight: kind.weight });
  }
  const actionNames = new Map([...actions].map(([id, action]) => [id, action.name]));
  if (!bundle) return { userId, seen, rejected, purchased, lastSeenAt, actions: actionNames, model: EMPTY };

  const items: number[] = [];
  const itemWeights: number[] = [];
  for (const [itemId, weight] of weights) {
    const index = bundle.itemIndex.get(itemId);
    if (index === undefined || weight <= 0) continue;
    items.push(index);
    itemWeights.push(weight);
  }
  const userIndex = bundle.userIndex.get(userId) ?? -1;
  const model: UserProfile = {
    userIndex,
    fresh: fresh || userIndex < 0,
    items: Int32Array.from(items),
    weights: Float32Array.from(itemWeights),
  };
  return { userId, seen, rejected, purchased, lastSeenAt, actions: actionNames, model };
}

const purchaseNames = new Map<string, boolean>();
const PURCHASE = /purchas|bought|order_completed|checkout_completed/;

/** Whether a (positive) event name means a purchase; memoised, as names repeat endlessly. */
export function isPurchase(name: string): boolean {
  let known = purchaseNames.get(name);
  if (known === undefined) {
    known = PURCHASE.test(normalizeEventName(name));
    if (purchaseNames.size < 1024) purchaseNames.set(name, known);
  }
  return known;
}
