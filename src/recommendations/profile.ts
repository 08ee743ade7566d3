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
 * `fresh` when any of its events arrived after the bundle's training cutoff. The history array must not
 * be edited afterwards (`RecentHistory` never does): the profile is kept for it, by identity.
 */
export function buildProfile(
  userId: string,
  history: readonly HistoryEntry[],
  bundle: ModelBundle | null,
  feedback: FeedbackConfig,
): ServingProfile {
  const cached = profiles.get(userId);
  if (
    cached !== undefined &&
    cached.history === history &&
    cached.bundle === bundle &&
    cached.feedback === feedback
  ) {
    profiles.delete(userId);
    profiles.set(userId, cached);
    return cached.profile;
  }
  const profile = readProfile(userId, history, bundle, feedback);
  profiles.delete(userId);
  profiles.set(userId, { history, bundle, feedback, profile });
  if (profiles.size > PROFILE_CACHE_USERS) {
    const oldest = profiles.keys().next().value;
    if (oldest !== undefined) profiles.delete(oldest);
  }
  return profile;
}

/**
 * The most recently served users' profiles, most recent last. A profile is a function of the user's
 * history array, the bundle and the feedback settings, and `RecentHistory` replaces a history array
 * rather than editing it when events arrive, so an identical array means an identical profile: a user
 * browsing page after page gets the profile built for the first page until they do something. Profiles
 * are shared read-only (every field is readonly; stages derive, never edit). Bounded: about 20–40 KB per
 * user with a full 200-event history.
 */
const profiles = new Map<
  string,
  {
    readonly history: readonly HistoryEntry[];
    readonly bundle: ModelBundle | null;
    readonly feedback: FeedbackConfig;
    readonly profile: ServingProfile;
  }
>();
const PROFILE_CACHE_USERS = 4096;

function readProfile(
  userId: string,
  history: readonly HistoryEntry[],
  bundle: ModelBundle | null,
  feedback: FeedbackConfig,
): ServingProfile {
  // Per distinct item, in the order first met (newest first): one slot in parallel arrays, so that a
  // request builds only the maps the profile exposes, not intermediate ones (this runs on every request).
  const slotOf = new Map<string, number>();
  const ids: string[] = [];
  const lastAt: number[] = [];
  const weight: number[] = [];
  const actionName: (string | null)[] = [];
  const actionWeight: number[] = [];
  /** Slots in the order of their first positive event: the order of `actions`. */
  const positiveOrder: number[] = [];
  const rejected = new Set<string>();
  const purchased = new Set<string>();
  let fresh = false;
  for (const event of history) {
    if (event.itemId === null) continue;
    const kind = feedbackOf(feedback, event);
    if (kind.kind === 'exposure' || kind.kind === 'none') continue;
    const itemId = event.itemId;
    let slot = slotOf.get(itemId);
    if (slot === undefined) {
      // Newest first, so the first time met is the latest.
      slot = ids.length;
      slotOf.set(itemId, slot);
      ids.push(itemId);
      lastAt.push(event.timestamp);
      weight.push(0);
      actionName.push(null);
      actionWeight.push(0);
    }
    if (bundle && event.receivedAt >= bundle.info.cutoff) fresh = true;
    if (kind.kind === 'negative') {
      weight[slot]! -= kind.weight;
      rejected.add(itemId);
      continue;
    }
    weight[slot]! += kind.weight;
    if (isPurchase(event.name)) purchased.add(itemId);
    if (actionName[slot] === null) {
      positiveOrder.push(slot);
      actionName[slot] = event.name;
      actionWeight[slot] = kind.weight;
    } else if (kind.weight > actionWeight[slot]!) {
      actionName[slot] = event.name;
      actionWeight[slot] = kind.weight;
    }
  }
  const seen = new Set<string>(ids);
  const lastSeenAt = new Map<string, number>();
  for (let slot = 0; slot < ids.length; slot++) lastSeenAt.set(ids[slot]!, lastAt[slot]!);
  const actions = new Map<string, string>();
  for (const slot of positiveOrder) actions.set(ids[slot]!, actionName[slot]!);
  if (!bundle) return { userId, seen, rejected, purchased, lastSeenAt, actions, model: EMPTY };

  const items: number[] = [];
  const itemWeights: number[] = [];
  const itemTimes: number[] = [];
  for (let slot = 0; slot < ids.length; slot++) {
    const index = bundle.itemIndex.get(ids[slot]!);
    if (index === undefined || weight[slot]! <= 0) continue;
    items.push(index);
    itemWeights.push(weight[slot]!);
    itemTimes.push(lastAt[slot]!);
  }
  const userIndex = bundle.userIndex.get(userId) ?? -1;
  const model: UserProfile = {
    userIndex,
    fresh: fresh || userIndex < 0,
    items: Int32Array.from(items),
    weights: Float32Array.from(itemWeights),
    // Latest event per item, as training keeps it: models weighted by recency order the history by it.
    times: Float64Array.from(itemTimes),
  };
  return { userId, seen, rejected, purchased, lastSeenAt, actions, model };
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
