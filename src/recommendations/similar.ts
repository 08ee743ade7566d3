import type { ModelName } from '../models/index.js';
import type { ModelBundle } from '../training/index.js';
import { matchesItem, type ItemFilter } from '../catalog/index.js';
import type { CatalogView, RecommendedItem } from './types.js';

export interface SimilarRequest {
  readonly itemId: string;
  readonly n: number;
  readonly filter: ItemFilter | null;
  readonly now: number;
}

export interface SimilarResult {
  readonly model: ModelName | 'none';
  readonly modelVersion: number | null;
  readonly fallback: string | null;
  readonly items: readonly RecommendedItem[];
}

/** Models asked for similar items, best first: co-occurrence is the most literal "people also viewed". */
/**
 * Tried in order. The hybrid comes after the interaction models: it places items with no interactions
 * yet (new catalog items) among the items whose features they share.
 */
const SIMILARITY_MODELS: readonly ModelName[] = ['itemknn', 'als', 'hybrid', 'popularity'];

/** Models whose item representations come from features, so they mean something for new items too. */
const FEATURE_MODELS: ReadonlySet<ModelName> = new Set(['hybrid', 'popularity']);

/**
 * Items similar to one item, from the first model that knows it; the hybrid places new items by their
 * features, and popularity stands in when no model can, and the reply says so.
 */
export function similarItems(
  request: SimilarRequest,
  bundle: ModelBundle | null,
  catalog: CatalogView,
): SimilarResult {
  const index = bundle?.itemIndex.get(request.itemId);
  if (!bundle || index === undefined) {
    return {
      model: 'none',
      modelVersion: bundle?.version ?? null,
      fallback: bundle ? 'unknown_item' : 'no_model',
      items: [],
    };
  }
  const allowed = (itemId: string): boolean => {
    if (itemId === request.itemId || !catalog.isRecommendable(itemId, request.now)) return false;
    if (!request.filter) return true;
    const item = catalog.get(itemId);
    return item !== undefined && matchesItem(item, request.filter);
  };
  const isNew = bundle.isNewItem(index);
  for (const name of SIMILARITY_MODELS) {
    const model = bundle.model(name);
    // A new item's row in an interaction model is untrained: its neighbours there would be noise.
    if (!model || (isNew && !FEATURE_MODELS.has(name))) continue;
    // Ask for more than n: some neighbours are filtered out, and the list should still be full.
    const neighbours = model.similar(index, Math.min(bundle.itemIds.length, request.n * 4 + 20));
    const items: RecommendedItem[] = [];
    for (const { index: other, score } of neighbours) {
      const itemId = bundle.itemIds[other]!;
      if (score <= 0 || !allowed(itemId)) continue;
      items.push({
        itemId,
        score,
        reason:
          name === 'popularity'
            ? { kind: 'popular', text: 'Popular right now' }
            : { kind: 'similar_item', text: `Similar to ${request.itemId}`, itemId: request.itemId },
      });
      if (items.length >= request.n) break;
    }
    if (items.length > 0) {
      return {
        model: name,
        modelVersion: bundle.version,
        fallback: name === SIMILARITY_MODELS[0] ? null : `${SIMILARITY_MODELS[0]}_had_none`,
        items,
      };
    }
  }
  return { model: 'none', modelVersion: bundle.version, fallback: 'no_similar_items', items: [] };
}
