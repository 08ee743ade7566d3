import type { Item } from '../catalog/types.js';
import type { CsrMatrix, TrainingInput } from '../models/index.js';
import type { Store } from '../store/index.js';
import type { TrainingSet } from './dataset.js';
import { buildFeatures, itemFeatureTokens, userFeatureTokens, type SideFeatures } from './features.js';

/** A training set widened for the hybrid model: cold catalog items indexed, side features attached. */
export interface SideTrainingSet extends TrainingSet {
  /**
   * Items `[0, warmItems)` are the ones the event log names; `[warmItems, itemIds.length)` are catalog items
   * with no events (new items), appended so the hybrid scores them from their features.
   */
  readonly warmItems: number;
  readonly itemFeatures: SideFeatures;
  readonly userFeatures: SideFeatures;
}

/** Whether an item may be recommended at `now`: cold items that may not are not worth indexing. */
function recommendable(item: Item, now: number): boolean {
  return item.available && (item.expiresAt === null || item.expiresAt > now);
}

/**
 * Adds what the hybrid model needs to a training set read from the event log: every recommendable catalog
 * item with features but no events (unless `newItems: false`) becomes an (empty) matrix column after the
 * event items, and the items' and users' side features become feature matrices aligned with the columns
 * and rows. Returns `null` when neither side has a single feature on a row with interactions (nothing for
 * the hybrid to learn from).
 *
 * Users: only users with events are indexed, each looked up by id (the store has no user scan). A user
 * known only by traits needs no row: the hybrid represents them from their trait names at request time
 * (`HybridRecommender.traitVector`), which is exactly what a trait-only row would hold.
 *
 * A feature seen only on rows without interactions is dropped (its embedding would never be trained and
 * would only add its random initial value to the cold rows' scores), and so is one seen on a single row.
 * Memory and time are linear in the catalog, the users and their features.
 */
export async function withSideFeatures(
  store: Store,
  set: TrainingSet,
  options: { readonly newItems?: boolean } = {},
): Promise<SideTrainingSet | null> {
  const withNew = options.newItems ?? true;
  const { matrix } = set.input;
  const itemIndex = new Map(set.itemIds.map((id, index) => [id, index]));
  const itemIds = [...set.itemIds];
  const itemTokens: string[][] = set.itemIds.map(() => []);
  for await (const batch of store.scanItems()) {
    for (const item of batch) {
      const tokens = itemFeatureTokens(item);
      const index = itemIndex.get(item.id);
      if (index !== undefined) itemTokens[index] = tokens;
      else if (withNew && tokens.length > 0 && recommendable(item, set.cutoff)) {
        itemIndex.set(item.id, itemIds.length);
        itemIds.push(item.id);
        itemTokens.push(tokens);
      }
    }
  }
  const userTokens: string[][] = [];
  for (const userId of set.userIds) {
    const user = await store.getUser(userId);
    userTokens.push(user === null ? [] : userFeatureTokens(user));
  }
  const warmItem = new Uint8Array(matrix.cols);
  for (let k = 0; k < matrix.indptr[matrix.rows]!; k++) warmItem[matrix.indices[k]!] = 1;
  const warmUser = (r: number): boolean => matrix.indptr[r + 1]! > matrix.indptr[r]!;
  const itemRows = trained(itemTokens, (r) => warmItem[r] === 1);
  // A new item none of whose features was kept has nothing to be scored by: leave it unindexed.
  const warmItems = set.itemIds.length;
  const keep = (r: number): boolean => r < warmItems || itemRows[r]!.length > 0;
  const keptIds = itemIds.filter((_, r) => keep(r));
  const itemFeatures = buildFeatures(itemRows.filter((_, r) => keep(r)));
  const userFeatures = buildFeatures(trained(userTokens, warmUser));
  if (itemFeatures.names.length === 0 && userFeatures.names.length === 0) return null;
  const widened: CsrMatrix = { ...matrix, cols: keptIds.length };
  const input: TrainingInput = {
    ...set.input,
    matrix: widened,
    itemFeatures: itemFeatures.matrix,
    userFeatures: userFeatures.matrix,
    itemFeatureNames: itemFeatures.names,
    userFeatureNames: userFeatures.names,
  };
  return { ...set, itemIds: keptIds, input, warmItems, itemFeatures, userFeatures };
}

/**
 * Each row's tokens restricted to those that occur on at least one row `warm` accepts (else the embedding
 * is never trained) and on at least two rows (a feature of one row only, such as a title, tells the model
 * nothing that row's identity does not, and costs a step on every update of the row).
 */
function trained(rows: readonly string[][], warm: (r: number) => boolean): string[][] {
  const onWarm = new Set<string>();
  const count = new Map<string, number>();
  rows.forEach((tokens, r) => {
    for (const t of new Set(tokens)) {
      count.set(t, (count.get(t) ?? 0) + 1);
      if (warm(r)) onWarm.add(t);
    }
  });
  return rows.map((tokens) => tokens.filter((t) => onWarm.has(t) && count.get(t)! >= 2));
}
