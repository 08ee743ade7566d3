import type { ModelBundle } from '../training/index.js';
import type { ServingProfile } from './profile.js';
import type { Rules } from './rules.js';
import { servable, sharedListKey, type SharedLists } from './shared-lists.js';
import type { CatalogView, RecommendationRequest, RecommendationResult } from './types.js';

/*
 * Served lists, kept for the same user asking again. A list is a function of the user's serving profile,
 * the bundle, the catalog, the request's shape (n, exclude_seen, rules, the variant's model, holdout) and,
 * weakly, of the clock (items expiring, the session window, the re-ranker's "days since" features). The
 * first four are exact keys: a profile object is reused only while the user's history, the bundle and the
 * feedback settings are unchanged (`buildProfile`), so a new event, an erasure, a merge or a new model
 * (here or, through the cluster bus, on another instance) makes a new profile and the next request
 * computes afresh; a catalog write changes the catalog's version. The clock is bounded: a list is kept at
 * most `ttlMs`, and never served past the earliest expiry among its items (an item made unavailable is a
 * catalog write; one expiring is the clock, with the catalog's version unchanged).
 *
 * Why: computing a list is ~0.4 ms of the one serving thread (scoring, top-k, re-ranking 200 candidates
 * with trees, reasons). At 2,000 requests/s that is most of a core, and the queue it builds is the tail.
 * A user who reloads a page, pages through a feed, or sees the same widget on several pages asks for the
 * same list; serving it again costs a map lookup.
 */

/** What a served list says about itself, without the request's own id (each request gets its own). */
export type ServedList = Omit<RecommendationResult, 'requestId'>;

interface CachedList {
  readonly list: ServedList;
  readonly bundle: ModelBundle | null;
  readonly catalogVersion: number;
  readonly expiresAt: number;
  /**
   * The last instant every item is recommendable at this catalog version: the earliest expiry among them.
   * Found once when kept; the lookup of a hit then checks no item (that took ~15 µs of a hit's ~240).
   */
  readonly itemsUntil: number;
}

/**
 * The last instant every item of `list` is recommendable while the catalog stays as it is (Infinity when
 * none expires), or null when one is not recommendable at `now`.
 */
function recommendableUntil(list: ServedList, catalog: CatalogView, now: number): number | null {
  let until = Infinity;
  for (const { itemId } of list.items) {
    if (!catalog.isRecommendable(itemId, now)) return null;
    const expiresAt = catalog.get(itemId)?.expiresAt ?? null;
    if (expiresAt !== null && expiresAt < until) until = expiresAt;
  }
  return until;
}

/** Request shapes kept per profile at most (n, rules, variants): a client varying them cannot grow it. */
const SHAPES_PER_PROFILE = 8;

export class ResultCache {
  /** Dropped with the profile: the profile cache (`profile.ts`) bounds how many are held. */
  readonly #lists = new WeakMap<ServingProfile, Map<string, CachedList>>();
  /** Compiled rules are shared between equal requests (`requestRules`), so their identity is a key. */
  readonly #rulesIds = new WeakMap<Rules, number>();
  #nextRulesId = 1;

  /** `ttlMs` null keeps nothing: every request computes its list. */
  constructor(readonly ttlMs: number | null) {
    if (ttlMs !== null && !(ttlMs > 0)) throw new RangeError(`ttlMs must be > 0 or null, got ${ttlMs}`);
  }

  /**
   * The list for `request`: the one kept for this profile and shape when still valid, else `compute()`'s,
   * then kept. `fresh` says which.
   */
  serve(
    request: RecommendationRequest,
    profile: ServingProfile,
    bundle: ModelBundle | null,
    catalog: CatalogView,
    compute: () => ServedList,
  ): { readonly list: ServedList; readonly fresh: boolean } {
    const kept = this.lookup(request, profile, bundle, catalog);
    if (kept !== null) return { list: kept, fresh: false };
    const list = compute();
    this.keep(request, profile, bundle, catalog, list);
    return { list, fresh: true };
  }

  /**
   * As `serve`, with a second tier shared by the deployment's instances (`shared-lists.ts`): a list not
   * kept here is looked for there before it is computed, and a computed one is offered to the others.
   * `source` says where the list came from.
   */
  async serveShared(
    request: RecommendationRequest,
    profile: ServingProfile,
    bundle: ModelBundle | null,
    catalog: CatalogView & { readonly fingerprint: string },
    compute: () => ServedList,
    /** The shared tier, and the settings lists depend on beyond their key (see `sharedListKey`). */
    shared: { readonly lists: SharedLists; readonly scope: string },
  ): Promise<{ readonly list: ServedList; readonly source: 'memory' | 'shared' | 'computed' }> {
    const kept = this.lookup(request, profile, bundle, catalog);
    if (kept !== null) return { list: kept, source: 'memory' };
    const key =
      this.ttlMs === null ? null : sharedListKey(shared.scope, request, profile, bundle, catalog.fingerprint);
    if (key !== null) {
      const found = await shared.lists.get(request.userId, key);
      if (found !== null && servable(found, request, catalog)) {
        this.keep(request, profile, bundle, catalog, found.list, found.expiresAt);
        return { list: found.list, source: 'shared' };
      }
    }
    const list = compute();
    const expiresAt = this.keep(request, profile, bundle, catalog, list);
    if (key !== null && expiresAt !== null) {
      shared.lists.set(request.userId, key, { list, expiresAt }, expiresAt - request.now);
    }
    return { list, source: 'computed' };
  }

  /** The list kept for this profile and shape, if it may still be served; null otherwise. */
  lookup(
    request: RecommendationRequest,
    profile: ServingProfile,
    bundle: ModelBundle | null,
    catalog: CatalogView,
  ): ServedList | null {
    if (this.ttlMs === null) return null;
    const kept = this.#lists.get(profile)?.get(this.#shape(request));
    if (
      kept !== undefined &&
      kept.bundle === bundle &&
      kept.catalogVersion === catalog.version &&
      request.now < kept.expiresAt &&
      request.now <= kept.itemsUntil
    ) {
      return kept.list;
    }
    return null;
  }

  /**
   * Keeps a list for this profile and shape until `expiresAt` (default: the TTL from now, spread over its
   * second half); returns when it expires, or null when nothing is kept (no TTL, or an item of the list
   * not recommendable now: such a list could never be served again).
   */
  keep(
    request: RecommendationRequest,
    profile: ServingProfile,
    bundle: ModelBundle | null,
    catalog: CatalogView,
    list: ServedList,
    expiresAt?: number,
  ): number | null {
    if (this.ttlMs === null) return null;
    const itemsUntil = recommendableUntil(list, catalog, request.now);
    if (itemsUntil === null) return null;
    const shape = this.#shape(request);
    let lists = this.#lists.get(profile);
    if (lists === undefined) {
      lists = new Map();
      this.#lists.set(profile, lists);
    }
    lists.delete(shape);
    if (lists.size >= SHAPES_PER_PROFILE) lists.delete(lists.keys().next().value!);
    // Spread over the second half of the TTL: lists computed in one burst (a cold start, a new model) do
    // not all expire, and get recomputed, in the same instant; a wave of recomputation is what a p99 sees.
    const until = expiresAt ?? request.now + this.ttlMs * (0.5 + 0.5 * Math.random());
    // Frozen: a kept list is served again as it is, and what is derived from it (its reply's JSON, its
    // impression's) is made once (`shared/frozen-memo.ts`); lists not kept are not frozen, so nothing is kept.
    Object.freeze(list.items);
    lists.set(shape, { list, bundle, catalogVersion: catalog.version, expiresAt: until, itemsUntil });
    return until;
  }

  #shape(request: RecommendationRequest): string {
    let rules = 0;
    if (request.rules !== undefined) {
      rules = this.#rulesIds.get(request.rules) ?? this.#nextRulesId++;
      this.#rulesIds.set(request.rules, rules);
    }
    const filter = request.filter === null ? '' : JSON.stringify(request.filter);
    return `${request.n}|${request.excludeSeen}|${request.model ?? ''}|${request.personalized ?? true}|${rules}|${filter}`;
  }
}
