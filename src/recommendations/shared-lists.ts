import { createHash } from 'node:crypto';

import type { ModelBundle } from '../training/index.js';
import type { ServingProfile } from './profile.js';
import type { ServedList } from './result-cache.js';
import { rulesSource } from './rules.js';
import type { CatalogView, RecommendationRequest } from './types.js';

/*
 * Lists shared by the instances of one deployment (Redis: `cluster/redis-lists.ts`). Behind a load balancer
 * a user's requests land on every instance in turn, so each instance's own cache (`result-cache.ts`) sees a
 * user's repeat only one time in N; a list computed by any instance serves the others.
 *
 * Keys are content, not counters: a list is kept under a digest of everything it was computed from (the
 * user's history as read from the store, the bundle version and the user's row in it, the catalog's
 * content, the request's shape), each as every instance computes it alike. An instance that has not yet
 * heard of a user's new event asks under the old history's key and gets the list it would have computed
 * itself; one that has, asks under a new key. So no instance can ever be served a list older than its own
 * view of the data, and nothing has to be invalidated on a write: there is no race between a write and a
 * cache fill to lose. What the key does not hold is the clock (expiry, the session's age, the re-ranker's
 * "days since"), bounded as in memory: a list is served until its `expiresAt` only, and only while every
 * item in it is still recommendable.
 */

/** A list and until when it may be served (epoch ms; the instance that computed it set it). */
export interface SharedList {
  readonly list: ServedList;
  readonly expiresAt: number;
}

/**
 * A cache of lists that every instance reads and fills. Never throws and never makes a request wait long:
 * an answer not ready in time, a lost connection, or an unreadable entry is a miss.
 */
export interface SharedLists {
  get(userId: string, key: string): Promise<SharedList | null>;
  /** Offers a list to the others for `ttlMs` (until its `expiresAt`); returns at once. */
  set(userId: string, key: string, entry: SharedList, ttlMs: number): void;
  /** Drops every list kept for the user (an erasure): lists carry item ids and reasons from their history. */
  forgetUser(userId: string): Promise<void>;
}

/** Changes when what a list is computed from changes meaning: old entries then go unread. */
const KEY_FORMAT = 1;

/**
 * The key of the list `request` asks for, given the profile it is computed from and `scope` (the settings
 * that shape lists, which instances sharing lists must agree on); null when the request cannot be keyed by
 * content (rules not compiled from a spec).
 */
export function sharedListKey(
  scope: string,
  request: RecommendationRequest,
  profile: ServingProfile,
  bundle: ModelBundle | null,
  catalogFingerprint: string,
): string | null {
  const rules = request.rules === undefined ? '' : rulesSource(request.rules);
  if (rules === null) return null;
  const parts = [
    KEY_FORMAT,
    scope,
    request.userId,
    bundle?.info.version ?? 0,
    profile.model.userIndex,
    profile.model.fresh,
    profile.history.fingerprint,
    profile.traits?.join('\u0001') ?? '',
    catalogFingerprint,
    request.n,
    request.excludeSeen,
    request.model ?? '',
    request.personalized ?? true,
    request.filter === null ? '' : JSON.stringify(request.filter),
    rules,
  ];
  return createHash('sha256').update(parts.join('\u0000')).digest('base64url');
}

/** Whether a list found in the shared cache may be served to `request` now. */
export function servable(found: SharedList, request: RecommendationRequest, catalog: CatalogView): boolean {
  return (
    request.now < found.expiresAt &&
    found.list.userId === request.userId &&
    found.list.items.every((item) => catalog.isRecommendable(item.itemId, request.now))
  );
}

/** Reads a kept entry's text back, or null when it is not an entry this code wrote. */
export function parseSharedList(text: string): SharedList | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const { list, expiresAt } = value as Partial<Record<keyof SharedList, unknown>>;
  if (typeof expiresAt !== 'number' || typeof list !== 'object' || list === null) return null;
  const { userId, model, items } = list as Partial<Record<keyof ServedList, unknown>>;
  if (typeof userId !== 'string' || typeof model !== 'string' || !Array.isArray(items)) return null;
  const itemsOk = items.every(
    (item: unknown) =>
      typeof item === 'object' &&
      item !== null &&
      typeof (item as { itemId?: unknown }).itemId === 'string' &&
      typeof (item as { score?: unknown }).score === 'number' &&
      typeof (item as { reason?: unknown }).reason === 'object',
  );
  return itemsOk ? (value as SharedList) : null;
}
