/**
 * The servable re-ranker's features: computed for one user and up to a few hundred candidates from what a
 * request already has (the model's scores, the user's profile: bundle item indices and times) and one
 * per-item snapshot taken when the bundle was trained. Training computes the same rows through the same
 * function — for a logged list, with the snapshot's values as they stood at the list's time — so the trees
 * are served exactly the features they learnt from (one path, as for profiles).
 *
 * No sequence co-occurrence and no list-relative ranks of raw counts (the offline two-stage's
 * `INTERACTION_FEATURES`): those need the whole interaction log at serve time, or a list as long as the
 * served one, and a logged list is as long as what was shown (10 or 20), not the 200 candidates re-ranked.
 */

export const DAY_MS = 86_400_000;

/** Names of the feature columns, in the trees' order. */
export const RERANK_FEATURES = [
  'gen_score',
  'gen_rank',
  'gen_gap',
  'item_log_count',
  'item_count_7d',
  'item_count_30d',
  'item_days_since_last',
  'item_ctr',
  'item_log_shown',
  'user_log_count',
  'user_days_since_last',
  'pop_vs_user_taste',
  'category_share',
  'category_recent_share',
  'user_item_shown',
] as const;

export type RerankFeature = (typeof RERANK_FEATURES)[number];
export const N_RERANK_FEATURES = RERANK_FEATURES.length;

/** Per bundle item, as of `now` (the training run's newest interaction): what serving reads. */
export interface ItemSnapshot {
  readonly now: number;
  readonly itemCount: Float64Array;
  readonly itemCount7d: Float64Array;
  readonly itemCount30d: Float64Array;
  /** Time of the item's newest interaction (NaN: none). */
  readonly itemLast: Float64Array;
  /** Times the item was shown in logged lists, and its position-debiased graded outcomes there. */
  readonly itemShown: Float64Array;
  readonly itemOutcomes: Float64Array;
  /** Index into `categories` of the item's first category, −1 without one. */
  readonly itemCategory: Int32Array;
  readonly categories: readonly string[];
}

/** The user as the features see them: bundle item indices and (optionally) their latest times. */
export interface RerankUser {
  readonly items: Int32Array;
  readonly times?: Float64Array | undefined;
  /**
   * How many of the lists served to the user lately showed the item at this bundle index (`countShown`);
   * absent: none known (a user never served, or a ranking with no impression log behind it).
   */
  readonly shown?: ((item: number) => number) | undefined;
}

/** The lists `user_item_shown` counts: those served in this window before the request, the newest so many. */
export const SHOWN_WINDOW_MS = 30 * DAY_MS;
export const SHOWN_LISTS = 50;

/**
 * `RerankUser.shown` over bundle indices from `countShown`'s counts by item id (`itemIds`: the bundle's);
 * undefined without counts.
 */
export function shownByIndex(
  counts: ReadonlyMap<string, number> | undefined,
  itemIds: readonly string[],
): ((item: number) => number) | undefined {
  return counts && ((item) => counts.get(itemIds[item]!) ?? 0);
}

/** A list served to a user, as `countShown` reads it: when, and what it showed. */
export interface ShownList<K> {
  readonly at: number;
  readonly items: readonly K[] | ArrayLike<K>;
}

/**
 * Per item, how many of `lists` (oldest first) showed it, counting the newest `SHOWN_LISTS` of those
 * served in `[now − SHOWN_WINDOW_MS, now)`: what serving (item ids, `recommendations/shown-lists.ts`) and
 * training (bundle indices, point in time per logged list) both compute, so the trees see one feature.
 */
export function countShown<K>(lists: readonly ShownList<K>[], now: number): Map<K, number> {
  const counts = new Map<K, number>();
  let taken = 0;
  for (let q = lists.length - 1; q >= 0 && taken < SHOWN_LISTS; q--) {
    const list = lists[q]!;
    if (list.at >= now) continue;
    if (list.at < now - SHOWN_WINDOW_MS) break;
    taken++;
    for (let j = 0; j < list.items.length; j++) {
      const item = list.items[j]!;
      counts.set(item, (counts.get(item) ?? 0) + 1);
    }
  }
  return counts;
}

/**
 * A prior of this many impressions at the log's mean outcome rate: an item shown twice and clicked once is
 * not a 50% item (empirical-Bayes smoothing, so rarely shown items sit near the mean).
 */
const CTR_PRIOR_SHOWN = 20;

/** How many of the user's newest items `category_recent_share` looks at. */
const RECENT_ITEMS = 10;

/** Scratch reused across calls: the re-rank stage runs synchronously, one request at a time. */
const scratch = {
  categoryCounts: new Float64Array(0),
  recentCounts: new Float64Array(0),
  order: new Int32Array(0),
};

/** Mean outcome per impression over the whole snapshot: the CTR prior's centre. */
export function meanOutcomeRate(snapshot: ItemSnapshot): number {
  let shown = 0;
  let outcomes = 0;
  for (let i = 0; i < snapshot.itemShown.length; i++) {
    shown += snapshot.itemShown[i]!;
    outcomes += snapshot.itemOutcomes[i]!;
  }
  return shown > 0 ? outcomes / shown : 0;
}

/**
 * Writes the feature rows of `candidates` (bundle item indices, in the generator's order: best first) into
 * `out` (row-major, `candidates.length × N_RERANK_FEATURES`). `scores[j]` is candidate j's generator score;
 * `now` the request's time; `meanRate` is `meanOutcomeRate(snapshot)` (computed once per snapshot).
 */
export function rerankFeatures(
  snapshot: ItemSnapshot,
  user: RerankUser,
  candidates: Int32Array,
  scores: ArrayLike<number>,
  now: number,
  meanRate: number,
  out: Float64Array,
): void {
  const d = N_RERANK_FEATURES;
  const n = candidates.length;
  const nCategories = snapshot.categories.length;
  if (scratch.categoryCounts.length < nCategories) {
    scratch.categoryCounts = new Float64Array(nCategories);
    scratch.recentCounts = new Float64Array(nCategories);
  }
  const categoryCounts = scratch.categoryCounts;
  const recentCounts = scratch.recentCounts;
  const { items, times } = user;
  const nUser = items.length;
  // User-level values: once per request.
  let logPop = 0;
  let last = NaN;
  for (let k = 0; k < nUser; k++) {
    const item = items[k]!;
    logPop += Math.log1p(snapshot.itemCount[item] ?? 0);
    const c = snapshot.itemCategory[item] ?? -1;
    if (c >= 0) categoryCounts[c]! += 1;
    if (times !== undefined && !(last >= times[k]!)) last = times[k]!;
  }
  const meanLogPop = nUser > 0 ? logPop / nUser : NaN;
  const recent = recentItems(user, RECENT_ITEMS);
  for (const k of recent) {
    const c = snapshot.itemCategory[items[k]!] ?? -1;
    if (c >= 0) recentCounts[c]! += 1;
  }
  const userLogCount = Math.log1p(nUser);
  const userSinceLast = (now - last) / DAY_MS;
  const age = (now - snapshot.now) / DAY_MS;

  // The generator's rank by score (candidates may arrive in another order, e.g. a /v1/rank request's).
  if (scratch.order.length < n) scratch.order = new Int32Array(Math.max(n, 2 * scratch.order.length));
  const order = scratch.order.subarray(0, n);
  for (let j = 0; j < n; j++) order[j] = j;
  order.sort((a, b) => {
    const x = scores[a]!;
    const y = scores[b]!;
    return y > x ? 1 : y < x ? -1 : a - b;
  });
  const top = n > 0 ? scores[order[0]!]! : 0;

  for (let r = 0; r < n; r++) {
    const j = order[r]!;
    const item = candidates[j]!;
    const row = j * d;
    const score = scores[j]!;
    const count = snapshot.itemCount[item] ?? 0;
    const shown = snapshot.itemShown[item] ?? 0;
    const c = snapshot.itemCategory[item] ?? -1;
    out[row] = score;
    out[row + 1] = r;
    out[row + 2] = top - score;
    out[row + 3] = Math.log1p(count);
    out[row + 4] = snapshot.itemCount7d[item] ?? 0;
    out[row + 5] = snapshot.itemCount30d[item] ?? 0;
    // As of the request: the snapshot's idle time plus the time since it was taken.
    out[row + 6] = (snapshot.now - (snapshot.itemLast[item] ?? NaN)) / DAY_MS + age;
    out[row + 7] = (snapshot.itemOutcomes[item]! + CTR_PRIOR_SHOWN * meanRate) / (shown + CTR_PRIOR_SHOWN);
    out[row + 8] = Math.log1p(shown);
    out[row + 9] = userLogCount;
    out[row + 10] = userSinceLast;
    out[row + 11] = Math.log1p(count) - meanLogPop;
    out[row + 12] = c >= 0 && nUser > 0 ? categoryCounts[c]! / nUser : NaN;
    out[row + 13] = c >= 0 && recent.length > 0 ? recentCounts[c]! / recent.length : NaN;
    out[row + 14] = user.shown?.(item) ?? 0;
  }
  // Leave the scratch zeroed for the next request.
  for (let k = 0; k < nUser; k++) {
    const c = snapshot.itemCategory[items[k]!] ?? -1;
    if (c >= 0) categoryCounts[c] = 0;
  }
  for (const k of recent) {
    const c = snapshot.itemCategory[items[k]!] ?? -1;
    if (c >= 0) recentCounts[c] = 0;
  }
}

/** Positions in `user.items` of the newest `count` entries (the last ones when there are no times). */
function recentItems(user: RerankUser, count: number): number[] {
  const n = user.items.length;
  const { times } = user;
  if (times === undefined || n <= count) {
    return Array.from({ length: Math.min(n, count) }, (_, k) => n - 1 - k);
  }
  // Few items wanted of a long history: a partial selection keeps this O(n · count).
  const picked: number[] = [];
  const taken = new Uint8Array(n);
  for (let c = 0; c < count; c++) {
    let best = -1;
    for (let k = 0; k < n; k++) if (taken[k] === 0 && (best < 0 || times[k]! > times[best]!)) best = k;
    taken[best] = 1;
    picked.push(best);
  }
  return picked;
}
