import type { UserProfile } from '../models/types.js';
import type { ModelBundle } from '../training/bundle.js';
import { shownByIndex, type RerankFeature } from './rerank-features.js';

/**
 * `POST /v1/rank`: a caller's own candidate items for one user, in the order the bundle's re-ranker puts
 * them, each with its score and the three features that moved it most (TreeSHAP), in words. Without a
 * re-ranker the primary model's score ranks them, and the reply says so.
 */

/** Most items one request may rank. */
export const MAX_RANK_ITEMS = 500;

export interface RankedContribution {
  readonly feature: string;
  /** The feature's value for this user and item. */
  readonly value: number;
  /** Its TreeSHAP contribution to the score (score = base + the sum over every feature). */
  readonly contribution: number;
}

export interface RankedItem {
  readonly itemId: string;
  readonly score: number;
  readonly reason: string;
  /** Every feature's contribution, largest by size first; with `base` they sum to `score`. */
  readonly contributions: readonly RankedContribution[];
}

export interface RankResult {
  /** `reranker` when the bundle's re-ranker ordered them, else the model that did. */
  readonly rankedBy: 'reranker' | string;
  readonly modelVersion: number | null;
  /** The trees' expected output (the score before any feature): TreeSHAP's bias. 0 without a re-ranker. */
  readonly base: number;
  readonly items: readonly RankedItem[];
  /** Requested ids the bundle does not know (never trained on, or new since): not ranked. */
  readonly unknown: readonly string[];
  /** Why the re-ranker did not rank, or `null` when it did. */
  readonly note: string | null;
}

/** Each feature's words: what it is, for "raised by …" / "lowered by …". */
const WORDS: Readonly<Record<RerankFeature, string>> = {
  gen_score: "the recommender's score",
  gen_rank: "the recommender's rank among these items",
  gen_gap: "the distance from the recommender's best item",
  item_log_count: "the item's overall popularity",
  item_count_7d: "the item's popularity this week",
  item_count_30d: "the item's popularity this month",
  item_days_since_last: 'how long since anyone took the item',
  item_ctr: 'how often shoppers click the item when shown it',
  item_log_shown: 'how often the item has been shown',
  user_log_count: 'how much history you have',
  user_days_since_last: 'how long since your last visit',
  pop_vs_user_taste: 'how mainstream the item is for your taste',
  category_share: "your history in the item's category",
  category_recent_share: "your recent interest in the item's category",
  user_item_shown: 'how often you were shown the item lately',
};

export function rankItems(
  bundle: ModelBundle | null,
  profile: UserProfile,
  itemIds: readonly string[],
  now: number,
  /** Per item id, how many lists served to the user lately showed it (`countShown`). */
  shown?: ReadonlyMap<string, number>,
): RankResult {
  const unknown: string[] = [];
  const known: string[] = [];
  const indices: number[] = [];
  const seen = new Set<string>();
  for (const id of itemIds) {
    if (seen.has(id)) continue;
    seen.add(id);
    const index = bundle?.itemIndex.get(id);
    if (index === undefined) unknown.push(id);
    else {
      known.push(id);
      indices.push(index);
    }
  }
  const model = bundle?.model(bundle.info.primary) ?? null;
  if (bundle === null || model === null) {
    return {
      rankedBy: 'none',
      modelVersion: bundle?.version ?? null,
      base: 0,
      items: [],
      unknown: itemIds.filter((id, k) => itemIds.indexOf(id) === k),
      note: 'no model is trained yet',
    };
  }
  const all = new Float32Array(model.nItems);
  model.score(profile, all);
  const items = Int32Array.from(indices);
  const genScores = Float64Array.from(indices, (index) => all[index] ?? 0);
  const reranker = bundle.reranker;
  if (reranker === null) {
    const order = known.map((_, j) => j).sort((a, b) => genScores[b]! - genScores[a]! || a - b);
    return {
      rankedBy: model.name,
      modelVersion: bundle.version,
      base: 0,
      items: order.map((j) => ({
        itemId: known[j]!,
        score: genScores[j]!,
        reason: `Ranked by the ${model.name} model's score: no re-ranker is trained`,
        contributions: [],
      })),
      unknown,
      note: bundle.info.reranking?.skipped ?? 'no re-ranker is trained',
    };
  }
  const user = {
    items: profile.items,
    times: profile.times,
    shown: shownByIndex(shown, bundle.itemIds),
  };
  // The score the serving stage orders by (the trees' margin); TreeSHAP splits it exactly, up to rounding.
  const scores = reranker.score(user, items, genScores, now);
  const { rows, contributions } = reranker.contributions(user, items, genScores, now);
  const names = reranker.features as readonly RerankFeature[];
  const d = names.length;
  const scored = known.map((itemId, j) => {
    const phi = contributions.subarray(j * (d + 1), (j + 1) * (d + 1));
    const all = Array.from({ length: d }, (_, f) => f)
      .sort((a, b) => Math.abs(phi[b]!) - Math.abs(phi[a]!) || a - b)
      .map((f) => ({ feature: names[f]!, value: rows[j * d + f]!, contribution: phi[f]! }));
    return { itemId, score: scores[j]!, reason: reasonText(all.slice(0, 3)), contributions: all, j };
  });
  scored.sort((a, b) => b.score - a.score || a.j - b.j);
  return {
    rankedBy: 'reranker',
    modelVersion: bundle.version,
    base: contributions.length > 0 ? contributions[d]! : 0,
    items: scored.map(({ j: _j, ...item }) => item),
    unknown,
    note: null,
  };
}

function reasonText(top: readonly RankedContribution[]): string {
  const parts = top
    .filter((c) => c.contribution !== 0)
    .map(
      (c) =>
        `${c.contribution > 0 ? 'raised' : 'lowered'} by ${WORDS[c.feature as RerankFeature]} ` +
        `(${c.contribution > 0 ? '+' : ''}${c.contribution.toFixed(3)})`,
    );
  return parts.length === 0
    ? 'Ranked at the re-ranker’s baseline'
    : `Ranked by the re-ranker: ${parts.join('; ')}`;
}
