import type { FeedbackConfig } from '../events/index.js';
import { newestFirst, type UserProfile } from '../models/index.js';
import { extend } from '../shared/extend.js';
import { LruMap } from '../shared/lru.js';
import type { ModelBundle } from '../training/index.js';
import { currentSession, type CurrentSession, type SessionConfig } from './session.js';
import type { HistoryTables, UserHistory } from './user-history.js';

/** What a profile is built with; fixed for an engine's lifetime. */
export interface ProfileSettings {
  readonly feedback: FeedbackConfig;
  readonly session: SessionConfig;
}

/**
 * What one request knows of its user: their whole history, the same history in the bundle's index space
 * for the models, and their current session. Built by `buildProfile`, the one path for lists and for
 * explanations.
 */
export interface ServingProfile {
  readonly userId: string;
  /** Everything the user interacted with, turned down and bought, and when (`user-history.ts`). */
  readonly history: UserHistory;
  /** Bundle index of each history entry (aligned with `history.items`), -1 for items the bundle lacks. */
  readonly historyIndex: Int32Array;
  /** Bundle indices of the items the user turned down: never recommended, whatever `exclude_seen` says. */
  readonly rejectedIndices: Int32Array;
  /**
   * The models' view: every history item the bundle knows with a positive summed weight, ascending by
   * index, with its latest time — for a user with nothing new since training, exactly their row of the
   * training matrix, so a model scores what it was evaluated on. Empty without a bundle.
   */
  readonly model: UserProfile;
  /** The user's current session (`session.ts`); `null` when there is none or the stage is off. */
  readonly session: CurrentSession | null;
  readonly settings: ProfileSettings;
  /**
   * Trait names of a user no model knows, for the hybrid's cold start (`cold-start.ts`): attached per
   * request by the engine, from its user cache.
   */
  readonly traits?: readonly string[];
}

const EMPTY: UserProfile = {
  userIndex: -1,
  fresh: false,
  items: new Int32Array(0),
  weights: new Float32Array(0),
};

/**
 * The most recently served users' profiles. A profile is a function of the user's history object, the
 * bundle and the settings; histories are replaced, never edited, when events arrive (`UserHistory`), so
 * an identical history means an identical profile: a user browsing page after page gets the profile built
 * for the first page until they do something. Profiles are shared read-only.
 */
const profiles = new LruMap<
  string,
  {
    readonly history: UserHistory;
    readonly bundle: ModelBundle | null;
    readonly settings: ProfileSettings;
    readonly profile: ServingProfile;
  }
>(4096);

/** The profile of a user with this history under this bundle; see `ServingProfile`. */
export function buildProfile(
  userId: string,
  history: UserHistory,
  bundle: ModelBundle | null,
  settings: ProfileSettings,
): ServingProfile {
  const cached = profiles.get(userId);
  if (
    cached !== undefined &&
    cached.history === history &&
    cached.bundle === bundle &&
    cached.settings === settings
  ) {
    return cached.profile;
  }
  const profile = readProfile(userId, history, bundle, settings);
  profiles.set(userId, { history, bundle, settings, profile });
  return profile;
}

/**
 * The profile of someone the engine may not personalize for (their consent withholds it), built from the
 * empty history it is given: without the row training learnt for them either, so every model scores them
 * as a visitor it never saw. Not cached.
 */
export function impersonalProfile(
  userId: string,
  empty: UserHistory,
  bundle: ModelBundle | null,
  settings: ProfileSettings,
): ServingProfile {
  const profile = readProfile(userId, empty, bundle, settings);
  if (profile.model.userIndex < 0) return profile;
  return { ...profile, model: { ...profile.model, userIndex: -1, fresh: true } };
}

/** Erasure: drops the user's cached profile; returns what models were given of it, for their caches. */
export function forgetProfile(userId: string): UserProfile | null {
  const cached = profiles.peek(userId);
  profiles.delete(userId);
  return cached?.profile.model ?? null;
}

function readProfile(
  userId: string,
  history: UserHistory,
  bundle: ModelBundle | null,
  settings: ProfileSettings,
): ServingProfile {
  const historyIndex = bundle ? bundleIndices(history, bundle) : new Int32Array(history.size).fill(-1);
  const rejected: number[] = [];
  for (let k = 0; k < history.size; k++) {
    if (historyIndex[k]! >= 0 && history.rejectedAt(k)) rejected.push(historyIndex[k]!);
  }
  const session = currentSession(history.recent, bundle, settings.feedback, settings.session, (itemId) =>
    history.rejected(itemId),
  );
  const base = {
    userId,
    history,
    historyIndex,
    rejectedIndices: Int32Array.from(rejected),
    session,
    settings,
  };
  if (!bundle) return extend(base, { model: EMPTY });

  // The entries the models read, ascending by bundle index: the layout of a training-matrix row, so sums
  // over the profile run in the order evaluation runs them and give bit-identical scores.
  const order: number[] = [];
  for (let k = 0; k < history.size; k++) {
    if (historyIndex[k]! >= 0 && history.weights[k]! > 0) order.push(k);
  }
  order.sort((a, b) => historyIndex[a]! - historyIndex[b]!);
  const items = new Int32Array(order.length);
  const weights = new Float32Array(order.length);
  const times = new Float64Array(order.length);
  order.forEach((k, j) => {
    items[j] = historyIndex[k]!;
    weights[j] = history.weights[k]!;
    times[j] = history.lastAt[k]!;
  });
  const userIndex = bundle.userIndex.get(userId) ?? -1;
  const model: UserProfile = {
    userIndex,
    // Feedback the bundle was not trained on: committed after the position it was trained through.
    fresh: userIndex < 0 || history.feedbackPosition > bundle.info.position,
    items,
    weights,
    times,
  };
  return extend(base, { model });
}

/** Ordinal → bundle index, per bundle and ordinal table, filled as histories name new items. */
const indexTables = new WeakMap<
  ModelBundle,
  { readonly tables: HistoryTables; map: Int32Array; filled: number }
>();

function bundleIndices(history: UserHistory, bundle: ModelBundle): Int32Array {
  const { tables } = history;
  let entry = indexTables.get(bundle);
  if (entry === undefined || entry.tables !== tables) {
    entry = { tables, map: new Int32Array(1024), filled: 0 };
    indexTables.set(bundle, entry);
  }
  const size = tables.items.size;
  if (entry.filled < size) {
    if (entry.map.length < size) {
      const map = new Int32Array(Math.max(size, 2 * entry.map.length));
      map.set(entry.map.subarray(0, entry.filled));
      entry.map = map;
    }
    for (let ordinal = entry.filled; ordinal < size; ordinal++) {
      entry.map[ordinal] = bundle.itemIndex.get(tables.items.id(ordinal)) ?? -1;
    }
    entry.filled = size;
  }
  const out = new Int32Array(history.size);
  for (let k = 0; k < history.size; k++) out[k] = entry.map[history.items[k]!]!;
  return out;
}

/**
 * The `limit` newest items of a model profile (by time, newest first), for evidence searches that look
 * at what the user did recently rather than at everything (reasons); cached per profile.
 */
export function newestItems(profile: UserProfile, limit: number): UserProfile {
  if (profile.items.length <= limit) return profile;
  let cached = newest.get(profile);
  if (cached === undefined || cached.items.length !== limit) {
    const { items, weights, times } = profile;
    const order = newestFirst(profile);
    // Plain loops: `TypedArray.from` with a mapping callback was a sixth of the explain stage.
    const keptItems = new Int32Array(limit);
    const keptWeights = new Float32Array(limit);
    const keptTimes = times ? new Float64Array(limit) : undefined;
    for (let k = 0; k < limit; k++) {
      const j = order[k]!;
      keptItems[k] = items[j]!;
      keptWeights[k] = weights[j]!;
      if (keptTimes !== undefined && times !== undefined) keptTimes[k] = times[j]!;
    }
    cached = {
      ...profile,
      items: keptItems,
      weights: keptWeights,
      ...(keptTimes ? { times: keptTimes } : {}),
    };
    newest.set(profile, cached);
  }
  return cached;
}

const newest = new WeakMap<UserProfile, UserProfile>();
