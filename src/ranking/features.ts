import { ranksWithin, type CandidateLists } from './candidates.js';
import { countInWindow, type InteractionStats } from './interaction-stats.js';

/**
 * Ranking features per (user, candidate), computed from `InteractionStats` alone — that is, from the
 * interactions the candidate generator was fitted on, never from what was held out. The split is temporal
 * per user, so most features are about time: how popular the item was overall, lately, and around the
 * user's own last interaction (a user active in autumn sees autumn's items), how old and how idle the item
 * was then, how active and how recent the user is, and which items others took right after (or before)
 * the user's most recent ones. Times are in days; a feature without times in the input is NaN (missing),
 * which the trees route by a learnt default.
 */

const DAY = 86_400_000;

/** Names of the columns `addInteractionFeatures` adds, in order. */
export const INTERACTION_FEATURES = [
  'item_count',
  'item_days_since_first',
  'item_days_since_last',
  'item_count_7d',
  'item_count_30d',
  'user_count',
  'user_days_since_last',
  'user_span_days',
  'item_age_at_user_days',
  'item_idle_at_user_days',
  'item_count_before_user_7d',
  'item_count_before_user_30d',
  'item_share_before_user_30d',
  'pop_vs_user_taste',
  'seq_next_last',
  'seq_next_recent',
  'seq_previous_recent',
  'item_count_list_rank',
  'seq_next_recent_list_rank',
] as const;

export type InteractionFeature = (typeof INTERACTION_FEATURES)[number];

export interface FeatureOptions {
  /** The user's most recent items the sequence features look from (default 5), newest weighing most. */
  readonly recentItems?: number;
}

/** Adds `INTERACTION_FEATURES` to the lists' table (replacing columns of the same names). */
export function addInteractionFeatures(
  lists: CandidateLists,
  stats: InteractionStats,
  options: FeatureOptions = {},
): void {
  const { table, items, users, offsets } = lists;
  const col = (name: InteractionFeature): Float64Array => table.add(name);
  const itemCount = col('item_count');
  const itemSinceFirst = col('item_days_since_first');
  const itemSinceLast = col('item_days_since_last');
  const itemCount7 = col('item_count_7d');
  const itemCount30 = col('item_count_30d');
  const userCount = col('user_count');
  const userSinceLast = col('user_days_since_last');
  const userSpan = col('user_span_days');
  const ageAtUser = col('item_age_at_user_days');
  const idleAtUser = col('item_idle_at_user_days');
  const before7 = col('item_count_before_user_7d');
  const before30 = col('item_count_before_user_30d');
  const shareBefore30 = col('item_share_before_user_30d');
  const popVsTaste = col('pop_vs_user_taste');
  const seqNextLast = col('seq_next_last');
  const seqNextRecent = col('seq_next_recent');
  const seqPreviousRecent = col('seq_previous_recent');

  const { now, hasTimes, itemPtr, itemTimes, allTimes } = stats;
  const nAll = allTimes.length;
  const recent = options.recentItems ?? 5;
  // Row of each candidate item in the current list, +1 (0: not a candidate), reset after each list.
  const rowOf = new Int32Array(stats.nItems);

  for (let q = 0; q < users.length; q++) {
    const user = users[q]!;
    const start = offsets[q]!;
    const end = offsets[q + 1]!;
    const tu = stats.userLast[user]!;
    const activityBefore30 = hasTimes ? countInWindow(allTimes, 0, nAll, tu - 30 * DAY, tu) : NaN;
    for (let row = start; row < end; row++) {
      const item = items[row]!;
      rowOf[item] = row + 1;
      const from = itemPtr[item]!;
      const to = itemPtr[item + 1]!;
      itemCount[row] = stats.itemCount[item]!;
      userCount[row] = stats.userCount[user]!;
      popVsTaste[row] = Math.log1p(stats.itemCount[item]!) - stats.userMeanLogPop[user]!;
      if (!hasTimes) {
        for (const column of [itemSinceFirst, itemSinceLast, itemCount7, itemCount30, userSinceLast]) {
          column[row] = NaN;
        }
        for (const column of [userSpan, ageAtUser, idleAtUser, before7, before30, shareBefore30]) {
          column[row] = NaN;
        }
        continue;
      }
      itemSinceFirst[row] = (now - stats.itemFirst[item]!) / DAY;
      itemSinceLast[row] = (now - stats.itemLast[item]!) / DAY;
      itemCount7[row] = countInWindow(itemTimes, from, to, now - 7 * DAY, now);
      itemCount30[row] = countInWindow(itemTimes, from, to, now - 30 * DAY, now);
      userSinceLast[row] = (now - tu) / DAY;
      userSpan[row] = (tu - stats.userFirst[user]!) / DAY;
      ageAtUser[row] = (tu - stats.itemFirst[item]!) / DAY;
      idleAtUser[row] = (tu - stats.itemLast[item]!) / DAY;
      before7[row] = countInWindow(itemTimes, from, to, tu - 7 * DAY, tu);
      const b30 = countInWindow(itemTimes, from, to, tu - 30 * DAY, tu);
      before30[row] = b30;
      shareBefore30[row] = activityBefore30 > 0 ? b30 / activityBefore30 : 0;
    }

    // Sequence features: what others took within a few interactions of the user's newest items.
    const seqStart = stats.sequencePtr[user]!;
    const seqEnd = stats.sequencePtr[user + 1]!;
    for (let k = 0; k < recent && seqEnd - 1 - k >= seqStart; k++) {
      const j = stats.userSequence[seqEnd - 1 - k]!;
      // Normalised by j's count: a share of j's takers, not a raw count that tracks j's popularity.
      const weight = 2 ** -k / Math.max(1, stats.itemCount[j]!);
      accumulate(stats.next, j, rowOf, weight, seqNextRecent);
      accumulate(stats.previous, j, rowOf, weight, seqPreviousRecent);
      if (k === 0) accumulate(stats.next, j, rowOf, weight, seqNextLast);
    }
    for (let row = start; row < end; row++) rowOf[items[row]!] = 0;
  }
  // A tree sees one row at a time: where the item stands among this user's candidates it cannot work
  // out from raw counts, which differ in scale between users active in busy and in quiet weeks.
  for (const name of ['item_count', 'seq_next_recent'] as const) {
    table.set(`${name}_list_rank`, ranksWithin(table.column(name), offsets));
  }
}

function accumulate(
  counts: InteractionStats['next'],
  from: number,
  rowOf: Int32Array,
  weight: number,
  out: Float64Array,
): void {
  for (let e = counts.ptr[from]!; e < counts.ptr[from + 1]!; e++) {
    const row = rowOf[counts.cols[e]!]!;
    if (row > 0) out[row - 1]! += weight * counts.counts[e]!;
  }
}
